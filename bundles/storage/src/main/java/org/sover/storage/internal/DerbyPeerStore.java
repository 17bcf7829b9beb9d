package org.sover.storage.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.sover.api.replication.Peer;
import org.sover.api.replication.PeerRole;
import org.sover.api.replication.PeerStore;
import org.sover.api.replication.PendingPeer;
import org.sover.api.storage.ConflictException;

/** Pinned peers, the block list, pairing tokens and the approval queue in the embedded Derby database. */
@Component(service = PeerStore.class)
public final class DerbyPeerStore implements PeerStore {
    /** Addresses kept per peer, the one that last worked first: enough for a few interfaces and a relay. */
    static final int MAX_ADDRESSES = 16;
    static final int MAX_ADDRESS_LENGTH = 255;
    static final int MAX_NAME_LENGTH = 200;
    static final int MAX_KEY_BYTES = 128;

    private static final String DUPLICATE_KEY = "23505";

    private static final String PEERS = "SELECT p.node_id, p.public_key, p.name, p.role, p.addresses, p.paired_at,"
            + " p.last_contact_at, p.last_error, b.node_id, p.last_error_at FROM peers p"
            + " LEFT JOIN blocked_nodes b ON b.node_id = p.node_id";
    private static final String PENDING = "SELECT node_id, public_key, name, role, addresses, requested_at"
            + " FROM pending_peers";

    private final DerbyDatabase database;

    @Activate
    public DerbyPeerStore(@Reference(name = "database") DerbyDatabase database) {
        this.database = database;
    }

    @Override
    public Peer pin(String nodeId, byte[] publicKey, String name, PeerRole role, List<String> addresses,
            Instant now) {
        Objects.requireNonNull(nodeId, "nodeId");
        checkKey(publicKey);
        checkName(name);
        Objects.requireNonNull(role, "role");
        String joined = joinAddresses(addresses);
        return database.transaction("pin peer " + nodeId, c -> {
            if (updateSameKey(c, nodeId, publicKey, name, role, joined) == 0) {
                try (PreparedStatement insert = c.prepareStatement("INSERT INTO peers (node_id, public_key, name,"
                        + " role, addresses, paired_at) VALUES (?, ?, ?, ?, ?, ?)")) {
                    insert.setString(1, nodeId);
                    insert.setBytes(2, publicKey);
                    insert.setString(3, name);
                    insert.setString(4, role.wireName());
                    insert.setString(5, joined);
                    insert.setLong(6, now.toEpochMilli());
                    insert.executeUpdate();
                } catch (SQLException e) {
                    // The node is pinned already: with another key (a conflict), or a concurrent pin
                    // of the same key committed first (then this is a re-pin).
                    if (!DUPLICATE_KEY.equals(e.getSQLState())) {
                        throw e;
                    }
                    if (updateSameKey(c, nodeId, publicKey, name, role, joined) == 0) {
                        throw new ConflictException("node " + nodeId + " is pinned with another key; remove the"
                                + " peer first if that node really has a new identity");
                    }
                }
            }
            return peer(c, nodeId).orElseThrow();
        });
    }

    /** A re-pin: updates the facts a peer may change, only while the pinned key is the same. */
    private static int updateSameKey(Connection c, String nodeId, byte[] publicKey, String name, PeerRole role,
            String addresses) throws SQLException {
        try (PreparedStatement update = c.prepareStatement("UPDATE peers SET name = ?, role = ?, addresses = ?"
                + " WHERE node_id = ? AND public_key = ?")) {
            update.setString(1, name);
            update.setString(2, role.wireName());
            update.setString(3, addresses);
            update.setString(4, nodeId);
            update.setBytes(5, publicKey);
            return update.executeUpdate();
        }
    }

    @Override
    public Optional<Peer> peer(String nodeId) {
        return database.query("read peer " + nodeId, c -> peer(c, nodeId));
    }

    @Override
    public List<Peer> peers() {
        return database.query("list peers", c -> {
            List<Peer> peers = new ArrayList<>();
            try (Statement select = c.createStatement();
                    ResultSet rs = select.executeQuery(PEERS + " ORDER BY p.name, p.node_id")) {
                while (rs.next()) {
                    peers.add(peer(rs));
                }
            }
            return peers;
        });
    }

    @Override
    public Optional<Peer> rename(String nodeId, String name) {
        checkName(name);
        return database.transaction("rename peer " + nodeId, c -> {
            try (PreparedStatement update = c.prepareStatement("UPDATE peers SET name = ? WHERE node_id = ?")) {
                update.setString(1, name);
                update.setString(2, nodeId);
                if (update.executeUpdate() == 0) {
                    return Optional.empty();
                }
            }
            return peer(c, nodeId);
        });
    }

