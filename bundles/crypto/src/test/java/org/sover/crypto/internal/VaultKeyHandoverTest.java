package org.sover.crypto.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.sover.api.crypto.EncryptingStream;

public class VaultKeyHandoverTest {
    private static final byte[] PHOTO = "a family photo, as bytes".getBytes(StandardCharsets.US_ASCII);

    @Rule
    public TemporaryFolder temp = new TemporaryFolder();

    private final Ed25519SignatureVerifier verifier = new Ed25519SignatureVerifier();

    @Test
    public void installedKeyDecryptsTheSendersBlobs() throws Exception {
        Node a = node(true);
        Node b = node(true);
        byte[] sealed = a.sealTo(b);

        assertEquals(93, sealed.length);
        assertEquals(1, sealed[0]);
        b.cipher.installVaultKey(sealed, a.identity.nodeId());

        assertArrayEquals(PHOTO, decrypt(b.cipher, encrypt(a.cipher, PHOTO)));
        assertArrayEquals(PHOTO, decrypt(a.cipher, encrypt(b.cipher, PHOTO)));
        assertEquals("the dedup key switched too", contentId(a.cipher, PHOTO), contentId(b.cipher, PHOTO));
    }

    @Test
    public void everySealIsFresh() throws Exception {
        Node a = node(true);
        Node b = node(true);
        byte[] first = a.sealTo(b);
        byte[] second = a.sealTo(b);

        assertFalse(Arrays.equals(first, second));
        assertFalse("new ephemeral key", Arrays.equals(Arrays.copyOfRange(first, 1, 33),
                Arrays.copyOfRange(second, 1, 33)));
    }

    @Test
    public void anotherNodeCannotInstall() throws Exception {
        Node a = node(true);
        Node b = node(true);
        Node c = node(true);
        byte[] keyBefore = c.vaultKeyFile();

        GeneralSecurityException e = assertThrows(GeneralSecurityException.class,
                () -> c.cipher.installVaultKey(a.sealTo(b), a.identity.nodeId()));
        assertTrue(e.getMessage(), e.getMessage().contains("not sealed to this node (" + c.identity.nodeId() + ")"));
        assertArrayEquals(keyBefore, c.vaultKeyFile());
        assertFalse(Files.exists(c.dir.resolve(SegmentedVaultCipher.PREVIOUS_KEY_FILE)));
    }

    @Test
    public void aFlippedBitAnywhereIsRefused() throws Exception {
        Node a = node(true);
        Node b = node(true);
        byte[] sealed = a.sealTo(b);
        byte[] keyBefore = b.vaultKeyFile();
        byte[] blobBefore = encrypt(b.cipher, PHOTO);

        for (int i = 0; i < sealed.length; i++) {
            for (int bit : new int[] {0x01, 0x80}) {
                byte[] altered = sealed.clone();
                altered[i] ^= bit;
                assertThrows("byte " + i + " bit " + bit, GeneralSecurityException.class,
                        () -> b.cipher.installVaultKey(altered, a.identity.nodeId()));
            }
        }
        assertArrayEquals(keyBefore, b.vaultKeyFile());
        assertArrayEquals("the old key is still in use", PHOTO, decrypt(b.cipher, blobBefore));
        assertFalse(Files.exists(b.dir.resolve(SegmentedVaultCipher.PREVIOUS_KEY_FILE)));
    }

    @Test
    public void cutOrPaddedSealsAreRefused() throws Exception {
        Node a = node(true);
        Node b = node(true);
        byte[] sealed = a.sealTo(b);
        byte[][] malformed = {null, new byte[0], Arrays.copyOf(sealed, 92), Arrays.copyOf(sealed, 94)};
        for (byte[] bytes : malformed) {
            GeneralSecurityException e = assertThrows(GeneralSecurityException.class,
                    () -> b.cipher.installVaultKey(bytes, a.identity.nodeId()));
            assertTrue(e.getMessage(), e.getMessage().contains("93 bytes"));
        }
        byte[] version2 = sealed.clone();
        version2[0] = 2;
        GeneralSecurityException e = assertThrows(GeneralSecurityException.class,
                () -> b.cipher.installVaultKey(version2, a.identity.nodeId()));
        assertTrue(e.getMessage(), e.getMessage().contains("version 2"));
    }

