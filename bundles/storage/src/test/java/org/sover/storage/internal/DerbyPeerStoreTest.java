package org.sover.storage.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;

import org.junit.Before;
import org.junit.Test;
import org.sover.api.replication.Peer;
import org.sover.api.replication.PeerRole;
import org.sover.api.replication.PendingPeer;
import org.sover.api.storage.ConflictException;

public class DerbyPeerStoreTest extends DatabaseTestSupport {
    private static final Instant T0 = Instant.parse("2024-06-01T12:00:00Z");
    private static final byte[] KEY_B = key(2);
    private static final String NODE_B = "BBBBBBB-BBBBBBB-BBBBBBB-BBBBBBB-BBBBBBB-BBBBBBB-BBBBBBB-BBBBBBB";
    private static final String NODE_C = "CCCCCCC-CCCCCCC-CCCCCCC-CCCCCCC-CCCCCCC-CCCCCCC-CCCCCCC-CCCCCCC";

    private DerbyPeerStore peers;

    @Before
    public void createStore() {
        peers = new DerbyPeerStore(database);
    }

    @Test
    public void aPinnedPeerIsReadBackAndRePinningTheSameKeyUpdatesIt() {
        Peer pinned = peers.pin(NODE_B, KEY_B, "Grandma's NAS", PeerRole.FULL, List.of("https://192.168.1.20:8443"),
                T0);

        assertEquals(NODE_B, pinned.nodeId());
        assertArrayEquals(KEY_B, pinned.publicKey());
        assertEquals("Grandma's NAS", pinned.name());
        assertEquals(PeerRole.FULL, pinned.role());
        assertEquals(List.of("https://192.168.1.20:8443"), pinned.addresses());
        assertFalse(pinned.blocked());
        assertEquals(T0, pinned.pairedAt());
        assertNull(pinned.lastContactAt());
        assertNull(pinned.lastError());

        Peer again = peers.pin(NODE_B, key(2), "NAS", PeerRole.STORAGE, List.of("https://b.lan", "https://b.lan",
                "https://10.0.0.2"), T0.plusSeconds(60));

        assertEquals("NAS", again.name());
        assertEquals(PeerRole.STORAGE, again.role());
        assertEquals(List.of("https://b.lan", "https://10.0.0.2"), again.addresses());
        assertEquals(T0, again.pairedAt());
        assertEquals(1, peers.peers().size());
    }

    @Test
    public void pinningAnotherKeyForAPinnedNodeIsAConflict() {
        peers.pin(NODE_B, KEY_B, "B", PeerRole.FULL, List.of(), T0);

        ConflictException e = assertThrows(ConflictException.class,
                () -> peers.pin(NODE_B, key(3), "Impostor", PeerRole.FULL, List.of("https://evil"), T0));

        assertTrue(e.getMessage(), e.getMessage().contains(NODE_B));
        Peer kept = peers.peer(NODE_B).orElseThrow();
        assertArrayEquals(KEY_B, kept.publicKey());
        assertEquals("B", kept.name());
        assertEquals(List.of(), kept.addresses());
    }

    @Test
    public void invalidPinsAreRejectedBeforeTouchingTheDatabase() {
        assertThrows(IllegalArgumentException.class,
                () -> peers.pin(NODE_B, new byte[0], "B", PeerRole.FULL, List.of(), T0));
        assertThrows(IllegalArgumentException.class,
                () -> peers.pin(NODE_B, KEY_B, "n".repeat(201), PeerRole.FULL, List.of(), T0));
        assertThrows(IllegalArgumentException.class,
                () -> peers.pin(NODE_B, KEY_B, "B", PeerRole.FULL, List.of("https://a\nhttps://b"), T0));
        assertThrows(IllegalArgumentException.class,
                () -> peers.pin(NODE_B, KEY_B, "B", PeerRole.FULL, List.of("https://" + "a".repeat(300)), T0));
        assertEquals(Optional.empty(), peers.peer(NODE_B));
    }

    @Test
    public void peersAreListedByNameWithTheirBlockFlag() {
        peers.pin(NODE_C, key(3), "Attic", PeerRole.STORAGE, List.of(), T0);
        peers.pin(NODE_B, KEY_B, "Basement", PeerRole.FULL, List.of(), T0);
        peers.setBlocked(NODE_B, true, T0);

        List<Peer> all = peers.peers();

        assertEquals(List.of("Attic", "Basement"), all.stream().map(Peer::name).toList());
        assertEquals(List.of(false, true), all.stream().map(Peer::blocked).toList());
        assertTrue(peers.peer(NODE_B).orElseThrow().blocked());
    }

