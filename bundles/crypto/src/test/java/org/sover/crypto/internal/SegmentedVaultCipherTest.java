package org.sover.crypto.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.sover.api.crypto.EncryptingStream;
import org.sover.api.crypto.EncryptionResult;

public class SegmentedVaultCipherTest {
    private static final int SEGMENT = SegmentedVaultCipher.SEGMENT_SIZE;
    private static final int SEALED = SEGMENT + SegmentedVaultCipher.TAG_BYTES;
    private static final int HEADER = BlobHeader.LENGTH;

    @Rule
    public TemporaryFolder temp = new TemporaryFolder();

    @Test
    public void roundTripsAtSegmentBoundaries() throws Exception {
        SegmentedVaultCipher cipher = newCipher();
        for (int size : new int[] {0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT, 5_000_017}) {
            byte[] plaintext = plaintext(size);
            Blob blob = encrypt(cipher, plaintext);
            int segments = Math.max(1, (size + SEGMENT - 1) / SEGMENT);

            assertEquals("cipher size of " + size, cipher.cipherSize(size), blob.bytes.length);
            assertEquals(HEADER + size + 16L * segments, blob.bytes.length);
            assertEquals(size, blob.result.plaintextSize());
            assertEquals(blob.bytes.length, blob.result.cipherSize());
            assertEquals(segments, blob.result.segments());
            assertEquals(sha256Hex(blob.bytes), blob.result.cipherSha256());
            assertArrayEquals("size " + size, plaintext, decrypt(cipher, blob.bytes));
        }
    }

    @Test
    public void headerHasTheDocumentedLayout() throws Exception {
        byte[] bytes = encrypt(newCipher(), plaintext(10)).bytes;
        ByteBuffer header = ByteBuffer.wrap(bytes, 0, HEADER);

        byte[] magic = new byte[4];
        header.get(magic);
        assertEquals("SOVB", new String(magic, StandardCharsets.US_ASCII));
        assertEquals(1, header.get());
        assertEquals(SEGMENT, header.getInt());
        header.position(header.position() + 7);
        assertEquals(40, header.getShort());
        assertEquals(58, HEADER);
    }

    @Test
    public void writePatternsDoNotChangeTheResult() throws Exception {
        SegmentedVaultCipher cipher = newCipher();
        byte[] plaintext = plaintext(2 * SEGMENT + 300);
        Blob bulk = encrypt(cipher, plaintext);

        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        EncryptingStream out = cipher.encrypt(sink);
        int i = 0;
        for (int chunk = 1; i < plaintext.length; chunk = chunk * 3 + 1) {
            if (chunk > 100_000) {
                chunk = 1;
            }
            int n = Math.min(chunk, plaintext.length - i);
            if (n == 1) {
                out.write(plaintext[i]);
            } else {
                out.write(plaintext, i, n);
            }
            i += n;
        }
        out.close();

        assertEquals(bulk.result.contentId(), out.result().contentId());
        assertEquals(bulk.result.cipherSize(), out.result().cipherSize());
        assertArrayEquals(plaintext, decrypt(cipher, sink.toByteArray()));
    }

    @Test
    public void smallAndSingleByteReadsSeeTheSamePlaintext() throws Exception {
        SegmentedVaultCipher cipher = newCipher();
        byte[] plaintext = plaintext(SEGMENT + 1);
        Blob blob = encrypt(cipher, plaintext);

        ByteArrayOutputStream collected = new ByteArrayOutputStream();
        try (InputStream in = cipher.decrypt(new ByteArrayInputStream(blob.bytes))) {
            int b;
            while ((b = in.read()) >= 0) {
                collected.write(b);
            }
        }
        assertArrayEquals(plaintext, collected.toByteArray());

        collected.reset();
        byte[] buffer = new byte[777];
        try (InputStream in = cipher.decrypt(new ByteArrayInputStream(blob.bytes))) {
            assertEquals(0, in.read(buffer, 0, 0));
            int n;
            while ((n = in.read(buffer, 3, 500)) >= 0) {
                collected.write(buffer, 3, n);
            }
        }
        assertArrayEquals(plaintext, collected.toByteArray());
    }