    @Override
    public boolean remove(String nodeId) {
        return database.transaction("remove peer " + nodeId, c -> {
            // The peer row first: its lock waits for an upload that has read the peer list
            // (unblockedPeerIds), so that upload's job for this peer is deleted below, not left over.
            boolean removed;
            try (PreparedStatement delete = c.prepareStatement("DELETE FROM peers WHERE node_id = ?")) {
                delete.setString(1, nodeId);
                removed = delete.executeUpdate() == 1;
            }
            try (PreparedStatement delete = c.prepareStatement("DELETE FROM jobs WHERE peer_id = ?")) {
                delete.setString(1, nodeId);
                delete.executeUpdate();
            }
            // If the node is paired again, its op log is pulled from the start (applying is idempotent).
            try (PreparedStatement delete = c.prepareStatement("DELETE FROM peer_cursors WHERE node_id = ?")) {
                delete.setString(1, nodeId);
                delete.executeUpdate();
            }
            return removed;
        });
    }

    @Override
    public void setBlocked(String nodeId, boolean blocked, Instant now) {
        Objects.requireNonNull(nodeId, "nodeId");
        database.transaction((blocked ? "block" : "unblock") + " node " + nodeId, c -> {
            if (!blocked) {
                try (PreparedStatement delete = c.prepareStatement("DELETE FROM blocked_nodes WHERE node_id = ?")) {
                    delete.setString(1, nodeId);
                    return delete.executeUpdate();
                }
            }
            try (PreparedStatement insert = c.prepareStatement(
                    "INSERT INTO blocked_nodes (node_id, blocked_at) VALUES (?, ?)")) {
                insert.setString(1, nodeId);
                insert.setLong(2, now.toEpochMilli());
                return insert.executeUpdate();
            } catch (SQLException e) {
                // Blocked already; the first time is the one worth keeping.
                if (DUPLICATE_KEY.equals(e.getSQLState())) {
                    return 0;
                }
                throw e;
            }
        });
    }

    @Override
    public boolean isBlocked(String nodeId) {
        return database.query("look up node " + nodeId + " in the block list", c -> isBlocked(c, nodeId));
    }

    @Override
    public Map<String, Instant> blockedNodes() {
        return database.query("read the block list", c -> {
            Map<String, Instant> blocked = new LinkedHashMap<>();
            try (Statement select = c.createStatement();
                    ResultSet rs = select.executeQuery("SELECT node_id, blocked_at FROM blocked_nodes ORDER BY blocked_at")) {
                while (rs.next()) {
                    blocked.put(rs.getString(1), Instant.ofEpochMilli(rs.getLong(2)));
                }
            }
            return blocked;
        });
    }

    static boolean isBlocked(Connection c, String nodeId) throws SQLException {
        try (PreparedStatement select = c.prepareStatement("SELECT 1 FROM blocked_nodes WHERE node_id = ?")) {
            select.setString(1, nodeId);
            try (ResultSet rs = select.executeQuery()) {
                return rs.next();
            }
        }
    }

    /**
     * The pinned peers that are not blocked: those a new photo is sent to. WITH RS holds their
     * rows until the caller commits, so a peer cannot be removed in between (see {@link #remove}).
     */
    static List<String> unblockedPeerIds(Connection c) throws SQLException {
        List<String> ids = new ArrayList<>();
        try (Statement select = c.createStatement();
                ResultSet rs = select.executeQuery("SELECT p.node_id FROM peers p WHERE NOT EXISTS"
                        + " (SELECT 1 FROM blocked_nodes b WHERE b.node_id = p.node_id) WITH RS")) {
            while (rs.next()) {
                ids.add(rs.getString(1));
            }
        }
        return ids;
    }

    /** The address that worked moves to the front, so dialling tries it before the others. */
    @Override
    public void recordContact(String nodeId, Instant at, String address) {
        if (address != null) {
            checkAddress(address);
        }
        database.transaction("record contact with peer " + nodeId, c -> {
            try (PreparedStatement update = c.prepareStatement("UPDATE peers SET last_contact_at = ?,"
                    + " last_error = NULL, last_error_at = NULL WHERE node_id = ?")) {
                update.setLong(1, at.toEpochMilli());
                update.setString(2, nodeId);
                if (update.executeUpdate() == 0 || address == null) {
                    return null;
                }
            }
            // Read under the lock the update took, so concurrent contacts cannot lose an address.
            String stored;
            try (PreparedStatement select = c.prepareStatement("SELECT addresses FROM peers WHERE node_id = ?")) {
                select.setString(1, nodeId);
                try (ResultSet rs = select.executeQuery()) {
                    rs.next();
                    stored = rs.getString(1);
                }
            }
            List<String> addresses = new ArrayList<>();
            addresses.add(address);
            addresses.addAll(splitAddresses(stored));
            try (PreparedStatement update = c.prepareStatement("UPDATE peers SET addresses = ? WHERE node_id = ?")) {
                update.setString(1, joinAddresses(addresses));
                update.setString(2, nodeId);
                return update.executeUpdate();
            }
        });
    }

