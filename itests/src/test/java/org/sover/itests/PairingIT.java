package org.sover.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Map;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.FixMethodOrder;
import org.junit.Test;
import org.junit.runners.MethodSorters;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Two real nodes pair through the REST API (one-time line, pinned keys, the family vault key
 * handed over), and a third node played by the test shows each way a node-to-node request is
 * refused: unknown node, bad signature, tampered body, stale time, replayed nonce, blocked.
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class PairingIT {
    private static NodeProcess a;
    private static NodeProcess b;
    private static Http adminA;
    private static Http adminB;
    private static FakeNode c;

    @BeforeClass
    public static void startTwoNodes() throws Exception {
        a = NodeProcess.create("pair-a", Map.of("SOVER_ADMIN_PASSWORD", "node-a-password")).start();
        b = NodeProcess.create("pair-b", Map.of("SOVER_ADMIN_PASSWORD", "node-b-password")).start();
        a.awaitHealthy(Duration.ofSeconds(120));
        b.awaitHealthy(Duration.ofSeconds(120));
        adminA = a.http();
        adminA.login("admin", "node-a-password");
        adminB = b.http();
        adminB.login("admin", "node-b-password");
        c = new FakeNode(Paths.get(System.getProperty("sover.test.work", "target/work")));
    }

    @AfterClass
    public static void stopNodes() throws Exception {
        for (NodeProcess n : new NodeProcess[] {a, b}) {
            if (n != null) {
                n.close();
            }
        }
    }

    @Test
    public void a_twoNodesPairWithOneLineAndShareTheVaultKey() throws Exception {
        String line = payload(adminA);
        assertTrue(line, line.startsWith("sover-pair:"));

        // A node that already holds photos under its own key cannot join: it says so and changes nothing.
        String album = Http.json(adminB.postJson("/v1/albums", "{\"name\":\"B's own\"}")).get("id").asText();
        String photo = Http.json(adminB.upload(album, "b.png", "image/png", TestImages.image("png", 40, 30, 1), null))
                .get("id").asText();
        HttpResponse<String> refused = adminB.postJson("/v1/peers", body("payload", line));
        assertEquals(refused.body(), 409, refused.statusCode());
        assertEquals("vault_not_empty", Http.json(refused).get("error").asText());
        assertEquals(204, adminB.delete("/v1/photos/" + photo).statusCode());

        HttpResponse<String> paired = adminB.postJson("/v1/peers", body("payload", line));
        assertEquals(paired.body(), 201, paired.statusCode());
        String idA = Http.json(a.http().get("/v1/health")).get("nodeId").asText();
        String idB = Http.json(b.http().get("/v1/health")).get("nodeId").asText();
        assertEquals(idA, Http.json(paired).get("nodeId").asText());
        assertTrue(listsPeer(adminA, idB));
        assertTrue(listsPeer(adminB, idA));
        assertArrayEquals("B now holds the family vault key", Files.readAllBytes(a.data.resolve("keys/vault.key")),
                Files.readAllBytes(b.data.resolve("keys/vault.key")));
        assertTrue(Files.exists(b.data.resolve("keys/vault.key.previous")));

        HttpResponse<String> own = adminA.postJson("/v1/peers", body("payload", payload(adminA)));
        assertEquals(400, own.statusCode());
        HttpResponse<String> garbled = adminB.postJson("/v1/peers", body("payload", line.substring(0, line.length() - 3) + "AAA"));
        assertEquals(400, garbled.statusCode());
        assertEquals("bad_payload", Http.json(garbled).get("error").asText());
    }

    /**
     * No operator configured: the paired nodes signal through the endpoints built into them and
     * a photo travels over WebRTC on the host path (the LAN case: nothing to set up).
     */
    @Test
    public void aa_withoutAnOperatorTheNodesSignalThroughTheirOwnEndpoints() throws Exception {
        String idB = Http.json(b.http().get("/v1/health")).get("nodeId").asText();
        assertTrue(Http.json(adminA.get("/v1/node")).get("signaling").get("embedded").asBoolean());
        String album = Http.json(adminA.postJson("/v1/albums", "{\"name\":\"On the LAN\"}")).get("id").asText();
        byte[] png = TestImages.image("png", 40, 30, 7);
        String photo = Http.json(adminA.upload(album, "lan.png", "image/png", png, null)).get("id").asText();
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(60).toNanos();
        com.fasterxml.jackson.databind.JsonNode job = adminA.jobOf(idB, photo);
        while (!"done".equals(job.get("state").asText()) && System.nanoTime() < deadline) {
            Thread.sleep(200);
            job = adminA.jobOf(idB, photo);
        }
        assertEquals(job.toString(), "done", job.get("state").asText());
        assertEquals(job.toString(), "webrtc", job.get("transport").asText());
        assertEquals(job.toString(), "host", job.get("path").asText());
        adminB.await("/v1/photos/" + photo, r -> r.statusCode() == 200, java.time.Duration.ofSeconds(60));
        assertArrayEquals(png, adminB.sendBytes(adminB.request("/v1/photos/" + photo + "/original").GET().build()).body());
    }

    @Test
    public void b_withoutAValidTokenANodeWaitsForApproval() throws Exception {
        HttpResponse<String> asked = c.pair(a.httpPort, "not-a-token");
        assertEquals(asked.body(), 202, asked.statusCode());
        JsonNode pending = Http.json(adminA.get("/v1/peers/pending"));
        assertTrue(pending.toString(), pending.toString().contains(c.nodeId()));
        HttpResponse<String> before = c.signed(a.httpPort, "GET", "/node/v1/ping", "");
        assertEquals(401, before.statusCode());
        assertEquals("awaiting_approval", Http.json(before).get("error").asText());

        HttpResponse<String> approved = adminA.postJson("/v1/peers/pending/" + c.nodeId() + "/approve", "{}");
        assertEquals(approved.body(), 200, approved.statusCode());
        HttpResponse<String> after = c.signed(a.httpPort, "GET", "/node/v1/ping", "");
        assertEquals(after.body(), 200, after.statusCode());
        assertTrue("the answer is signed by A", after.headers().firstValue("X-Sover-Signature").isPresent());
    }

    @Test
    public void c_everyForgedStaleReplayedOrBlockedRequestIsRefused() throws Exception {
        int port = a.httpPort;
        String path = "/node/v1/ping";
        byte[] body = "{\"hello\":1}".getBytes(StandardCharsets.UTF_8);
        long now = System.currentTimeMillis();

        String[] valid = c.headers("POST", path, body, now, FakeNode.nonce());
        assertEquals(200, c.send(port, "POST", path, body, valid).statusCode());
        assertError(401, "replayed", c.send(port, "POST", path, body, valid));

        FakeNode stranger = new FakeNode(Paths.get(System.getProperty("sover.test.work", "target/work")));
        assertError(401, "unknown_node", stranger.send(port, "POST", path, body,
                stranger.headers("POST", path, body, now, FakeNode.nonce())));

        String[] forged = c.headers("POST", path, body, now, FakeNode.nonce());
        forged[7] = stranger.headers("POST", path, body, now, forged[5])[7]; // someone else's signature
        assertError(401, "bad_signature", c.send(port, "POST", path, body, forged));

        byte[] tampered = "{\"hello\":2}".getBytes(StandardCharsets.UTF_8);
        assertError(401, "bad_signature", c.send(port, "POST", path, tampered,
                c.headers("POST", path, body, now, FakeNode.nonce())));

        long tenMinutesAgo = now - Duration.ofMinutes(10).toMillis();
        assertError(401, "stale_request", c.send(port, "POST", path, body,
                c.headers("POST", path, body, tenMinutesAgo, FakeNode.nonce())));

        assertError(401, "unsigned", c.send(port, "POST", path, body, new String[0]));

        assertEquals(204, adminA.postJson("/v1/peers/" + c.nodeId() + "/block", "{}").statusCode());
        assertError(403, "blocked", c.signed(port, "GET", path, ""));
        JsonNode listed = peer(adminA, c.nodeId());
        assertTrue(listed.toString(), listed.get("blocked").asBoolean());
        assertEquals(204, adminA.postJson("/v1/peers/" + c.nodeId() + "/unblock", "{}").statusCode());
        assertEquals(200, c.signed(port, "GET", path, "").statusCode());
    }

    @Test
    public void d_peersAreRenamedAndRemovedAndOnlyAdminsMayPair() throws Exception {
        HttpResponse<String> renamed = adminA.patchJson("/v1/peers/" + c.nodeId(), "{\"name\":\"Grandpa's NAS\"}");
        assertEquals("Grandpa's NAS", Http.json(renamed).get("name").asText());
        assertEquals(204, adminA.delete("/v1/peers/" + c.nodeId()).statusCode());
        assertError(401, "unknown_node", c.signed(a.httpPort, "GET", "/node/v1/ping", ""));

        adminA.postJson("/v1/accounts", "{\"username\":\"kid\",\"password\":\"kid-password\",\"role\":\"member\"}");
        Http kid = a.http();
        kid.login("kid", "kid-password");
        assertEquals(403, kid.postJson("/v1/peers/pairing", "{}").statusCode());
        assertEquals(403, kid.get("/v1/peers").statusCode());
    }

    @Test
    public void e_theShellPairsAndListsPeersToo() throws Exception {
        String idA = Http.json(a.http().get("/v1/health")).get("nodeId").asText();
        String idB = Http.json(b.http().get("/v1/health")).get("nodeId").asText();
        // Accounts replicate: both nodes end with both first admins. Both were called "admin", so
        // the one created later is renamed admin-<id characters> on both nodes, password unchanged
        // (either node's admin may be the later one).
        HttpResponse<String> bothOnB = adminB.await("/v1/accounts", r -> r.statusCode() == 200
                && usernames(r).stream().anyMatch(u -> u.startsWith("admin-")) && usernames(r).contains("kid"),
                Duration.ofSeconds(60));
        adminA.await("/v1/accounts", r -> r.statusCode() == 200 && usernames(r).equals(usernames(bothOnB)),
                Duration.ofSeconds(60));
        assertTrue(usernames(bothOnB).toString(), usernames(bothOnB).contains("admin"));
        String adminOfA = Http.json(adminA.get("/v1/session")).get("username").asText();
        String adminOfB = Http.json(adminB.get("/v1/session")).get("username").asText();
        assertTrue(usernames(bothOnB).toString(), usernames(bothOnB).contains(adminOfA));
        assertTrue(usernames(bothOnB).toString(), usernames(bothOnB).contains(adminOfB));

        NodeProcess.ClientResult peersOnA = a.client(adminOfA, "node-a-password", "sover:peers");
        assertTrue(peersOnA.output(), peersOnA.output().contains(idB));
        NodeProcess.ClientResult printed = a.client(adminOfA, "node-a-password", "sover:pair");
        String line = printed.output().lines().map(String::strip).filter(l -> l.startsWith("sover-pair:")).findFirst()
                .orElseThrow(() -> new AssertionError("no pairing line in: " + printed.output()));

        // B pairs again from its shell (it already shares A's vault, so this only refreshes the pin).
        NodeProcess.ClientResult accepted = b.client(adminOfB, "node-b-password", "sover:pair " + line);
        assertTrue(accepted.output() + "\nas " + adminOfB + "; accounts on B now: " + adminB.get("/v1/accounts").body()
                + "; on A: " + adminA.get("/v1/accounts").body(),
                accepted.output().contains("Paired with") && accepted.output().contains(idA));
        NodeProcess.ClientResult help = b.client(adminOfB, "node-b-password", "sover:peers --help");
        assertTrue(help.output(), help.output().contains("--approve"));
    }

    private static java.util.Set<String> usernames(HttpResponse<String> accounts) {
        java.util.Set<String> names = new java.util.TreeSet<>();
        try {
            Http.json(accounts).forEach(a -> names.add(a.get("username").asText()));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return names;
    }

    private static String payload(Http admin) throws Exception {
        HttpResponse<String> r = admin.postJson("/v1/peers/pairing", "{\"role\":\"full\"}");
        assertEquals(r.body(), 201, r.statusCode());
        return Http.json(r).get("payload").asText();
    }

    private static String body(String field, String value) {
        return Http.JSON.createObjectNode().put(field, value).toString();
    }

    private static boolean listsPeer(Http admin, String nodeId) throws Exception {
        return Http.json(admin.get("/v1/peers")).toString().contains(nodeId);
    }

    private static JsonNode peer(Http admin, String nodeId) throws Exception {
        return Http.json(admin.get("/v1/peers/" + nodeId));
    }

    private static void assertError(int status, String code, HttpResponse<String> r) throws Exception {
        assertEquals(r.body(), status, r.statusCode());
        assertEquals(r.body(), code, Http.json(r).get("error").asText());
    }

}