    @Test
    public void contentIdDependsOnPlaintextAndVaultKeyOnly() throws Exception {
        SegmentedVaultCipher cipher = newCipher();
        byte[] plaintext = plaintext(SEGMENT + 5);
        Blob first = encrypt(cipher, plaintext);
        Blob second = encrypt(cipher, plaintext);
        Blob otherVault = encrypt(newCipher(), plaintext);
        byte[] changed = plaintext.clone();
        changed[7] ^= 1;

        assertTrue(first.result.contentId().matches("[0-9a-f]{64}"));
        assertEquals(first.result.contentId(), second.result.contentId());
        assertNotEquals("fresh data key and nonces", first.result.cipherSha256(), second.result.cipherSha256());
        assertNotEquals(first.result.contentId(), otherVault.result.contentId());
        assertNotEquals(first.result.contentId(), encrypt(cipher, changed).result.contentId());
        assertNotEquals(sha256Hex(plaintext), first.result.contentId());
    }

    @Test
    public void anotherVaultKeyCannotDecrypt() throws Exception {
        Blob blob = encrypt(newCipher(), plaintext(100));
        IOException e = assertThrows(IOException.class, () -> decrypt(newCipher(), blob.bytes));
        assertTrue(e.getMessage(), e.getMessage().contains("another vault key"));
    }

    @Test
    public void ciphertextNeverContainsPlaintext() throws Exception {
        byte[] plaintext = plaintext(3 * SEGMENT + 1000);
        byte[] ciphertext = encrypt(newCipher(), plaintext).bytes;
        int window = 64;
        Set<ByteBuffer> windows = new HashSet<>();
        for (int i = 0; i + window <= plaintext.length; i++) {
            windows.add(ByteBuffer.wrap(plaintext, i, window).slice());
        }
        for (int i = 0; i + window <= ciphertext.length; i++) {
            assertFalse("plaintext at ciphertext offset " + i,
                    windows.contains(ByteBuffer.wrap(ciphertext, i, window).slice()));
        }
    }

    @Test
    public void everyHeaderByteIsAuthenticated() throws Exception {
        SegmentedVaultCipher cipher = newCipher();
        byte[] bytes = encrypt(cipher, plaintext(2 * SEGMENT + 500)).bytes;
        for (int i = 0; i < HEADER; i++) {
            assertDamaged(cipher, flip(bytes, i), "header byte " + i);
        }
    }

    @Test
    public void flippedSegmentBytesAreCaught() throws Exception {
        SegmentedVaultCipher cipher = newCipher();
        byte[] bytes = encrypt(cipher, plaintext(2 * SEGMENT + 500)).bytes;
        for (int segment = 0; segment < 3; segment++) {
            int start = HEADER + segment * SEALED;
            int end = Math.min(bytes.length, start + SEALED);
            for (int i : new int[] {start, start + 1, (start + end) / 2, end - 17, end - 16, end - 1}) {
                assertDamaged(cipher, flip(bytes, i), "segment " + segment + " byte " + i);
            }
        }
    }

    @Test
    public void onlyAuthenticatedSegmentsAreReleased() throws Exception {
        SegmentedVaultCipher cipher = newCipher();
        byte[] plaintext = plaintext(3 * SEGMENT);
        byte[] bytes = encrypt(cipher, plaintext).bytes;

        assertEquals(0, readUntilFailure(cipher, flip(bytes, HEADER + 5)));
        assertEquals(SEGMENT, readUntilFailure(cipher, flip(bytes, HEADER + SEALED + 5)));
        assertEquals(2 * SEGMENT, readUntilFailure(cipher, flip(bytes, bytes.length - 1)));
    }

    @Test
    public void truncationIsCaught() throws Exception {
        SegmentedVaultCipher cipher = newCipher();
        for (int size : new int[] {2 * SEGMENT, 2 * SEGMENT + 500}) {
            byte[] bytes = encrypt(cipher, plaintext(size)).bytes;
            int[] lengths = {0, 3, HEADER - 1, HEADER, HEADER + 10, HEADER + SEALED, HEADER + SEALED + 1,
                HEADER + SEALED + 1000, bytes.length - 16, bytes.length - 1};
            for (int length : lengths) {
                assertDamaged(cipher, Arrays.copyOf(bytes, length), size + " bytes cut to " + length);
            }
        }
    }