    @Override
    public void recordError(String nodeId, String error, Instant at) {
        String lastError = DerbyJobQueue.cutError(error);
        database.transaction("record an error of peer " + nodeId, c -> {
            try (PreparedStatement update = c.prepareStatement(
                    "UPDATE peers SET last_error = ?, last_error_at = ? WHERE node_id = ?")) {
                update.setString(1, lastError);
                update.setLong(2, at.toEpochMilli());
                update.setString(3, nodeId);
                return update.executeUpdate();
            }
        });
    }

    @Override
    public void createPairingToken(String tokenHash, PeerRole role, Instant expiresAt) {
        Objects.requireNonNull(tokenHash, "tokenHash");
        Objects.requireNonNull(role, "role");
        database.transaction("create a pairing token", c -> {
            try (PreparedStatement insert = c.prepareStatement(
                    "INSERT INTO pairing_tokens (token_hash, role, expires_at) VALUES (?, ?, ?)")) {
                insert.setString(1, tokenHash);
                insert.setString(2, role.wireName());
                insert.setLong(3, expiresAt.toEpochMilli());
                return insert.executeUpdate();
            } catch (SQLException e) {
                if (DUPLICATE_KEY.equals(e.getSQLState())) {
                    throw new ConflictException("this pairing token exists already");
                }
                throw e;
            }
        });
    }

