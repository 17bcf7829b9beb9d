package org.sover.storage.internal;

import java.lang.System.Logger.Level;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.sover.api.replication.Change;
import org.sover.api.replication.MetadataLog;
import org.sover.api.storage.Page;
import org.sover.api.vault.Account;
import org.sover.api.vault.Album;
import org.sover.api.vault.Photo;

/**
 * The metadata op log (docs/PROTOCOL.md) over the albums, photos and accounts tables. Each row
 * carries the change sequence number of its last write ({@code seq}, schema V3 and V4), so the
 * changes after a cursor are a range scan of the seq indexes, and each record appears once, in
 * its current state, tombstones included. A peer's changes are applied last writer wins on
 * {@code (rev, updated_at, node_id)}.
 */
@Component(service = MetadataLog.class)
public final class DerbyMetadataLog implements MetadataLog {
    /** The SQL expression that gives a write of an album, photo or account row its place in the log. */
    static final String NEXT_SEQ = "NEXT VALUE FOR change_seq";
    static final int MAX_CURSOR_LENGTH = 200;

    private static final System.Logger LOG = System.getLogger(DerbyMetadataLog.class.getName());
    private static final String DUPLICATE_KEY = "23505";
    /** The width of accounts.username. */
    private static final int MAX_USERNAME_LENGTH = 64;
    /** How many times an account change is decided again after a concurrent apply took its id or name. */
    private static final int ACCOUNT_APPLY_ATTEMPTS = 3;

    private final DerbyDatabase database;

    /** The columns a change carries, in the order {@link #applyRow} binds them; thumb_blob_id is local. */
    private enum Table {
        ALBUMS("albums", "name", "created_at", "updated_at", "rev", "node_id", "deleted"),
        PHOTOS("photos", "album_id", "blob_id", "filename", "content_type", "size", "width", "height", "taken_at",
                "uploaded_at", "updated_at", "rev", "node_id", "uploaded_by", "deleted"),
        ACCOUNTS("accounts", "username", "username_lower", "role", "password_hash", "created_at", "updated_at", "rev",
                "node_id", "deleted");

        final String name;
        /** Overwrites the row only when the incoming clock (the parameters after the id) is higher. */
        final String overwriteOlder;
        final String insert;

        Table(String name, String... columns) {
            this.name = name;
            String all = String.join(", ", columns);
            this.overwriteOlder = "UPDATE " + name + " SET " + String.join(" = ?, ", columns) + " = ?, seq = "
                    + NEXT_SEQ + " WHERE id = ?"
                    + " AND (rev < ? OR (rev = ? AND (updated_at < ? OR (updated_at = ? AND node_id < ?))))";
            this.insert = "INSERT INTO " + name + " (" + all + ", id, seq) VALUES ("
                    + "?, ".repeat(columns.length) + "?, " + NEXT_SEQ + ")";
        }
    }

    /** New at every start: see {@link ChangeCursor}. */
    private final String epoch;

    /** A change and its place in this node's log. */
    private record Logged(long seq, Change change) {
    }

    @Activate
    public DerbyMetadataLog(@Reference(name = "database") DerbyDatabase database) {
        this.database = database;
        this.epoch = Long.toString(new java.security.SecureRandom().nextLong() & Long.MAX_VALUE, 36);
    }

    /**
     * Must be the first statement of every transaction that writes an album, photo or account row: holds
     * the log's gate in SHARE mode until commit, so {@link #changesSince} can wait for writers
     * that hold a seq they have not committed yet. First, because a writer waiting here while
     * holding a row lock could close a lock cycle with a reader queued for the gate.
     */
    static void enterWriter(Connection c) throws SQLException {
        try (Statement lock = c.createStatement()) {
            lock.execute("LOCK TABLE change_gate IN SHARE MODE");
        }
    }

