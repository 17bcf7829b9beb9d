package org.sover.replication.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.sover.api.crypto.SignedHeaders;
import org.sover.api.replication.Peer;
import org.sover.api.replication.PeerRole;
import org.sover.api.replication.PeerStore;
import org.sover.crypto.internal.Ed25519NodeIdentity;
import org.sover.crypto.internal.Ed25519SignatureVerifier;

/**
 * Pairing: the node that answers pins the pasting node first and may push to it before the
 * pasting node has read the answer and pinned it. Those requests wait for the pairing under
 * way instead of being refused as unknown; others are refused at once as before.
 */
public class RequestVerifierPairingTest {
    private static final String PATH = "/node/v1/ping";

    @Rule
    public TemporaryFolder temp = new TemporaryFolder();

    private final Map<String, Peer> pinned = new ConcurrentHashMap<>();
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private Ed25519NodeIdentity other;
    private RequestVerifier verifier;

    @Before
    public void create() throws Exception {
        other = new Ed25519NodeIdentity(temp.getRoot().toPath().resolve("other"));
        PeerStore peers = Fakes.of(PeerStore.class, (name, args) -> switch (name) {
            case "peer" -> Optional.ofNullable(pinned.get((String) args[0]));
            case "pending" -> List.of();
            case "isBlocked" -> false;
            default -> throw new UnsupportedOperationException(name);
        });
        verifier = new RequestVerifier(peers, new Ed25519SignatureVerifier(), Clock.systemUTC(),
                () -> Duration.ofMinutes(5));
    }

    @After
    public void stop() {
        pool.shutdownNow();
    }

    @Test
    public void aRequestArrivingBeforeThePairingEndsWaitsAndIsAcceptedOnceThePeerIsPinned() throws Exception {
        Peer result;
        try (RequestVerifier.UnderWay underWay = verifier.pairingWith(other.nodeId())) {
            Future<Peer> request = pool.submit(() -> verify(signedByOther()));
            // The request is waiting, not refused: it has not ended while the pairing is under way.
            assertThrows(java.util.concurrent.TimeoutException.class, () -> request.get(300, TimeUnit.MILLISECONDS));
            pin(other);
            underWay.close();
            result = request.get(10, TimeUnit.SECONDS);
        }
        assertEquals(other.nodeId(), result.nodeId());
    }

    @Test
    public void aPairingThatEndsWithoutPinningRefusesTheWaitingRequestAtOnce() throws Exception {
        Future<Peer> request;
        long started;
        try (RequestVerifier.UnderWay underWay = verifier.pairingWith(other.nodeId())) {
            request = pool.submit(() -> verify(signedByOther()));
            started = System.nanoTime();
        }
        java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                () -> request.get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof NodeAuthException);
        assertEquals("unknown_node", ((NodeAuthException) e.getCause()).code);
        assertTrue("refused within 10 s of the pairing's end, not after the 20 s wait",
                System.nanoTime() - started < TimeUnit.SECONDS.toNanos(10));
    }

    @Test
    public void withoutAPairingUnderWayAnUnknownNodeIsRefusedAtOnce() throws Exception {
        NodeAuthException e = assertThrows(NodeAuthException.class, () -> verify(signedByOther()));
        assertEquals("unknown_node", e.code);
    }

    private Map<String, String> signedByOther() {
        return SignedHeaders.sign(other, "GET", PATH, "", new byte[0], System.currentTimeMillis(),
                SignedHeaders.newNonce());
    }

    private Peer verify(Map<String, String> headers) throws NodeAuthException {
        return verifier.verify("GET", PATH, "", new byte[0], headers::get);
    }

    private void pin(Ed25519NodeIdentity node) {
        pinned.put(node.nodeId(), new Peer(node.nodeId(), node.publicKey(), "other", PeerRole.FULL, List.of(), false,
                Instant.now(), null, null, null));
    }
}