    @Override
    public List<String> livePairingTokenHashes(Instant now) {
        return database.transaction("list live pairing tokens", c -> {
            try (PreparedStatement select = c.prepareStatement(
                    "SELECT token_hash FROM pairing_tokens WHERE expires_at > ?")) {
                select.setLong(1, now.toEpochMilli());
                List<String> out = new ArrayList<>();
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        out.add(rs.getString(1));
                    }
                }
                return out;
            }
        });
    }

    @Override
    public Optional<PeerRole> consumePairingToken(String tokenHash, Instant now) {
        long at = now.toEpochMilli();
        // Tokens nobody used would stay forever otherwise. A transaction of its own: a scan of
        // the table inside the one below would wait for a concurrent use of another token, and
        // that one for this, a deadlock.
        database.transaction("purge expired pairing tokens", c -> {
            try (PreparedStatement purge = c.prepareStatement("DELETE FROM pairing_tokens WHERE expires_at <= ?")) {
                purge.setLong(1, at);
                return purge.executeUpdate();
            }
        });
        return database.transaction("use a pairing token", c -> {
            PeerRole role;
            try (PreparedStatement select = c.prepareStatement(
                    "SELECT role FROM pairing_tokens WHERE token_hash = ? AND expires_at > ?")) {
                select.setString(1, tokenHash);
                select.setLong(2, at);
                try (ResultSet rs = select.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    role = role(rs.getString(1));
                }
            }
            // The delete decides: of two concurrent uses both may read the token, only one deletes it.
            try (PreparedStatement delete = c.prepareStatement("DELETE FROM pairing_tokens WHERE token_hash = ?")) {
                delete.setString(1, tokenHash);
                return delete.executeUpdate() == 1 ? Optional.of(role) : Optional.empty();
            }
        });
    }

    @Override
    public void addPending(PendingPeer request) {
        Objects.requireNonNull(request.nodeId(), "nodeId");
        checkKey(request.publicKey());
        checkName(request.name());
        Objects.requireNonNull(request.role(), "role");
        String addresses = joinAddresses(request.addresses());
        database.transaction("record the pairing request of node " + request.nodeId(), c -> {
            if (refreshPending(c, request, addresses) == 1) {
                return null;
            }
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO pending_peers (node_id, public_key, name,"
                    + " role, addresses, requested_at) VALUES (?, ?, ?, ?, ?, ?)")) {
                insert.setString(1, request.nodeId());
                insert.setBytes(2, request.publicKey());
                insert.setString(3, request.name());
                insert.setString(4, request.role().wireName());
                insert.setString(5, addresses);
                insert.setLong(6, request.requestedAt().toEpochMilli());
                insert.executeUpdate();
            } catch (SQLException e) {
                // A concurrent request of the same node was stored first: refresh it instead.
                if (!DUPLICATE_KEY.equals(e.getSQLState())) {
                    throw e;
                }
                refreshPending(c, request, addresses);
            }
            return null;
        });
    }

    private static int refreshPending(Connection c, PendingPeer request, String addresses) throws SQLException {
        try (PreparedStatement update = c.prepareStatement("UPDATE pending_peers SET public_key = ?, name = ?,"
                + " role = ?, addresses = ?, requested_at = ? WHERE node_id = ?")) {
            update.setBytes(1, request.publicKey());
            update.setString(2, request.name());
            update.setString(3, request.role().wireName());
            update.setString(4, addresses);
            update.setLong(5, request.requestedAt().toEpochMilli());
            update.setString(6, request.nodeId());
            return update.executeUpdate();
        }
    }

    @Override
    public List<PendingPeer> pending() {
        return database.query("list pairing requests", c -> {
            List<PendingPeer> requests = new ArrayList<>();
            try (Statement select = c.createStatement();
                    ResultSet rs = select.executeQuery(PENDING + " ORDER BY requested_at, node_id")) {
                while (rs.next()) {
                    requests.add(pendingPeer(rs));
                }
            }
            return requests;
        });
    }

    @Override
    public Optional<PendingPeer> takePending(String nodeId) {
        return database.transaction("take the pairing request of node " + nodeId, c -> {
            PendingPeer request;
            try (PreparedStatement select = c.prepareStatement(PENDING + " WHERE node_id = ?")) {
                select.setString(1, nodeId);
                try (ResultSet rs = select.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    request = pendingPeer(rs);
                }
            }
            // As with tokens: only the caller whose delete removed the row gets the request.
            try (PreparedStatement delete = c.prepareStatement("DELETE FROM pending_peers WHERE node_id = ?")) {
                delete.setString(1, nodeId);
                return delete.executeUpdate() == 1 ? Optional.of(request) : Optional.empty();
            }
        });
    }

    private static Optional<Peer> peer(Connection c, String nodeId) throws SQLException {
        try (PreparedStatement select = c.prepareStatement(PEERS + " WHERE p.node_id = ?")) {
            select.setString(1, nodeId);
            try (ResultSet rs = select.executeQuery()) {
                return rs.next() ? Optional.of(peer(rs)) : Optional.empty();
            }
        }
    }

    private static Peer peer(ResultSet rs) throws SQLException {
        return new Peer(rs.getString(1), rs.getBytes(2), rs.getString(3), role(rs.getString(4)),
                splitAddresses(rs.getString(5)), rs.getString(9) != null, Instant.ofEpochMilli(rs.getLong(6)),
                DerbyJobQueue.nullableInstant(rs, 7), rs.getString(8), DerbyJobQueue.nullableInstant(rs, 10));
    }

    private static PendingPeer pendingPeer(ResultSet rs) throws SQLException {
        return new PendingPeer(rs.getString(1), rs.getBytes(2), rs.getString(3), role(rs.getString(4)),
                splitAddresses(rs.getString(5)), Instant.ofEpochMilli(rs.getLong(6)));
    }

    private static PeerRole role(String wireName) {
        return PeerRole.valueOf(wireName.toUpperCase(Locale.ROOT));
    }

    /**
     * Addresses as stored: distinct, in order, at most {@link #MAX_ADDRESSES} (the oldest fall
     * off), joined by newlines, which no URL contains.
     */
    static String joinAddresses(List<String> addresses) {
        Objects.requireNonNull(addresses, "addresses");
        Set<String> distinct = new LinkedHashSet<>();
        for (String address : addresses) {
            checkAddress(address);
            if (distinct.size() < MAX_ADDRESSES) {
                distinct.add(address);
            }
        }
        return String.join("\n", distinct);
    }

    static List<String> splitAddresses(String joined) {
        return joined.isEmpty() ? List.of() : List.of(joined.split("\n"));
    }

    private static void checkAddress(String address) {
        Objects.requireNonNull(address, "address");
        if (address.isEmpty() || address.length() > MAX_ADDRESS_LENGTH || address.indexOf('\n') >= 0
                || address.indexOf('\r') >= 0) {
            throw new IllegalArgumentException("a peer address must be 1-" + MAX_ADDRESS_LENGTH
                    + " characters on one line, not " + address.length() + " characters starting "
                    + address.substring(0, Math.min(address.length(), 40)).strip());
        }
    }

    private static void checkName(String name) {
        Objects.requireNonNull(name, "name");
        if (name.length() > MAX_NAME_LENGTH) {
            throw new IllegalArgumentException("a peer name is at most " + MAX_NAME_LENGTH + " characters");
        }
    }

    private static void checkKey(byte[] publicKey) {
        Objects.requireNonNull(publicKey, "publicKey");
        if (publicKey.length == 0 || publicKey.length > MAX_KEY_BYTES) {
            throw new IllegalArgumentException("a public key is 1-" + MAX_KEY_BYTES + " bytes, not "
                    + publicKey.length);
        }
    }
}