    @Test
    public void senderAndRecipientIdsAreBoundIn() throws Exception {
        Node a = node(true);
        Node b = node(true);
        Node c = node(true);

        assertThrows("wrong sender", GeneralSecurityException.class,
                () -> b.cipher.installVaultKey(a.sealTo(b), c.identity.nodeId()));
        byte[] namedForC = a.cipher.sealVaultKey(verifier.agreementKeyOf(b.identity.publicKey()), c.identity.nodeId());
        assertThrows("sealed to B's key but for C", GeneralSecurityException.class,
                () -> b.cipher.installVaultKey(namedForC, a.identity.nodeId()));
        assertThrows("malformed sender", IllegalArgumentException.class,
                () -> b.cipher.installVaultKey(a.sealTo(b), "not a node id"));
    }

    @Test
    public void nodeIdsMayBeSpelledAnyValidWay() throws Exception {
        Node a = node(true);
        Node b = node(true);
        String peer = b.identity.nodeId().replace("-", "").toLowerCase(Locale.ROOT);
        byte[] sealed = a.cipher.sealVaultKey(verifier.agreementKeyOf(b.identity.publicKey()), peer);

        b.cipher.installVaultKey(sealed, a.identity.nodeId().toLowerCase(Locale.ROOT));
        assertArrayEquals(PHOTO, decrypt(b.cipher, encrypt(a.cipher, PHOTO)));
    }

