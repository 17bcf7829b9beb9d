package org.sover.storage.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotSame;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import org.junit.Test;
import org.sover.api.storage.StorageException;
import org.sover.api.vault.Album;

public class DerbyDatabaseTest extends DatabaseTestSupport {

    @Test
    public void aFreshDatabaseIsAtTheLatestSchemaVersion() {
        List<String> versions = schemaVersions();

        assertEquals(List.of("1 init", "2 replication", "3 oplog", "4 accounts oplog"), versions);
        assertTrue(Files.isDirectory(temp.getRoot().toPath().resolve("db")));
    }

    @Test
    public void reopeningAppliesNothingTwiceAndKeepsTheData() {
        Album album = new DerbyVaultRepository(database).createAlbum("Kept", NODE);
        database.close();

        database = new DerbyDatabase(temp.getRoot().toPath(), 1000, 8);

        assertEquals(List.of("1 init", "2 replication", "3 oplog", "4 accounts oplog"), schemaVersions());
        assertEquals(album, new DerbyVaultRepository(database).album(album.id()).orElseThrow());
        int applied = database.transaction("migrate again", c -> new SchemaMigrations().apply(c));
        assertEquals(0, applied);
    }

    @Test
    public void aClosedDatabaseFailsWithAStorageException() {
        DerbyVaultRepository repository = new DerbyVaultRepository(database);
        database.close();

        StorageException e = assertThrows(StorageException.class, repository::albums);
        assertTrue(e.getMessage(), e.getMessage().startsWith("could not list albums"));
        database = null;
    }

    @Test
    public void aSchemaNewerThanTheBundleIsRefused() {
        database.transaction("pretend a newer bundle ran", c -> {
            try (Statement s = c.createStatement()) {
                return s.executeUpdate("INSERT INTO schema_version VALUES (99, 'future', 0)");
            }
        });
        database.close();
        database = null;

        StorageException e = assertThrows(StorageException.class,
                () -> new DerbyDatabase(temp.getRoot().toPath(), 1000, 8));
        assertTrue(e.getMessage(), e.getMessage().contains("version 99"));
    }

    @Test
    public void failedSqlNamesWhatFailed() {
        StorageException e = assertThrows(StorageException.class, () -> database.query("read the moon", c -> {
            try (Statement s = c.createStatement()) {
                return s.executeQuery("SELECT * FROM moon");
            }
        }));
        assertTrue(e.getMessage(), e.getMessage().startsWith("could not read the moon: "));
        assertTrue(e.getMessage(), e.getMessage().contains("42X05"));
    }

    @Test
    public void thePageCacheSizeIsSetBeforeTheDatabaseBoots() {
        assertEquals("1000", System.getProperty("derby.storage.pageCacheSize"));
    }

    @Test
    public void everyMigrationScriptIsListed() throws IOException, URISyntaxException {
        Path folder = Paths.get(getClass().getClassLoader().getResource(SchemaMigrations.RESOURCE_FOLDER).toURI());
        try (Stream<Path> files = Files.list(folder)) {
            assertEquals(SchemaMigrations.SCRIPTS, files.map(f -> f.getFileName().toString()).sorted(
                    (a, b) -> Integer.compare(version(a), version(b))).toList());
        }
        assertThrows(IllegalArgumentException.class, () -> new SchemaMigrations(List.of("V2__second.sql")));
        assertThrows(IllegalArgumentException.class, () -> new SchemaMigrations(List.of("init.sql")));
    }

    @Test
    public void scriptsAreSplitOutsideQuotesAndComments() {
        assertEquals(List.of("CREATE TABLE t (a INT)", "INSERT INTO t VALUES ('x;y -- z''s')"),
                SchemaMigrations.statements("-- header; with a semicolon\nCREATE TABLE t (a INT); -- tail\n"
                        + "INSERT INTO t VALUES ('x;y -- z''s');\n\n"));
    }

    @Test
    public void thePoolIsBoundedAndReplacesBrokenConnections() throws Exception {
        List<FakeConnection> opened = new ArrayList<>();
        ConnectionPool pool = new ConnectionPool(() -> {
            FakeConnection fake = new FakeConnection();
            opened.add(fake);
            return fake.proxy();
        }, 2, 50);

        Connection first = pool.borrow();
        Connection second = pool.borrow();
        SQLException busy = assertThrows(SQLException.class, pool::borrow);
        assertEquals("08004", busy.getSQLState());

        pool.release(first, false);
        assertSame(first, pool.borrow());
        opened.get(0).closed.set(true);
        pool.release(first, false);
        pool.release(second, true);
        assertTrue(opened.get(1).closed.get());

        Connection third = pool.borrow();
        assertNotSame(first, third);
        assertEquals(3, opened.size());
        pool.release(third, false);
        pool.close();
        assertTrue(opened.get(2).closed.get());
        assertThrows(SQLException.class, pool::borrow);
    }

    private static int version(String name) {
        return Integer.parseInt(name.substring(1, name.indexOf("__")));
    }

    private List<String> schemaVersions() {
        return database.query("read schema versions", c -> {
            List<String> rows = new ArrayList<>();
            try (Statement s = c.createStatement();
                    var rs = s.executeQuery("SELECT version, description FROM schema_version ORDER BY version")) {
                while (rs.next()) {
                    rows.add(rs.getInt(1) + " " + rs.getString(2));
                }
            }
            return rows;
        });
    }

    /** Just enough of a connection for the pool: validity, auto-commit and close. */
    private static final class FakeConnection {
        final AtomicBoolean closed = new AtomicBoolean();

        Connection proxy() {
            return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class},
                    (proxy, method, args) -> switch (method.getName()) {
                        case "isValid" -> !closed.get();
                        case "isClosed" -> closed.get();
                        case "getAutoCommit" -> true;
                        case "close" -> {
                            closed.set(true);
                            yield null;
                        }
                        case "hashCode" -> System.identityHashCode(proxy);
                        case "equals" -> proxy == args[0];
                        default -> throw new UnsupportedOperationException(method.getName());
                    });
        }
    }
}
