package org.sover.crypto.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.sover.api.DataDirectory;

public class KeyDirectoryTest {
    @Rule
    public TemporaryFolder temp = new TemporaryFolder();

    @Test
    public void emptySettingMeansKeysUnderTheDataDirectory() throws Exception {
        String previous = System.getProperty(DataDirectory.PROPERTY);
        Path data = temp.newFolder().toPath();
        System.setProperty(DataDirectory.PROPERTY, data.toString());
        try {
            assertEquals(data.toAbsolutePath().resolve("keys"), KeyDirectory.configured(""));
            assertEquals(data.toAbsolutePath().resolve("keys"), KeyDirectory.configured(null));
            assertEquals(data.resolve("elsewhere"), KeyDirectory.configured(" " + data.resolve("elsewhere") + " "));
        } finally {
            if (previous == null) {
                System.clearProperty(DataDirectory.PROPERTY);
            } else {
                System.setProperty(DataDirectory.PROPERTY, previous);
            }
        }
    }

    @Test
    public void existingKeyIsNeverReplaced() throws Exception {
        KeyDirectory keys = new KeyDirectory(temp.newFolder().toPath().resolve("a/b/keys"));
        keys.create("vault.key", new byte[] {1, 2, 3});

        assertThrows(FileAlreadyExistsException.class, () -> keys.create("vault.key", new byte[] {4, 5, 6}));
        assertArrayEquals(new byte[] {1, 2, 3}, keys.read("vault.key", 3).orElseThrow());
        try (var files = Files.list(keys.path())) {
            assertEquals(1, files.count());
        }
    }

    @Test
    public void replaceKeepsTheOldKeyAsBackup() throws Exception {
        KeyDirectory keys = new KeyDirectory(temp.newFolder().toPath().resolve("keys"));
        keys.create("vault.key", new byte[] {1, 2, 3});

        assertTrue(keys.replace("vault.key", new byte[] {4, 5, 6}, "vault.key.previous"));
        assertArrayEquals(new byte[] {4, 5, 6}, keys.read("vault.key", 3).orElseThrow());
        assertArrayEquals(new byte[] {1, 2, 3}, keys.read("vault.key.previous", 3).orElseThrow());

        assertTrue("an older backup is replaced", keys.replace("vault.key", new byte[] {7, 8, 9}, "vault.key.previous"));
        assertArrayEquals(new byte[] {4, 5, 6}, keys.read("vault.key.previous", 3).orElseThrow());
        for (String name : new String[] {"vault.key", "vault.key.previous"}) {
            assertEquals(name, "rw-------", PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(keys.file(name))));
        }
        try (var files = Files.list(keys.path())) {
            assertEquals("no temporary files are left", 2, files.count());
        }
    }

    @Test
    public void replaceWithTheSameKeyWritesNothing() throws Exception {
        KeyDirectory keys = new KeyDirectory(temp.newFolder().toPath().resolve("keys"));
        keys.create("vault.key", new byte[] {1, 2, 3});
        keys.replace("vault.key", new byte[] {4, 5, 6}, "vault.key.previous");

        assertFalse(keys.replace("vault.key", new byte[] {4, 5, 6}, "vault.key.previous"));
        assertArrayEquals(new byte[] {1, 2, 3}, keys.read("vault.key.previous", 3).orElseThrow());
    }

    @Test
    public void replaceOfAMissingKeyJustWritesIt() throws Exception {
        KeyDirectory keys = new KeyDirectory(temp.newFolder().toPath().resolve("keys"));

        assertTrue(keys.replace("vault.key", new byte[] {4, 5, 6}, "vault.key.previous"));
        assertArrayEquals(new byte[] {4, 5, 6}, keys.read("vault.key", 3).orElseThrow());
        assertFalse(Files.exists(keys.file("vault.key.previous")));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keys.path())));
    }

    @Test
    public void missingKeyReadsAsEmpty() throws Exception {
        KeyDirectory keys = new KeyDirectory(temp.newFolder().toPath().resolve("keys"));
        assertFalse(keys.read("node.key", 32).isPresent());
        assertFalse("reading creates nothing", Files.exists(keys.path()));
    }
}