    @Override
    public Page<Change> changesSince(String cursor, int limit) {
        KeysetCursor.checkLimit(limit);
        long after = cursor == null ? 0 : ChangeCursor.decode(cursor).after(epoch);
        long horizon = database.transaction("wait for the writers of the op log", DerbyMetadataLog::horizon);
        return database.query("read the op log", c -> {
            List<List<Logged>> tables = List.of(
                    between(c, ALBUMS_BETWEEN, DerbyMetadataLog::albumRow, after, horizon, limit),
                    between(c, PHOTOS_BETWEEN, DerbyMetadataLog::photoRow, after, horizon, limit),
                    between(c, ACCOUNTS_BETWEEN, DerbyMetadataLog::accountRow, after, horizon, limit));
            // Each list is in seq order: merge them and keep the first limit.
            List<Change> changes = new ArrayList<>();
            int[] taken = new int[tables.size()];
            long last = after;
            while (changes.size() < limit) {
                int from = -1;
                for (int t = 0; t < tables.size(); t++) {
                    if (taken[t] < tables.get(t).size() && (from < 0
                            || tables.get(t).get(taken[t]).seq() < tables.get(from).get(taken[from]).seq())) {
                        from = t;
                    }
                }
                if (from < 0) {
                    break;
                }
                Logged next = tables.get(from).get(taken[from]++);
                changes.add(next.change());
                last = next.seq();
            }
            // The log keeps growing, so the last page also says where to continue; only an
            // empty page has no cursor (the caller keeps the one it has).
            return new Page<>(changes, changes.isEmpty() ? null : new ChangeCursor(epoch, last).encode());
        });
    }

    /**
     * The first seq a reader must not reach yet. Taking the gate EXCLUSIVE waits for every
     * writer in flight; seqs handed out later are at least the peeked value. Without it, a
     * writer that commits seq 10 after another committed 11 would be skipped for good by a
     * peer that read 11 in between.
     */
    private static long horizon(Connection c) throws SQLException {
        try (Statement statement = c.createStatement()) {
            statement.execute("LOCK TABLE change_gate IN EXCLUSIVE MODE");
            try (ResultSet rs = statement.executeQuery(
                    "VALUES SYSCS_UTIL.SYSCS_PEEK_AT_SEQUENCE(CURRENT SCHEMA, 'CHANGE_SEQ')")) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Turns the current row (its columns, then {@code deleted}, then {@code seq}) into a log entry. */
    @FunctionalInterface
    private interface RowReader {
        Logged read(ResultSet rs) throws SQLException;
    }

    /** The log's selects: the replicated columns of each table, then deleted and seq, by seq. */
    private static final String ALBUMS_BETWEEN = "SELECT id, name, created_at, updated_at, rev, node_id, deleted, seq"
            + " FROM albums WHERE seq > ? AND seq < ? ORDER BY seq FETCH FIRST ? ROWS ONLY";
    private static final String PHOTOS_BETWEEN = "SELECT " + DerbyVaultRepository.PHOTO_COLUMNS
            + ", p.deleted, p.seq FROM photos p WHERE p.seq > ? AND p.seq < ? ORDER BY p.seq FETCH FIRST ? ROWS ONLY";
    private static final String ACCOUNTS_BETWEEN = "SELECT " + DerbyAccountStore.ACCOUNT_COLUMNS
            + ", a.deleted, a.seq FROM accounts a WHERE a.seq > ? AND a.seq < ? ORDER BY a.seq FETCH FIRST ? ROWS ONLY";

    private static Logged albumRow(ResultSet rs) throws SQLException {
        // Count and cover are derived on each node, not replicated.
        Album album = new Album(rs.getString(1), rs.getString(2), Instant.ofEpochMilli(rs.getLong(3)),
                Instant.ofEpochMilli(rs.getLong(4)), rs.getLong(5), rs.getString(6), 0, null);
        return new Logged(rs.getLong(8), Change.of(album, rs.getBoolean(7)));
    }

    private static Logged photoRow(ResultSet rs) throws SQLException {
        Photo p = DerbyVaultRepository.photo(rs);
        // The thumbnail is this node's own; peers make theirs.
        Photo replicated = new Photo(p.id(), p.albumId(), p.blobId(), p.filename(), p.contentType(), p.size(),
                p.width(), p.height(), p.takenAt(), p.uploadedAt(), p.updatedAt(), p.rev(), p.nodeId(), null,
                p.uploadedBy());
        return new Logged(rs.getLong(17), Change.of(replicated, rs.getBoolean(16)));
    }

    private static Logged accountRow(ResultSet rs) throws SQLException {
        // The password hash travels: the log is served to the family's full nodes only.
        return new Logged(rs.getLong(10), Change.of(DerbyAccountStore.account(rs), rs.getBoolean(9)));
    }

    /** Up to {@code limit} rows of one table with after &lt; seq &lt; before, in seq order. */
    private static List<Logged> between(Connection c, String sql, RowReader reader, long after, long before,
            int limit) throws SQLException {
        List<Logged> rows = new ArrayList<>();
        try (PreparedStatement select = c.prepareStatement(sql)) {
            select.setLong(1, after);
            select.setLong(2, before);
            select.setInt(3, limit);
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    rows.add(reader.read(rs));
                }
            }
        }
        return rows;
    }

