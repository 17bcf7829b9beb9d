package org.sover.storage.internal;

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
import org.sover.api.Ids;
import org.sover.api.storage.ConflictException;
import org.sover.api.vault.Account;
import org.sover.api.vault.AccountStore;
import org.sover.api.vault.ApiToken;

/**
 * Accounts, login sessions and API tokens in the embedded Derby database. Accounts replicate
 * through the metadata op log ({@link DerbyMetadataLog}); sessions and tokens stay on this node.
 */
@Component(service = AccountStore.class)
public final class DerbyAccountStore implements AccountStore {
    private static final String DUPLICATE_KEY = "23505";
    // Recording every use of a token would turn each API read into a write; a minute is precise enough.
    private static final long TOKEN_USE_RESOLUTION_MILLIS = 60_000;

    /** The columns {@link #account} reads, from {@code accounts a}. */
    static final String ACCOUNT_COLUMNS =
            "a.id, a.username, a.role, a.password_hash, a.created_at, a.updated_at, a.rev, a.node_id";

    private final DerbyDatabase database;

    @Activate
    public DerbyAccountStore(@Reference(name = "database") DerbyDatabase database) {
        this.database = database;
    }

    @Override
    public Account createAccount(String username, String passwordHash, String role, String nodeId) {
        return database.transaction("create account " + username, c -> {
            DerbyMetadataLog.enterWriter(c);
            return insertAccount(c, username, passwordHash, role, nodeId);
        });
    }

    @Override
    public Optional<Account> createFirstAccount(String username, String passwordHash, String role, String nodeId) {
        return database.transaction("create the first account", c -> {
            DerbyMetadataLog.enterWriter(c);
            // The table lock makes "no account yet" and the insert one step for concurrent setups.
            try (Statement lock = c.createStatement()) {
                lock.execute("LOCK TABLE accounts IN EXCLUSIVE MODE");
            }
            try (Statement count = c.createStatement();
                    ResultSet rs = count.executeQuery("SELECT COUNT(*) FROM accounts WHERE deleted = FALSE")) {
                rs.next();
                if (rs.getLong(1) > 0) {
                    return Optional.empty();
                }
            }
            return Optional.of(insertAccount(c, username, passwordHash, role, nodeId));
        });
    }

    /** Call {@link DerbyMetadataLog#enterWriter} first in the transaction: the row joins the op log. */
    private static Account insertAccount(Connection c, String username, String passwordHash, String role,
            String nodeId) throws SQLException {
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(passwordHash, "passwordHash");
        if (!Account.ADMIN.equals(role) && !Account.MEMBER.equals(role)) {
            throw new IllegalArgumentException("role must be " + Account.ADMIN + " or " + Account.MEMBER + ", not "
                    + role);
        }
        String id = Ids.newId();
        long now = System.currentTimeMillis();
        try (PreparedStatement insert = c.prepareStatement("INSERT INTO accounts (id, username, username_lower,"
                + " role, password_hash, created_at, updated_at, rev, node_id, deleted, seq)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, FALSE, " + DerbyMetadataLog.NEXT_SEQ + ")")) {
            insert.setString(1, id);
            insert.setString(2, username);
            insert.setString(3, lower(username));
            insert.setString(4, role);
            insert.setString(5, passwordHash);
            insert.setLong(6, now);
            insert.setLong(7, now);
            insert.setString(8, nodeId);
            insert.executeUpdate();
        } catch (SQLException e) {
            if (DUPLICATE_KEY.equals(e.getSQLState())) {
                throw new ConflictException("the username " + username + " is taken");
            }
            throw e;
        }
        return new Account(id, username, role, passwordHash, Instant.ofEpochMilli(now), Instant.ofEpochMilli(now), 1,
                nodeId);
    }

    @Override
    public Optional<Account> accountByName(String username) {
        return database.query("look up account " + username,
                c -> oneAccount(c, "SELECT " + ACCOUNT_COLUMNS + " FROM accounts a"
                        + " WHERE a.username_lower = ? AND a.deleted = FALSE", lower(username)));
    }

    @Override
    public Optional<Account> accountById(String id) {
        return database.query("read account " + id,
                c -> oneAccount(c, "SELECT " + ACCOUNT_COLUMNS + " FROM accounts a"
                        + " WHERE a.id = ? AND a.deleted = FALSE", id));
    }

    @Override
    public List<Account> accounts() {
        return database.query("list accounts", c -> {
            List<Account> accounts = new ArrayList<>();
            try (Statement select = c.createStatement();
                    ResultSet rs = select.executeQuery("SELECT " + ACCOUNT_COLUMNS + " FROM accounts a"
                            + " WHERE a.deleted = FALSE ORDER BY a.username_lower")) {
                while (rs.next()) {
                    accounts.add(account(rs));
                }
            }
            return accounts;
        });
    }

