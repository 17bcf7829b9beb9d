package org.sover.storage.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;

import org.apache.derby.jdbc.EmbeddedDriver;
import org.junit.Before;
import org.junit.Test;
import org.sover.api.Ids;
import org.sover.api.replication.Change;
import org.sover.api.storage.Page;
import org.sover.api.vault.Account;
import org.sover.api.vault.Album;

/** Accounts in the metadata op log: local writes, applied changes and username collisions. */
public class DerbyMetadataLogAccountsTest extends DatabaseTestSupport {
    private static final Instant T0 = Instant.parse("2024-06-01T12:00:00Z");

    private DerbyAccountStore accounts;
    private DerbyMetadataLog log;

    @Before
    public void createServices() {
        accounts = new DerbyAccountStore(database);
        log = new DerbyMetadataLog(database);
    }

    @Test
    public void accountsCreatedHereAreInTheLogButSessionsAndTokensAreNot() {
        Account admin = accounts.createFirstAccount("admin", "hash-admin", Account.ADMIN, NODE).orElseThrow();
        Account bob = accounts.createAccount("Bob", "hash-bob", Account.MEMBER, NODE);
        String cursor = endOfLog(log);

        accounts.createSession("session-hash", bob.id(), T0.plusSeconds(3600));
        accounts.createToken(bob.id(), "laptop", "token-hash");
        accounts.tokenAccount("token-hash");

        assertEquals(List.of(Change.of(admin, false), Change.of(bob, false)), log.changesSince(null, 10).items());
        assertEquals(List.of(), log.changesSince(cursor, 10).items());
        assertTrue(seqOf(database, admin.id()) < seqOf(database, bob.id()));
    }

    @Test
    public void aPeersAccountIsInsertedCanLogInAndIsPassedOn() {
        String cursor = endOfLog(log);
        Account carol = peerAccount(Ids.newId(), "Carol", T0, 2, T0.plusSeconds(10), OTHER_NODE);

        assertTrue(log.apply(Change.of(carol, false)));

        assertEquals(Optional.of(carol), accounts.accountByName("carol"));
        assertEquals(Optional.of(carol), accounts.accountById(carol.id()));
        // Applied rows take this node's next seq, so a node pulling from here sees them.
        assertEquals(List.of(Change.of(carol, false)), log.changesSince(cursor, 10).items());
        // With an account, a node is past its first-run setup.
        assertEquals(Optional.empty(), accounts.createFirstAccount("admin", "h", Account.ADMIN, NODE));
    }

    @Test
    public void anOlderOrEqualClockIsANoOpAndAHigherOneWinsTombstonesIncluded() {
        String id = Ids.newId();
        Account carol = peerAccount(id, "carol", T0, 2, T0.plusSeconds(10), "node-m");
        assertTrue(log.apply(Change.of(carol, false)));
        String cursor = endOfLog(log);

        assertFalse(log.apply(Change.of(carol, false)));
        assertFalse(log.apply(Change.of(withClock(carol, "hash-x", 1, T0.plusSeconds(60), "node-z"), false)));
        assertFalse(log.apply(Change.of(withClock(carol, "hash-x", 2, T0.plusSeconds(9), "node-z"), false)));
        assertFalse(log.apply(Change.of(withClock(carol, "hash-x", 2, T0.plusSeconds(10), "node-a"), false)));
        assertEquals(Optional.of(carol), accounts.accountByName("carol"));
        assertEquals(List.of(), log.changesSince(cursor, 10).items());

        Account newPassword = withClock(carol, "hash-new", 3, T0.plusSeconds(20), "node-a");
        assertTrue(log.apply(Change.of(newPassword, false)));
        assertEquals(Optional.of(newPassword), accounts.accountByName("carol"));

        Account tombstone = withClock(carol, "hash-new", 4, T0.plusSeconds(30), "node-a");
        assertTrue(log.apply(Change.of(tombstone, true)));
        assertEquals(Optional.empty(), accounts.accountByName("carol"));
        assertEquals(0, accounts.accountCount());
        assertFalse(log.apply(Change.of(newPassword, false)));
        assertEquals(List.of(Change.of(tombstone, true)), log.changesSince(cursor, 10).items());
    }

    @Test
    public void anIncomingAccountThatWasCreatedEarlierTakesTheNameAndTheLocalOneIsRenamed() {
        Account local = accounts.createAccount("Admin", "hash-local", Account.ADMIN, NODE);
        accounts.createSession("session-hash", local.id(), Instant.now().plusSeconds(3600));
        String cursor = endOfLog(log);
        Instant earlier = local.createdAt().minusSeconds(60);
        Account incoming = peerAccount(Ids.newId(), "admin", earlier, 1, earlier, OTHER_NODE);

        assertTrue(log.apply(Change.of(incoming, false)));

        Account renamed = accounts.accountById(local.id()).orElseThrow();
        assertEquals("Admin-" + local.id().substring(0, 4), renamed.username());
        assertEquals(2, renamed.rev());
        assertEquals(NODE, renamed.nodeId());
        assertTrue(renamed.updatedAt().isAfter(local.updatedAt()));
        assertEquals("hash-local", renamed.passwordHash());
        assertEquals(Optional.of(incoming), accounts.accountByName("ADMIN"));
        // The rename is a write of its own, before the incoming record, and both travel on.
        assertEquals(List.of(Change.of(renamed, false), Change.of(incoming, false)),
                log.changesSince(cursor, 10).items());
        // The id stays, so whoever was logged in stays logged in.
        assertEquals(Optional.of(renamed), accounts.sessionAccount("session-hash", Instant.now()));
    }

