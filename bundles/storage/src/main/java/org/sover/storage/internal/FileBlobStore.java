package org.sover.storage.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.sover.api.DataDirectory;
import org.sover.api.storage.BlobStore;
import org.sover.api.storage.InsufficientStorageException;
import org.sover.api.storage.PendingBlob;

/**
 * Blobs as files under {@code <dataDir>/blobs/<id[0..2]>/<id[2..4]>/<id>}; two levels of
 * 256-way fan-out keep directories small for millions of blobs. New blobs are written under
 * {@code .tmp/} and renamed into place once fsynced, so a crash never leaves a partial blob
 * under its id; whatever a crash left in {@code .tmp/} is removed at activation.
 */
@Component(service = BlobStore.class, configurationPid = DerbyDatabase.PID, immediate = true)
public final class FileBlobStore implements BlobStore {
    static final int BUFFER_SIZE = 256 * 1024;
    static final String PENDING_DIRECTORY = ".tmp";

    private static final System.Logger LOG = System.getLogger(FileBlobStore.class.getName());
    // Blob ids are hex HMACs; the pattern also rules out any path tricks.
    private static final Pattern BLOB_ID = Pattern.compile("[a-z0-9]{16,128}");
    private static final long MIB = 1024 * 1024;

    /** Free bytes on the volume of a path; replaceable so tests can simulate a full disk. */
    @FunctionalInterface
    interface FreeSpace {
        long of(Path path) throws IOException;
    }

    /**
     * The free space of the store's volume, as every blob's create and commit ask for it. The
     * volume is looked up once: on Linux {@code Files.getFileStore} reads the whole mount table
     * each time, which was about 2 % of an upload thread's CPU (two lookups per photo); the free
     * bytes themselves are one {@code statvfs} per call. A failed call looks the volume up again.
     */
    static final class VolumeFreeSpace implements FreeSpace {
        /** Finds the volume of a path ({@code Files::getFileStore}; counted by tests). */
        @FunctionalInterface
        interface Lookup {
            java.nio.file.FileStore of(Path path) throws IOException;
        }

        private record Volume(Path path, java.nio.file.FileStore store) {
        }

        private final Lookup lookup;
        private volatile Volume volume;

        VolumeFreeSpace() {
            this(Files::getFileStore);
        }

        VolumeFreeSpace(Lookup lookup) {
            this.lookup = lookup;
        }

        @Override
        public long of(Path path) throws IOException {
            Volume known = volume;
            if (known == null || !known.path().equals(path)) {
                known = new Volume(path, lookup.of(path));
                volume = known;
            }
            try {
                return known.store().getUsableSpace();
            } catch (IOException | RuntimeException e) {
                volume = null;
                throw e;
            }
        }
    }

    private final Path root;
    private final Path pending;
    private final long minFreeBytes;
    private final FreeSpace freeSpace;
    // Makes "exists, else move into place" atomic for commits of the same id in this JVM.
    private final Object[] commitLocks = new Object[64];
    // BlobStore.lockOf: striped, so unrelated blobs never wait for each other.
    private final java.util.concurrent.locks.ReentrantLock[] blobLocks = new java.util.concurrent.locks.ReentrantLock[64];
    // Shard directories created by this process whose parent has not been synced since (a few at most).
    final java.util.Set<Path> unsyncedDirectories = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Tests: told of every directory a commit synced. */
    volatile java.util.function.Consumer<Path> directorySynced = directory -> { };

    @Activate
    public FileBlobStore(StorageConfig config) {
        this((config.dataDir().isBlank() ? DataDirectory.root() : Paths.get(config.dataDir()).toAbsolutePath())
                .resolve("blobs"), config.minFreeBytes());
    }

    public FileBlobStore(Path root, long minFreeBytes) {
        this(root, minFreeBytes, new VolumeFreeSpace());
    }

    FileBlobStore(Path root, long minFreeBytes, FreeSpace freeSpace) {
        this.root = root.toAbsolutePath().normalize();
        this.pending = this.root.resolve(PENDING_DIRECTORY);
        this.minFreeBytes = minFreeBytes;
        this.freeSpace = freeSpace;
        for (int i = 0; i < commitLocks.length; i++) {
            commitLocks[i] = new Object();
            blobLocks[i] = new java.util.concurrent.locks.ReentrantLock();
        }
        try {
            Files.createDirectories(pending);
            removeLeftovers();
        } catch (IOException e) {
            throw new UncheckedIOException("could not prepare the blob store in " + this.root + ": " + e.getMessage(),
                    e);
        }
    }