    @Override
    public boolean apply(Change change) {
        if (change == null || (change.album() != null ? 1 : 0) + (change.photo() != null ? 1 : 0)
                + (change.account() != null ? 1 : 0) != 1) {
            throw new IllegalArgumentException("a change holds exactly one album, one photo or one account");
        }
        if (change.account() != null) {
            return applyAccount(change.account(), change.deleted());
        }
        if (change.album() != null) {
            Album a = change.album();
            return applyRow("apply a change of album " + a.id(), Table.ALBUMS, required(a.id(), "id"), a.rev(),
                    millis(a.updatedAt(), "updatedAt"), required(a.nodeId(), "nodeId"),
                    required(a.name(), "name"), millis(a.createdAt(), "createdAt"), a.updatedAt().toEpochMilli(),
                    a.rev(), a.nodeId(), change.deleted());
        }
        Photo p = change.photo();
        return applyRow("apply a change of photo " + p.id(), Table.PHOTOS, required(p.id(), "id"), p.rev(),
                millis(p.updatedAt(), "updatedAt"), required(p.nodeId(), "nodeId"),
                required(p.albumId(), "albumId"), required(p.blobId(), "blobId"), required(p.filename(), "filename"),
                required(p.contentType(), "contentType"), p.size(), p.width(), p.height(),
                millis(p.takenAt(), "takenAt"), millis(p.uploadedAt(), "uploadedAt"), p.updatedAt().toEpochMilli(),
                p.rev(), p.nodeId(), p.uploadedBy(), change.deleted());
    }

    /**
     * Last writer wins, in one transaction: overwrites the row when the incoming clock is
     * higher, inserts it when there is none, and otherwise leaves it, so a repeated or older
     * change is a no-op. A written row takes a new seq, so the change travels on to the nodes
     * that pull from this one.
     *
     * @param state the values of {@code table}'s columns, in its order
     * @return true when the row changed
     */
    private boolean applyRow(String what, Table table, String id, long rev, long updatedAt, String nodeId,
            Object... state) {
        return database.transaction(what, c -> {
            enterWriter(c);
            if (overwriteOlder(c, table, id, rev, updatedAt, nodeId, state)) {
                return true;
            }
            try (PreparedStatement select = c.prepareStatement("SELECT 1 FROM " + table.name + " WHERE id = ?")) {
                select.setString(1, id);
                try (ResultSet rs = select.executeQuery()) {
                    if (rs.next()) {
                        return false; // the local clock is the same or higher
                    }
                }
            }
            try (PreparedStatement insert = c.prepareStatement(table.insert)) {
                insert.setString(bind(insert, state), id);
                insert.executeUpdate();
                return true;
            } catch (SQLException e) {
                if (!DUPLICATE_KEY.equals(e.getSQLState())) {
                    throw e;
                }
                // A concurrent apply of the same record (pulled from another peer) inserted it
                // first; only this statement failed. Compare with that row instead.
                return overwriteOlder(c, table, id, rev, updatedAt, nodeId, state);
            }
        });
    }

    /**
     * Last writer wins as in {@link #applyRow}, and two accounts never hold one username: when
     * the incoming record claims a name that another record holds here, one of the two yields
     * ({@link #yields}) and is renamed in the same transaction. The rule depends only on the two
     * records, so every node renames the same one to the same name, and the rename, a write
     * with a higher rev, travels on like any other.
     */
    private boolean applyAccount(Account a, boolean deleted) {
        required(a.id(), "id");
        required(a.username(), "username");
        required(a.passwordHash(), "passwordHash");
        required(a.nodeId(), "nodeId");
        millis(a.createdAt(), "createdAt");
        millis(a.updatedAt(), "updatedAt");
        if (!Account.ADMIN.equals(a.role()) && !Account.MEMBER.equals(a.role())) {
            throw new IllegalArgumentException("the change has no role " + Account.ADMIN + " or " + Account.MEMBER);
        }
        return database.transaction("apply a change of account " + a.id(), c -> {
            enterWriter(c);
            for (int attempt = 1;; attempt++) {
                try {
                    return applyAccount(c, a, deleted);
                } catch (SQLException e) {
                    if (!DUPLICATE_KEY.equals(e.getSQLState()) || attempt == ACCOUNT_APPLY_ATTEMPTS) {
                        throw e;
                    }
                    // A concurrent apply (pulled from another peer) wrote this id or this
                    // username first; only the statement failed. Decide again against that row.
                }
            }
        });
    }