    @Test
    public void truncationMessageNamesTheSegment() throws Exception {
        SegmentedVaultCipher cipher = newCipher();
        byte[] bytes = encrypt(cipher, plaintext(3 * SEGMENT)).bytes;
        IOException e = assertThrows(IOException.class,
                () -> decrypt(cipher, Arrays.copyOf(bytes, HEADER + 2 * SEALED)));
        assertEquals("blob is damaged or truncated at segment 1", e.getMessage());
    }

    @Test
    public void swappedSegmentsAreCaught() throws Exception {
        SegmentedVaultCipher cipher = newCipher();
        byte[] bytes = encrypt(cipher, plaintext(3 * SEGMENT)).bytes;
        byte[] swapped = bytes.clone();
        System.arraycopy(bytes, HEADER, swapped, HEADER + SEALED, SEALED);
        System.arraycopy(bytes, HEADER + SEALED, swapped, HEADER, SEALED);
        assertDamaged(cipher, swapped, "segments 0 and 1 swapped");

        byte[] lastFirst = bytes.clone();
        System.arraycopy(bytes, HEADER, lastFirst, HEADER + 2 * SEALED, SEALED);
        System.arraycopy(bytes, HEADER + 2 * SEALED, lastFirst, HEADER, SEALED);
        assertDamaged(cipher, lastFirst, "segments 0 and 2 swapped");
    }

    @Test
    public void segmentsOfAnotherBlobCannotBeSpliced() throws Exception {
        SegmentedVaultCipher cipher = newCipher();
        byte[] plaintext = plaintext(2 * SEGMENT);
        byte[] a = encrypt(cipher, plaintext).bytes;
        byte[] b = encrypt(cipher, plaintext).bytes;
        byte[] spliced = a.clone();
        System.arraycopy(b, HEADER + SEALED, spliced, HEADER + SEALED, SEALED);
        assertDamaged(cipher, spliced, "second segment from another blob");
    }

    @Test
    public void appendedBytesAreCaught() throws Exception {
        SegmentedVaultCipher cipher = newCipher();
        for (int size : new int[] {0, SEGMENT, SEGMENT + 500}) {
            byte[] bytes = encrypt(cipher, plaintext(size)).bytes;
            assertDamaged(cipher, append(bytes, new byte[] {0}), size + " + 1 byte");
            assertDamaged(cipher, append(bytes, new byte[16]), size + " + 16 bytes");
            byte[] lastSegment = Arrays.copyOfRange(bytes, HEADER + Math.max(0, (bytes.length - HEADER - 1) / SEALED)
                    * SEALED, bytes.length);
            assertDamaged(cipher, append(bytes, lastSegment), size + " + its final segment again");
            assertDamaged(cipher, append(bytes, encrypt(cipher, plaintext(10)).bytes), size + " + another blob");
        }
    }

    @Test
    public void seekableDecryptReturnsTheRequestedSlice() throws Exception {
        SegmentedVaultCipher cipher = newCipher();
        for (int size : new int[] {3 * SEGMENT + 777, 2 * SEGMENT}) {
            byte[] plaintext = plaintext(size);
            Path file = write(encrypt(cipher, plaintext).bytes);
            long[] offsets = {0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, size / 2, size - 1, size};
            for (long offset : offsets) {
                FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
                try (InputStream in = cipher.decrypt(channel, offset)) {
                    assertArrayEquals("offset " + offset + " of " + size,
                            Arrays.copyOfRange(plaintext, (int) offset, size), in.readAllBytes());
                }
                assertFalse("channel closed with the stream", channel.isOpen());
            }
        }
    }

    @Test
    public void seekableDecryptOfAnEmptyBlob() throws Exception {
        SegmentedVaultCipher cipher = newCipher();
        Path file = write(encrypt(cipher, new byte[0]).bytes);
        try (InputStream in = cipher.decrypt(FileChannel.open(file, StandardOpenOption.READ), 0)) {
            assertEquals(-1, in.read());
        }
    }

    @Test
    public void seekPastTheEndFailsAndClosesTheChannel() throws Exception {
        SegmentedVaultCipher cipher = newCipher();
        Path file = write(encrypt(cipher, plaintext(1000)).bytes);
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        assertThrows(EOFException.class, () -> cipher.decrypt(channel, 1001));
        assertFalse(channel.isOpen());
    }

