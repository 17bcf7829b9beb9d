package org.sover.storage.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.attribute.FileStoreAttributeView;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.sover.api.storage.InsufficientStorageException;
import org.sover.api.storage.PendingBlob;

public class FileBlobStoreTest {
    private static final String ID = "0123456789abcdef0123456789abcdef";
    private static final String OTHER_ID = "fedcba9876543210fedcba9876543210";

    @Rule
    public TemporaryFolder temp = new TemporaryFolder();

    private Path root;
    private FileBlobStore store;

    @Before
    public void createStore() {
        root = temp.getRoot().toPath().resolve("blobs");
        store = new FileBlobStore(root, 0);
    }

    @Test
    public void aCommittedBlobIsVisibleUnderItsShardedPath() throws IOException {
        byte[] data = randomBytes(1_000_000);
        try (PendingBlob blob = store.create()) {
            blob.output().write(data);
            assertTrue(blob.commit(ID));
        }

        assertTrue(Files.isRegularFile(root.resolve("01").resolve("23").resolve(ID)));
        assertTrue(store.exists(ID));
        assertEquals(data.length, store.size(ID));
        try (InputStream in = store.open(ID)) {
            assertArrayEquals(data, in.readAllBytes());
        }
        assertEquals(0, pendingFiles());
    }

    /** A commit returns only once every directory entry on its blob's path is on disk. */
    @Test
    public void aCommitSyncsEveryNewDirectoryOnItsPath() throws IOException {
        java.util.List<Path> synced = new java.util.concurrent.CopyOnWriteArrayList<>();
        store.directorySynced = synced::add;
        try (PendingBlob blob = store.create()) {
            blob.output().write(randomBytes(1000));
            assertTrue(blob.commit(ID));
        }
        assertEquals(java.util.List.of(root.resolve("01/23"), root.resolve("01"), root), synced);
        assertTrue(store.unsyncedDirectories.isEmpty());

        // Another upload created 45/ and 45/67/ moments ago and has not synced them yet: this
        // commit, in the same shard, syncs both levels too rather than trusting they exist.
        Files.createDirectories(root.resolve("45/67"));
        store.unsyncedDirectories.add(root.resolve("45"));
        store.unsyncedDirectories.add(root.resolve("45/67"));
        synced.clear();
        String other = "4567" + ID.substring(4);
        try (PendingBlob blob = store.create()) {
            blob.output().write(randomBytes(1000));
            assertTrue(blob.commit(other));
        }
        assertEquals(java.util.List.of(root.resolve("45/67"), root.resolve("45"), root), synced);

        // An existing shard whose entries are on disk: only the shard itself, for the rename.
        synced.clear();
        String third = "0123" + "f".repeat(ID.length() - 4);
        try (PendingBlob blob = store.create()) {
            blob.output().write(randomBytes(1000));
            assertTrue(blob.commit(third));
        }
        assertEquals(java.util.List.of(root.resolve("01/23")), synced);
    }

    @Test
    public void pendingDataIsInvisibleUntilCommit() throws IOException {
        try (PendingBlob blob = store.create()) {
            blob.output().write(randomBytes(300_000));
            blob.output().flush();

            assertFalse(store.exists(ID));
            assertEquals(-1, store.size(ID));
            assertThrows(NoSuchFileException.class, () -> store.open(ID));
            assertEquals(1, pendingFiles());

            blob.commit(ID);
        }
        assertTrue(store.exists(ID));
    }

    @Test
    public void abortAndCloseRemoveTheTemporaryFile() throws IOException {
        PendingBlob aborted = store.create();
        aborted.output().write(randomBytes(10));
        aborted.abort();
        aborted.abort();
        assertThrows(IllegalStateException.class, () -> aborted.commit(ID));

        try (PendingBlob closed = store.create()) {
            closed.output().write(randomBytes(10));
        }

        assertEquals(0, pendingFiles());
        assertFalse(store.exists(ID));
    }

