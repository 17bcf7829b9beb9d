package org.sover.itests.scenario;

import static org.junit.Assert.assertEquals;

import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import org.junit.After;
import org.junit.Test;
import org.sover.itests.Http;
import org.sover.itests.NodeProcess;
import org.sover.itests.StreamingUpload;
import org.sover.itests.Tokens;

/** A 2 GiB upload on a node limited to a 256 MB heap: it streams, so it works, and downloads byte-identical. */
public class LargeUploadIT {
    private static final String PASSWORD = "large-upload-password";
    private static final long SIZE = 2L * 1024 * 1024 * 1024;
    private NodeProcess node;

    @After
    public void stop() throws Exception {
        if (node != null) {
            node.closeAndDeleteData(); // 2 GiB is worth giving back
        }
    }

    @Test
    public void twoGibibytesStreamThroughASmallHeap() throws Exception {
        node = NodeProcess.create("large", Map.of("SOVER_ADMIN_PASSWORD", PASSWORD, "EXTRA_JAVA_OPTS", "-Xmx256m"))
                .start().awaitHealthy(Duration.ofSeconds(90));
        Http http = node.http();
        http.login("admin", PASSWORD);
        String album = Http.json(http.postJson("/v1/albums", "{\"name\":\"Videos\"}")).get("id").asText();
        String cookie = Tokens.sessionCookie(node.httpPort, "admin", PASSWORD);

        long pid = node.javaPid();
        AtomicLong peakRss = new AtomicLong();
        StreamingUpload.Result r = StreamingUpload.post(http.base() + "/v1/albums/" + album + "/photos", cookie, null,
                "family-film.mp4", SIZE, 2026, null, sent -> {
                    if (sent % (256L * 1024 * 1024) == 0) {
                        peakRss.accumulateAndGet(rssKiB(pid), Math::max);
                    }
                });
        assertEquals(r.body(), 201, r.status());
        String id = Http.JSON.readTree(r.body()).get("id").asText();
        assertEquals(SIZE, Http.JSON.readTree(r.body()).get("size").asLong());

        HttpResponse<InputStream> original = http.sendStream(http.request("/v1/photos/" + id + "/original").GET().build());
        assertEquals(200, original.statusCode());
        try (InputStream expected = StreamingUpload.content(SIZE, 2026); InputStream actual = original.body()) {
            assertEquals(StreamingUpload.sha256(expected), StreamingUpload.sha256(actual));
        }
        System.out.println("2 GiB upload with -Xmx256m: node RSS sampled during upload peaked at "
                + peakRss.get() / 1024 + " MiB (VmHWM at end " + hwmKiB(pid) / 1024 + " MiB)");
        http.await("/v1/health", h -> h.statusCode() == 200, Duration.ofSeconds(10));
    }

    private static long rssKiB(long pid) {
        return statusField(pid, "VmRSS:");
    }

    private static long hwmKiB(long pid) {
        return statusField(pid, "VmHWM:");
    }

    private static long statusField(long pid, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.substring(field.length()).replace("kB", "").strip());
                }
            }
        } catch (Exception e) {
            // not Linux, or the process is gone: no figure
        }
        return 0;
    }
}
