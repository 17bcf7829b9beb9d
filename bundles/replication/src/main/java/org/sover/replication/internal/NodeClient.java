package org.sover.replication.internal;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

import org.sover.api.crypto.NodeIdentity;
import org.sover.api.crypto.SignatureVerifier;
import org.sover.api.crypto.SignedHeaders;
import org.sover.api.replication.NodeTunnel;
import org.sover.api.replication.Peer;

/** Sends signed requests to other nodes and checks that their answers are signed by the key we expect. */
final class NodeClient {
    private final NodeIdentity identity;
    private final SignatureVerifier signatures;
    private final Clock clock;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    NodeClient(NodeIdentity identity, SignatureVerifier signatures, Clock clock) {
        this.identity = identity;
        this.signatures = signatures;
        this.clock = clock;
    }

    /** An answer and whether its signature verified against the expected key. */
    record Reply(int status, byte[] body, boolean signedByPeer) {
    }

    Reply postJson(String baseUrl, String path, byte[] body, byte[] expectedKey) throws IOException, InterruptedException {
        String nonce = SignedHeaders.newNonce();
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(stripSlash(baseUrl) + path))
                .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        for (Map.Entry<String, String> h : SignedHeaders.sign(identity, "POST", path, "", body,
                clock.millis(), nonce).entrySet()) {
            b.header(h.getKey(), h.getValue());
        }
        HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        return new Reply(r.statusCode(), r.body(), responseVerifies(r, path, nonce, expectedKey));
    }

    /** A signed GET; {@code query} may be empty. */
    Reply get(String baseUrl, String path, String query, byte[] expectedKey) throws IOException, InterruptedException {
        String nonce = SignedHeaders.newNonce();
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(stripSlash(baseUrl) + path
                + (query.isEmpty() ? "" : "?" + query))).timeout(Duration.ofSeconds(30)).GET();
        for (Map.Entry<String, String> h : SignedHeaders.sign(identity, "GET", path, query, new byte[0],
                clock.millis(), nonce).entrySet()) {
            b.header(h.getKey(), h.getValue());
        }
        HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        return new Reply(r.statusCode(), r.body(), responseVerifies(r, path, nonce, expectedKey));
    }

    /**
     * A signed GET carried by a tunnel (the peer's HTTP addresses do not answer): signed and
     * checked exactly as over HTTP; the tunnel only carries the bytes.
     */
    Reply get(NodeTunnel tunnel, Peer peer, String path, String query) throws IOException {
        String nonce = SignedHeaders.newNonce();
        Map<String, String> headers = SignedHeaders.sign(identity, "GET", path, query, new byte[0], clock.millis(), nonce);
        NodeTunnel.Response r = tunnel.exchange(peer, new NodeTunnel.Request("GET", path, query, headers, new byte[0]),
                Duration.ofSeconds(30));
        Map<String, String> answer = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        answer.putAll(r.headers());
        boolean signed = SignedHeaders.responseSignedBy(signatures, peer.publicKey(), path, nonce, r.status(), r.body(),
                answer::get);
        return new Reply(r.status(), r.body(), signed);
    }

    /** A signed GET whose answer is streamed (a blob); the caller checks the bytes and closes the stream. */
    HttpResponse<java.io.InputStream> openGet(String baseUrl, String path, Duration timeout)
            throws IOException, InterruptedException {
        String nonce = SignedHeaders.newNonce();
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(stripSlash(baseUrl) + path)).timeout(timeout).GET();
        for (Map.Entry<String, String> h : SignedHeaders.sign(identity, "GET", path, "", new byte[0],
                clock.millis(), nonce).entrySet()) {
            b.header(h.getKey(), h.getValue());
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    private boolean responseVerifies(HttpResponse<byte[]> r, String path, String nonce, byte[] expectedKey) {
        return SignedHeaders.responseSignedBy(signatures, expectedKey, path, nonce, r.statusCode(), r.body(),
                name -> r.headers().firstValue(name).orElse(null));
    }

    private static String stripSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }
}
