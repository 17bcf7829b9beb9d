package org.sover.itests.scenario;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.After;
import org.junit.Test;
import org.sover.itests.Http;
import org.sover.itests.NodeProcess;
import org.sover.itests.StreamingUpload;
import org.sover.itests.Tokens;

import com.fasterxml.jackson.databind.JsonNode;

/** kill -9 in the middle of a large upload: afterwards nothing partial is visible and the retry stores it once. */
public class CrashRecoveryIT {
    private static final String PASSWORD = "crash-test-password";
    private static final long SIZE = 300L * 1024 * 1024;
    private NodeProcess node;

    @After
    public void stop() throws Exception {
        if (node != null) {
            node.closeAndDeleteData(); // 300 MB a run
        }
    }

    @Test
    public void killNineDuringAnUploadLosesNothingAndTheSameKeyStoresItOnce() throws Exception {
        node = NodeProcess.create("crash", Map.of("SOVER_ADMIN_PASSWORD", PASSWORD)).start()
                .awaitHealthy(Duration.ofSeconds(90));
        Http http = node.http();
        http.login("admin", PASSWORD);
        String album = Http.json(http.postJson("/v1/albums", "{\"name\":\"Crash\"}")).get("id").asText();
        String url = http.base() + "/v1/albums/" + album + "/photos";
        String cookie = Tokens.sessionCookie(node.httpPort, "admin", PASSWORD);
        String key = "crash-" + UUID.randomUUID();

        CountDownLatch halfway = new CountDownLatch(1);
        CompletableFuture<Object> interrupted = CompletableFuture.supplyAsync(() -> {
            try {
                return StreamingUpload.post(url, cookie, null, "holiday.mp4", SIZE, 42, key, sent -> {
                    if (sent >= SIZE / 2) {
                        halfway.countDown();
                    }
                });
            } catch (Exception e) {
                return e;
            }
        });
        assertTrue("the upload reached half way", halfway.await(120, TimeUnit.SECONDS));
        node.kill9();
        Object outcome = interrupted.get(60, TimeUnit.SECONDS);
        assertTrue("the interrupted upload did not succeed: " + outcome, outcome instanceof Exception);

        node.start().awaitHealthy(Duration.ofSeconds(90));
        http.login("admin", PASSWORD);
        JsonNode page = Http.json(http.get("/v1/albums/" + album + "/photos"));
        assertEquals("no partial photo is listed: " + page, 0, page.get("items").size());
        assertEquals("no blob is stored for it", List.of(), blobFiles(node.data.resolve("blobs")));

        String cookie2 = Tokens.sessionCookie(node.httpPort, "admin", PASSWORD);
        StreamingUpload.Result first = StreamingUpload.post(url, cookie2, null, "holiday.mp4", SIZE, 42, key, s -> { });
        assertEquals(first.body(), 201, first.status());
        String id = Http.JSON.readTree(first.body()).get("id").asText();
        StreamingUpload.Result repeat = StreamingUpload.post(url, cookie2, null, "holiday.mp4", SIZE, 42, key, s -> { });
        assertEquals(repeat.body(), 200, repeat.status());
        assertEquals(id, Http.JSON.readTree(repeat.body()).get("id").asText());

        page = Http.json(http.get("/v1/albums/" + album + "/photos"));
        assertEquals(1, page.get("items").size());
        assertEquals(1, blobFiles(node.data.resolve("blobs")).size());
        HttpResponse<InputStream> original = http.sendStream(http.request("/v1/photos/" + id + "/original").GET().build());
        assertEquals(200, original.statusCode());
        try (InputStream expected = StreamingUpload.content(SIZE, 42); InputStream actual = original.body()) {
            assertEquals(StreamingUpload.sha256(expected), StreamingUpload.sha256(actual));
        }
    }

    /** Committed blob files (thumbnails included), ignoring the store's pending area. */
    static List<Path> blobFiles(Path blobs) throws Exception {
        if (!Files.exists(blobs)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(blobs)) {
            return s.filter(Files::isRegularFile).filter(p -> !blobs.relativize(p).toString().startsWith(".tmp"))
                    .toList();
        }
    }
}