    @Override
    public long accountCount() {
        return database.query("count accounts", c -> {
            try (Statement count = c.createStatement();
                    ResultSet rs = count.executeQuery("SELECT COUNT(*) FROM accounts WHERE deleted = FALSE")) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    @Override
    public void createSession(String sessionHash, String accountId, Instant expiresAt) {
        database.transaction("create a session", c -> {
            try (PreparedStatement insert = c.prepareStatement(
                    "INSERT INTO sessions (hash, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)")) {
                insert.setString(1, sessionHash);
                insert.setString(2, accountId);
                insert.setLong(3, System.currentTimeMillis());
                insert.setLong(4, expiresAt.toEpochMilli());
                return insert.executeUpdate();
            }
        });
    }

    @Override
    public Optional<Account> sessionAccount(String sessionHash, Instant now) {
        return database.query("look up a session", c -> {
            try (PreparedStatement select = c.prepareStatement("SELECT " + ACCOUNT_COLUMNS
                    + " FROM sessions s JOIN accounts a ON a.id = s.account_id"
                    + " WHERE s.hash = ? AND s.expires_at > ? AND a.deleted = FALSE")) {
                select.setString(1, sessionHash);
                select.setLong(2, now.toEpochMilli());
                try (ResultSet rs = select.executeQuery()) {
                    return rs.next() ? Optional.of(account(rs)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public void deleteSession(String sessionHash) {
        database.transaction("delete a session", c -> {
            try (PreparedStatement delete = c.prepareStatement("DELETE FROM sessions WHERE hash = ?")) {
                delete.setString(1, sessionHash);
                return delete.executeUpdate();
            }
        });
    }

    @Override
    public int purgeExpiredSessions(Instant now) {
        return database.transaction("purge expired sessions", c -> {
            try (PreparedStatement delete = c.prepareStatement("DELETE FROM sessions WHERE expires_at <= ?")) {
                delete.setLong(1, now.toEpochMilli());
                return delete.executeUpdate();
            }
        });
    }

    @Override
    public ApiToken createToken(String accountId, String name, String tokenHash) {
        String id = Ids.newId();
        long now = System.currentTimeMillis();
        return database.transaction("create API token " + name, c -> {
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO api_tokens"
                    + " (id, account_id, name, hash, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, NULL)")) {
                insert.setString(1, id);
                insert.setString(2, accountId);
                insert.setString(3, name);
                insert.setString(4, tokenHash);
                insert.setLong(5, now);
                insert.executeUpdate();
            } catch (SQLException e) {
                if (DUPLICATE_KEY.equals(e.getSQLState())) {
                    throw new ConflictException("an API token with this secret exists already");
                }
                throw e;
            }
            return new ApiToken(id, accountId, name, Instant.ofEpochMilli(now), null);
        });
    }

    @Override
    public Optional<Account> tokenAccount(String tokenHash) {
        long now = System.currentTimeMillis();
        return database.transaction("look up an API token", c -> {
            String tokenId;
            Long lastUsed;
            Account account;
            try (PreparedStatement select = c.prepareStatement("SELECT " + ACCOUNT_COLUMNS + ", t.id, t.last_used_at"
                    + " FROM api_tokens t JOIN accounts a ON a.id = t.account_id"
                    + " WHERE t.hash = ? AND a.deleted = FALSE")) {
                select.setString(1, tokenHash);
                try (ResultSet rs = select.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    account = account(rs);
                    tokenId = rs.getString(9);
                    lastUsed = rs.getObject(10) == null ? null : rs.getLong(10);
                }
            }
            if (lastUsed == null || now - lastUsed >= TOKEN_USE_RESOLUTION_MILLIS) {
                try (PreparedStatement update = c.prepareStatement(
                        "UPDATE api_tokens SET last_used_at = ? WHERE id = ?")) {
                    update.setLong(1, now);
                    update.setString(2, tokenId);
                    update.executeUpdate();
                }
            }
            return Optional.of(account);
        });
    }

    @Override
    public List<ApiToken> tokens(String accountId) {
        return database.query("list the API tokens of account " + accountId, c -> {
            List<ApiToken> tokens = new ArrayList<>();
            try (PreparedStatement select = c.prepareStatement("SELECT id, account_id, name, created_at, last_used_at"
                    + " FROM api_tokens WHERE account_id = ? ORDER BY created_at, id")) {
                select.setString(1, accountId);
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        long lastUsed = rs.getLong(5);
                        Instant lastUsedAt = rs.wasNull() ? null : Instant.ofEpochMilli(lastUsed);
                        tokens.add(new ApiToken(rs.getString(1), rs.getString(2), rs.getString(3),
                                Instant.ofEpochMilli(rs.getLong(4)), lastUsedAt));
                    }
                }
            }
            return tokens;
        });
    }

    @Override
    public boolean revokeToken(String tokenId) {
        return database.transaction("revoke API token " + tokenId, c -> {
            try (PreparedStatement delete = c.prepareStatement("DELETE FROM api_tokens WHERE id = ?")) {
                delete.setString(1, tokenId);
                return delete.executeUpdate() == 1;
            }
        });
    }

    private static Optional<Account> oneAccount(Connection c, String sql, String parameter) throws SQLException {
        try (PreparedStatement select = c.prepareStatement(sql)) {
            select.setString(1, parameter);
            try (ResultSet rs = select.executeQuery()) {
                return rs.next() ? Optional.of(account(rs)) : Optional.empty();
            }
        }
    }

    static Account account(ResultSet rs) throws SQLException {
        return new Account(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                Instant.ofEpochMilli(rs.getLong(5)), Instant.ofEpochMilli(rs.getLong(6)), rs.getLong(7),
                rs.getString(8));
    }

    static String lower(String username) {
        return username.toLowerCase(Locale.ROOT);
    }
}