    @Test
    public void anIncomingAccountThatWasCreatedLaterIsStoredRenamedWithMoreOfItsIdWhenNeeded() {
        Account local = accounts.createAccount("admin", "hash-local", Account.ADMIN, NODE);
        String id = "zzzzq" + Ids.newId().substring(5);
        accounts.createAccount("admin-zzzz", "hash-other", Account.MEMBER, NODE);
        Instant later = Instant.now().plus(Duration.ofDays(1)).truncatedTo(ChronoUnit.MILLIS);
        Account incoming = peerAccount(id, "ADMIN", later, 3, later, OTHER_NODE);

        assertTrue(log.apply(Change.of(incoming, false)));

        Account stored = accounts.accountById(id).orElseThrow();
        assertEquals(new Account(id, "ADMIN-zzzzq", Account.ADMIN, incoming.passwordHash(), later,
                later.plusMillis(1), 4, OTHER_NODE), stored);
        assertEquals(Optional.of(local), accounts.accountByName("admin"));
        // The same change again is older than what it became here.
        assertFalse(log.apply(Change.of(incoming, false)));

        // A long name is cut so that the suffix fits the 64 characters of a username.
        String longName = "a".repeat(62);
        Account localLong = accounts.createAccount(longName, "h", Account.MEMBER, NODE);
        Account incomingLong = peerAccount(Ids.newId(), longName, later, 1, later, OTHER_NODE);
        assertTrue(log.apply(Change.of(incomingLong, false)));
        assertEquals("a".repeat(59) + "-" + incomingLong.id().substring(0, 4),
                accounts.accountById(incomingLong.id()).orElseThrow().username());
        assertEquals(Optional.of(localLong), accounts.accountByName(longName));
    }

    @Test
    public void aDeletedAccountGivesUpItsNameToALiveOne() {
        Account dave = accounts.createAccount("dave", "hash-dave", Account.MEMBER, NODE);
        Instant earlier = dave.createdAt().minusSeconds(60);
        Account deleted = peerAccount(Ids.newId(), "dave", earlier, 5, earlier, OTHER_NODE);

        assertTrue(log.apply(Change.of(deleted, true)));

        assertEquals(Optional.of(dave), accounts.accountByName("dave"));
        assertEquals(1, accounts.accountCount());
        List<Change> changes = log.changesSince(null, 10).items();
        assertEquals(2, changes.size());
        Account renamedTombstone = changes.get(1).account();
        assertTrue(changes.get(1).deleted());
        assertEquals("dave-" + deleted.id().substring(0, 4), renamedTombstone.username());
        assertEquals(6, renamedTombstone.rev());
    }

    @Test
    public void twoNodesWithTheirOwnFirstAdminConvergeWhenAPullsFirst() throws Exception {
        firstAdminsOfTwoNodesConverge(true);
    }

    @Test
    public void twoNodesWithTheirOwnFirstAdminConvergeWhenBPullsFirst() throws Exception {
        firstAdminsOfTwoNodesConverge(false);
    }

    /** Both nodes were set up alone, each with "admin", and are then paired. */
    private void firstAdminsOfTwoNodesConverge(boolean aPullsFirst) throws Exception {
        DerbyDatabase databaseB = new DerbyDatabase(temp.newFolder("node-b").toPath(), 1000, 4);
        try {
            DerbyAccountStore accountsB = new DerbyAccountStore(databaseB);
            DerbyMetadataLog logB = new DerbyMetadataLog(databaseB);
            new DerbyVaultRepository(database).createAlbum("On A", NODE);
            Account adminA = accounts.createFirstAccount("admin", "hash-a", Account.ADMIN, NODE).orElseThrow();
            Account adminB = accountsB.createFirstAccount("admin", "hash-b", Account.ADMIN, OTHER_NODE).orElseThrow();
            new DerbyVaultRepository(databaseB).createAlbum("On B", OTHER_NODE);
            Comparator<Account> creation = Comparator.comparing(Account::createdAt).thenComparing(Account::id);
            Account first = creation.compare(adminA, adminB) < 0 ? adminA : adminB;
            Account second = first == adminA ? adminB : adminA;

            for (int round = 1;; round++) {
                int applied = aPullsFirst
                        ? DerbyMetadataLogTest.pull(logB, OTHER_NODE, log) + DerbyMetadataLogTest.pull(log, NODE, logB)
                        : DerbyMetadataLogTest.pull(log, NODE, logB) + DerbyMetadataLogTest.pull(logB, OTHER_NODE, log);
                if (applied == 0) {
                    break;
                }
                assertTrue("the nodes should have converged by now", round < 5);
            }

            List<Account> onA = accounts.accounts();
            assertEquals(onA, accountsB.accounts());
            assertEquals(Set.of("admin", "admin-" + second.id().substring(0, 4)),
                    onA.stream().map(Account::username).collect(Collectors.toSet()));
            for (DerbyAccountStore store : List.of(accounts, accountsB)) {
                assertEquals(Optional.of(first), store.accountByName("admin"));
                Account renamed = store.accountByName("admin-" + second.id().substring(0, 4)).orElseThrow();
                assertEquals(second.id(), renamed.id());
                assertEquals(second.passwordHash(), renamed.passwordHash());
                assertEquals(2, renamed.rev());
                assertEquals(second.nodeId(), renamed.nodeId());
            }
            // The albums came along in the same logs.
            assertEquals(Set.of("On A", "On B"), new DerbyVaultRepository(databaseB).albums().stream()
                    .map(Album::name).collect(Collectors.toSet()));
        } finally {
            databaseB.close();
        }
    }

