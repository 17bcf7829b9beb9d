package org.sover.itests.scenario;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.FixMethodOrder;
import org.junit.Test;
import org.junit.runners.MethodSorters;
import org.sover.itests.EventStream;
import org.sover.itests.Http;
import org.sover.itests.NodeProcess;
import org.sover.itests.StreamingUpload;
import org.sover.itests.TestImages;
import org.sover.itests.Tokens;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The acceptance of two-node replication (issue 3): two nodes from the built distribution,
 * paired through the REST API, kept whole through stops, crashes, renames, deletes, requeues
 * and a retry policy swap. The scenarios share the two nodes and run in order.
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class ReplicationScenarioIT {
    private static final String PASSWORD = "scenario-password";
    private static final Duration BOOT = Duration.ofSeconds(120);
    private static final Duration SYNC = Duration.ofSeconds(120);
    /** Short backoff, two attempts, then failed until the peer returns or a person requeues. */
    private static final Map<String, String> TEST_POLICY = Map.of("initialBackoffSeconds", "1", "multiplier", "1.0",
            "maxBackoffSeconds", "2", "jitter", "0", "maxAttempts", "2", "coolDownSeconds", "0");
    private static NodeProcess a;
    private static NodeProcess b;
    private static Http httpA;
    private static Http httpB;
    private static String idB;
    /** Every photo uploaded on A that is still live, with its bytes. */
    private static final Map<String, byte[]> uploaded = new LinkedHashMap<>();

    @BeforeClass
    public static void startAndPair() throws Exception {
        Map<String, String> env = Map.of("SOVER_ADMIN_PASSWORD", PASSWORD);
        a = NodeProcess.create("repl-a", env);
        b = NodeProcess.create("repl-b", env);
        a.configure("org.sover.retry", TEST_POLICY);
        // These scenarios are about the HTTP transport: WebRTC (which two nodes on one LAN use
        // through their embedded signaling) is switched off here and tested in WebRtcScenarioIT.
        for (NodeProcess n : new NodeProcess[] {a, b}) {
            n.configure("org.sover.transport.webrtc", Map.of("enabled", "false"));
        }
        a.configure("org.sover.replication", Map.of("pullIntervalSeconds", "1", "repairIntervalSeconds", "5"));
        b.configure("org.sover.replication", Map.of("pullIntervalSeconds", "1", "repairIntervalSeconds", "5",
                "scrubIntervalSeconds", "5"));
        a.start();
        b.start();
        a.awaitHealthy(BOOT);
        b.awaitHealthy(BOOT);
        httpA = a.http();
        httpA.login("admin", PASSWORD);
        httpB = b.http();
        httpB.login("admin", PASSWORD);
        idB = Http.json(httpB.get("/v1/health")).get("nodeId").asText();
        httpB.pairWith(httpA);
    }

    @AfterClass
    public static void stop() throws Exception {
        for (NodeProcess n : new NodeProcess[] {a, b}) {
            if (n != null) {
                n.closeAndDeleteData();
            }
        }
    }

    /** 1. Twenty photos in two albums on A: every job done, every photo byte-identical on B, albums on B. */
    @Test
    public void s1_photosAndAlbumsReachTheOtherNode() throws Exception {
        String summer = album(httpA, "Summer 2026");
        String winter = album(httpA, "Winter 2026");
        List<String> ids = new ArrayList<>();
        try (EventStream events = EventStream.open(a.httpPort, Tokens.sessionCookie(a.httpPort, "admin", PASSWORD))) {
            events.await(line -> line.equals("event: hello"));
            for (int i = 0; i < 20; i++) {
                ids.add(upload(i % 2 == 0 ? summer : winter, "s1-" + i + ".jpg", TestImages.noisyJpeg(320, 240, i)));
            }
            awaitJobsDone(ids);
            String last = ids.get(ids.size() - 1);
            events.await(line -> line.startsWith("data: ") && line.contains("\"photoId\":\"" + last + "\"")
                    && line.contains("\"state\":\"done\"") && line.contains("\"transport\":\"http\""));
        }
        for (String id : ids) {
            assertArrayEquals("photo " + id + " on B", uploaded.get(id), original(httpB, id));
        }
        assertEquals("Summer 2026", Http.json(httpB.await("/v1/albums/" + summer, r -> r.statusCode() == 200, SYNC))
                .get("name").asText());
        assertEquals("Winter 2026", Http.json(httpB.await("/v1/albums/" + winter, r -> r.statusCode() == 200, SYNC))
                .get("name").asText());
        assertEquals(10, Http.json(httpB.get("/v1/albums/" + summer + "/photos")).get("items").size());
        // Redundancy as each node sees it: A from its done job, B because A made the photo.
        for (Http node : new Http[] {httpA, httpB}) {
            JsonNode replication = Http.json(node.get("/v1/photos/" + ids.get(0))).get("replication");
            assertEquals(replication.toString(), 2, replication.get("target").asInt());
            assertEquals(replication.toString(), 2, replication.get("copies").asInt());
            assertEquals(replication.toString(), "done", replication.get("peers").get(0).get("state").asText());
        }
        JsonNode summerOnA = Http.json(httpA.get("/v1/albums/" + summer)).get("replication");
        assertEquals(summerOnA.toString(), 10, summerOnA.get("photos").asInt());
        assertEquals(summerOnA.toString(), 10, summerOnA.get("fullyReplicated").asInt());
        assertEquals("s1-19.jpg", jobOf(ids.get(19)).get("filename").asText());
        JsonNode status = Http.json(httpA.get("/v1/replication/status"));
        assertEquals(status.toString(), 20, status.get("vault").get("fullyReplicated").asInt());
        assertEquals(status.toString(), 20, status.get("peers").get(0).get("jobs").get("done").asInt());
        assertTrue(status.toString(), status.get("peers").get(0).get("online").asBoolean());
        JsonNode job = Http.json(httpA.get("/v1/jobs?state=done&peer=" + idB + "&limit=1")).get("items").get(0);
        assertEquals("http", job.get("transport").asText());
        assertEquals("lan", job.get("path").asText());
    }

    /** 2. B stopped: A's jobs go pending, then failed; B back: they finish without a hand on them. */
    @Test
    public void s2_jobsWaitForAStoppedNodeAndFinishWhenItReturns() throws Exception {
        b.stop();
        String album = album(httpA, "While B was away");
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            ids.add(upload(album, "s2-" + i + ".jpg", TestImages.noisyJpeg(200, 150, 100 + i)));
        }
        JsonNode first = jobOf(ids.get(ids.size() - 1));
        assertTrue("a fresh job is pending or being tried: " + first,
                List.of("pending", "in_flight").contains(first.get("state").asText()));
        for (String id : ids) {
            httpA.await("/v1/jobs?peer=" + idB + "&state=failed&limit=200",
                    r -> jobIn(r, id) != null, SYNC);
        }
        JsonNode failed = jobOf(ids.get(0));
        assertEquals(2, failed.get("attempts").asInt());
        assertFalse(failed.get("lastError").asText().isEmpty());

        b.start().awaitHealthy(BOOT);
        awaitJobsDone(ids);
        for (String id : uploaded.keySet()) {
            assertArrayEquals("photo " + id + " on B", uploaded.get(id), original(httpB, id));
        }
        assertEquals(40, uploaded.size());
    }

    /** 3. kill -9 B in the middle of a large transfer; restarted, B completes it and never listed what it could not serve. */
    @Test
    public void s3_aTransferCutByACrashCompletesAfterRestart() throws Exception {
        long size = 600L * 1024 * 1024;
        String album = album(httpA, "Films");
        String cookie = Tokens.sessionCookie(a.httpPort, "admin", PASSWORD);
        StreamingUpload.Result r = StreamingUpload.post(httpA.base() + "/v1/albums/" + album + "/photos", cookie, null,
                "long-film.mp4", size, 33, null, sent -> { });
        assertEquals(r.body(), 201, r.status());
        String id = Http.JSON.readTree(r.body()).get("id").asText();

        Path partial = awaitPartialBlob(b, Duration.ofSeconds(60));
        assertTrue("B was receiving the blob", partial != null);
        b.kill9();
        b.start().awaitHealthy(BOOT);
        AtomicReference<String> listedUnservable = new AtomicReference<>();
        long deadline = System.nanoTime() + SYNC.multipliedBy(2).toNanos();
        boolean done = false;
        while (System.nanoTime() < deadline && !done) {
            // Whenever B lists the film, B can serve it.
            JsonNode items = Http.json(httpB.get("/v1/albums/" + album + "/photos")).path("items");
            if (items.size() > 0) {
                HttpResponse<String> head = httpB.send(httpB.request("/v1/photos/" + id + "/original")
                        .header("Range", "bytes=0-15").GET().build());
                if (head.statusCode() != 206) {
                    listedUnservable.set("listed, but the original answered " + head.statusCode());
                }
            }
            done = "done".equals(jobOf(id).get("state").asText());
            Thread.sleep(250);
        }
        assertEquals(null, listedUnservable.get());
        assertTrue("the film's job reached done", done);
        HttpResponse<InputStream> film = httpB.sendStream(httpB.request("/v1/photos/" + id + "/original").GET().build());
        assertEquals(200, film.statusCode());
        try (InputStream expected = StreamingUpload.content(size, 33); InputStream actual = film.body()) {
            assertEquals(StreamingUpload.sha256(expected), StreamingUpload.sha256(actual));
        }
        assertEquals("no partial blob is left on B", 0, partialBlobs(b).size());
        // 600 MiB is worth giving back before the next scenarios.
        assertEquals(204, httpA.delete("/v1/photos/" + id).statusCode());
        httpB.await("/v1/photos/" + id, x -> x.statusCode() == 404, SYNC);
    }

    /** 4. kill -9 A with jobs in flight: after the restart nothing is lost and B stores each blob once. */
    @Test
    public void s4_aCrashOfTheSenderLosesNothingAndSendsNothingTwice() throws Exception {
        String album = album(httpA, "Sender crash");
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            ids.add(upload(album, "s4-" + i + ".jpg", TestImages.noisyJpeg(1600, 1200, 400 + i)));
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        boolean sawInFlight = false;
        while (System.nanoTime() < deadline && !sawInFlight) {
            sawInFlight = Http.json(httpA.get("/v1/jobs?state=in_flight&limit=1")).get("items").size() > 0
                    || jobsDone(ids);
        }
        a.kill9();
        a.start().awaitHealthy(BOOT);
        awaitJobsDone(ids);
        for (String id : ids) {
            assertArrayEquals(uploaded.get(id), original(httpB, id));
        }
        // Every test photo has its own bytes: B holds exactly one blob file per live photo (the
        // film deleted in s3 is gone too), and nothing half-written.
        Map<String, Long> files = storedBlobs(b);
        assertEquals("blob files on B: " + files.keySet(), uploaded.size(), files.size());
        assertEquals(0, partialBlobs(b).size());
    }

    /** 5. A rename on B while A is down reaches A; a delete on A reaches B. */
    @Test
    public void s5_renamesAndDeletesTravelBothWays() throws Exception {
        String album = album(httpA, "Before the rename");
        httpB.await("/v1/albums/" + album, r -> r.statusCode() == 200, SYNC);
        a.stop();
        assertEquals(200, httpB.patchJson("/v1/albums/" + album, "{\"name\":\"Renamed on B\"}").statusCode());
        a.start().awaitHealthy(BOOT);
        httpA.await("/v1/albums/" + album, r -> r.body().contains("Renamed on B"), SYNC);
        assertTrue(Http.json(httpB.get("/v1/albums/" + album)).get("name").asText().equals("Renamed on B"));

        String victim = uploaded.keySet().iterator().next();
        assertEquals(200, httpB.get("/v1/photos/" + victim).statusCode());
        assertEquals(204, httpA.delete("/v1/photos/" + victim).statusCode());
        uploaded.remove(victim);
        httpB.await("/v1/photos/" + victim, r -> r.statusCode() == 404, SYNC);

        // Sync now: B pulls A's changes at once and answers what it did.
        String renamedOnA = album(httpA, "Synced at once");
        JsonNode sync = Http.json(httpB.postJson("/v1/peers/" + Http.json(httpA.get("/v1/health")).get("nodeId").asText()
                + "/sync", "{}"));
        assertTrue(sync.toString(), sync.get("reached").asBoolean());
        assertEquals(200, httpB.get("/v1/albums/" + renamedOnA).statusCode());
        assertEquals(404, httpB.postJson("/v1/peers/" + idB + "/sync", "{}").statusCode());
    }

    /** 6. sover:requeue --all-failed through bin/client puts failed jobs back, and they complete. */
    @Test
    public void s6_anAdminRequeuesFailedJobsFromTheShell() throws Exception {
        // A must not notice B's return by itself here: only the admin's requeue may move the jobs.
        a.configure("org.sover.replication", Map.of("pullIntervalSeconds", "3600", "repairIntervalSeconds", "0"));
        b.stop();
        String album = album(httpA, "Requeued by hand");
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.add(upload(album, "s6-" + i + ".jpg", TestImages.noisyJpeg(200, 150, 600 + i)));
        }
        for (String id : ids) {
            httpA.await("/v1/jobs?peer=" + idB + "&state=failed&limit=200", r -> jobIn(r, id) != null, SYNC);
        }
        b.start().awaitHealthy(BOOT);
        for (String id : ids) {
            assertEquals("still failed: nobody requeued it yet", "failed", jobOf(id).get("state").asText());
        }
        NodeProcess.ClientResult out = a.client("admin", PASSWORD, "sover:requeue --all-failed");
        assertTrue(out.output(), out.output().contains("3 jobs requeued"));
        awaitJobsDone(ids);
        for (String id : ids) {
            assertArrayEquals(uploaded.get(id), original(httpB, id));
        }
        a.configure("org.sover.replication", Map.of("pullIntervalSeconds", "1", "repairIntervalSeconds", "5"));
    }

    /** 7. The queue follows whatever retry policy is registered: none (bundle stopped), then a changed one. */
    @Test
    public void s7_theQueueFollowsARetryPolicySwap() throws Exception {
        NodeProcess.ClientResult stopped = a.client("admin", PASSWORD, "bundle:stop org.sover.retry");
        assertEquals(stopped.output(), 0, stopped.exitCode());
        b.stop();
        String album = album(httpA, "Policy swap");
        String id = upload(album, "s7.jpg", TestImages.noisyJpeg(200, 150, 700));
        // Without a policy the queue keeps the job pending and tries again every minute.
        JsonNode waiting = awaitJob(id, j -> j.get("attempts").asInt() >= 1 && "pending".equals(j.get("state").asText())
                && !j.path("nextAttemptAt").isNull());
        Duration wait = Duration.between(Instant.now(), Instant.parse(waiting.get("nextAttemptAt").asText()));
        assertTrue("retried in about a minute without a policy: " + waiting, wait.toSeconds() > 30);

        Map<String, String> patient = new HashMap<>(TEST_POLICY);
        patient.put("maxAttempts", "4");
        a.configure("org.sover.retry", patient);
        NodeProcess.ClientResult started = a.client("admin", PASSWORD, "bundle:start org.sover.retry");
        assertEquals(started.output(), 0, started.exitCode());
        String jobId = waiting.get("id").asText();
        assertEquals(200, httpA.postJson("/v1/jobs/requeue", "{\"ids\":[\"" + jobId + "\"]}").statusCode());
        JsonNode failed = awaitJob(id, j -> "failed".equals(j.get("state").asText()));
        assertEquals("the new policy's four attempts", 4, failed.get("attempts").asInt());

        b.start().awaitHealthy(BOOT);
        awaitJobsDone(List.of(id));
        assertArrayEquals(uploaded.get(id), original(httpB, id));
    }

    /** 8. Repair: a blob damaged on B's disk fails B's scrub, is discarded and fetched again from A. */
    @Test
    public void s8_aDamagedBlobIsDiscardedAndFetchedAgain() throws Exception {
        Path root = blobRoot(b);
        Map<String, Long> files = storedBlobs(b);
        String blobId = files.keySet().iterator().next();
        Path file;
        try (Stream<Path> s = Files.walk(root)) {
            file = s.filter(p -> p.getFileName().toString().equals(blobId)).findFirst().orElseThrow();
        }
        byte[] good = Files.readAllBytes(file);
        byte[] bad = good.clone();
        bad[bad.length / 2] ^= 0x5a; // same size: only the hash can tell
        Files.write(file, bad);
        long deadline = System.nanoTime() + SYNC.toNanos();
        boolean restored = false;
        while (System.nanoTime() < deadline && !restored) {
            try {
                restored = java.util.Arrays.equals(good, Files.readAllBytes(file));
            } catch (IOException e) {
                // between the discard and the new copy
            }
            Thread.sleep(200);
        }
        assertTrue("B fetched the damaged blob " + blobId + " again; its log: " + tail(b), restored);
        for (String id : uploaded.keySet()) {
            assertArrayEquals(uploaded.get(id), original(httpB, id));
        }
    }

    /** 9. Transports are bundles: without transport-http nothing can be sent; started again, the job completes. */
    @Test
    public void s9_theHttpTransportIsABundleOfItsOwn() throws Exception {
        NodeProcess.ClientResult stopped = a.client("admin", PASSWORD, "bundle:stop org.sover.transport.http");
        assertEquals(stopped.output(), 0, stopped.exitCode());
        String album = album(httpA, "Transport swap");
        String id = upload(album, "s9.jpg", TestImages.noisyJpeg(200, 150, 900));
        JsonNode stuck = awaitJob(id, j -> j.path("lastError").asText("").contains("no transport can reach"));
        assertTrue(stuck.toString(), List.of("pending", "failed").contains(stuck.get("state").asText()));

        NodeProcess.ClientResult started = a.client("admin", PASSWORD, "bundle:start org.sover.transport.http");
        assertEquals(started.output(), 0, started.exitCode());
        assertEquals(200, httpA.postJson("/v1/jobs/requeue", "{\"ids\":[\"" + stuck.get("id").asText() + "\"]}")
                .statusCode());
        awaitJobsDone(List.of(id));
        assertEquals("http", jobOf(id).get("transport").asText());
        assertArrayEquals(uploaded.get(id), original(httpB, id));
    }

    private static String tail(NodeProcess node) throws IOException {
        Path log = node.karafLog();
        if (!Files.exists(log)) {
            return "(no log)";
        }
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    }

    // ---- helpers ------------------------------------------------------------------------------

    private static String album(Http http, String name) throws Exception {
        HttpResponse<String> r = http.postJson("/v1/albums", Http.JSON.createObjectNode().put("name", name).toString());
        assertEquals(r.body(), 201, r.statusCode());
        return Http.json(r).get("id").asText();
    }

    private static String upload(String album, String name, byte[] bytes) throws Exception {
        HttpResponse<String> r = httpA.upload(album, name, "image/jpeg", bytes, null);
        assertEquals(r.body(), 201, r.statusCode());
        String id = Http.json(r).get("id").asText();
        uploaded.put(id, bytes);
        return id;
    }

    /**
     * The photo's bytes as the node serves them, once it lists the photo: a blob may arrive
     * before the metadata pull brings the photo record, and then the photo is not listed yet.
     */
    private static byte[] original(Http http, String photoId) throws Exception {
        http.await("/v1/photos/" + photoId, r -> r.statusCode() == 200, SYNC);
        HttpResponse<byte[]> r = http.sendBytes(http.request("/v1/photos/" + photoId + "/original").GET().build());
        assertEquals("original of " + photoId, 200, r.statusCode());
        return r.body();
    }

    /** A's job of the photo for B. */
    private static JsonNode jobOf(String photoId) throws Exception {
        return httpA.jobOf(idB, photoId);
    }

    private static JsonNode awaitJob(String photoId, java.util.function.Predicate<JsonNode> done) throws Exception {
        long deadline = System.nanoTime() + SYNC.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            last = jobOf(photoId);
            if (done.test(last)) {
                return last;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("job of photo " + photoId + " never got there; last seen " + last);
    }

    private static JsonNode jobIn(HttpResponse<String> r, String photoId) {
        try {
            for (JsonNode j : Http.json(r).get("items")) {
                if (j.get("photoId").asText().equals(photoId)) {
                    return j;
                }
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }

    private static boolean jobsDone(List<String> photoIds) throws Exception {
        for (String id : photoIds) {
            if (!"done".equals(jobOf(id).get("state").asText())) {
                return false;
            }
        }
        return true;
    }

    private static void awaitJobsDone(List<String> photoIds) throws Exception {
        long deadline = System.nanoTime() + SYNC.toNanos();
        while (System.nanoTime() < deadline) {
            if (jobsDone(photoIds)) {
                return;
            }
            Thread.sleep(250);
        }
        List<String> open = new ArrayList<>();
        for (String id : photoIds) {
            JsonNode j = jobOf(id);
            if (!"done".equals(j.get("state").asText())) {
                open.add(j.toString());
            }
        }
        throw new AssertionError("jobs not done within " + SYNC + ": " + open);
    }

    private static Path blobRoot(NodeProcess node) throws IOException {
        try (Stream<Path> s = Files.walk(node.data)) {
            return s.filter(p -> p.getFileName().toString().equals("blobs") && Files.isDirectory(p)
                    && Files.isDirectory(p.resolve(".tmp"))).findFirst().orElseThrow();
        }
    }

    private static List<Path> partialBlobs(NodeProcess node) throws IOException {
        try (Stream<Path> s = Files.list(blobRoot(node).resolve(".tmp"))) {
            return s.toList();
        }
    }

    /** Blob files (not thumbnails, not partial ones) by id, with their sizes. */
    private static Map<String, Long> storedBlobs(NodeProcess node) throws IOException {
        Path root = blobRoot(node);
        Map<String, Long> out = new HashMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String name = p.getFileName().toString();
                if (Files.isRegularFile(p) && !p.startsWith(root.resolve(".tmp")) && !name.endsWith("t")) {
                    out.put(name, Files.size(p));
                }
            }
        }
        return out;
    }

    /** Waits until the node writes a partial blob bigger than 16 MiB; null if none appears in time. */
    private static Path awaitPartialBlob(NodeProcess node, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (Path p : partialBlobs(node)) {
                try {
                    if (Files.size(p) > 16L * 1024 * 1024) {
                        return p;
                    }
                } catch (IOException e) {
                    // committed or removed meanwhile
                }
            }
            Thread.sleep(20);
        }
        return null;
    }
}