    @Test
    public void committingAnIdTwiceKeepsTheFirstCopy() throws IOException {
        try (PendingBlob first = store.create()) {
            first.output().write(new byte[] {1, 2, 3});
            assertTrue(first.commit(ID));
        }
        try (PendingBlob second = store.create()) {
            second.output().write(new byte[] {1, 2, 3});
            assertFalse(second.commit(ID));
        }

        assertEquals(3, store.size(ID));
        assertEquals(0, pendingFiles());
    }

    @Test
    public void leftoversOfACrashAreRemovedAtStart() throws IOException {
        PendingBlob unfinished = store.create();
        unfinished.output().write(randomBytes(1000));
        unfinished.output().flush();
        assertEquals(1, pendingFiles());

        store = new FileBlobStore(root, 0);

        assertEquals(0, pendingFiles());
    }

    @Test
    public void createIsRefusedBelowTheFreeSpaceReserve() throws IOException {
        FileBlobStore full = new FileBlobStore(root, store.usableSpace() + (1L << 40));

        InsufficientStorageException e = assertThrows(InsufficientStorageException.class, full::create);
        assertTrue(e.getMessage(), e.getMessage().contains("MiB are free"));
        assertEquals(0, pendingFiles());
    }

    @Test
    public void theVolumeIsLookedUpOnceAndTheFreeSpaceAskedEachTime() throws IOException {
        AtomicInteger lookups = new AtomicInteger();
        AtomicLong free = new AtomicLong(5L << 30);
        AtomicBoolean broken = new AtomicBoolean();
        FileStore real = Files.getFileStore(root);
        FileBlobStore.VolumeFreeSpace space = new FileBlobStore.VolumeFreeSpace(path -> {
            lookups.incrementAndGet();
            return new DelegatingStore(real) {
                @Override
                public long getUsableSpace() throws IOException {
                    if (broken.get()) {
                        throw new IOException("statvfs failed");
                    }
                    return free.get();
                }
            };
        });

        assertEquals(5L << 30, space.of(root));
        free.set(3L << 30);
        assertEquals(3L << 30, space.of(root));
        assertEquals(1, lookups.get());

        broken.set(true);
        assertThrows(IOException.class, () -> space.of(root));
        broken.set(false);
        assertEquals(3L << 30, space.of(root));
        assertEquals("a failed call looks the volume up again", 2, lookups.get());
    }

    @Test
    public void theRealVolumeReportsItsFreeSpace() throws IOException {
        long expected = Files.getFileStore(root).getUsableSpace();
        long measured = new FileBlobStore.VolumeFreeSpace().of(root);
        // other processes write to the same disk meanwhile
        assertTrue(measured + " against " + expected, Math.abs(measured - expected) < (256L << 20));
        assertTrue(measured > 0);
    }

    /** A FileStore that answers like another one; tests override what they need. */
    private static class DelegatingStore extends FileStore {
        private final FileStore real;

        DelegatingStore(FileStore real) {
            this.real = real;
        }

        @Override
        public String name() {
            return real.name();
        }

        @Override
        public String type() {
            return real.type();
        }

        @Override
        public boolean isReadOnly() {
            return real.isReadOnly();
        }

        @Override
        public long getTotalSpace() throws IOException {
            return real.getTotalSpace();
        }

        @Override
        public long getUsableSpace() throws IOException {
            return real.getUsableSpace();
        }

        @Override
        public long getUnallocatedSpace() throws IOException {
            return real.getUnallocatedSpace();
        }

        @Override
        public boolean supportsFileAttributeView(Class<? extends FileAttributeView> type) {
            return real.supportsFileAttributeView(type);
        }

        @Override
        public boolean supportsFileAttributeView(String name) {
            return real.supportsFileAttributeView(name);
        }

        @Override
        public <V extends FileStoreAttributeView> V getFileStoreAttributeView(Class<V> type) {
            return real.getFileStoreAttributeView(type);
        }