    @Test
    public void malformedAccountChangesAreRejected() {
        Account ok = peerAccount(Ids.newId(), "erin", T0, 1, T0, OTHER_NODE);
        Album album = new Album(Ids.newId(), "x", T0, T0, 1, NODE, 0, null);

        assertThrows(IllegalArgumentException.class, () -> log.apply(new Change(album, null, ok, false)));
        assertThrows(IllegalArgumentException.class, () -> log.apply(Change.of(new Account(ok.id(), ok.username(),
                "root", ok.passwordHash(), T0, T0, 1, OTHER_NODE), false)));
        assertThrows(IllegalArgumentException.class, () -> log.apply(Change.of(new Account(ok.id(), ok.username(),
                Account.MEMBER, null, T0, T0, 1, OTHER_NODE), false)));
        assertThrows(IllegalArgumentException.class, () -> log.apply(Change.of(new Account(ok.id(), null,
                Account.MEMBER, "h", T0, T0, 1, OTHER_NODE), false)));
        assertEquals(0, accounts.accountCount());
    }

    @Test
    public void migrationV4PutsExistingAccountsIntoTheLog() throws Exception {
        Path dataDir = temp.newFolder("v3").toPath();
        String url = "jdbc:derby:" + dataDir.resolve("db");
        EmbeddedDriver driver = new EmbeddedDriver();
        try (Connection c = driver.connect(url + ";create=true", new Properties())) {
            new SchemaMigrations(List.of("V1__init.sql", "V2__replication.sql", "V3__oplog.sql")).apply(c);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO albums (id, name, created_at, updated_at, rev, node_id, seq) VALUES"
                        + " ('album1', 'One', 1, 1, 1, 'node-a', NEXT VALUE FOR change_seq)");
                s.executeUpdate("INSERT INTO accounts (id, username, username_lower, role, password_hash,"
                        + " created_at, updated_at, rev, node_id) VALUES"
                        + " ('account1', 'Admin', 'admin', 'admin', 'h1', 1, 1, 1, 'node-a'),"
                        + " ('account2', 'bob', 'bob', 'member', 'h2', 2, 2, 1, 'node-a')");
            }
        }
        DerbyMetadataLogTest.shutdown(driver, url);

        DerbyDatabase migrated = new DerbyDatabase(dataDir, 1000, 4);
        try {
            List<Change> changes = new DerbyMetadataLog(migrated).changesSince(null, 10).items();
            assertEquals(Set.of("album1", "account1", "account2"),
                    changes.stream().map(DerbyMetadataLogTest::idOf).collect(Collectors.toSet()));
            long backfilled = Math.max(seqOf(migrated, "account1"), seqOf(migrated, "account2"));
            Account carol = new DerbyAccountStore(migrated).createAccount("carol", "h3", Account.MEMBER, NODE);
            assertTrue(backfilled < seqOf(migrated, carol.id()));
        } finally {
            migrated.close();
        }
    }

    private static Account peerAccount(String id, String username, Instant createdAt, long rev, Instant updatedAt,
            String nodeId) {
        return new Account(id, username, Account.ADMIN, "hash-" + id, createdAt, updatedAt, rev, nodeId);
    }

    private static Account withClock(Account a, String passwordHash, long rev, Instant updatedAt, String nodeId) {
        return new Account(a.id(), a.username(), a.role(), passwordHash, a.createdAt(), updatedAt, rev, nodeId);
    }

    private static String endOfLog(DerbyMetadataLog log) {
        String cursor = null;
        for (Page<Change> page = log.changesSince(null, 500); page.next() != null;
                page = log.changesSince(page.next(), 500)) {
            cursor = page.next();
        }
        return cursor;
    }

    private static long seqOf(DerbyDatabase database, String accountId) {
        return database.query("read the seq of account " + accountId, c -> {
            try (PreparedStatement select = c.prepareStatement("SELECT seq FROM accounts WHERE id = ?")) {
                select.setString(1, accountId);
                try (ResultSet rs = select.executeQuery()) {
                    assertTrue(rs.next());
                    return rs.getLong(1);
                }
            }
        });
    }
}
