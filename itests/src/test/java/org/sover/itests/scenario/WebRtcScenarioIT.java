package org.sover.itests.scenario;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.FixMethodOrder;
import org.junit.Test;
import org.junit.runners.MethodSorters;
import org.sover.itests.Coturn;
import org.sover.itests.Http;
import org.sover.itests.NodeProcess;
import org.sover.itests.RewritingSignalProxy;
import org.sover.itests.SignalProcess;
import org.sover.itests.TcpForward;
import org.sover.itests.TestImages;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Nodes behind NAT (issue 4): two nodes from the built distribution, the operator's signal
 * assembly and Debian's coturn, all on 127.0.0.1. Blobs go over WebRTC data channels (host,
 * then relay-only through TURN), the WebRTC bundle is swapped out and back at runtime, a
 * dishonest signal server that alters DTLS fingerprints is refused, and TURN credentials that
 * coturn rejects end in a diagnostic, not a hang. The scenarios share the processes and run in
 * order.
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class WebRtcScenarioIT {
    private static final String PASSWORD = "webrtc-password";
    private static final String SECRET = "turn-secret-for-the-test-" + Long.toHexString(System.nanoTime());
    private static final Duration BOOT = Duration.ofSeconds(120);
    private static final Duration SYNC = Duration.ofSeconds(120);
    private static final String WEBRTC = "org.sover.transport.webrtc";
    private static final String SIGNAL_CLIENT = "org.sover.signal.client";
    private static Coturn coturn;
    private static SignalProcess signal;
    private static RewritingSignalProxy proxy;
    /** The only HTTP routes between the nodes: each announces its forwarder as its address. */
    private static TcpForward routeToA;
    private static TcpForward routeToB;
    private static NodeProcess a;
    private static NodeProcess b;
    private static NodeProcess c;
    private static Http httpA;
    private static Http httpB;
    private static String idA;
    private static String idB;
    private static String album;
    private static final Map<String, byte[]> uploaded = new LinkedHashMap<>();

    @BeforeClass
    public static void startEverything() throws Exception {
        assumeTrue("coturn (turnserver) is installed by run-tests.sh", Coturn.installed());
        coturn = Coturn.start(SECRET);
        signal = SignalProcess.start("webrtc-signal",
                Map.of("SIGNAL_TURN_SECRET", SECRET, "SIGNAL_TURN_URLS", coturn.url()));
        // The operator's URL reaches A through its settings file, B through SOVER_SIGNAL_URL.
        a = NodeProcess.create("webrtc-a", Map.of("SOVER_ADMIN_PASSWORD", PASSWORD));
        b = NodeProcess.create("webrtc-b", Map.of("SOVER_ADMIN_PASSWORD", PASSWORD, "SOVER_SIGNAL_URL", signal.url()));
        a.configure(SIGNAL_CLIENT, Map.of("url", signal.url()));
        routeToA = new TcpForward(a.httpPort);
        routeToB = new TcpForward(b.httpPort);
        a.configure("org.sover.replication", Map.of("pullIntervalSeconds", "1",
                "addresses", "http://127.0.0.1:" + routeToA.port()));
        b.configure("org.sover.replication", Map.of("pullIntervalSeconds", "1",
                "addresses", "http://127.0.0.1:" + routeToB.port()));
        for (NodeProcess n : new NodeProcess[] {a, b}) {
            n.configure("org.sover.retry", Map.of("initialBackoffSeconds", "1", "multiplier", "1.0",
                    "maxBackoffSeconds", "2", "jitter", "0", "maxAttempts", "20", "coolDownSeconds", "0"));
        }
        a.start();
        b.start();
        a.awaitHealthy(BOOT);
        b.awaitHealthy(BOOT);
        httpA = a.http();
        httpA.login("admin", PASSWORD);
        httpB = b.http();
        httpB.login("admin", PASSWORD);
        idA = Http.json(httpA.get("/v1/health")).get("nodeId").asText();
        idB = Http.json(httpB.get("/v1/health")).get("nodeId").asText();
        httpB.pairWith(httpA);
        HttpResponse<String> created = httpA.postJson("/v1/albums", "{\"name\":\"Behind NAT\"}");
        assertEquals(created.body(), 201, created.statusCode());
        album = Http.json(created).get("id").asText();
    }

    @AfterClass
    public static void stopEverything() throws Exception {
        for (NodeProcess n : new NodeProcess[] {a, b, c}) {
            if (n != null) {
                n.closeAndDeleteData();
            }
        }
        for (AutoCloseable c : new AutoCloseable[] {proxy, routeToA, routeToB, signal, coturn}) {
            if (c != null) {
                c.close();
            }
        }
    }

    /**
     * 1. A's HTTP transport is stopped, so blobs can only travel over WebRTC: twenty photos
     * reach B, byte-identical, and every job says {@code webrtc} over a host path. The node
     * hands its browsers the operator's signaling URL and fresh coturn REST credentials.
     */
    @Test
    public void w1_photosTravelOverWebRtcWhenHttpCannotCarryThem() throws Exception {
        shell(a, "bundle:stop org.sover.transport.http");
        JsonNode nodes = Http.json(httpA.get("/v1/nodes"));
        assertEquals(nodes.toString(), idA, nodes.get("node").get("nodeId").asText());
        assertEquals(nodes.toString(), signal.url(), nodes.get("signaling").get("url").asText());
        JsonNode turn = null;
        for (JsonNode server : nodes.get("iceServers")) {
            if (server.has("username")) {
                turn = server;
            }
        }
        assertTrue("TURN credentials in " + nodes, turn != null);
        assertTrue(turn.toString(), turn.get("urls").toString().contains(coturn.url()));
        String username = turn.get("username").asText();
        assertTrue(username, username.matches("\\d+:" + java.util.regex.Pattern.quote(idA)));
        long expires = Long.parseLong(username.substring(0, username.indexOf(':')));
        long now = System.currentTimeMillis() / 1000;
        assertTrue("short-lived: " + username, expires > now && expires <= now + 24 * 3600);
        assertEquals(hmacSha1(SECRET, username), turn.get("credential").asText());

        List<String> ids = upload("w1", 20);
        awaitDone(ids);
        assertCarried(ids, "webrtc", "host", true);
        JsonNode peer = Http.json(httpA.get("/v1/replication/status")).get("peers").get(0);
        assertTrue(peer.toString(), peer.get("connections").toString().contains("\"transport\":\"webrtc\""));
        String status = shell(a, "sover:signal");
        assertTrue(status, status.contains("connected") && status.contains(idB));
    }

    /** 2. ICE limited to relay candidates on both nodes: the photos go through coturn, and the jobs say so. */
    @Test
    public void w2_relayOnlyGoesThroughTurn() throws Exception {
        a.configure(WEBRTC, Map.of("iceTransportPolicy", "relay"));
        b.configure(WEBRTC, Map.of("iceTransportPolicy", "relay"));
        awaitIcePolicy(a, "relay");
        awaitIcePolicy(b, "relay");
        List<String> ids = upload("w2", 5);
        awaitDone(ids);
        assertCarried(ids, "webrtc", "relay", true);
    }

    /**
     * 3. Hot swap: transport-webrtc stopped in the middle of a run, the rest goes over HTTP;
     * started again, new photos go over WebRTC. The node never went down.
     */
    @Test
    public void w3_theWebRtcBundleIsSwappedOutAndBackWhileRunning() throws Exception {
        a.configure(WEBRTC, Map.of("iceTransportPolicy", "all"));
        b.configure(WEBRTC, Map.of("iceTransportPolicy", "all"));
        awaitIcePolicy(a, "all");
        awaitIcePolicy(b, "all");
        shell(a, "bundle:start org.sover.transport.http");
        // A send limit (which every transport honours) keeps the run going while the bundle stops.
        a.configure("org.sover.replication", Map.of("pullIntervalSeconds", "1", "maxSendKiBps", "128",
                "addresses", "http://127.0.0.1:" + routeToA.port()));
        awaitConfig(a, "org.sover.replication", "maxSendKiBps", "128");
        // About 15 s of sending at that pace: the bundle stops (a shell command of a few seconds) mid-run.
        List<String> ids = upload("w3", 40);
        awaitJob(ids.get(0), j -> "done".equals(j.get("state").asText()));
        shell(a, "bundle:stop org.sover.transport.webrtc");
        java.time.Instant stoppedAt = java.time.Instant.now();
        awaitDone(ids);
        Map<String, Integer> byTransport = new HashMap<>();
        List<String> timeline = new ArrayList<>();
        for (String id : ids) {
            JsonNode job = httpA.jobOf(idB, id);
            byTransport.merge(job.get("transport").asText(), 1, Integer::sum);
            timeline.add(job.get("transport").asText() + "@" + job.get("updatedAt").asText());
            assertArrayEquals("photo " + id + " on B", uploaded.get(id), original(httpB, id));
        }
        assertTrue("some photos went over HTTP after the swap (stopped at " + stoppedAt + "): " + timeline,
                byTransport.getOrDefault("http", 0) > 0);
        assertEquals(200, httpA.get("/v1/health").statusCode());
        a.configure("org.sover.replication", Map.of("pullIntervalSeconds", "1",
                "addresses", "http://127.0.0.1:" + routeToA.port()));

        shell(a, "bundle:start org.sover.transport.webrtc");
        List<String> later = upload("w3-after", 3);
        awaitDone(later);
        assertCarried(later, "webrtc", null, false);
    }

    /**
     * 4. A signal server that alters the DTLS fingerprint in relayed SDP (A now signals through a
     * proxy in front of the real server, so B's answers reach A altered): the signature over the
     * SDP no longer verifies, A refuses the session and says why, and the photos go over HTTP.
     */
    @Test
    public void w4_anAlteredFingerprintIsRefusedAndHttpCarriesThePhotos() throws Exception {
        proxy = new RewritingSignalProxy(URI.create(signal.url()));
        a.configure(SIGNAL_CLIENT, Map.of("url", proxy.url()));
        awaitSignalingAt(httpA, proxy.url());
        // The P2P switch off and on: the WebRTC session made before the proxy came is closed,
        // so the next one is negotiated through it.
        assertEquals(200, httpA.send(httpA.request("/v1/node/switches").header("Content-Type", "application/json")
                .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("{\"p2p\":false}")).build()).statusCode());
        awaitConfig(a, WEBRTC, "enabled", "false");
        awaitNoWebRtcConnection(httpA, "");
        assertEquals(200, httpA.send(httpA.request("/v1/node/switches").header("Content-Type", "application/json")
                .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("{\"p2p\":true}")).build()).statusCode());
        awaitConfig(a, WEBRTC, "enabled", "true");
        List<String> ids = upload("w4", 3);
        awaitDone(ids);
        assertCarried(ids, "http", null, true);
        assertTrue("the proxy altered fingerprints", proxy.rewritten() > 0);
        String said = diagnostics(httpA);
        assertTrue("A says why it refused the session: " + said, said.contains("does not verify"));
    }

    /**
     * 5. coturn restarted with another secret than the signal server's, relay only: the TURN
     * credentials the nodes get are refused; a diagnostic says so and HTTP carries the photos.
     */
    @Test
    public void w5_wrongTurnCredentialsEndInADiagnosticNotAHang() throws Exception {
        a.configure(SIGNAL_CLIENT, Map.of("url", signal.url()));
        awaitSignalingAt(httpA, signal.url());
        int port = coturn.port;
        coturn.close();
        coturn = Coturn.start("another-" + SECRET, port);
        for (NodeProcess n : new NodeProcess[] {a, b}) {
            n.configure(WEBRTC, Map.of("iceTransportPolicy", "relay"));
        }
        awaitIcePolicy(a, "relay");
        awaitIcePolicy(b, "relay");
        List<String> ids = upload("w5", 2);
        awaitDone(ids);
        assertCarried(ids, "http", null, false);
        String said = diagnostics(httpA).toLowerCase(Locale.ROOT);
        assertTrue("A's diagnostics name the failed WebRTC connection: " + said,
                said.contains("webrtc") && (said.contains("turn") || said.contains("ice")));
    }

    /**
     * 6. Behind NAT: the HTTP routes the nodes paired over stop answering. New photos still
     * reach B with their records (the op-log pull goes through the WebRTC tunnel, the blobs over
     * data channels), and an album made on B reaches A the same way.
     */
    @Test
    public void w6_nodesThatCannotReachEachOtherOverHttpStillReplicate() throws Exception {
        int port = coturn.port;
        coturn.close();
        coturn = Coturn.start(SECRET, port);
        for (NodeProcess n : new NodeProcess[] {a, b}) {
            n.configure(WEBRTC, Map.of("iceTransportPolicy", "all"));
        }
        awaitIcePolicy(a, "all");
        awaitIcePolicy(b, "all");
        routeToA.close();
        routeToB.close();
        // The nodes know each other only by the routes just cut.
        JsonNode peersOfA = Http.json(httpA.get("/v1/peers"));
        assertEquals(peersOfA.toString(), 1, peersOfA.size());
        for (JsonNode p : peersOfA) {
            assertEquals(p.toString(), "[\"http://127.0.0.1:" + routeToB.port() + "\"]", p.get("addresses").toString());
        }
        List<String> ids = upload("w6", 5);
        awaitDone(ids);
        assertCarried(ids, "webrtc", null, true);
        HttpResponse<String> made = httpB.postJson("/v1/albums", "{\"name\":\"Made behind NAT\"}");
        assertEquals(made.body(), 201, made.statusCode());
        String madeId = Http.json(made).get("id").asText();
        assertEquals("Made behind NAT", Http.json(httpA.await("/v1/albums/" + madeId, r -> r.statusCode() == 200, SYNC))
                .get("name").asText());
        JsonNode peer = Http.json(httpA.get("/v1/replication/status")).get("peers").get(0);
        assertTrue("B counts as online through the tunnel: " + peer, peer.get("online").asBoolean());
    }

    /**
     * 7. Pairing through signaling: a new node C that nobody can reach over HTTP (it announces an
     * address where nothing listens) and that cannot reach A either (A's route is cut) pairs with
     * A's line; the signed request and answer travel through the signal server, and C then gets
     * the family's photos over WebRTC.
     */
    @Test
    public void w7_aNodeThatReachesNobodyPairsThroughSignaling() throws Exception {
        c = NodeProcess.create("webrtc-c", Map.of("SOVER_ADMIN_PASSWORD", PASSWORD, "SOVER_SIGNAL_URL", signal.url()));
        c.configure("org.sover.replication", Map.of("pullIntervalSeconds", "1",
                "addresses", "http://127.0.0.1:" + NodeProcess.freePort()));
        c.start().awaitHealthy(BOOT);
        Http httpC = c.http();
        httpC.login("admin", PASSWORD);
        awaitSignalingAt(httpC, signal.url());
        httpC.pairWith(httpA);
        String idC = Http.json(httpC.get("/v1/health")).get("nodeId").asText();
        String photo = uploaded.keySet().iterator().next();
        assertArrayEquals("A's photo " + photo + " on C", uploaded.get(photo), original(httpC, photo));
        JsonNode job = httpA.jobOf(idC, photo);
        assertEquals(job.toString(), "webrtc", job.get("transport").asText());
    }

    // ---- helpers ------------------------------------------------------------------------------

    private static List<String> upload(String prefix, int count) throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] bytes = TestImages.noisyJpeg(320, 240, prefix.hashCode() * 1000 + i);
            HttpResponse<String> r = httpA.upload(album, prefix + "-" + i + ".jpg", "image/jpeg", bytes, null);
            assertEquals(r.body(), 201, r.statusCode());
            String id = Http.json(r).get("id").asText();
            uploaded.put(id, bytes);
            ids.add(id);
        }
        return ids;
    }

    /**
     * A's jobs of these photos for B went over {@code transport} (and {@code path}, when given);
     * with {@code compare}, B serves each photo byte-identical.
     */
    private static void assertCarried(List<String> ids, String transport, String path, boolean compare) throws Exception {
        for (String id : ids) {
            JsonNode job = httpA.jobOf(idB, id);
            assertEquals(job.toString(), transport, job.get("transport").asText());
            if (path != null) {
                assertEquals(job.toString(), path, job.get("path").asText());
            }
            if (compare) {
                assertArrayEquals("photo " + id + " on B", uploaded.get(id), original(httpB, id));
            }
        }
    }

    private static byte[] original(Http http, String photoId) throws Exception {
        http.await("/v1/photos/" + photoId, r -> r.statusCode() == 200, SYNC);
        HttpResponse<byte[]> r = http.sendBytes(http.request("/v1/photos/" + photoId + "/original").GET().build());
        assertEquals("original of " + photoId, 200, r.statusCode());
        return r.body();
    }

    private static JsonNode awaitJob(String photoId, Predicate<JsonNode> done) throws Exception {
        long deadline = System.nanoTime() + SYNC.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            last = httpA.jobOf(idB, photoId);
            if (done.test(last)) {
                return last;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("job of photo " + photoId + " never got there; last seen " + last);
    }

    private static void awaitDone(List<String> photoIds) throws Exception {
        for (String id : photoIds) {
            awaitJob(id, j -> "done".equals(j.get("state").asText()));
        }
    }

    /** Waits until the node's signal client is connected to {@code url}. */
    private static void awaitSignalingAt(Http http, String url) throws Exception {
        http.await("/v1/node", r -> {
            try {
                JsonNode s = Http.json(r).get("signaling");
                return url.equals(s.path("url").asText()) && "connected".equals(s.path("state").asText());
            } catch (java.io.IOException e) {
                return false;
            }
        }, Duration.ofSeconds(60));
    }

    /**
     * Waits until the node's ConfigAdmin holds the new ICE policy and no WebRTC connection made
     * under the old one is still up (a policy change closes them).
     */
    private static void awaitIcePolicy(NodeProcess node, String policy) throws Exception {
        awaitConfig(node, WEBRTC, "iceTransportPolicy", policy);
        awaitNoWebRtcConnection(node == a ? httpA : httpB,
                "relay".equals(policy) ? "\"path\":\"host\"" : "\"path\":\"relay\"");
    }

    /** Waits until the node has no connected WebRTC connection whose JSON contains {@code marker}. */
    private static void awaitNoWebRtcConnection(Http http, String stale) throws Exception {
        http.await("/v1/replication/status", r -> {
            try {
                for (JsonNode c : Http.json(r).get("peers").get(0).get("connections")) {
                    if ("connected".equals(c.path("state").asText()) && c.toString().contains(stale)) {
                        return false;
                    }
                }
                return true;
            } catch (java.io.IOException e) {
                return false;
            }
        }, Duration.ofSeconds(30));
    }

    private static void awaitConfig(NodeProcess node, String pid, String key, String value) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String seen = "";
        while (System.nanoTime() < deadline) {
            seen = shell(node, "config:property-get --pid " + pid + " " + key).trim();
            if (seen.equals(value)) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError(pid + " " + key + " never became " + value + "; last seen " + seen);
    }

    private static String diagnostics(Http http) throws Exception {
        return Http.json(http.get("/v1/diagnostics?limit=500")).get("items").toString();
    }

    private static String shell(NodeProcess node, String command) throws Exception {
        NodeProcess.ClientResult r = node.client("admin", PASSWORD, command);
        assertEquals(command + ": " + r.output(), 0, r.exitCode());
        return r.output();
    }

    private static String hmacSha1(String secret, String username) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA1");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
        return Base64.getEncoder().encodeToString(mac.doFinal(username.getBytes(StandardCharsets.UTF_8)));
    }
}