    @Override
    public PendingBlob create() throws IOException {
        requireFreeSpace();
        Path file = Files.createTempFile(pending, "blob-", ".part");
        try {
            return new PendingFile(this, file, FileChannel.open(file, StandardOpenOption.WRITE));
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(file);
            throw e;
        }
    }

    @Override
    public java.util.concurrent.locks.Lock lockOf(String blobId) {
        return blobLocks[Math.floorMod(blobId.hashCode(), blobLocks.length)];
    }

    @Override
    public boolean exists(String blobId) {
        return Files.isRegularFile(path(blobId));
    }

    @Override
    public long size(String blobId) {
        try {
            return Files.size(path(blobId));
        } catch (NoSuchFileException e) {
            return -1;
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the size of blob " + blobId, e);
        }
    }

    @Override
    public InputStream open(String blobId) throws IOException {
        return Files.newInputStream(path(blobId));
    }

    @Override
    public SeekableByteChannel openChannel(String blobId) throws IOException {
        return FileChannel.open(path(blobId), StandardOpenOption.READ);
    }

    @Override
    public boolean delete(String blobId) throws IOException {
        return Files.deleteIfExists(path(blobId));
    }

    @Override
    public long usableSpace() throws IOException {
        return freeSpace.of(root);
    }

    /**
     * Moves a complete, fsynced file into place under its id.
     *
     * @return false when the blob existed already (the file is then discarded)
     */
    boolean publish(Path file, String blobId) throws IOException {
        Path target = path(blobId);
        requireFreeSpace();
        synchronized (commitLocks[Math.floorMod(blobId.hashCode(), commitLocks.length)]) {
            if (Files.exists(target)) {
                Files.deleteIfExists(file);
                return false;
            }
            Path shard = target.getParent();
            List<Path> created = new ArrayList<>(2);
            ensureDirectory(shard, created);
            Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
            // The rename is durable only once the directory entry is on disk, and a new shard
            // directory only once its parent's entry is. Synced after all changes and leaf first:
            // on a journaling file system the first sync commits them all, and the others find
            // nothing left to write (one journal commit per new blob instead of up to three).
            syncDirectory(shard);
            for (Path dir : created) {
                syncDirectory(dir.getParent());
                unsyncedDirectories.remove(dir);
            }
            return true;
        }
    }

    Path path(String blobId) {
        if (blobId == null || !BLOB_ID.matcher(blobId).matches()) {
            throw new IllegalArgumentException("not a blob id: " + blobId);
        }
        return root.resolve(blobId.substring(0, 2)).resolve(blobId.substring(2, 4)).resolve(blobId);
    }

    private void requireFreeSpace() throws IOException {
        long free = freeSpace.of(root);
        if (free < minFreeBytes) {
            throw new InsufficientStorageException("only " + free / MIB + " MiB are free on the disk of " + root
                    + ", below the reserve of " + minFreeBytes / MIB + " MiB; free up space (or lower minFreeBytes"
                    + " in org.sover.storage) and upload again");
        }
    }

    /**
     * Creates the directory and missing parents; adds to {@code created}, deepest first, each one
     * whose entry in its parent may not be on disk yet: those it created, and those another upload
     * created moments ago and has not synced yet (this upload must not return before they are
     * durable either), at every level.
     */
    private void ensureDirectory(Path directory, List<Path> created) throws IOException {
        if (Files.isDirectory(directory) && !unsyncedDirectories.contains(directory)) {
            return; // exists, and its entry in its parent is on disk
        }
        ensureDirectory(directory.getParent(), created);
        unsyncedDirectories.add(directory); // before it exists, so a concurrent upload never misses it
        try {
            Files.createDirectory(directory);
        } catch (FileAlreadyExistsException e) {
            // Created by another upload; synced by it, and below all the same.
        } catch (IOException | RuntimeException e) {
            unsyncedDirectories.remove(directory);
            throw e;
        }
        created.add(0, directory);
    }

    private void syncDirectory(Path directory) throws IOException {
        fsyncDirectory(directory);
        directorySynced.accept(directory);
    }

    private static void fsyncDirectory(Path directory) throws IOException {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Some platforms (Windows) cannot open a directory; their renames are durable without it.
            if (Files.isDirectory(directory) && System.getProperty("os.name", "").startsWith("Windows")) {
                return;
            }
            throw e;
        }
    }

    private void removeLeftovers() throws IOException {
        int removed = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(pending)) {
            for (Path file : files) {
                Files.deleteIfExists(file);
                removed++;
            }
        }
        if (removed > 0) {
            LOG.log(Level.INFO, "Removed {0} unfinished blob(s) an earlier run left in {1}", removed, pending);
        }
    }
}
