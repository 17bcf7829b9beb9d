package org.sover.bench.harness;

import java.io.IOException;
import java.io.InputStream;
import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The vault's REST API as a script uses it: one cookie jar per instance, HTTP/1.1 over loopback. */
final class Api {
    private final HttpClient client;
    final String base;

    Api(int port) {
        this.base = "http://127.0.0.1:" + port;
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).cookieHandler(new CookieManager())
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofMinutes(10));
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return client.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** GET that throws away the body (for timing a page as a browser fetches it). */
    int getDiscard(String path) throws IOException, InterruptedException {
        return client.send(request(path).GET().build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    HttpResponse<String> postJson(String path, String json) throws IOException, InterruptedException {
        return client.send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> putJson(String path, String json) throws IOException, InterruptedException {
        return client.send(request(path).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    void login(String user, String password) throws IOException, InterruptedException {
        HttpResponse<String> r = postJson("/v1/session",
                "{\"username\":\"" + user + "\",\"password\":\"" + password + "\"}");
        check(r, 200, "login");
    }

    String createAlbum(String name) throws IOException, InterruptedException {
        HttpResponse<String> r = postJson("/v1/albums", "{\"name\":\"" + name + "\"}");
        check(r, 201, "create album");
        return str(r.body(), "id");
    }

    /** One file as a multipart/form-data POST, the body streamed from disk; returns the photo id. */
    String uploadMultipart(String album, Path file, String type) throws IOException, InterruptedException {
        String boundary = "----soverbench" + Long.toHexString(System.nanoTime());
        String head = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
                + file.getFileName() + "\"\r\nContent-Type: " + type + "\r\n\r\n";
        String tail = "\r\n--" + boundary + "--\r\n";
        HttpRequest req = request("/v1/albums/" + album + "/photos")
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.concat(
                        HttpRequest.BodyPublishers.ofByteArray(head.getBytes(StandardCharsets.UTF_8)),
                        HttpRequest.BodyPublishers.ofFile(file),
                        HttpRequest.BodyPublishers.ofByteArray(tail.getBytes(StandardCharsets.UTF_8))))
                .build();
        HttpResponse<String> r = client.send(req, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 201 && r.statusCode() != 200) {
            throw new IllegalStateException("upload of " + file + ": " + r.statusCode() + " " + r.body());
        }
        return str(r.body(), "id");
    }

    /** A raw-body upload of a generated stream of {@code size} bytes (never in memory). */
    HttpResponse<String> uploadStream(String album, String filename, String type, long size,
            java.util.function.Supplier<InputStream> body) throws IOException, InterruptedException {
        HttpRequest req = request("/v1/albums/" + album + "/photos").header("Content-Type", type)
                .header("X-Filename", filename)
                .POST(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(body), size))
                .build();
        return client.send(req, HttpResponse.BodyHandlers.ofString());
    }

    static void check(HttpResponse<String> r, int status, String what) {
        if (r.statusCode() != status) {
            throw new IllegalStateException(what + ": " + r.statusCode() + " " + r.body());
        }
    }

    /** The first string value of {@code key} in a JSON text (enough for the flat answers used here). */
    static String str(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(json);
        return m.find() ? m.group(1) : null;
    }

    /** The first number value of {@code key} in a JSON text, or -1. */
    static long num(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*(-?[0-9]+)").matcher(json);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }
}