    @Test
    public void renameChangesOnlyTheName() {
        peers.pin(NODE_B, KEY_B, "B", PeerRole.FULL, List.of("https://b"), T0);

        Peer renamed = peers.rename(NODE_B, "Office").orElseThrow();

        assertEquals("Office", renamed.name());
        assertEquals(List.of("https://b"), renamed.addresses());
        assertEquals(Optional.empty(), peers.rename(NODE_C, "Nobody"));
        assertThrows(IllegalArgumentException.class, () -> peers.rename(NODE_B, "n".repeat(201)));
    }

    @Test
    public void removeDropsThePeerAndItsJobsButKeepsItsBlockEntry() {
        DerbyJobQueue queue = newQueue();
        peers.pin(NODE_B, KEY_B, "B", PeerRole.FULL, List.of(), T0);
        peers.pin(NODE_C, key(3), "C", PeerRole.FULL, List.of(), T0);
        queue.enqueue(blobId("1"), null, List.of(NODE_B, NODE_C), Instant.now());
        queue.enqueue(blobId("2"), null, List.of(NODE_B), Instant.now());
        peers.setBlocked(NODE_B, true, T0);

        assertTrue(peers.remove(NODE_B));

        assertEquals(Optional.empty(), peers.peer(NODE_B));
        assertEquals(0, total(queue, NODE_B));
        assertEquals(1, total(queue, NODE_C));
        assertTrue(peers.isBlocked(NODE_B));
        assertFalse(peers.remove(NODE_B));
    }

    @Test
    public void nodesNeverPinnedCanBeBlockedAndUnblocked() {
        assertFalse(peers.isBlocked(NODE_C));

        peers.setBlocked(NODE_C, true, T0);
        peers.setBlocked(NODE_C, true, T0.plusSeconds(1));
        assertTrue(peers.isBlocked(NODE_C));
        assertTrue(peers.peers().isEmpty());
        assertEquals("the block list shows nodes that were never pinned", java.util.Set.of(NODE_C),
                peers.blockedNodes().keySet());

        // Pinning does not lift a block.
        assertTrue(peers.pin(NODE_C, key(3), "C", PeerRole.FULL, List.of(), T0).blocked());

        peers.setBlocked(NODE_C, false, T0);
        peers.setBlocked(NODE_C, false, T0);
        assertFalse(peers.isBlocked(NODE_C));
        assertFalse(peers.peer(NODE_C).orElseThrow().blocked());
        assertTrue(peers.blockedNodes().isEmpty());
    }

    @Test
    public void aContactClearsTheErrorAndPutsTheWorkingAddressFirst() {
        peers.pin(NODE_B, KEY_B, "B", PeerRole.FULL, List.of("https://b.lan", "https://10.0.0.2"), T0);
        peers.recordError(NODE_B, "connection refused", T0.plusSeconds(10));
        assertEquals("connection refused", peers.peer(NODE_B).orElseThrow().lastError());
        assertEquals("since when, for messages like 'unreachable since 14:02'", T0.plusSeconds(10),
                peers.peer(NODE_B).orElseThrow().lastErrorAt());

        peers.recordContact(NODE_B, T0.plusSeconds(20), "https://10.0.0.2");

        Peer contacted = peers.peer(NODE_B).orElseThrow();
        assertNull(contacted.lastError());
        assertNull(contacted.lastErrorAt());
        assertEquals(T0.plusSeconds(20), contacted.lastContactAt());
        assertEquals(List.of("https://10.0.0.2", "https://b.lan"), contacted.addresses());

        peers.recordContact(NODE_B, T0.plusSeconds(30), null);
        assertEquals(List.of("https://10.0.0.2", "https://b.lan"), peers.peer(NODE_B).orElseThrow().addresses());
        assertEquals(T0.plusSeconds(30), peers.peer(NODE_B).orElseThrow().lastContactAt());

        peers.recordError(NODE_B, "x".repeat(5000), T0.plusSeconds(40));
        assertEquals(2000, peers.peer(NODE_B).orElseThrow().lastError().length());

        // Unknown nodes are ignored.
        peers.recordContact(NODE_C, T0, "https://c");
        peers.recordError(NODE_C, "x", T0);
        assertEquals(Optional.empty(), peers.peer(NODE_C));
    }

