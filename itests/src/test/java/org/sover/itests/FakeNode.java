package org.sover.itests;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.UUID;

import org.sover.api.crypto.NodeIdentity;
import org.sover.api.crypto.SignedRequest;
import org.sover.crypto.internal.Ed25519NodeIdentity;

/**
 * A node played by the test: a real identity, and its own small implementation of the
 * signed-request rules of docs/PROTOCOL.md, so the servers are checked against the spec
 * rather than against their own client code.
 */
public final class FakeNode {
    public final NodeIdentity identity;
    private final HttpClient http = HttpClient.newHttpClient();
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    public FakeNode(Path work) throws IOException {
        Path keys = Files.createTempDirectory(Files.createDirectories(work), "fake-node-");
        this.identity = new Ed25519NodeIdentity(keys);
    }

    public String nodeId() {
        return identity.nodeId();
    }

    /** The four X-Sover headers; every argument is what gets signed. */
    public String[] headers(String method, String path, byte[] signedBody, long time, String nonce) {
        SignedRequest r = new SignedRequest(method, path, "", sha256(signedBody), nodeId(), time, nonce);
        return new String[] {"X-Sover-Node", nodeId(), "X-Sover-Time", Long.toString(time), "X-Sover-Nonce", nonce,
            "X-Sover-Signature", B64.encodeToString(identity.sign(r.canonicalBytes()))};
    }

    public HttpResponse<String> send(int port, String method, String path, byte[] body, String[] headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .method(method, HttpRequest.BodyPublishers.ofByteArray(body)).header("Content-Type", "application/json");
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A correctly signed request. */
    public HttpResponse<String> signed(int port, String method, String path, String body)
            throws IOException, InterruptedException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return send(port, method, path, bytes, headers(method, path, bytes, System.currentTimeMillis(), nonce()));
    }

    /** Asks a node to pair, as POST /node/v1/pair with this node's key and the given token. */
    public HttpResponse<String> pair(int port, String token) throws IOException, InterruptedException {
        String body = Http.JSON.createObjectNode().put("token", token).put("nodeId", nodeId())
                .put("publicKey", B64.encodeToString(identity.publicKey())).put("name", "test node")
                .put("role", "full").toString();
        return signed(port, "POST", "/node/v1/pair", body);
    }

    public static String nonce() {
        return B64.encodeToString(UUID.randomUUID().toString().getBytes(StandardCharsets.US_ASCII));
    }

    static String sha256(byte[] body) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
