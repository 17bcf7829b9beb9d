package org.sover.replication.internal;

import static org.junit.Assert.assertEquals;

import java.time.Instant;
import java.util.List;

import org.junit.Test;
import org.sover.api.crypto.BlobManifest;
import org.sover.api.replication.Delivery;
import org.sover.api.replication.Peer;
import org.sover.api.replication.PeerRole;
import org.sover.api.replication.Transport;
import org.sover.api.vault.BlobRecord;

/** Which transports one attempt tries, and in which order. */
public class ReplicationWorkerOrderTest {
    private static final Peer PEER = new Peer("peer", new byte[32], "B", PeerRole.values()[0],
            List.of("http://127.0.0.1:1"), false, Instant.EPOCH, null, null, null);

    private static BlobRecord blob(long size) {
        return new BlobRecord(new BlobManifest("b".repeat(64), size - 100, size, 1, "0".repeat(64), "node-a",
                Instant.EPOCH), new byte[64]);
    }

    /** A transport that suits blobs below {@code largeBytes} and reaches the peer when {@code reaches}. */
    private static Transport transport(String name, boolean reaches, long largeBytes) {
        return new Transport() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public boolean canReach(Peer peer) {
                return reaches;
            }

            @Override
            public boolean suits(Peer peer, BlobRecord blob) {
                return blob.manifest().cipherSize() < largeBytes;
            }

            @Override
            public Delivery send(Peer peer, BlobRecord blob) {
                throw new UnsupportedOperationException();
            }
        };
    }

    private static List<String> names(List<Transport> order) {
        return order.stream().map(Transport::name).toList();
    }

    @Test
    public void suitedTransportsGoByRanking() {
        List<Transport> ranked = List.of(transport("webrtc", true, Long.MAX_VALUE), transport("http", true, Long.MAX_VALUE));

        assertEquals(List.of("webrtc", "http"), names(ReplicationWorker.order(ranked, PEER, blob(1_000))));
    }

    @Test
    public void aLargeBlobTriesTheSuitedTransportFirstAndKeepsTheOtherAsFallback() {
        List<Transport> ranked = List.of(transport("webrtc", true, 512), transport("http", true, Long.MAX_VALUE));

        assertEquals(List.of("http", "webrtc"), names(ReplicationWorker.order(ranked, PEER, blob(1_000))));
    }

    @Test
    public void transportsThatCannotReachThePeerAreLeftOut() {
        List<Transport> ranked = List.of(transport("webrtc", true, 512), transport("http", false, Long.MAX_VALUE));

        assertEquals(List.of("webrtc"), names(ReplicationWorker.order(ranked, PEER, blob(1_000))));
    }
}
