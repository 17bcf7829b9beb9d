package org.sover.replication.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.sover.api.replication.Delivery;
import org.sover.api.replication.Peer;
import org.sover.api.replication.TransferException;
import org.sover.api.replication.Transport;
import org.sover.api.storage.BlobStore;
import org.sover.api.vault.BlobRecord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Blobs over signed HTTP: {@code PUT /node/v1/blobs/{id}} to each of the peer's addresses in
 * turn (docs/PROTOCOL.md). Ranked 0, the fallback every other transport competes with.
 */
@Component(service = Transport.class, immediate = true, property = "service.ranking:Integer=0")
public final class HttpTransport implements Transport {
    static final String BLOBS_PATH = "/node/v1/blobs/";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The slowest link we wait for before calling an attempt dead: 1 MB/s, plus a minute. */
    private static final long MIN_BYTES_PER_SECOND = 1_000_000;
    private final NodeClient client;
    private final BlobStore blobs;

    @Activate
    public HttpTransport(@Reference PeerDirectoryService directory, @Reference BlobStore blobs) {
        this.client = directory.client();
        this.blobs = blobs;
    }

    @Override
    public String name() {
        return "http";
    }

    @Override
    public boolean canReach(Peer peer) {
        return !peer.addresses().isEmpty();
    }

    @Override
    public Delivery send(Peer peer, BlobRecord blob) throws TransferException {
        String path = BLOBS_PATH + blob.id();
        String query = "manifest=" + ManifestCodec.manifest(blob) + "&signature=" + ManifestCodec.signature(blob);
        long size = blob.manifest().cipherSize();
        Duration timeout = Duration.ofSeconds(60 + size / MIN_BYTES_PER_SECOND);
        List<String> problems = new ArrayList<>();
        for (String address : peer.addresses()) {
            NodeClient.Reply reply;
            try {
                reply = client.put(address, path, query, blob.manifest().cipherSha256(), size, () -> open(blob.id()),
                        peer.publicKey(), timeout);
            } catch (IOException | UncheckedIOException e) {
                problems.add(address + ": " + describe(e));
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TransferException("interrupted (the node is stopping)", pathOf(address), e);
            }
            JsonNode answer = parse(reply.body());
            if (reply.status() != 200) {
                // The peer answered: another of its addresses would answer the same.
                throw new TransferException(address + " refused the blob: HTTP " + reply.status() + " "
                        + answer.path("message").asText(answer.path("error").asText("")), pathOf(address), null);
            }
            if (!reply.signedByPeer()) {
                throw new TransferException("the answer from " + address + " is not signed by node " + peer.nodeId(),
                        pathOf(address), null);
            }
            return new Delivery(answer.path("blobId").asText(), answer.path("size").asLong(-1),
                    answer.path("sha256").asText(), pathOf(address));
        }
        throw TransferException.unreachable("cannot reach node " + peer.name() + ": " + String.join("; ", problems),
                null);
    }

    private InputStream open(String blobId) {
        try {
            return blobs.open(blobId);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** "lan" for loopback and private addresses, "direct" otherwise. */
    static String pathOf(String address) {
        try {
            String host = URI.create(address).getHost();
            if (host == null) {
                return "direct";
            }
            host = host.replace("[", "").replace("]", "");
            java.net.InetAddress a = host.chars().anyMatch(Character::isLetter) && !host.contains(":")
                    ? null : java.net.InetAddress.getByName(host);
            return a != null && (a.isLoopbackAddress() || a.isSiteLocalAddress() || a.isLinkLocalAddress()
                    || (a.getAddress().length == 16 && (a.getAddress()[0] & 0xfe) == 0xfc)) ? "lan" : "direct";
        } catch (IOException | IllegalArgumentException e) {
            return "direct";
        }
    }

    private static String describe(Exception e) {
        Throwable t = e;
        while (t.getCause() != null && (t.getMessage() == null || t.getMessage().isBlank())) {
            t = t.getCause();
        }
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    }

    private static JsonNode parse(byte[] body) {
        try {
            return body == null || body.length == 0 ? JSON.createObjectNode() : JSON.readTree(body);
        } catch (IOException e) {
            return JSON.createObjectNode();
        }
    }
}
