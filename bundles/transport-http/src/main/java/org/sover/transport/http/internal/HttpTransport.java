package org.sover.transport.http.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.Proxy;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
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
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final int COPY_BUFFER = 256 * 1024;
    private static final int MAX_ANSWER_BYTES = 64 * 1024;
    /**
     * A push's time limit: the slowest link we wait for before calling an attempt dead (1 MB/s)
     * plus a minute. Fields, so tests can shorten it.
     */
    long minBytesPerSecond = 1_000_000;
    Duration baseLimit = Duration.ofMinutes(1);
    private final NodeIdentity identity;
    private final SignatureVerifier signatures;
    private final BlobStore blobs;
    private final Clock clock = Clock.systemUTC();
    /** Closes the connection of a push that outlives its time limit. */
    private final ScheduledThreadPoolExecutor watchdogs = watchdogs();
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

    @Deactivate
    void deactivate() {
        watchdogs.shutdownNow();
    }

    private static ScheduledThreadPoolExecutor watchdogs() {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "sover-http-push-watchdog");
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        return executor;
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
        Duration timeout = baseLimit.plusSeconds(size / minBytesPerSecond);
        List<String> problems = new ArrayList<>();
        for (String address : peer.addresses()) {
            String nonce = null;
            Reply reply = null;
            // A connection the peer closed as we took it from the pool fails before any answer;
            // once more on a new connection tells that apart from a peer that is not there.
            for (int tries = 0; reply == null && tries < 2; tries++) {
                nonce = SignedHeaders.newNonce();
                try {
                    reply = put(address, path, query, blob, nonce, timeout);
                } catch (SocketTimeoutException | ConnectException | TimedOut e) {
                    problems.add(address + ": " + describe(e));
                    break;
                } catch (IOException | UncheckedIOException | IllegalArgumentException e) {
                    if (tries == 1) {
                        problems.add(address + ": " + describe(e));
                    }
                }
                if (reply == null && Thread.currentThread().isInterrupted()) {
                    throw new TransferException("interrupted (the node is stopping)", pathOf(address), null);
                }
            }
            if (reply == null) {
                continue;
            }
            Reply answered = reply;
            JsonNode answer = parse(answered.body());
            if (answered.status() != 200) {
                // The peer answered: another of its addresses would answer the same.
                throw new TransferException(address + " refused the blob: HTTP " + answered.status() + " "
                        + answer.path("message").asText(answer.path("error").asText("")), pathOf(address), null);
            }
            if (!SignedHeaders.responseSignedBy(signatures, peer.publicKey(), path, nonce, answered.status(),
                    answered.body(), answered.headers()::get)) {
                throw new TransferException("the answer from " + address + " is not signed by node " + peer.nodeId(),
                        pathOf(address), null);
            }
            return new Delivery(answer.path("blobId").asText(), answer.path("size").asLong(-1),
                    answer.path("sha256").asText(), pathOf(address));
        }
        throw TransferException.unreachable("cannot reach node " + peer.name() + ": " + String.join("; ", problems),
                null);
    }

    /** A peer's answer: status, the headers the signature check reads, and the (small) body. */
    private record Reply(int status, Map<String, String> headers, byte[] body) {
    }

    /** The whole push took longer than its time limit; the connection was closed under it. */
    private static final class TimedOut extends IOException {
        private static final long serialVersionUID = 1L;

        TimedOut(Duration limit, IOException cause) {
            super("no answer within " + limit.toSeconds() + " s", cause);
        }
    }

    /**
     * The signed PUT of one blob, streamed with a fixed length from the blob store straight
     * into the socket: {@code HttpURLConnection} writes each 256 KiB read as it is, where the
     * JDK's {@code HttpClient} cut the body into 16 KiB buffers handed between threads (about
     * three times the CPU per byte on the sender: 1.8 against 0.6-0.8 CPU-seconds for 1 GB
     * on loopback, {@code bench/RESULTS.md}). Its connections are kept alive and reused by the
     * JDK. The time limit covers the whole exchange: a watchdog closes the connection when it
     * passes, which ends a write or read blocked on a peer that stopped taking bytes.
     *
     * <p>Not with {@code Expect: 100-continue}: JDK 17's {@code HttpClient} waited past its own
     * timeout for a peer that answered such a request with a final status and closed the
     * connection; the receiving end reads what it refuses instead.
     */
    private Reply put(String address, String path, String query, BlobRecord blob, String nonce, Duration timeout)
            throws IOException {
        HttpURLConnection connection = (HttpURLConnection) URI.create(stripSlash(address) + path + "?" + query)
                .toURL().openConnection(Proxy.NO_PROXY);
        connection.setRequestMethod("PUT");
        connection.setInstanceFollowRedirects(false);
        connection.setUseCaches(false);
        connection.setDoOutput(true);
        connection.setFixedLengthStreamingMode(blob.manifest().cipherSize());
        connection.setConnectTimeout((int) CONNECT_TIMEOUT.toMillis());
        connection.setReadTimeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        connection.setRequestProperty("Content-Type", "application/octet-stream");
        for (Map.Entry<String, String> h : SignedHeaders.signHashed(identity, "PUT", path, query,
                blob.manifest().cipherSha256(), clock.millis(), nonce).entrySet()) {
            connection.setRequestProperty(h.getKey(), h.getValue());
        }
        AtomicBoolean timedOut = new AtomicBoolean();
        ScheduledFuture<?> watchdog = watchdogs.schedule(() -> {
            timedOut.set(true);
            connection.disconnect();
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        try {
            try (InputStream in = open(blob.id()); OutputStream out = connection.getOutputStream()) {
                byte[] buffer = new byte[COPY_BUFFER];
                int n;
                while ((n = in.read(buffer)) > 0) {
                    if (Thread.currentThread().isInterrupted()) {
                        // The node is stopping; a blocking socket does not notice by itself.
                        throw new InterruptedIOException("the push was interrupted");
                    }
                    out.write(buffer, 0, n);
                }
            }
            int status = connection.getResponseCode();
            Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            for (Map.Entry<String, List<String>> h : connection.getHeaderFields().entrySet()) {
                if (h.getKey() != null && !h.getValue().isEmpty()) {
                    headers.put(h.getKey(), h.getValue().get(0));
                }
            }
            InputStream answer = status >= 400 ? connection.getErrorStream() : connection.getInputStream();
            byte[] body;
            if (answer == null) {
                body = new byte[0];
            } else {
                try (answer) {
                    body = answer.readNBytes(MAX_ANSWER_BYTES);
                    if (answer.read() >= 0) {
                        connection.disconnect(); // not a node's answer; do not reuse the connection
                        throw new IOException("the answer is longer than " + MAX_ANSWER_BYTES + " bytes");
                    }
                }
            }
            return new Reply(status, headers, body);
        } catch (IOException | RuntimeException e) {
            connection.disconnect();
            if (timedOut.get() && e instanceof IOException io) {
                throw new TimedOut(timeout, io);
            }
            throw e;
        } finally {
            watchdog.cancel(false);
        }
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
