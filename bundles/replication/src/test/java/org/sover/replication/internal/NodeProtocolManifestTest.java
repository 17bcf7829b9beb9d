package org.sover.replication.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.sover.api.crypto.BlobManifest;
import org.sover.api.replication.NodeProtocol;
import org.sover.api.vault.BlobRecord;
import org.sover.crypto.internal.Ed25519NodeIdentity;
import org.sover.crypto.internal.Ed25519SignatureVerifier;

public class NodeProtocolManifestTest {
    private static final String BLOB_ID = "3a2f10a74177ddea5844011c6d8b04df4a578c509b5f2e7bcf565c6ad3cebf1c";
    private static final String CIPHER_SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    @Rule
    public TemporaryFolder temp = new TemporaryFolder();

    private final Ed25519SignatureVerifier verifier = new Ed25519SignatureVerifier();
    private Ed25519NodeIdentity origin;
    private BlobRecord record;

    @Before
    public void signAManifest() throws Exception {
        origin = new Ed25519NodeIdentity(temp.getRoot().toPath().resolve("origin"));
        BlobManifest manifest = new BlobManifest(BLOB_ID, 123456, 124000, 2, CIPHER_SHA, origin.nodeId(),
                Instant.ofEpochMilli(1_700_000_000_123L));
        record = new BlobRecord(manifest, origin.sign(manifest.canonicalBytes()));
    }

    @Test
    public void aRecordRoundTripsAndItsSignatureStillVerifies() {
        String manifest = NodeProtocol.manifest(record);
        String signature = NodeProtocol.signature(record);

        BlobRecord decoded = NodeProtocol.decode(manifest, signature);

        assertEquals(record.manifest(), decoded.manifest());
        assertArrayEquals(record.signature(), decoded.signature());
        assertTrue(verifier.verify(origin.publicKey(), decoded.manifest().canonicalBytes(), decoded.signature()));
        // Both parts travel in HTTP headers: one line, URL-safe characters only.
        assertTrue(manifest.matches("[A-Za-z0-9_-]+"));
        assertTrue(signature.matches("[A-Za-z0-9_-]+"));
    }

    @Test
    public void aTamperedManifestDecodesButNoLongerVerifies() {
        String text = new String(Base64.getUrlDecoder().decode(NodeProtocol.manifest(record)),
                StandardCharsets.UTF_8);
        String tampered = text.replace("\n123456\n", "\n923456\n");
        assertNotEquals(text, tampered);

        BlobRecord decoded = NodeProtocol.decode(encode(tampered), NodeProtocol.signature(record));

        assertEquals(923456, decoded.manifest().size());
        assertEquals(record.manifest().blobId(), decoded.manifest().blobId());
        assertFalse(verifier.verify(origin.publicKey(), decoded.manifest().canonicalBytes(), decoded.signature()));
    }

    @Test
    public void aSignatureOfAnotherManifestDoesNotVerify() {
        BlobManifest other = new BlobManifest(BLOB_ID, 123456, 124000, 2, CIPHER_SHA, origin.nodeId(),
                Instant.ofEpochMilli(1_700_000_000_124L));
        String foreignSignature = NodeProtocol.signature(new BlobRecord(other, origin.sign(other.canonicalBytes())));

        BlobRecord decoded = NodeProtocol.decode(NodeProtocol.manifest(record), foreignSignature);

        assertFalse(verifier.verify(origin.publicKey(), decoded.manifest().canonicalBytes(), decoded.signature()));
    }

    @Test
    public void garbageIsAnIllegalArgument() {
        String manifest = NodeProtocol.manifest(record);
        String signature = NodeProtocol.signature(record);
        String text = new String(Base64.getUrlDecoder().decode(manifest), StandardCharsets.UTF_8);

        for (String bad : new String[] {
            null,
            "",
            "%%%not base64%%%",
            encode("hello"),
            encode(text.replace("sover-manifest-v1", "sover-manifest-v2")),
            encode(text.substring(0, text.length() - 1)), // without the final line break
            encode(text + "extra\n"),
            encode(text.replace("\n123456\n", "\nlots\n")),
            encode(text.replace("\n1700000000123\n", "\n\n")),
            "A".repeat(2049),
        }) {
            assertThrows(String.valueOf(bad), IllegalArgumentException.class, () -> NodeProtocol.decode(bad, signature));
        }
        for (String bad : new String[] {null, "%%", "A".repeat(257)}) {
            assertThrows(String.valueOf(bad), IllegalArgumentException.class, () -> NodeProtocol.decode(manifest, bad));
        }
    }

    private static String encode(String text) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }
}