    @Test
    public void seekableDecryptCatchesDamage() throws Exception {
        SegmentedVaultCipher cipher = newCipher();
        byte[] bytes = encrypt(cipher, plaintext(3 * SEGMENT + 10)).bytes;
        byte[][] damaged = {
            flip(bytes, 8), // header
            flip(bytes, HEADER + 2 * SEALED + 3),
            flip(bytes, bytes.length - 1),
            Arrays.copyOf(bytes, HEADER + 3 * SEALED), // final segment missing
            Arrays.copyOf(bytes, bytes.length - 5),
            append(bytes, new byte[40]),
        };
        for (int i = 0; i < damaged.length; i++) {
            Path file = write(damaged[i]);
            for (long offset : new long[] {0, 2 * SEGMENT + 1}) {
                String what = "case " + i + " at offset " + offset;
                try (InputStream in = cipher.decrypt(FileChannel.open(file, StandardOpenOption.READ), offset)) {
                    in.readAllBytes();
                    fail(what + " decrypted");
                } catch (IOException expected) {
                    assertTrue(what + ": " + expected.getMessage(), expected.getMessage().contains("damaged")
                            || expected.getMessage().contains("unwrap") || expected.getMessage().contains("past"));
                }
            }
        }
    }

    @Test
    public void notABlobIsRefused() throws Exception {
        SegmentedVaultCipher cipher = newCipher();
        byte[] bytes = encrypt(cipher, plaintext(10)).bytes;
        IOException magic = assertThrows(IOException.class, () -> decrypt(cipher, flip(bytes, 0)));
        assertTrue(magic.getMessage(), magic.getMessage().contains("not a Sover blob"));
        byte[] version = bytes.clone();
        version[4] = 2;
        IOException unsupported = assertThrows(IOException.class, () -> decrypt(cipher, version));
        assertTrue(unsupported.getMessage(), unsupported.getMessage().contains("unsupported blob version 2"));
    }

    @Test
    public void streamLifecycle() throws Exception {
        SegmentedVaultCipher cipher = newCipher();
        boolean[] sinkClosed = {false};
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        OutputStream sink = new FilterOutputStream(bytes) {
            @Override
            public void close() {
                sinkClosed[0] = true;
            }
        };
        EncryptingStream out = cipher.encrypt(sink);
        out.write(plaintext(100));
        assertThrows(IllegalStateException.class, out::result);
        out.close();
        EncryptionResult result = out.result();
        out.close();

        assertFalse("the sink stays open", sinkClosed[0]);
        assertEquals(result, out.result());
        assertThrows(IOException.class, () -> out.write(1));
        assertEquals(cipher.cipherSize(100), bytes.size());
    }

