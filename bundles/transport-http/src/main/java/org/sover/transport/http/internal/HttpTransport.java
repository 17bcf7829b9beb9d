package org.sover.transport.http.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.sover.api.crypto.NodeIdentity;
import org.sover.api.crypto.SignatureVerifier;
import org.sover.api.crypto.SignedHeaders;
import org.sover.api.replication.Bandwidth;
import org.sover.api.replication.Delivery;
import org.sover.api.replication.NodeProtocol;
import org.sover.api.replication.Peer;
import org.sover.api.replication.TransferException;
import org.sover.api.replication.Transport;
import org.sover.api.storage.BlobStore;
import org.sover.api.vault.BlobRecord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Blobs over signed HTTP: {@code PUT /node/v1/blobs/{id}?manifest=..&signature=..} to each of
 * the peer's addresses in turn (docs/PROTOCOL.md). The request is signed over the manifest's
 * ciphertext SHA-256 as body hash, so the ciphertext streams straight from the blob store; the
 * answer must be signed by the peer's pinned key. Ranked 0: the fallback every other transport
 * competes with.
 */
@Component(service = Transport.class, immediate = true, property = "service.ranking:Integer=0",
        configurationPid = "org.sover.replication")
public final class HttpTransport implements Transport {
    /** The replication settings this transport follows (PID {@code org.sover.replication}). */
    public @interface Config {
        /** Limit on sending blobs, in KiB per second for all peers together; 0 = none. */
        long maxSendKiBps() default 0;
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The slowest link we wait for before calling an attempt dead: 1 MB/s, plus a minute. */
    private static final long MIN_BYTES_PER_SECOND = 1_000_000;
    private final NodeIdentity identity;
    private final SignatureVerifier signatures;
    private final BlobStore blobs;
    private final Clock clock = Clock.systemUTC();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Bandwidth bandwidth;
    private volatile Config config;

    @Activate
    public HttpTransport(@Reference NodeIdentity identity, @Reference SignatureVerifier signatures,
            @Reference BlobStore blobs, Config config) {
        this.config = config;
        this.bandwidth = new Bandwidth(() -> Math.max(0, this.config.maxSendKiBps()) * 1024);
        this.identity = identity;
        this.signatures = signatures;
        this.blobs = blobs;
    }

    @Modified
    void modified(Config newConfig) {
        this.config = newConfig;
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
        String path = NodeProtocol.BLOBS_PATH + blob.id();
        String query = NodeProtocol.pushQuery(blob);
        long size = blob.manifest().cipherSize();
        Duration timeout = Duration.ofSeconds(60 + size / MIN_BYTES_PER_SECOND);
        List<String> problems = new ArrayList<>();
        for (String address : peer.addresses()) {
            String nonce = null;
            HttpResponse<byte[]> reply = null;
            // A connection the peer closed as we took it from the pool fails before any answer;
            // once more on a new connection tells that apart from a peer that is not there.
            for (int tries = 0; reply == null && tries < 2; tries++) {
                nonce = SignedHeaders.newNonce();
                try {
                    reply = http.send(request(address, path, query, blob, nonce, timeout),
                            HttpResponse.BodyHandlers.ofByteArray());
                } catch (HttpTimeoutException | java.net.ConnectException e) {
                    problems.add(address + ": " + describe(e));
                    break;
                } catch (IOException | UncheckedIOException e) {
                    if (tries == 1) {
                        problems.add(address + ": " + describe(e));
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new TransferException("interrupted (the node is stopping)", pathOf(address), e);
                }
            }
            if (reply == null) {
                continue;
            }
            HttpResponse<byte[]> answered = reply;
            JsonNode answer = parse(answered.body());
            if (answered.statusCode() != 200) {
                // The peer answered: another of its addresses would answer the same.
                throw new TransferException(address + " refused the blob: HTTP " + answered.statusCode() + " "
                        + answer.path("message").asText(answer.path("error").asText("")), pathOf(address), null);
            }
            if (!SignedHeaders.responseSignedBy(signatures, peer.publicKey(), path, nonce, answered.statusCode(),
                    answered.body(), name -> answered.headers().firstValue(name).orElse(null))) {
                throw new TransferException("the answer from " + address + " is not signed by node " + peer.nodeId(),
                        pathOf(address), null);
            }
            return new Delivery(answer.path("blobId").asText(), answer.path("size").asLong(-1),
                    answer.path("sha256").asText(), pathOf(address));
        }
        throw TransferException.unreachable("cannot reach node " + peer.name() + ": " + String.join("; ", problems),
                null);
    }

    /**
     * The signed PUT of one blob. Not with {@code Expect: 100-continue}: JDK 17's client waited
     * past its own timeout for a peer that answered such a request with a final status (a
     * refusal) and closed the connection; the receiving end reads what it refuses instead.
     */
    private HttpRequest request(String address, String path, String query, BlobRecord blob, String nonce,
            Duration timeout) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(stripSlash(address) + path + "?" + query))
                .timeout(timeout).header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.fromPublisher(
                        HttpRequest.BodyPublishers.ofInputStream(() -> open(blob.id())), blob.manifest().cipherSize()));
        for (Map.Entry<String, String> h : SignedHeaders.signHashed(identity, "PUT", path, query,
                blob.manifest().cipherSha256(), clock.millis(), nonce).entrySet()) {
            request.header(h.getKey(), h.getValue());
        }
        return request.build();
    }

    private InputStream open(String blobId) {
        try {
            return bandwidth.wrap(blobs.open(blobId));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** "lan" for loopback, private and link-local addresses (IPv4 and IPv6), "direct" otherwise. */
    static String pathOf(String address) {
        try {
            String host = URI.create(address).getHost();
            if (host == null) {
                return "direct";
            }
            host = host.replace("[", "").replace("]", "");
            boolean literal = host.contains(":") || host.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'));
            if (!literal) {
                return host.endsWith(".local") || host.equals("localhost") ? "lan" : "direct";
            }
            InetAddress a = InetAddress.getByName(host); // a literal: no lookup
            boolean uniqueLocal = a.getAddress().length == 16 && (a.getAddress()[0] & 0xfe) == 0xfc;
            return a.isLoopbackAddress() || a.isSiteLocalAddress() || a.isLinkLocalAddress() || uniqueLocal
                    ? "lan" : "direct";
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

    private static String stripSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    private static JsonNode parse(byte[] body) {
        try {
            return body == null || body.length == 0 ? JSON.createObjectNode() : JSON.readTree(body);
        } catch (IOException e) {
            return JSON.createObjectNode();
        }
    }
}
