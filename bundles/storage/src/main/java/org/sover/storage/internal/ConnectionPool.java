package org.sover.storage.internal;

import java.lang.System.Logger.Level;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Deque;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * A bounded pool of embedded Derby connections. Opening an embedded connection costs a few
 * milliseconds and each holds its own statement state, so a handful are kept and reused; the
 * bound keeps a burst of requests from opening connections without limit.
 */
final class ConnectionPool implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ConnectionPool.class.getName());

    @FunctionalInterface
    interface Opener {
        Connection open() throws SQLException;
    }

    private final Opener opener;
    private final int size;
    private final long waitMillis;
    private final Semaphore permits;
    // LIFO: the most recently used connection is the warmest.
    private final Deque<Connection> idle = new ConcurrentLinkedDeque<>();
    private volatile boolean closed;

    ConnectionPool(Opener opener, int size, long waitMillis) {
        if (size < 1) {
            throw new IllegalArgumentException("pool size must be at least 1, not " + size);
        }
        this.opener = opener;
        this.size = size;
        this.waitMillis = waitMillis;
        this.permits = new Semaphore(size, true);
    }

    /** A connection in auto-commit mode; give it back with {@link #release}. */
    Connection borrow() throws SQLException {
        if (closed) {
            throw new SQLException("the database is closed", "08003");
        }
        try {
            if (!permits.tryAcquire(waitMillis, TimeUnit.MILLISECONDS)) {
                throw new SQLException("all " + size + " database connections stayed busy for " + waitMillis + " ms",
                        "08004");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while waiting for a database connection", "08004", e);
        }
        try {
            Connection connection;
            while ((connection = idle.pollFirst()) != null) {
                if (isUsable(connection)) {
                    return connection;
                }
                closeQuietly(connection);
            }
            return opener.open();
        } catch (SQLException | RuntimeException e) {
            permits.release();
            throw e;
        }
    }

    /** Returns a connection; a broken one (or any after {@link #close()}) is closed instead of kept. */
    void release(Connection connection, boolean broken) {
        try {
            if (broken || closed || !reset(connection)) {
                closeQuietly(connection);
            } else {
                idle.addFirst(connection);
                if (closed && idle.remove(connection)) {
                    // close() ran between the check and the add.
                    closeQuietly(connection);
                }
            }
        } finally {
            permits.release();
        }
    }

    @Override
    public void close() {
        closed = true;
        Connection connection;
        while ((connection = idle.pollFirst()) != null) {
            closeQuietly(connection);
        }
    }

    private static boolean isUsable(Connection connection) {
        try {
            return connection.isValid(1);
        } catch (SQLException e) {
            return false;
        }
    }

    /** Leaves no transaction open and auto-commit on, as the next borrower expects. */
    private static boolean reset(Connection connection) {
        try {
            if (connection.isClosed()) {
                return false;
            }
            if (!connection.getAutoCommit()) {
                connection.rollback();
                connection.setAutoCommit(true);
            }
            return true;
        } catch (SQLException e) {
            LOG.log(Level.DEBUG, "dropping a connection that could not be reset", e);
            return false;
        }
    }

    private static void closeQuietly(Connection connection) {
        try {
            connection.close();
        } catch (SQLException e) {
            // Derby refuses to close a connection with an open transaction; roll it back first.
            try {
                connection.rollback();
                connection.close();
            } catch (SQLException again) {
                LOG.log(Level.DEBUG, "could not close a database connection", again);
            }
        }
    }
}
