package org.sover.crypto.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class NodeIdentityTest {
    private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    @Rule
    public TemporaryFolder temp = new TemporaryFolder();

    private final Ed25519SignatureVerifier verifier = new Ed25519SignatureVerifier();

    @Test
    public void nodeIdHasSyncthingShape() throws Exception {
        String nodeId = new Ed25519NodeIdentity(keyDir()).nodeId();

        assertEquals(63, nodeId.length());
        assertEquals(7, nodeId.chars().filter(c -> c == '-').count());
        assertTrue(nodeId, nodeId.matches("([A-Z2-7]{7}-){7}[A-Z2-7]{7}"));
        assertTrue(verifier.isValidNodeId(nodeId));
        assertTrue(verifier.isValidNodeId(nodeId.toLowerCase(Locale.ROOT)));
        assertTrue(verifier.isValidNodeId(nodeId.replace("-", "")));
    }

    @Test
    public void everySingleCharacterChangeIsCaught() throws Exception {
        String compact = new Ed25519NodeIdentity(keyDir()).nodeId().replace("-", "");
        for (int i = 0; i < compact.length(); i++) {
            for (int shift = 1; shift < ALPHABET.length(); shift++) {
                char changed = ALPHABET.charAt((ALPHABET.indexOf(compact.charAt(i)) + shift) % ALPHABET.length());
                String typo = compact.substring(0, i) + changed + compact.substring(i + 1);
                assertFalse("typo at " + i + ": " + typo, verifier.isValidNodeId(typo));
            }
        }
    }

    @Test
    public void malformedNodeIdsAreInvalid() throws Exception {
        String nodeId = new Ed25519NodeIdentity(keyDir()).nodeId();
        assertFalse(verifier.isValidNodeId(null));
        assertFalse(verifier.isValidNodeId(""));
        assertFalse(verifier.isValidNodeId(nodeId.substring(0, 62)));
        assertFalse(verifier.isValidNodeId(nodeId + "A"));
        assertFalse(verifier.isValidNodeId(nodeId.replace('-', '_')));
        assertFalse(verifier.isValidNodeId(nodeId.substring(0, 10) + "0" + nodeId.substring(11)));
        // Without check characters (Syncthing's old 52-character form) is not accepted.
        String compact = nodeId.replace("-", "");
        String unchecked = compact.substring(0, 13) + compact.substring(14, 27) + compact.substring(28, 41)
                + compact.substring(42, 55);
        assertFalse(verifier.isValidNodeId(unchecked));
    }

    @Test
    public void checkCharactersMatchSyncthing() {
        // Vectors from Syncthing-compatible implementations (luhn32 of a 13-character chunk).
        assertEquals('H', NodeIdFormat.checkCharacter("WG2IWWALPC2HZ"));
        assertEquals('K', NodeIdFormat.checkCharacter("KHQNO2S5QSILR"));
        assertEquals('C', NodeIdFormat.checkCharacter("MFZWI3DBONSGY"));
        // A device id from Syncthing's own tests.
        assertTrue(verifier.isValidNodeId("P56IOI7-MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-PQ6W5BM-TBBZ4TJ-XZWICQ2"));
    }

    @Test
    public void base32IsRfc4648WithoutPadding() {
        assertEquals("", NodeIdFormat.base32(new byte[0]));
        assertEquals("MY", NodeIdFormat.base32("f".getBytes(StandardCharsets.US_ASCII)));
        assertEquals("MZXW6YTBOI", NodeIdFormat.base32("foobar".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    public void nodeIdIsDerivedFromThePublicKey() throws Exception {
        Ed25519NodeIdentity identity = new Ed25519NodeIdentity(keyDir());
        byte[] publicKey = identity.publicKey();

        assertEquals(32, publicKey.length);
        assertEquals(identity.nodeId(), verifier.nodeIdOf(publicKey));
        String base32 = NodeIdFormat.base32(MessageDigest.getInstance("SHA-256").digest(publicKey));
        String compact = identity.nodeId().replace("-", "");
        assertEquals(base32, compact.substring(0, 13) + compact.substring(14, 27) + compact.substring(28, 41)
                + compact.substring(42, 55));
        assertThrows(IllegalArgumentException.class, () -> verifier.nodeIdOf(new byte[31]));
    }

    @Test
    public void fingerprintIsTheStartOfSha256InGroupsOfFour() throws Exception {
        Ed25519NodeIdentity identity = new Ed25519NodeIdentity(keyDir());
        String fingerprint = identity.fingerprint();

        assertTrue(fingerprint, fingerprint.matches("([0-9A-F]{4} ){7}[0-9A-F]{4}"));
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(identity.publicKey());
        assertEquals(HexFormat.of().withUpperCase().formatHex(digest, 0, 16), fingerprint.replace(" ", ""));
    }

    @Test
    public void identitySurvivesReactivationInPrivateFiles() throws Exception {
        Path dir = keyDir();
        Ed25519NodeIdentity first = new Ed25519NodeIdentity(dir);
        Ed25519NodeIdentity second = new Ed25519NodeIdentity(dir);

        assertEquals(first.nodeId(), second.nodeId());
        assertArrayEquals(first.publicKey(), second.publicKey());
        Path keyFile = dir.resolve(Ed25519NodeIdentity.KEY_FILE);
        assertEquals(32, Files.size(keyFile));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        try (var files = Files.list(dir)) {
            assertEquals("no temporary files are left", 1, files.count());
        }
    }

    @Test
    public void separateKeyDirectoriesAreSeparateIdentities() throws Exception {
        assertNotEquals(new Ed25519NodeIdentity(keyDir()).nodeId(), new Ed25519NodeIdentity(keyDir()).nodeId());
    }

    @Test
    public void damagedKeyFileStopsActivation() throws Exception {
        Path dir = keyDir();
        Files.createDirectories(dir);
        Files.write(dir.resolve(Ed25519NodeIdentity.KEY_FILE), new byte[31]);
        assertThrows(java.io.IOException.class, () -> new Ed25519NodeIdentity(dir));
    }

    @Test
    public void signaturesVerifyOnlyForTheSignedMessageAndKey() throws Exception {
        Ed25519NodeIdentity alice = new Ed25519NodeIdentity(keyDir());
        Ed25519NodeIdentity bob = new Ed25519NodeIdentity(keyDir());
        byte[] message = "sover-manifest-v1\nblob\n".getBytes(StandardCharsets.UTF_8);
        byte[] signature = alice.sign(message);

        assertEquals(64, signature.length);
        assertTrue(verifier.verify(alice.publicKey(), message, signature));
        assertFalse("wrong key", verifier.verify(bob.publicKey(), message, signature));
        byte[] tampered = message.clone();
        tampered[3] ^= 1;
        assertFalse("tampered message", verifier.verify(alice.publicKey(), tampered, signature));
        byte[] badSignature = signature.clone();
        badSignature[10] ^= 1;
        assertFalse("tampered signature", verifier.verify(alice.publicKey(), message, badSignature));
    }

    @Test
    public void malformedInputNeverThrows() throws Exception {
        Ed25519NodeIdentity identity = new Ed25519NodeIdentity(keyDir());
        byte[] message = {1, 2, 3};
        byte[] signature = identity.sign(message);
        byte[] notAPoint = new byte[32];
        Arrays.fill(notAPoint, (byte) 0xff);

        assertFalse(verifier.verify(null, message, signature));
        assertFalse(verifier.verify(identity.publicKey(), null, signature));
        assertFalse(verifier.verify(identity.publicKey(), message, null));
        assertFalse(verifier.verify(new byte[31], message, signature));
        assertFalse(verifier.verify(notAPoint, message, signature));
        assertFalse(verifier.verify(identity.publicKey(), message, Arrays.copyOf(signature, 63)));
        assertFalse(verifier.verify(identity.publicKey(), message, new byte[64]));
    }

    private Path keyDir() throws Exception {
        return temp.newFolder().toPath().resolve("keys");
    }
}
