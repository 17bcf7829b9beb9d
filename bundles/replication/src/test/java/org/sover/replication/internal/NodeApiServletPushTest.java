package org.sover.replication.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import javax.servlet.http.HttpServletRequest;

import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.sover.api.crypto.BlobManifest;
import org.sover.api.crypto.SignedHeaders;
import org.sover.api.replication.BlobReceiver;
import org.sover.api.replication.Delivery;
import org.sover.api.replication.NodeProtocol;
import org.sover.api.replication.NodeTunnel;
import org.sover.api.replication.Peer;
import org.sover.api.replication.PeerRole;
import org.sover.api.replication.PeerStore;
import org.sover.crypto.internal.Ed25519NodeIdentity;
import org.sover.crypto.internal.Ed25519SignatureVerifier;

/**
 * A family node's blob push that is answered without storing the body (this node already has
 * the blob, or refuses it): the answer goes out and the rest of the body is read, because a
 * connection closed with bytes unread is reset, and the reset can destroy the answer before the
 * sender reads it.
 */
public class NodeApiServletPushTest {
    private static final int CIPHER_SIZE = 300_001;
    private static final String SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    @Rule
    public TemporaryFolder temp = new TemporaryFolder();

    private Ed25519NodeIdentity self;
    private Ed25519NodeIdentity sender;
    private PeerStore peers;
    private final AtomicReference<Peer> pinned = new AtomicReference<>();
    private final AtomicInteger contacts = new AtomicInteger();

    @Before
    public void create() throws Exception {
        self = new Ed25519NodeIdentity(temp.getRoot().toPath().resolve("self"));
        sender = new Ed25519NodeIdentity(temp.getRoot().toPath().resolve("sender"));
        pinned.set(new Peer(sender.nodeId(), sender.publicKey(), "sender", PeerRole.FULL, List.of(), false,
                Instant.now(), null, null, null));
        peers = Fakes.of(PeerStore.class, (name, args) -> switch (name) {
            case "peer" -> sender.nodeId().equals(args[0]) ? Optional.of(pinned.get()) : Optional.empty();
            case "isBlocked" -> false;
            case "pending" -> List.of();
            case "recordContact" -> {
                contacts.incrementAndGet();
                yield null;
            }
            default -> throw new UnsupportedOperationException(name);
        });
    }

    @Test
    public void aRefusedPushIsReadToItsEndAfterTheAnswer() throws Exception {
        BlobReceiver refusing = receiver((record, in) -> {
            throw new BlobReceiver.BlobRejectedException(503, "paused", "not taking blobs right now");
        });

        Pushed pushed = push(refusing);

        assertEquals(503, pushed.answer.status());
        assertTrue(new String(pushed.answer.body(), StandardCharsets.UTF_8).contains("paused"));
        assertEquals("body bytes left unread", 0, pushed.unread);
    }

    @Test
    public void aBlobThisNodeAlreadyHasIsAnsweredAndItsBodyReadToItsEnd() throws Exception {
        BlobReceiver holding = receiver((record, in) -> new Delivery(record.id(), CIPHER_SIZE, SHA, null));

        Pushed pushed = push(holding);

        assertEquals(200, pushed.answer.status());
        assertEquals("body bytes left unread", 0, pushed.unread);
    }

    @Test
    public void aStoredPushIsReadOnceByTheReceiver() throws Exception {
        AtomicReference<Integer> read = new AtomicReference<>();
        BlobReceiver storing = receiver((record, in) -> {
            read.set(in.readAllBytes().length);
            return new Delivery(record.id(), CIPHER_SIZE, SHA, null);
        });

        Pushed pushed = push(storing);

        assertEquals(200, pushed.answer.status());
        assertEquals(Integer.valueOf(CIPHER_SIZE), read.get());
        assertEquals(0, pushed.unread);
    }

    @Test
    public void aBurstOfPushesWritesTheContactOnceUnlessThePeerHasAnErrorOnRecord() throws Exception {
        BlobReceiver storing = receiver((record, in) -> {
            in.readAllBytes();
            return new Delivery(record.id(), CIPHER_SIZE, SHA, null);
        });
        NodeApiServlet servlet = servlet(storing);
        for (int i = 0; i < 5; i++) {
            assertEquals(200, push(servlet).answer.status());
        }
        // Five pushes within a second: one commit on the peer's row, not five.
        assertEquals(1, contacts.get());

        Peer p = pinned.get();
        pinned.set(new Peer(p.nodeId(), p.publicKey(), p.name(), p.role(), p.addresses(), false, p.pairedAt(),
                p.lastContactAt(), "cannot reach it", Instant.now()));
        assertEquals(200, push(servlet).answer.status());
        assertEquals("an error on record is cleared at once", 2, contacts.get());
    }

    private record Pushed(NodeTunnel.Response answer, int unread) {
    }

    private Pushed push(BlobReceiver receiver) throws Exception {
        return push(servlet(receiver));
    }

    private NodeApiServlet servlet(BlobReceiver receiver) {
        PeerDirectoryService directory = new PeerDirectoryService(peers, self, new Ed25519SignatureVerifier(),
                Fakes.of(org.sover.api.crypto.VaultCipher.class, (n, a) -> null),
                Fakes.of(org.sover.api.vault.VaultRepository.class, (n, a) -> null),
                Fakes.of(org.sover.api.replication.JobQueue.class, (n, a) -> null),
                TestConfigs.of(ReplicationConfig.class, Map.of()));
        NodeApiServlet servlet = new NodeApiServlet(directory, peers,
                Fakes.of(org.sover.api.replication.MetadataLog.class, (n, a) -> null), receiver,
                Fakes.of(org.sover.api.vault.VaultRepository.class, (n, a) -> null),
                Fakes.of(org.sover.api.storage.BlobStore.class, (n, a) -> null));
        return servlet;
    }

    /** A signed PUT of a blob from the pinned sender through the servlet; what it answered and left unread. */
    private Pushed push(NodeApiServlet servlet) throws Exception {
        org.sover.api.vault.BlobRecord record = new org.sover.api.vault.BlobRecord(
                new BlobManifest("blob-1", CIPHER_SIZE - 100, CIPHER_SIZE, 1, SHA, sender.nodeId(), Instant.now()),
                new byte[64]);
        String path = NodeProtocol.BLOBS_PATH + record.id();
        String query = NodeProtocol.pushQuery(record);
        Map<String, String> headers = SignedHeaders.signHashed(sender, "PUT", path, query, SHA, System.currentTimeMillis(),
                SignedHeaders.newNonce());
        InProcessExchange exchange = new InProcessExchange(
                new NodeTunnel.Request("PUT", path, query, headers, new byte[CIPHER_SIZE]), "127.0.0.1");
        HttpServletRequest req = exchange.request();
        servlet.service(req, exchange.response(1 << 20));
        InputStream body = req.getInputStream();
        return new Pushed(exchange.response(), body.readAllBytes().length);
    }

    interface Receive {
        Delivery receive(org.sover.api.vault.BlobRecord record, InputStream in) throws Exception;
    }

    private static BlobReceiver receiver(Receive receive) {
        return Fakes.of(BlobReceiver.class, (name, args) -> switch (name) {
            case "receive" -> receive.receive((org.sover.api.vault.BlobRecord) args[1], (InputStream) args[2]);
            default -> throw new UnsupportedOperationException(name);
        });
    }
}
