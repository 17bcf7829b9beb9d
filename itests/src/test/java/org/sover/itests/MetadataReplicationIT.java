package org.sover.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Two paired nodes keep their albums in step through the metadata op log: created, renamed
 * (also on both sides at once: they converge), deleted. A photo whose bytes have not reached
 * a node is never listed there (A's outgoing transfers are paused for that).
 */
public class MetadataReplicationIT {
    private static final Duration SYNC = Duration.ofSeconds(60);
    private static NodeProcess a;
    private static NodeProcess b;
    private static Http adminA;
    private static Http adminB;

    @BeforeClass
    public static void startAndPair() throws Exception {
        Map<String, String> fast = Map.of("SOVER_ADMIN_PASSWORD", "meta-password");
        a = NodeProcess.create("meta-a", fast);
        b = NodeProcess.create("meta-b", fast);
        // Metadata only: A sends no blobs and B fetches none, so a photo's bytes never arrive.
        a.configure("org.sover.replication", Map.of("pauseOutgoing", "true"));
        b.configure("org.sover.replication", Map.of("repairIntervalSeconds", "0"));
        a.start();
        b.start();
        a.awaitHealthy(Duration.ofSeconds(120));
        b.awaitHealthy(Duration.ofSeconds(120));
        adminA = a.http();
        adminA.login("admin", "meta-password");
        adminB = b.http();
        adminB.login("admin", "meta-password");
        adminB.pairWith(adminA);
    }

    @AfterClass
    public static void stop() throws Exception {
        for (NodeProcess n : new NodeProcess[] {a, b}) {
            if (n != null) {
                n.close();
            }
        }
    }

    @Test
    public void albumsAreCreatedRenamedAndDeletedOnBothNodes() throws Exception {
        String id = Http.json(adminA.postJson("/v1/albums", "{\"name\":\"Made on A\"}")).get("id").asText();
        assertEquals("Made on A", awaitAlbumName(adminB, id, "Made on A"));

        assertEquals(200, adminB.patchJson("/v1/albums/" + id, "{\"name\":\"Renamed on B\"}").statusCode());
        assertEquals("Renamed on B", awaitAlbumName(adminA, id, "Renamed on B"));

        assertEquals(204, adminA.delete("/v1/albums/" + id).statusCode());
        adminB.await("/v1/albums/" + id, r -> r.statusCode() == 404, SYNC);
    }

    @Test
    public void concurrentRenamesConvergeToTheSameName() throws Exception {
        String id = Http.json(adminA.postJson("/v1/albums", "{\"name\":\"Summer\"}")).get("id").asText();
        awaitAlbumName(adminB, id, "Summer");
        // Both nodes rename before either has heard of the other's change.
        assertEquals(200, adminA.patchJson("/v1/albums/" + id, "{\"name\":\"Summer at the lake\"}").statusCode());
        assertEquals(200, adminB.patchJson("/v1/albums/" + id, "{\"name\":\"Lake 2026\"}").statusCode());
        long deadline = System.nanoTime() + SYNC.toNanos();
        String onA = null;
        String onB = null;
        while (System.nanoTime() < deadline) {
            onA = name(adminA, id);
            onB = name(adminB, id);
            if (onA != null && onA.equals(onB)) {
                break;
            }
            Thread.sleep(250);
        }
        assertEquals("both nodes end with the same name", onA, onB);
        assertTrue(onA, onA.equals("Summer at the lake") || onA.equals("Lake 2026"));
    }

    @Test
    public void aPhotoWhoseBytesHaveNotArrivedIsNeverListed() throws Exception {
        String album = Http.json(adminA.postJson("/v1/albums", "{\"name\":\"Photos\"}")).get("id").asText();
        HttpResponse<String> up = adminA.upload(album, "dawn.png", "image/png", TestImages.image("png", 120, 80, 3), null);
        assertEquals(201, up.statusCode());
        String photo = Http.json(up).get("id").asText();
        // A later change in A's log: once B shows it, B has applied the photo record too.
        assertEquals(200, adminA.patchJson("/v1/albums/" + album, "{\"name\":\"Photos (renamed)\"}").statusCode());
        awaitAlbumName(adminB, album, "Photos (renamed)");
        assertEquals(0, Http.json(adminB.get("/v1/albums/" + album)).get("photoCount").asInt());
        assertEquals(0, Http.json(adminB.get("/v1/albums/" + album + "/photos")).get("items").size());
        assertEquals(404, adminB.get("/v1/photos/" + photo).statusCode());
        assertEquals(1, Http.json(adminA.get("/v1/albums/" + album + "/photos")).get("items").size());
    }

    @Test
    public void anUploadWritesAJobForThePeerThatTheAdminCanSeeAndRequeue() throws Exception {
        String idB = Http.json(b.http().get("/v1/health")).get("nodeId").asText();
        String album = Http.json(adminA.postJson("/v1/albums", "{\"name\":\"Jobs\"}")).get("id").asText();
        String photo = Http.json(adminA.upload(album, "job.png", "image/png", TestImages.image("png", 60, 40, 7), null))
                .get("id").asText();

        JsonNode pending = Http.json(adminA.get("/v1/jobs?state=pending&peer=" + idB));
        JsonNode job = null;
        for (JsonNode j : pending.get("items")) {
            if (j.get("photoId").asText().equals(photo)) {
                job = j;
            }
        }
        assertTrue("a pending job for B, written with the photo: " + pending, job != null);
        assertEquals(idB, job.get("peerId").asText());
        assertTrue(pending.get("counts").get("pending").asLong() >= 1);
        String jobId = job.get("id").asText();
        assertEquals(photo, Http.json(adminA.get("/v1/jobs/" + jobId)).get("photoId").asText());
        assertEquals(400, adminA.get("/v1/jobs?state=lost").statusCode());
        assertEquals(404, adminA.get("/v1/jobs/nosuchjob").statusCode());
        HttpResponse<String> requeue = adminA.postJson("/v1/jobs/requeue", "{\"allFailed\":true}");
        assertEquals(200, requeue.statusCode());
        assertEquals("none has failed", 0, Http.json(requeue).get("requeued").asInt());

        NodeProcess.ClientResult table = a.client("admin", "meta-password", "sover:jobs --state pending");
        assertTrue(table.output(), table.output().contains(jobId) && table.output().contains("pending"));
        NodeProcess.ClientResult one = a.client("admin", "meta-password", "sover:job " + jobId);
        assertTrue(one.output(), one.output().contains(photo) && one.output().contains(idB));
        NodeProcess.ClientResult again = a.client("admin", "meta-password", "sover:requeue --all-failed");
        assertTrue(again.output(), again.output().contains("0 jobs requeued"));

        adminA.postJson("/v1/accounts", "{\"username\":\"kid\",\"password\":\"kid-password\"}");
        Http kid = a.http();
        kid.login("kid", "kid-password");
        assertEquals(403, kid.get("/v1/jobs").statusCode());
    }

    private static String awaitAlbumName(Http http, String id, String expected) throws Exception {
        HttpResponse<String> r = http.await("/v1/albums/" + id,
                x -> x.statusCode() == 200 && nameIn(x).equals(expected), SYNC);
        return nameIn(r);
    }

    private static String name(Http http, String id) throws Exception {
        HttpResponse<String> r = http.get("/v1/albums/" + id);
        return r.statusCode() == 200 ? nameIn(r) : null;
    }

    private static String nameIn(HttpResponse<String> r) {
        try {
            JsonNode album = Http.json(r);
            return album.path("name").asText();
        } catch (Exception e) {
            return "";
        }
    }
}
