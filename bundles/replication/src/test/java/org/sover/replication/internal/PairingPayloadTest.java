package org.sover.replication.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.time.Instant;
import java.util.List;

import org.junit.Test;
import org.sover.api.replication.PeerRole;
import org.sover.crypto.internal.Ed25519NodeIdentity;
import org.sover.crypto.internal.Ed25519SignatureVerifier;

public class PairingPayloadTest {
    private final Ed25519SignatureVerifier verifier = new Ed25519SignatureVerifier();

    private static Ed25519NodeIdentity identity() throws Exception {
        return new Ed25519NodeIdentity(Files.createTempDirectory("pairing-test-"));
    }

    @Test
    public void aLineRoundTrips() throws Exception {
        Ed25519NodeIdentity a = identity();
        Instant expires = Instant.parse("2026-11-21T12:15:00Z");
        String line = new PairingPayload(a.nodeId(), a.publicKey(), "Grandma's NAS",
                List.of("http://192.0.2.10:8181", "http://127.0.0.1:8181"), "tok", expires, PeerRole.STORAGE).encode(a);
        assertTrue(line.startsWith("sover-pair:"));
        assertTrue("one copyable line", line.indexOf('\n') < 0 && line.indexOf(' ') < 0);
        PairingPayload p = PairingPayload.decode("  " + line + "\n", verifier);
        assertEquals(a.nodeId(), p.nodeId());
        assertArrayEquals(a.publicKey(), p.publicKey());
        assertEquals("Grandma's NAS", p.name());
        assertEquals(2, p.addresses().size());
        assertEquals("tok", p.token());
        assertEquals(expires, p.expires());
        assertEquals(PeerRole.STORAGE, p.role());
    }

    @Test
    public void anAlteredOrForeignLineIsRefusedWithAMessageToCopyItAgain() throws Exception {
        Ed25519NodeIdentity a = identity();
        Ed25519NodeIdentity mallory = identity();
        String line = new PairingPayload(a.nodeId(), a.publicKey(), "A", List.of("http://a"), "tok", Instant.EPOCH,
                PeerRole.FULL).encode(a);
        char last = line.charAt(line.length() - 5);
        String flipped = line.substring(0, line.length() - 5) + (last == 'A' ? 'B' : 'A') + line.substring(line.length() - 4);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> PairingPayload.decode(flipped, verifier))
                .getMessage().contains("copy it again"));
        // Mallory signs a line that claims A's identity but carries her key: the node id gives it away.
        String forged = new PairingPayload(a.nodeId(), mallory.publicKey(), "A", List.of("http://evil"), "tok",
                Instant.EPOCH, PeerRole.FULL).encode(mallory);
        assertThrows(IllegalArgumentException.class, () -> PairingPayload.decode(forged, verifier));
        assertThrows(IllegalArgumentException.class, () -> PairingPayload.decode("hello", verifier));
        assertThrows(IllegalArgumentException.class, () -> PairingPayload.decode(line.substring(0, 30), verifier));
    }
}