    @Test
    public void failedSinkLeavesNoResult() throws Exception {
        SegmentedVaultCipher cipher = newCipher();
        OutputStream failing = new OutputStream() {
            private int written;

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                written += len;
                if (written > HEADER) {
                    throw new IOException("disk full");
                }
            }
        };
        EncryptingStream out = cipher.encrypt(failing);
        assertThrows(IOException.class, () -> out.write(plaintext(3 * SEGMENT)));
        assertThrows(IOException.class, () -> out.write(1));
        out.close();
        assertThrows(IllegalStateException.class, out::result);
    }

    @Test
    public void vaultKeyIsPrivateAndSurvivesReactivation() throws Exception {
        Path dir = temp.newFolder().toPath().resolve("keys");
        byte[] plaintext = plaintext(SEGMENT + 3);
        Blob blob = encrypt(cipherIn(dir, true), plaintext);

        SegmentedVaultCipher again = cipherIn(dir, true);
        assertArrayEquals(plaintext, decrypt(again, blob.bytes));
        assertEquals(blob.result.contentId(), encrypt(again, plaintext).result.contentId());
        Path keyFile = dir.resolve(SegmentedVaultCipher.KEY_FILE);
        assertEquals(32, Files.size(keyFile));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));

        SegmentedVaultCipher copiedKeyOnStorageNode = cipherIn(dir, false);
        assertTrue(copiedKeyOnStorageNode.hasVaultKey());
        assertArrayEquals(plaintext, decrypt(copiedKeyOnStorageNode, blob.bytes));
    }

    @Test
    public void storageOnlyNodeHasNoVaultKey() throws Exception {
        Path dir = temp.newFolder().toPath().resolve("keys");
        SegmentedVaultCipher storageOnly = cipherIn(dir, false);

        assertFalse(storageOnly.hasVaultKey());
        assertFalse(Files.exists(dir.resolve(SegmentedVaultCipher.KEY_FILE)));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> storageOnly.encrypt(new ByteArrayOutputStream()));
        assertTrue(e.getMessage(), e.getMessage().contains("no vault key"));
        assertThrows(IllegalStateException.class, () -> storageOnly.decrypt(new ByteArrayInputStream(new byte[100])));
        assertEquals(HEADER + 16, storageOnly.cipherSize(0));
    }

    @Test
    public void damagedVaultKeyFileStopsActivation() throws Exception {
        Path dir = temp.newFolder().toPath();
        Files.write(dir.resolve(SegmentedVaultCipher.KEY_FILE), new byte[33]);
        assertThrows(IOException.class, () -> cipherIn(dir, true));
    }

    @Test
    public void cipherSizeFormula() throws Exception {
        SegmentedVaultCipher storageOnly = cipherIn(temp.newFolder().toPath(), false);
        assertEquals(HEADER + 16, storageOnly.cipherSize(0));
        assertEquals(HEADER + 1 + 16, storageOnly.cipherSize(1));
        assertEquals(HEADER + SEGMENT + 16, storageOnly.cipherSize(SEGMENT));
        assertEquals(HEADER + SEGMENT + 1 + 32, storageOnly.cipherSize(SEGMENT + 1));
        assertEquals(HEADER + (1L << 40) + 16L * (1 << 24), storageOnly.cipherSize(1L << 40));
        assertThrows(IllegalArgumentException.class, () -> storageOnly.cipherSize(-1));
    }

    private SegmentedVaultCipher newCipher() throws IOException {
        return cipherIn(temp.newFolder().toPath().resolve("keys"), true);
    }

    /** A cipher with the node identity of the same key directory, as the components run. */
    static SegmentedVaultCipher cipherIn(Path keyDir, boolean createVaultKey) throws IOException {
        return new SegmentedVaultCipher(keyDir, createVaultKey, new Ed25519NodeIdentity(keyDir));
    }

    /** Recognisable text: any 64-byte window of it is unique, so a leak would be found. */
    private static byte[] plaintext(int size) {
        StringBuilder text = new StringBuilder(size + 32);
        for (int line = 0; text.length() < size; line++) {
            text.append("family photo line ").append(line).append(";\n");
        }
        return Arrays.copyOf(text.toString().getBytes(StandardCharsets.US_ASCII), size);
    }

    private static Blob encrypt(SegmentedVaultCipher cipher, byte[] plaintext) throws IOException {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        EncryptingStream out = cipher.encrypt(sink);
        out.write(plaintext);
        out.close();
        return new Blob(sink.toByteArray(), out.result());
    }

    private static byte[] decrypt(SegmentedVaultCipher cipher, byte[] ciphertext) throws IOException {
        try (InputStream in = cipher.decrypt(new ByteArrayInputStream(ciphertext))) {
            return in.readAllBytes();
        }
    }

    private static void assertDamaged(SegmentedVaultCipher cipher, byte[] ciphertext, String what) {
        try {
            decrypt(cipher, ciphertext);
            fail(what + " decrypted");
        } catch (IOException expected) {
            // the message is checked where it matters; here any refusal is right
        }
    }

    private static int readUntilFailure(SegmentedVaultCipher cipher, byte[] ciphertext) throws IOException {
        int released = 0;
        byte[] buffer = new byte[8192];
        try (InputStream in = cipher.decrypt(new ByteArrayInputStream(ciphertext))) {
            for (int n; (n = in.read(buffer)) >= 0;) {
                released += n;
            }
            fail("damaged blob decrypted");
        } catch (IOException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().startsWith("blob is damaged or truncated"));
        }
        return released;
    }

    private static byte[] flip(byte[] bytes, int index) {
        byte[] copy = bytes.clone();
        copy[index] ^= 0x01;
        return copy;
    }

    private static byte[] append(byte[] a, byte[] b) {
        byte[] joined = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, joined, a.length, b.length);
        return joined;
    }

    private Path write(byte[] bytes) throws IOException {
        Path file = temp.newFile().toPath();
        Files.write(file, bytes);
        return file;
    }

    private static String sha256Hex(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private record Blob(byte[] bytes, EncryptionResult result) {
    }
}