        @Override
        public Object getAttribute(String attribute) throws IOException {
            return real.getAttribute(attribute);
        }
    }

    @Test
    public void commitIsRefusedWhenTheDiskFilledMeanwhile() throws IOException {
        AtomicLong free = new AtomicLong(1L << 30);
        FileBlobStore filling = new FileBlobStore(root, 64L << 20, path -> free.get());
        PendingBlob blob = filling.create();
        blob.output().write(randomBytes(1000));
        free.set(1L << 20);

        assertThrows(InsufficientStorageException.class, () -> blob.commit(ID));
        assertFalse(filling.exists(ID));
        assertEquals(0, pendingFiles());
    }

    @Test
    public void channelsSeekAndBlobsCanBeDeleted() throws IOException {
        try (PendingBlob blob = store.create()) {
            blob.output().write(new byte[] {10, 20, 30, 40, 50});
            blob.commit(ID);
        }

        try (SeekableByteChannel channel = store.openChannel(ID)) {
            assertEquals(5, channel.size());
            channel.position(3);
            ByteBuffer two = ByteBuffer.allocate(2);
            channel.read(two);
            assertArrayEquals(new byte[] {40, 50}, two.array());
        }
        assertThrows(NoSuchFileException.class, () -> store.openChannel(OTHER_ID));
        assertTrue(store.delete(ID));
        assertFalse(store.delete(ID));
        assertFalse(store.exists(ID));
    }

    @Test
    public void malformedIdsAreRejected() throws IOException {
        for (String bad : new String[] {null, "", "short", "../../../etc/passwd", "0123456789ABCDEF0123",
                "0123456789abcdef/12", "x".repeat(129)}) {
            assertThrows(IllegalArgumentException.class, () -> store.exists(bad));
        }
        try (PendingBlob blob = store.create()) {
            blob.output().write(1);
            assertThrows(IllegalArgumentException.class, () -> blob.commit("../escape0123456789"));
            assertTrue(blob.commit(ID)); // still usable after a rejected id
        }
    }

    @Test
    public void aFullDiskWhileWritingBecomesInsufficientStorageAndDiscardsTheBlob() {
        AtomicBoolean discarded = new AtomicBoolean();
        WritableByteChannel full = new WritableByteChannel() {
            @Override
            public int write(ByteBuffer src) throws IOException {
                throw new IOException("No space left on device");
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {
            }
        };
        OutputStream out = new BlobOutputStream(full, 16, () -> discarded.set(true));

        assertThrows(InsufficientStorageException.class, () -> out.write(new byte[64]));
        assertTrue(discarded.get());
        IOException later = assertThrows(IOException.class, () -> out.write(1));
        assertFalse(later instanceof InsufficientStorageException);
    }

    @Test
    public void smallAndLargeWritesArriveInOrder() throws IOException {
        byte[] large = randomBytes(FileBlobStore.BUFFER_SIZE * 2 + 17);
        try (PendingBlob blob = store.create()) {
            OutputStream out = blob.output();
            out.write(7);
            out.write(large, 0, 100);
            out.write(large);
            out.write(large, 100, FileBlobStore.BUFFER_SIZE - 1);
            out.close();
            blob.commit(ID);
        }
        try (InputStream in = store.open(ID)) {
            assertEquals(7, in.read());
            assertArrayEquals(Arrays.copyOfRange(large, 0, 100), in.readNBytes(100));
            assertArrayEquals(large, in.readNBytes(large.length));
            assertArrayEquals(Arrays.copyOfRange(large, 100, 100 + FileBlobStore.BUFFER_SIZE - 1),
                    in.readAllBytes());
        }
    }

    private long pendingFiles() throws IOException {
        try (Stream<Path> files = Files.list(root.resolve(FileBlobStore.PENDING_DIRECTORY))) {
            return files.count();
        }
    }

    private static byte[] randomBytes(int size) {
        byte[] bytes = new byte[size];
        new Random(size).nextBytes(bytes);
        return bytes;
    }
}