    private static boolean applyAccount(Connection c, Account incoming, boolean deleted) throws SQLException {
        Claim claim = new Claim(incoming.id(), incoming.username(), incoming.createdAt().toEpochMilli(),
                incoming.rev(), incoming.updatedAt().toEpochMilli(), incoming.nodeId(), deleted);
        Optional<Claim> local = claim(c, "id = ?", incoming.id(), null);
        if (local.isPresent() && !newer(claim, local.get())) {
            return false; // the local clock is the same or higher
        }
        Account winner = incoming;
        Optional<Claim> holder = claim(c, "username_lower = ?", DerbyAccountStore.lower(incoming.username()),
                incoming.id());
        if (holder.isPresent()) {
            Claim yielding = yields(claim, holder.get()) ? claim : holder.get();
            String name = freeUsername(c, yielding);
            long now = System.currentTimeMillis();
            long updatedAt = Math.max(now, yielding.updatedAt() + 1);
            LOG.log(Level.INFO, "Accounts {0} and {1} are both named \"{2}\"; account {3} is now \"{4}\"",
                    holder.get().id(), incoming.id(), holder.get().username(), yielding.id(), name);
            if (yielding == claim) {
                winner = new Account(incoming.id(), name, incoming.role(), incoming.passwordHash(),
                        incoming.createdAt(), Instant.ofEpochMilli(updatedAt), incoming.rev() + 1, incoming.nodeId());
            } else {
                rename(c, yielding, name, updatedAt);
            }
        }
        Object[] state = {winner.username(), DerbyAccountStore.lower(winner.username()), winner.role(),
                winner.passwordHash(), winner.createdAt().toEpochMilli(), winner.updatedAt().toEpochMilli(),
                winner.rev(), winner.nodeId(), deleted};
        if (local.isPresent()) {
            return overwriteOlder(c, Table.ACCOUNTS, winner.id(), winner.rev(), winner.updatedAt().toEpochMilli(),
                    winner.nodeId(), state);
        }
        try (PreparedStatement insert = c.prepareStatement(Table.ACCOUNTS.insert)) {
            insert.setString(bind(insert, state), winner.id());
            insert.executeUpdate();
            return true;
        }
    }

    /** An account's claim to its username: what decides a collision, and the clock a rename continues. */
    private record Claim(String id, String username, long createdAt, long rev, long updatedAt, String nodeId,
            boolean deleted) {
    }

    /** The account row matching {@code where}, other than {@code exceptId}. */
    private static Optional<Claim> claim(Connection c, String where, String value, String exceptId)
            throws SQLException {
        try (PreparedStatement select = c.prepareStatement("SELECT id, username, created_at, rev, updated_at,"
                + " node_id, deleted FROM accounts WHERE " + where + (exceptId == null ? "" : " AND id <> ?"))) {
            select.setString(1, value);
            if (exceptId != null) {
                select.setString(2, exceptId);
            }
            try (ResultSet rs = select.executeQuery()) {
                return rs.next() ? Optional.of(new Claim(rs.getString(1), rs.getString(2), rs.getLong(3),
                        rs.getLong(4), rs.getLong(5), rs.getString(6), rs.getBoolean(7))) : Optional.empty();
            }
        }
    }

    /** The comparison of {@link Table#overwriteOlder}: rev, then updated_at, then node_id. */
    private static boolean newer(Claim incoming, Claim local) {
        if (incoming.rev() != local.rev()) {
            return incoming.rev() > local.rev();
        }
        if (incoming.updatedAt() != local.updatedAt()) {
            return incoming.updatedAt() > local.updatedAt();
        }
        return incoming.nodeId().compareTo(local.nodeId()) > 0;
    }

    /**
     * Of two accounts that claim one username, whether {@code a} gives it up: a deleted account
     * before a live one (nobody logs in with it), otherwise the later of {@code (created_at, id)},
     * so the family's first admin keeps "admin".
     */
    private static boolean yields(Claim a, Claim b) {
        if (a.deleted() != b.deleted()) {
            return a.deleted();
        }
        if (a.createdAt() != b.createdAt()) {
            return a.createdAt() > b.createdAt();
        }
        return a.id().compareTo(b.id()) > 0;
    }

