package org.sover.crypto.internal;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;

import org.sover.api.DataDirectory;

/**
 * The directory that holds this node's secret key files. On POSIX file systems the directory
 * is 0700 and every key file 0600 from the moment it exists: files are written to a temporary
 * file created with those permissions, synced, and atomically moved into place.
 */
final class KeyDirectory {
    private static final System.Logger LOG = System.getLogger(KeyDirectory.class.getName());
    private static final Set<PosixFilePermission> DIRECTORY_PERMISSIONS = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE_PERMISSIONS = PosixFilePermissions.fromString("rw-------");
    /** Key files are a few dozen bytes; anything larger is not one of ours. */
    private static final long MAX_KEY_FILE_SIZE = 4096;

    private final Path dir;
    private final boolean posix;

    KeyDirectory(Path dir) {
        this.dir = dir.toAbsolutePath().normalize();
        this.posix = this.dir.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    /** The configured key directory, or {@code <sover.data>/keys} when the setting is empty. */
    static Path configured(String keyDir) {
        return keyDir == null || keyDir.isBlank() ? DataDirectory.root().resolve("keys")
                : Paths.get(keyDir.trim()).toAbsolutePath().normalize();
    }

    Path path() {
        return dir;
    }

    Path file(String name) {
        return dir.resolve(name);
    }

    /** The key file's bytes, or empty when it does not exist; a file of another length is refused. */
    Optional<byte[]> read(String name, int expectedLength) throws IOException {
        Path file = file(name);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        if (Files.size(file) > MAX_KEY_FILE_SIZE) {
            throw new IOException(file + " is not a key file (too large); restore it from a backup");
        }
        byte[] content = Files.readAllBytes(file);
        if (content.length != expectedLength) {
            throw new IOException(file + " holds " + content.length + " bytes where a key of " + expectedLength
                    + " bytes was expected; restore it from a backup");
        }
        warnIfShared(file);
        return Optional.of(content);
    }

    /** Writes a new key file; refuses to replace an existing one, since a lost key loses data. */
    void create(String name, byte[] content) throws IOException {
        createDirectory();
        Path target = file(name);
        if (Files.exists(target)) {
            throw new FileAlreadyExistsException(target.toString(), null, "key file exists; it is never replaced");
        }
        writeAtomically(target, content);
        syncDirectory();
    }

    /**
     * Replaces a key file on purpose (a vault key handed over by the family), first copying its
     * current content to {@code backupName}, which replaces an older backup. The key file is
     * never missing in between, so a crash leaves the old key or the new one, never none.
     *
     * @return false when the file already holds {@code content}; then nothing is written, so the
     *         backup keeps the key before it
     */
    boolean replace(String name, byte[] content, String backupName) throws IOException {
        createDirectory();
        Optional<byte[]> existing = read(name, content.length);
        if (existing.isPresent()) {
            byte[] old = existing.get();
            try {
                if (MessageDigest.isEqual(old, content)) {
                    return false;
                }
                writeAtomically(file(backupName), old);
            } finally {
                Arrays.fill(old, (byte) 0);
            }
        }
        writeAtomically(file(name), content);
        syncDirectory();
        return true;
    }

    /** Temporary file created owner-only, synced, then renamed over {@code target} (rename replaces). */
    private void writeAtomically(Path target, byte[] content) throws IOException {
        String name = target.getFileName().toString();
        Path temp = posix ? Files.createTempFile(dir, "." + name + "-", ".tmp", ownerOnly(FILE_PERMISSIONS))
                : Files.createTempFile(dir, "." + name + "-", ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ByteBuffer buffer = ByteBuffer.wrap(content);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private void createDirectory() throws IOException {
        if (Files.isDirectory(dir)) {
            warnIfShared(dir);
            return;
        }
        Path parent = dir.getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        if (!posix) {
            Files.createDirectories(dir);
            return;
        }
        try {
            Files.createDirectory(dir, ownerOnly(DIRECTORY_PERMISSIONS));
            // The umask can only remove bits; set the mode explicitly so it is exactly 0700.
            Files.setPosixFilePermissions(dir, DIRECTORY_PERMISSIONS);
        } catch (FileAlreadyExistsException raced) {
            warnIfShared(dir);
        }
    }

    /** Makes the rename durable; not every platform can open a directory, which only weakens that. */
    private void syncDirectory() {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            LOG.log(Level.DEBUG, "cannot sync directory {0}: {1}", dir, e);
        }
    }

    private void warnIfShared(Path path) throws IOException {
        if (!posix) {
            return;
        }
        Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(path);
        boolean shared = permissions.stream().anyMatch(p -> !p.name().startsWith("OWNER_"));
        if (shared) {
            LOG.log(Level.WARNING, "{0} is accessible to other users ({1}); restrict it to the owner (chmod {2})",
                    path, PosixFilePermissions.toString(permissions), Files.isDirectory(path) ? "700" : "600");
        }
    }

    private static FileAttribute<Set<PosixFilePermission>> ownerOnly(Set<PosixFilePermission> permissions) {
        return PosixFilePermissions.asFileAttribute(permissions);
    }
}
