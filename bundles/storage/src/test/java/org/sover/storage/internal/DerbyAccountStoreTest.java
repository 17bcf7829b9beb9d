package org.sover.storage.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.Before;
import org.junit.Test;
import org.sover.api.storage.ConflictException;
import org.sover.api.vault.Account;
import org.sover.api.vault.ApiToken;

public class DerbyAccountStoreTest extends DatabaseTestSupport {
    private DerbyAccountStore accounts;

    @Before
    public void createStore() {
        accounts = new DerbyAccountStore(database);
    }

    @Test
    public void accountsAreFoundByIdAndByNameIgnoringCase() {
        Account alice = accounts.createAccount("Alice", "hash-a", Account.ADMIN, NODE);

        assertEquals(1, alice.rev());
        assertEquals(NODE, alice.nodeId());
        assertEquals(Optional.of(alice), accounts.accountByName("alice"));
        assertEquals(Optional.of(alice), accounts.accountByName("ALICE"));
        assertEquals(Optional.of(alice), accounts.accountById(alice.id()));
        assertEquals(Optional.empty(), accounts.accountByName("bob"));
        assertTrue(alice.isAdmin());
    }

    @Test
    public void usernamesAreUniqueIgnoringCase() {
        accounts.createAccount("Alice", "hash-a", Account.ADMIN, NODE);

        assertThrows(ConflictException.class, () -> accounts.createAccount("aLiCe", "hash-b", Account.MEMBER, NODE));
        assertEquals(1, accounts.accountCount());
    }

    @Test
    public void accountsAreListedByName() {
        accounts.createAccount("carol", "h", Account.MEMBER, NODE);
        accounts.createAccount("Alice", "h", Account.ADMIN, NODE);
        accounts.createAccount("bob", "h", Account.MEMBER, NODE);

        assertEquals(List.of("Alice", "bob", "carol"), accounts.accounts().stream().map(Account::username).toList());
        assertEquals(3, accounts.accountCount());
        assertThrows(IllegalArgumentException.class, () -> accounts.createAccount("dave", "h", "root", NODE));
    }

    @Test
    public void theFirstAccountIsCreatedOnceEvenWhenSetupRacesItself() throws Exception {
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Optional<Account>>> results = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                String name = "admin" + i;
                results.add(pool.submit(() -> {
                    start.await();
                    return accounts.createFirstAccount(name, "hash", Account.ADMIN, NODE);
                }));
            }
            start.countDown();
            int created = 0;
            for (Future<Optional<Account>> result : results) {
                created += result.get().isPresent() ? 1 : 0;
            }
            assertEquals(1, created);
            assertEquals(1, accounts.accountCount());
        } finally {
            pool.shutdownNow();
        }
        assertEquals(Optional.empty(), accounts.createFirstAccount("late", "hash", Account.ADMIN, NODE));
    }

    @Test
    public void sessionsExpire() {
        Account alice = accounts.createAccount("alice", "h", Account.ADMIN, NODE);
        Instant now = Instant.parse("2025-01-01T00:00:00Z");
        accounts.createSession("session-1", alice.id(), now.plusSeconds(60));
        accounts.createSession("session-2", alice.id(), now.plusSeconds(3600));

        assertEquals(Optional.of(alice), accounts.sessionAccount("session-1", now));
        assertEquals(Optional.empty(), accounts.sessionAccount("session-1", now.plusSeconds(60)));
        assertEquals(Optional.empty(), accounts.sessionAccount("unknown", now));

        assertEquals(1, accounts.purgeExpiredSessions(now.plusSeconds(61)));
        assertEquals(Optional.of(alice), accounts.sessionAccount("session-2", now.plusSeconds(61)));
        accounts.deleteSession("session-2");
        assertEquals(Optional.empty(), accounts.sessionAccount("session-2", now));
    }

    @Test
    public void tokensResolveToTheirAccountAndRecordTheirUse() {
        Account alice = accounts.createAccount("alice", "h", Account.ADMIN, NODE);
        ApiToken token = accounts.createToken(alice.id(), "backup script", "token-hash");
        assertNull(token.lastUsedAt());

        assertEquals(Optional.of(alice), accounts.tokenAccount("token-hash"));
        assertEquals(Optional.empty(), accounts.tokenAccount("other-hash"));

        List<ApiToken> tokens = accounts.tokens(alice.id());
        assertEquals(1, tokens.size());
        assertEquals("backup script", tokens.get(0).name());
        assertNotNull(tokens.get(0).lastUsedAt());

        assertTrue(accounts.revokeToken(token.id()));
        assertFalse(accounts.revokeToken(token.id()));
        assertEquals(Optional.empty(), accounts.tokenAccount("token-hash"));
        assertTrue(accounts.tokens(alice.id()).isEmpty());
    }

    @Test
    public void aTokenSecretCannotBeStoredTwice() {
        Account alice = accounts.createAccount("alice", "h", Account.ADMIN, NODE);
        accounts.createToken(alice.id(), "one", "token-hash");

        assertThrows(ConflictException.class, () -> accounts.createToken(alice.id(), "two", "token-hash"));
    }
}
