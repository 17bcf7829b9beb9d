package org.sover.storage.internal;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.SQLException;
import java.util.Properties;

import org.apache.derby.jdbc.EmbeddedDriver;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.Designate;
import org.sover.api.DataDirectory;
import org.sover.api.storage.StorageException;

/**
 * The embedded Derby database under {@code <dataDir>/db}: opened, migrated and pooled on
 * activation, shut down on deactivation so the bundle can stop and start again at runtime.
 * It is a service of an internal type, so only the components of this bundle can see it;
 * they share one pool and one database boot.
 */
@Component(service = DerbyDatabase.class, configurationPid = DerbyDatabase.PID, immediate = true)
@Designate(ocd = StorageConfig.class)
public final class DerbyDatabase implements AutoCloseable {
    static final String PID = "org.sover.storage";

    private static final System.Logger LOG = System.getLogger(DerbyDatabase.class.getName());
    private static final String ERROR_FILE_PROPERTY = "derby.stream.error.file";
    private static final String PAGE_CACHE_PROPERTY = "derby.storage.pageCacheSize";
    private static final String DEADLOCK = "40001";
    private static final String LOCK_TIMEOUT = "40XL1";
    private static final int TRANSACTION_ATTEMPTS = 3;
    private static final long POOL_WAIT_MILLIS = 30_000;

    /** One unit of database work. */
    @FunctionalInterface
    interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    private final Path directory;
    private final String url;
    private final Driver driver;
    private final ConnectionPool pool;

    @Activate
    public DerbyDatabase(StorageConfig config) {
        this(config.dataDir().isBlank() ? DataDirectory.root() : Paths.get(config.dataDir()).toAbsolutePath(),
                config.derbyPageCacheSize(), config.connectionPoolSize());
    }

    /** Opens (creating if needed) and migrates the database under {@code dataDir/db}. */
    public DerbyDatabase(Path dataDir, int pageCacheSize, int poolSize) {
        this.directory = dataDir.resolve("db").toAbsolutePath().normalize();
        if (directory.toString().indexOf(';') >= 0) {
            // A semicolon would end the path inside the JDBC URL and start an attribute.
            throw new IllegalArgumentException("the data directory must not contain ';': " + directory);
        }
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new StorageException("could not create the data directory " + dataDir + ": " + e.getMessage(), e);
        }
        // Engine-wide settings, read when the engine (error file) or a database (page cache) boots:
        // they must be set before the first connection. The launcher may already have chosen a log file.
        if (System.getProperty(ERROR_FILE_PROPERTY) == null) {
            System.setProperty(ERROR_FILE_PROPERTY, dataDir.resolve("derby.log").toAbsolutePath().toString());
        }
        System.setProperty(PAGE_CACHE_PROPERTY, Integer.toString(pageCacheSize));

        this.url = "jdbc:derby:" + directory;
        // The driver instance is used directly: DriverManager rejects drivers the caller's bundle cannot see.
        this.driver = new EmbeddedDriver();
        long started = System.nanoTime();
        try (Connection connection = connect(";create=true")) {
            int applied = new SchemaMigrations().apply(connection);
            LOG.log(Level.INFO, "Opened the metadata database {0} in {1} ms ({2} migrations applied)", directory,
                    (System.nanoTime() - started) / 1_000_000, applied);
        } catch (SQLException e) {
            shutdown();
            throw new StorageException("could not open the metadata database " + directory + ": " + e.getMessage(), e);
        }
        this.pool = new ConnectionPool(() -> connect(""), poolSize, POOL_WAIT_MILLIS);
    }

    /** Runs read-only work on a pooled connection in auto-commit mode. */
    <T> T query(String what, Work<T> work) {
        Connection connection = borrow(what);
        boolean broken = false;
        try {
            return work.run(connection);
        } catch (SQLException e) {
            broken = isConnectionLost(e);
            throw failure(what, e);
        } finally {
            pool.release(connection, broken);
        }
    }

    /**
     * Runs work in one transaction and commits it. Any exception rolls it back; a deadlock or
     * lock timeout is retried, since the losing transaction did nothing.
     */
    <T> T transaction(String what, Work<T> work) {
        for (int attempt = 1;; attempt++) {
            Connection connection = borrow(what);
            boolean broken = false;
            try {
                connection.setAutoCommit(false);
                T result = work.run(connection);
                connection.commit();
                return result;
            } catch (SQLException e) {
                broken = rollback(connection) || isConnectionLost(e);
                String state = e.getSQLState();
                if ((DEADLOCK.equals(state) || LOCK_TIMEOUT.equals(state)) && attempt < TRANSACTION_ATTEMPTS) {
                    LOG.log(Level.DEBUG, "retrying \"{0}\" after {1}", what, e.getMessage());
                    continue;
                }
                throw failure(what, e);
            } catch (RuntimeException | Error e) {
                broken = rollback(connection);
                throw e;
            } finally {
                pool.release(connection, broken);
            }
        }
    }

    /** Closes the pool and shuts the database down; the engine keeps running for the next start. */
    @Deactivate
    @Override
    public void close() {
        pool.close();
        shutdown();
        LOG.log(Level.INFO, "Closed the metadata database {0}", directory);
    }

    private void shutdown() {
        try {
            connect(";shutdown=true").close();
            LOG.log(Level.WARNING, "Derby did not confirm the shutdown of {0}", directory);
        } catch (SQLException e) {
            // 08006 is Derby's normal answer to a database shutdown.
            if (!"08006".equals(e.getSQLState())) {
                LOG.log(Level.WARNING, "Shutting down the metadata database " + directory + " failed", e);
            }
        }
    }

    private Connection connect(String attributes) throws SQLException {
        Connection connection = driver.connect(url + attributes, new Properties());
        if (connection == null) {
            throw new SQLException("the Derby driver did not accept " + url);
        }
        return connection;
    }

    private Connection borrow(String what) {
        try {
            return pool.borrow();
        } catch (SQLException e) {
            throw failure(what, e);
        }
    }

    /** True when the rollback itself failed, so the connection must not be reused. */
    private static boolean rollback(Connection connection) {
        try {
            connection.rollback();
            return false;
        } catch (SQLException e) {
            LOG.log(Level.DEBUG, "rollback failed", e);
            return true;
        }
    }

    private static boolean isConnectionLost(SQLException e) {
        // Class 08: the connection or the database is gone; other errors leave the connection usable.
        return e.getSQLState() != null && e.getSQLState().startsWith("08");
    }

    private StorageException failure(String what, SQLException e) {
        return new StorageException("could not " + what + ": " + e.getMessage() + " (SQLState " + e.getSQLState()
                + ")", e);
    }
}