    @Test
    public void keyFilesStayPrivateAndThePreviousKeyIsKept() throws Exception {
        Node a = node(true);
        Node b = node(true);
        byte[] oldKey = b.vaultKeyFile();
        byte[] oldBlob = encrypt(b.cipher, PHOTO);

        b.cipher.installVaultKey(a.sealTo(b), a.identity.nodeId());

        Path vaultKey = b.dir.resolve(SegmentedVaultCipher.KEY_FILE);
        Path previous = b.dir.resolve(SegmentedVaultCipher.PREVIOUS_KEY_FILE);
        assertArrayEquals(a.vaultKeyFile(), Files.readAllBytes(vaultKey));
        assertArrayEquals(oldKey, Files.readAllBytes(previous));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(vaultKey)));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(previous)));
        assertEquals("no temporary files are left",
                List.of(Ed25519NodeIdentity.KEY_FILE, SegmentedVaultCipher.KEY_FILE,
                        SegmentedVaultCipher.PREVIOUS_KEY_FILE), fileNames(b.dir));

        assertThrows("blobs under the replaced key", IOException.class, () -> decrypt(b.cipher, oldBlob));
        SegmentedVaultCipher restarted = SegmentedVaultCipherTest.cipherIn(b.dir, true);
        assertArrayEquals("the new key survives a restart", PHOTO, decrypt(restarted, encrypt(a.cipher, PHOTO)));
    }

    @Test
    public void installingTheSameKeyAgainKeepsTheBackup() throws Exception {
        Node a = node(true);
        Node b = node(true);
        byte[] oldKey = b.vaultKeyFile();

        b.cipher.installVaultKey(a.sealTo(b), a.identity.nodeId());
        b.cipher.installVaultKey(a.sealTo(b), a.identity.nodeId());

        assertArrayEquals(oldKey, Files.readAllBytes(b.dir.resolve(SegmentedVaultCipher.PREVIOUS_KEY_FILE)));
        assertArrayEquals(a.vaultKeyFile(), b.vaultKeyFile());
    }

    @Test
    public void storageOnlyNodeCanInstallAndThenEncrypt() throws Exception {
        Node a = node(true);
        Node s = node(false);
        assertFalse(s.cipher.hasVaultKey());

        s.cipher.installVaultKey(a.sealTo(s), a.identity.nodeId());

        assertTrue(s.cipher.hasVaultKey());
        assertArrayEquals(PHOTO, decrypt(a.cipher, encrypt(s.cipher, PHOTO)));
        assertFalse("there was no key to keep", Files.exists(s.dir.resolve(SegmentedVaultCipher.PREVIOUS_KEY_FILE)));
        assertEquals("rw-------", PosixFilePermissions.toString(
                Files.getPosixFilePermissions(s.dir.resolve(SegmentedVaultCipher.KEY_FILE))));
        assertTrue(SegmentedVaultCipherTest.cipherIn(s.dir, false).hasVaultKey());
    }

    @Test
    public void sealingNeedsTheVaultKeyAndAUsablePeerKey() throws Exception {
        Node a = node(true);
        Node b = node(true);
        Node s = node(false);
        byte[] bKey = verifier.agreementKeyOf(b.identity.publicKey());
        String bId = b.identity.nodeId();

        IllegalStateException noKey = assertThrows(IllegalStateException.class, () -> s.cipher.sealVaultKey(bKey, bId));
        assertTrue(noKey.getMessage(), noKey.getMessage().contains("no vault key"));
        assertThrows(IllegalArgumentException.class, () -> a.cipher.sealVaultKey(null, bId));
        assertThrows(IllegalArgumentException.class, () -> a.cipher.sealVaultKey(Arrays.copyOf(bKey, 31), bId));
        assertThrows("small order", IllegalArgumentException.class, () -> a.cipher.sealVaultKey(new byte[32], bId));
        assertThrows(IllegalArgumentException.class, () -> a.cipher.sealVaultKey(bKey, bId.substring(1)));
    }

    @Test
    public void sealedKeyNeverContainsTheVaultKey() throws Exception {
        Node a = node(true);
        Node b = node(true);
        byte[] sealed = a.sealTo(b);
        byte[] vaultKey = a.vaultKeyFile();
        for (int i = 0; i + 8 <= sealed.length; i++) {
            for (int j = 0; j + 8 <= vaultKey.length; j++) {
                assertFalse(Arrays.equals(sealed, i, i + 8, vaultKey, j, j + 8));
            }
        }
    }

    private Node node(boolean createVaultKey) throws IOException {
        Path dir = temp.newFolder().toPath().resolve("keys");
        Ed25519NodeIdentity identity = new Ed25519NodeIdentity(dir);
        return new Node(dir, identity, new SegmentedVaultCipher(dir, createVaultKey, identity));
    }

    private static byte[] encrypt(SegmentedVaultCipher cipher, byte[] plaintext) throws IOException {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        try (EncryptingStream out = cipher.encrypt(sink)) {
            out.write(plaintext);
        }
        return sink.toByteArray();
    }

    private static String contentId(SegmentedVaultCipher cipher, byte[] plaintext) throws IOException {
        EncryptingStream out = cipher.encrypt(new ByteArrayOutputStream());
        out.write(plaintext);
        out.close();
        return out.result().contentId();
    }

    private static byte[] decrypt(SegmentedVaultCipher cipher, byte[] ciphertext) throws IOException {
        try (InputStream in = cipher.decrypt(new ByteArrayInputStream(ciphertext))) {
            return in.readAllBytes();
        }
    }

    private static List<String> fileNames(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    /** One node: its key directory, identity and cipher, wired as the components are. */
    private final class Node {
        final Path dir;
        final Ed25519NodeIdentity identity;
        final SegmentedVaultCipher cipher;

        Node(Path dir, Ed25519NodeIdentity identity, SegmentedVaultCipher cipher) {
            this.dir = dir;
            this.identity = identity;
            this.cipher = cipher;
        }

        /** Sealed as pairing does it: to the key computed from the peer's pinned Ed25519 key. */
        byte[] sealTo(Node peer) {
            return cipher.sealVaultKey(verifier.agreementKeyOf(peer.identity.publicKey()), peer.identity.nodeId());
        }

        byte[] vaultKeyFile() throws IOException {
            return Files.readAllBytes(dir.resolve(SegmentedVaultCipher.KEY_FILE));
        }
    }
}