    /** {@code <username>-<the first 4 characters of the id>}, with more of the id while that is taken too. */
    private static String freeUsername(Connection c, Claim account) throws SQLException {
        String id = account.id().toLowerCase(Locale.ROOT);
        for (int n = Math.min(4, id.length()); n <= id.length(); n++) {
            String suffix = "-" + id.substring(0, n);
            String base = account.username();
            String name = base.substring(0, Math.min(base.length(), MAX_USERNAME_LENGTH - suffix.length())) + suffix;
            if (claim(c, "username_lower = ?", DerbyAccountStore.lower(name), account.id()).isEmpty()) {
                return name;
            }
        }
        throw new SQLException("no free username for account " + account.id() + " (\"" + account.username() + "\")");
    }

    /** A write by this node that keeps the record's node_id: every node that renames it computes the same. */
    private static void rename(Connection c, Claim account, String username, long updatedAt) throws SQLException {
        try (PreparedStatement update = c.prepareStatement("UPDATE accounts SET username = ?, username_lower = ?,"
                + " rev = ?, updated_at = ?, seq = " + NEXT_SEQ + " WHERE id = ?")) {
            update.setString(1, username);
            update.setString(2, DerbyAccountStore.lower(username));
            update.setLong(3, account.rev() + 1);
            update.setLong(4, updatedAt);
            update.setString(5, account.id());
            update.executeUpdate();
        }
    }

    private static boolean overwriteOlder(Connection c, Table table, String id, long rev, long updatedAt,
            String nodeId, Object[] state) throws SQLException {
        try (PreparedStatement update = c.prepareStatement(table.overwriteOlder)) {
            int i = bind(update, state);
            update.setString(i++, id);
            update.setLong(i++, rev);
            update.setLong(i++, rev);
            update.setLong(i++, updatedAt);
            update.setLong(i++, updatedAt);
            update.setString(i, nodeId);
            return update.executeUpdate() == 1;
        }
    }

    /** @return the index of the next parameter */
    private static int bind(PreparedStatement statement, Object[] values) throws SQLException {
        int i = 1;
        for (Object value : values) {
            if (value == null) {
                statement.setNull(i, statement.getParameterMetaData().getParameterType(i));
            } else {
                statement.setObject(i, value);
            }
            i++;
        }
        return i;
    }

    private static <T> T required(T value, String field) {
        if (value == null) {
            throw new IllegalArgumentException("the change has no " + field);
        }
        return value;
    }

    private static long millis(Instant time, String field) {
        return required(time, field).toEpochMilli();
    }

    @Override
    public Optional<String> cursorOf(String peerId) {
        return database.query("read the op log cursor of peer " + peerId, c -> {
            try (PreparedStatement select = c.prepareStatement(
                    "SELECT log_cursor FROM peer_cursors WHERE node_id = ?")) {
                select.setString(1, peerId);
                try (ResultSet rs = select.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
                }
            }
        });
    }

    /** Stores the cursor as given: it is the peer's, opaque here. */
    @Override
    public void saveCursor(String peerId, String cursor) {
        Objects.requireNonNull(peerId, "peerId");
        if (cursor == null || cursor.isEmpty() || cursor.length() > MAX_CURSOR_LENGTH) {
            throw new IllegalArgumentException("an op log cursor has 1-" + MAX_CURSOR_LENGTH + " characters");
        }
        long now = System.currentTimeMillis();
        database.transaction("save the op log cursor of peer " + peerId, c -> {
            if (updateCursor(c, peerId, cursor, now) == 0) {
                try (PreparedStatement insert = c.prepareStatement(
                        "INSERT INTO peer_cursors (node_id, log_cursor, saved_at) VALUES (?, ?, ?)")) {
                    insert.setString(1, peerId);
                    insert.setString(2, cursor);
                    insert.setLong(3, now);
                    insert.executeUpdate();
                } catch (SQLException e) {
                    if (!DUPLICATE_KEY.equals(e.getSQLState())) {
                        throw e;
                    }
                    updateCursor(c, peerId, cursor, now);
                }
            }
            return null;
        });
    }

    private static int updateCursor(Connection c, String peerId, String cursor, long now) throws SQLException {
        try (PreparedStatement update = c.prepareStatement(
                "UPDATE peer_cursors SET log_cursor = ?, saved_at = ? WHERE node_id = ?")) {
            update.setString(1, cursor);
            update.setLong(2, now);
            update.setString(3, peerId);
            return update.executeUpdate();
        }
    }
}