    @Test
    public void onlyTheNewestAddressesAreKept() {
        List<String> many = IntStream.range(0, 20).mapToObj(i -> "https://10.0.0." + i).toList();
        peers.pin(NODE_B, KEY_B, "B", PeerRole.FULL, many, T0);
        assertEquals(many.subList(0, DerbyPeerStore.MAX_ADDRESSES), peers.peer(NODE_B).orElseThrow().addresses());

        peers.recordContact(NODE_B, T0, "https://relay.example");

        List<String> addresses = peers.peer(NODE_B).orElseThrow().addresses();
        assertEquals(DerbyPeerStore.MAX_ADDRESSES, addresses.size());
        assertEquals("https://relay.example", addresses.get(0));
        assertEquals(many.subList(0, DerbyPeerStore.MAX_ADDRESSES - 1), addresses.subList(1, addresses.size()));
    }

    @Test
    public void aPairingTokenWorksOnceAndOnlyBeforeItExpires() {
        peers.createPairingToken("hash-1", PeerRole.STORAGE, T0.plusSeconds(600));
        peers.createPairingToken("hash-2", PeerRole.FULL, T0.plusSeconds(600));
        assertEquals(java.util.Set.of("hash-1", "hash-2"), java.util.Set.copyOf(peers.livePairingTokenHashes(T0)));
        assertEquals(List.of(), peers.livePairingTokenHashes(T0.plusSeconds(600)));

        assertEquals(Optional.of(PeerRole.STORAGE), peers.consumePairingToken("hash-1", T0));
        assertEquals(List.of("hash-2"), peers.livePairingTokenHashes(T0));
        assertEquals(Optional.empty(), peers.consumePairingToken("hash-1", T0));
        assertEquals(Optional.empty(), peers.consumePairingToken("unknown", T0));
        assertEquals(Optional.empty(), peers.consumePairingToken("hash-2", T0.plusSeconds(600)));
        // An expired token is gone, not merely refused.
        assertEquals(Optional.empty(), peers.consumePairingToken("hash-2", T0));
        peers.createPairingToken("hash-3", PeerRole.FULL, T0.plusSeconds(600));
        assertThrows(ConflictException.class,
                () -> peers.createPairingToken("hash-3", PeerRole.STORAGE, T0.plusSeconds(900)));
    }

    @Test
    public void twoConcurrentUsesOfOneTokenHaveOneWinner() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 20; round++) {
                String hash = "token-" + round;
                peers.createPairingToken(hash, PeerRole.FULL, T0.plusSeconds(600));
                CountDownLatch start = new CountDownLatch(1);
                List<Future<Optional<PeerRole>>> uses = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    uses.add(pool.submit(() -> {
                        start.await();
                        return peers.consumePairingToken(hash, T0);
                    }));
                }
                start.countDown();
                int winners = 0;
                for (Future<Optional<PeerRole>> use : uses) {
                    winners += use.get().isPresent() ? 1 : 0;
                }
                assertEquals("round " + round, 1, winners);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    public void pairingRequestsAreAddedRefreshedAndTaken() {
        PendingPeer first = new PendingPeer(NODE_B, KEY_B, "B", PeerRole.FULL, List.of("https://b"), T0);
        PendingPeer other = new PendingPeer(NODE_C, key(3), "C", PeerRole.STORAGE, List.of(), T0.plusSeconds(5));
        peers.addPending(first);
        peers.addPending(other);

        peers.addPending(new PendingPeer(NODE_B, key(4), "B again", PeerRole.STORAGE, List.of("https://b2"),
                T0.plusSeconds(10)));

        List<PendingPeer> waiting = peers.pending();
        assertEquals(List.of(NODE_C, NODE_B), waiting.stream().map(PendingPeer::nodeId).toList());
        PendingPeer refreshed = waiting.get(1);
        assertEquals("B again", refreshed.name());
        assertArrayEquals(key(4), refreshed.publicKey());
        assertEquals(PeerRole.STORAGE, refreshed.role());
        assertEquals(List.of("https://b2"), refreshed.addresses());
        assertEquals(T0.plusSeconds(10), refreshed.requestedAt());

        PendingPeer taken = peers.takePending(NODE_C).orElseThrow();
        assertEquals("C", taken.name());
        assertEquals(Optional.empty(), peers.takePending(NODE_C));
        assertEquals(List.of(NODE_B), peers.pending().stream().map(PendingPeer::nodeId).toList());
    }

    private static long total(DerbyJobQueue queue, String peer) {
        return queue.counts(peer).values().stream().mapToLong(Long::longValue).sum();
    }

    private static byte[] key(int seed) {
        byte[] key = new byte[32];
        Arrays.fill(key, (byte) seed);
        return key;
    }
}
