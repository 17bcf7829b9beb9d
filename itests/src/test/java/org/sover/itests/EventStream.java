package org.sover.itests;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A server-sent event stream of {@code GET /v1/events}, read line by line on a daemon thread. */
public final class EventStream implements AutoCloseable {
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final InputStream body;
    private final List<String> seen = new ArrayList<>();

    private EventStream(InputStream body) {
        this.body = body;
        Thread reader = new Thread(() -> {
            try (java.io.BufferedReader r = new java.io.BufferedReader(
                    new java.io.InputStreamReader(body, java.nio.charset.StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // closed
            }
        }, "sse-reader");
        reader.setDaemon(true);
        reader.start();
    }

    public static EventStream open(int port, String cookie) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/events"))
                .header("Cookie", cookie).header("Accept", "text/event-stream").GET().build();
        HttpResponse<InputStream> r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
                .send(request, HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200) {
            throw new AssertionError("GET /v1/events answered " + r.statusCode() + ": "
                    + new String(r.body().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        }
        return new EventStream(r.body());
    }

    /** Waits (at most 60 s) for a line that matches; fails with what was seen otherwise. */
    public String await(Predicate<String> matches) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (String line : seen) {
            if (matches.test(line)) {
                return line;
            }
        }
        while (System.nanoTime() < deadline) {
            String line = lines.poll(200, TimeUnit.MILLISECONDS);
            if (line != null) {
                seen.add(line);
                if (matches.test(line)) {
                    return line;
                }
            }
        }
        throw new AssertionError("no matching event line within 60 s; saw " + seen.size() + " lines, last: "
                + seen.subList(Math.max(0, seen.size() - 10), seen.size()));
    }

    @Override
    public void close() throws IOException {
        body.close();
    }
}
