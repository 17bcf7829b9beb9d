package org.sover.itests;

import java.io.IOException;
import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** A small client for the vault API as a browser or script uses it (cookies kept per instance). */
public final class Http {
    public static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient client;
    private final String base;

    public Http(int port) {
        this.base = "http://127.0.0.1:" + port;
        this.client = HttpClient.newBuilder().cookieHandler(new CookieManager()).connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    public String base() {
        return base;
    }

    public HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(120));
    }

    public HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<byte[]> sendBytes(HttpRequest request) throws IOException, InterruptedException {
        return client.send(request, HttpResponse.BodyHandlers.ofByteArray());
    }

    public HttpResponse<java.io.InputStream> sendStream(HttpRequest request) throws IOException, InterruptedException {
        return client.send(request, HttpResponse.BodyHandlers.ofInputStream());
    }

    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send(request(path).GET().build());
    }

    public HttpResponse<String> postJson(String path, String json) throws IOException, InterruptedException {
        return send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    public HttpResponse<String> patchJson(String path, String json) throws IOException, InterruptedException {
        return send(request(path).header("Content-Type", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString(json)).build());
    }

    public HttpResponse<String> delete(String path) throws IOException, InterruptedException {
        return send(request(path).DELETE().build());
    }

    public HttpResponse<String> upload(String albumId, String filename, String type, byte[] body, String key)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = request("/v1/albums/" + albumId + "/photos").header("Content-Type", type)
                .header("X-Filename", percentEncode(filename))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (key != null) {
            b.header("Idempotency-Key", key);
        }
        return send(b.build());
    }

    /** Like JavaScript's encodeURIComponent, which the API expects for X-Filename (a space is %20, not +). */
    public static String percentEncode(String s) {
        return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    }

    public void login(String username, String password) throws IOException, InterruptedException {
        HttpResponse<String> r = postJson("/v1/session",
                JSON.createObjectNode().put("username", username).put("password", password).toString());
        if (r.statusCode() != 200) {
            throw new AssertionError("login as " + username + " failed: " + r.statusCode() + " " + r.body());
        }
    }

    public static JsonNode json(HttpResponse<String> r) throws IOException {
        return JSON.readTree(r.body());
    }

    /** Polls GET {@code path} until {@code done} accepts the response or the deadline passes. */
    public HttpResponse<String> await(String path, Predicate<HttpResponse<String>> done, Duration timeout)
            throws InterruptedException {
        Instant deadline = Instant.now().plus(timeout);
        HttpResponse<String> last = null;
        Exception lastError = null;
        while (Instant.now().isBefore(deadline)) {
            try {
                last = get(path);
                if (done.test(last)) {
                    return last;
                }
            } catch (IOException e) {
                lastError = e;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("GET " + path + " did not reach the expected state within " + timeout + "; last: "
                + (last == null ? String.valueOf(lastError) : last.statusCode() + " " + last.body()));
    }

    /** This node's replication job of a photo for a peer, found by paging /v1/jobs (admin session). */
    public JsonNode jobOf(String peerId, String photoId) throws IOException, InterruptedException {
        String cursor = null;
        do {
            JsonNode page = json(get("/v1/jobs?peer=" + peerId + "&limit=500" + (cursor == null ? "" : "&cursor=" + cursor)));
            for (JsonNode j : page.get("items")) {
                if (j.get("photoId").asText().equals(photoId)) {
                    return j;
                }
            }
            cursor = page.path("next").isTextual() ? page.get("next").asText() : null;
        } while (cursor != null);
        throw new AssertionError("no job of photo " + photoId + " for node " + peerId);
    }

    /**
     * Pairs the node behind {@code issuer} (admin session) with this one (admin session) as a
     * full member: a pairing line from the issuer, pasted here. Fails unless it answered 201.
     */
    public void pairWith(Http issuer) throws IOException, InterruptedException {
        String line = json(issuer.postJson("/v1/peers/pairing", "{\"role\":\"full\"}")).get("payload").asText();
        HttpResponse<String> paired = postJson("/v1/peers", JSON.createObjectNode().put("payload", line).toString());
        if (paired.statusCode() != 201) {
            throw new AssertionError("pairing answered " + paired.statusCode() + ": " + paired.body());
        }
    }
}
