package org.sover.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.FixMethodOrder;
import org.junit.Test;
import org.junit.runners.MethodSorters;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The dashboard's API on a real node: what it says about the node, switches that act on the
 * node and show in sover:status, settings written through ConfigAdmin to the node's etc/ and
 * validated field by field, and the diagnostics log.
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class NodeSettingsIT {
    private static final String PASSWORD = "settings-password";
    private static NodeProcess node;
    private static Http admin;

    @BeforeClass
    public static void start() throws Exception {
        node = NodeProcess.create("settings", Map.of("SOVER_ADMIN_PASSWORD", PASSWORD)).start();
        node.awaitHealthy(Duration.ofSeconds(120));
        admin = node.http();
        admin.login("admin", PASSWORD);
    }

    @AfterClass
    public static void stop() throws Exception {
        if (node != null) {
            node.close();
        }
    }

    @Test
    public void theDashboardDescribesTheNode() throws Exception {
        JsonNode n = Http.json(admin.get("/v1/node"));
        assertEquals(Http.json(admin.get("/v1/health")).get("nodeId").asText(), n.get("nodeId").asText());
        assertTrue(n.toString(), n.get("fingerprint").asText().length() > 20);
        assertTrue(n.toString(), n.get("storage").get("freeBytes").asLong() > 0);
        assertTrue(n.toString(), n.get("storage").get("dataDirectory").asText().startsWith(node.data.toString()));
        assertTrue(n.toString(), n.get("transports").toString().contains("{\"name\":\"webrtc\"}"));
        assertTrue(n.toString(), n.get("transports").toString().contains("{\"name\":\"http\"}"));
        assertEquals(0, n.get("queue").get("failed").asLong());
        assertEquals(true, n.get("capabilities").get("p2p").asBoolean());
        assertEquals(true, n.get("capabilities").get("signaling").asBoolean());
        // No operator configured: the node signals through the endpoint built into it.
        assertTrue(n.toString(), n.get("signaling").get("embedded").asBoolean());

        JsonNode nodes = Http.json(admin.get("/v1/nodes"));
        assertEquals(n.get("nodeId").asText(), nodes.get("node").get("nodeId").asText());
        assertEquals(n.get("fingerprint").asText(), nodes.get("node").get("fingerprint").asText());
        assertTrue(nodes.toString(), nodes.get("signaling").get("url").asText().matches("wss?://.+/signal"));
        assertTrue(nodes.toString(), nodes.get("iceServers").isArray());
        assertTrue(n.get("transfer").get("samples").isArray());
    }

    @Test
    public void switchesActOnTheNodeAndShowInTheShell() throws Exception {
        HttpResponse<String> paused = put("/v1/node/switches", "{\"pauseOutgoing\":true}");
        assertEquals(paused.body(), 200, paused.statusCode());
        assertTrue(Http.json(paused).get("pauseOutgoing").asBoolean());
        awaitFile(etc("org.sover.replication.cfg"), "(?s).*pauseOutgoing\\s*=\\s*\\S*true.*");
        NodeProcess.ClientResult status = node.client("admin", PASSWORD, "sover:status");
        assertTrue(status.output(), status.output().matches("(?s).*Outgoing transfers\\s*\\S*\\s*paused.*"));

        assertEquals(200, put("/v1/node/switches", "{\"pauseOutgoing\":false}").statusCode());
        NodeProcess.ClientResult on = node.client("admin", PASSWORD, "sover:status");
        assertTrue(on.output(), on.output().matches("(?s).*Outgoing transfers\\s*\\S*\\s*on.*"));

        HttpResponse<String> off = put("/v1/node/switches", "{\"p2p\":false,\"signaling\":false}");
        assertEquals(off.body(), 200, off.statusCode());
        assertFalse(Http.json(off).get("p2p").asBoolean());
        awaitFile(etc("org.sover.transport.webrtc.cfg"), "(?s).*enabled\\s*=\\s*\\S*false.*");
        awaitFile(etc("org.sover.signal.client.cfg"), "(?s).*enabled\\s*=\\s*\\S*false.*");
        awaitSignal("stopped");
        assertEquals(200, put("/v1/node/switches", "{\"p2p\":true}").statusCode());
        NodeProcess.ClientResult start = node.client("admin", PASSWORD, "sover:signal start");
        assertTrue(start.output(), start.output().contains("starting"));
        awaitSignal("connected");
        assertTrue(Http.json(admin.get("/v1/node/switches")).get("signaling").asBoolean());

        HttpResponse<String> unknown = put("/v1/node/switches", "{\"turbo\":true}");
        assertEquals(400, unknown.statusCode());
        assertEquals("turbo", Http.json(unknown).get("field").asText());
    }

    @Test
    public void settingsAreValidatedWrittenToEtcAndApplied() throws Exception {
        JsonNode defaults = Http.json(admin.get("/v1/settings"));
        assertEquals(8, defaults.get("retry").get("maxAttempts").asInt());

        HttpResponse<String> bad = put("/v1/settings", "{\"retry\":{\"maxAttempts\":0}}");
        assertEquals(400, bad.statusCode());
        assertEquals("invalid_setting", Http.json(bad).get("error").asText());
        assertEquals("retry.maxAttempts", Http.json(bad).get("field").asText());
        HttpResponse<String> badUrl = put("/v1/settings", "{\"signaling\":{\"turnUrls\":[\"http://x\"]}}");
        assertEquals("signaling.turnUrls", Http.json(badUrl).get("field").asText());
        HttpResponse<String> backwards = put("/v1/settings",
                "{\"retry\":{\"initialBackoffSeconds\":600,\"maxBackoffSeconds\":60}}");
        assertEquals("retry.maxBackoffSeconds", Http.json(backwards).get("field").asText());
        assertEquals("nothing was written by the refused requests", 8,
                Http.json(admin.get("/v1/settings")).get("retry").get("maxAttempts").asInt());

        HttpResponse<String> ok = put("/v1/settings", "{\"retry\":{\"maxAttempts\":5},"
                + "\"replication\":{\"maxSendKiBps\":2048,\"redundancyTarget\":2},"
                // Loopback addresses only: the node's signal client connects to what is set here.
                + "\"signaling\":{\"url\":\"ws://127.0.0.1:9/signal\",\"stunUrls\":[\"stun:127.0.0.1:9\"]}}");
        assertEquals(ok.body(), 200, ok.statusCode());
        assertEquals(5, Http.json(ok).get("retry").get("maxAttempts").asInt());
        assertEquals(2048, Http.json(admin.get("/v1/settings")).get("replication").get("maxSendKiBps").asInt());
        // A PID no .cfg file held before gets one in the node's etc/, so it survives a restart.
        awaitFile(etc("org.sover.signal.client.cfg"), "(?s).*ws://127\\.0\\.0\\.1:9/signal.*");
        awaitFile(etc("org.sover.retry.cfg"), "(?s).*maxAttempts\\s*=\\s*\\S*5.*");
        // Back to the signaling built into the node, which the switches test connects to.
        assertEquals(200, put("/v1/settings", "{\"signaling\":{\"url\":\"\"}}").statusCode());

        JsonNode log = Http.json(admin.get("/v1/diagnostics"));
        assertTrue(log.toString(), log.get("items").toString().contains("Settings changed by admin"));
        long next = log.get("next").asLong();
        assertEquals(0, Http.json(admin.get("/v1/diagnostics?after=" + next)).get("items").size());

        admin.postJson("/v1/accounts", "{\"username\":\"member\",\"password\":\"member-password\",\"role\":\"member\"}");
        Http member = node.http();
        member.login("member", "member-password");
        assertEquals(403, member.get("/v1/settings").statusCode());
        assertEquals(200, member.get("/v1/node").statusCode());
    }

    /**
     * After a rebuild or upgrade the node must run the distribution's bundles, not the ones
     * Karaf cached at its last start; settings (in etc/) and data stay.
     */
    @Test
    public void zzANewerDistributionReplacesTheCachedBundlesAtTheNextStart() throws Exception {
        assertEquals(200, put("/v1/settings", "{\"retry\":{\"coolDownSeconds\":1234}}").statusCode());
        node.stop();
        Path cache = node.data.resolve("karaf").resolve("cache");
        assertTrue(Files.isDirectory(cache));
        // Anything left in the old cache shows whether Karaf dropped it.
        Path marker = Files.writeString(cache.resolve("left-by-the-test"), "old cache");
        // What a rebuild does to one of the distribution's Sover bundles.
        Path jar;
        try (java.util.stream.Stream<Path> s = Files.walk(NodeProcess.ASSEMBLY.resolve("system/org/sover/sover-webconsole"))) {
            jar = s.filter(p -> p.toString().endsWith(".jar")).findFirst().orElseThrow();
        }
        Files.setLastModifiedTime(jar, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 1000));

        node.start().awaitHealthy(Duration.ofSeconds(120));
        admin = node.http();
        admin.login("admin", PASSWORD);
        assertTrue("Karaf consumed its clean_cache indicator", !Files.exists(node.data.resolve("karaf/clean_cache")));
        assertTrue("the cache was made afresh", Files.isDirectory(cache) && !Files.exists(marker));
        assertEquals(1234, Http.json(admin.get("/v1/settings")).get("retry").get("coolDownSeconds").asInt());
    }

    /** Waits until the node's signal client reports {@code state} (through the dashboard and the shell). */
    private static void awaitSignal(String state) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String seen = "";
        while (System.nanoTime() < deadline) {
            seen = Http.json(admin.get("/v1/node")).get("signaling").toString();
            if (seen.contains("\"state\":\"" + state + "\"")) {
                NodeProcess.ClientResult shell = node.client("admin", PASSWORD, "sover:signal");
                assertTrue(shell.output(), shell.output().matches("(?s).*State\\s*\\S*\\s*" + state + ".*"));
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("signaling never became " + state + "; the dashboard says " + seen);
    }

    /** Karaf writes configuration back to etc/ a moment after the change: waits for it. */
    private static void awaitFile(Path file, String regex) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        String text = "";
        while (System.nanoTime() < deadline) {
            text = Files.exists(file) ? Files.readString(file) : "";
            if (text.matches(regex)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(file + " never matched " + regex + "; it holds: " + text);
    }

    private static HttpResponse<String> put(String path, String json) throws Exception {
        return admin.send(admin.request(path).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    private static Path etc(String file) {
        return node.data.resolve("etc").resolve(file);
    }
}
