package org.sover.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;
import org.sover.crypto.internal.Ed25519SignatureVerifier;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The operator's signal server as a process (signal-distribution), driven with JDK WebSocket
 * clients that present real Ed25519 tickets, as nodes do.
 */
public class SignalServerIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECRET = "it-turn-secret";
    private static final String TURN_URL = "turn:127.0.0.1:3478";
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static SignalProcess server;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeClass
    public static void startServer() throws Exception {
        server = SignalProcess.create("signal", Map.of("SIGNAL_TURN_SECRET", SECRET, "SIGNAL_TURN_URLS", TURN_URL,
                "SIGNAL_STUN_URLS", "stun:127.0.0.1:3478"));
        long t0 = System.nanoTime();
        server.start().awaitHealthy(Duration.ofSeconds(90));
        System.out.printf("signal server healthy after %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    }

    @AfterClass
    public static void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    public void healthAndMetricsAnswer() throws Exception {
        for (String path : List.of("/health", "/signal/health")) {
            HttpResponse<String> r = server.get(path);
            assertEquals(path, 200, r.statusCode());
            JsonNode health = JSON.readTree(r.body());
            assertEquals("UP", health.get("status").asText());
            assertTrue(health.has("connectedNodes"));
        }
        JsonNode metrics = JSON.readTree(server.get("/metrics").body());
        assertTrue(metrics.has("messagesRelayed"));
        assertTrue(metrics.get("rejections").isObject());
    }

    @Test
    public void offerIsRelayedAndWelcomeCarriesTurnCredentials() throws Exception {
        Node a = Node.create();
        Node b = Node.create();
        try (Client ca = Client.open(server.wsUrl()); Client cb = Client.open(server.wsUrl())) {
            JsonNode welcomeA = ca.hello(a);
            cb.hello(b);
            assertEquals(a.id, welcomeA.get("nodeId").asText());
            assertTrue(welcomeA.get("renewSeconds").asLong() > 0);
            long turnExpires = welcomeA.get("turnExpires").asLong();
            assertTrue(turnExpires > Instant.now().getEpochSecond());
            JsonNode turn = null;
            for (JsonNode s : welcomeA.get("iceServers")) {
                if (s.has("username")) {
                    turn = s;
                }
            }
            assertNotNull("a TURN entry with credentials: " + welcomeA, turn);
            assertEquals(TURN_URL, turn.get("urls").get(0).asText());
            String username = turnExpires + ":" + a.id;
            assertEquals(username, turn.get("username").asText());
            assertEquals(hmacSha1(SECRET, username), turn.get("credential").asText());

            ca.send("{\"type\":\"signal\",\"id\":\"o1\",\"to\":\"" + b.id
                    + "\",\"kind\":\"offer\",\"payload\":{\"sdp\":\"v=0 test\"}}");
            JsonNode offer = cb.await(f -> "signal".equals(f.path("type").asText()));
            assertEquals(a.id, offer.get("from").asText());
            assertEquals("offer", offer.get("kind").asText());
            assertEquals("v=0 test", offer.get("payload").get("sdp").asText());
            JsonNode ack = ca.await(f -> "sent".equals(f.path("type").asText()));
            assertEquals("o1", ack.get("id").asText());

            ca.send("{\"type\":\"signal\",\"id\":\"o2\",\"to\":\"" + Node.create().id
                    + "\",\"kind\":\"offer\",\"payload\":{}}");
            JsonNode absent = ca.await(f -> "error".equals(f.path("type").asText()));
            assertEquals("not_present", absent.get("code").asText());
            assertEquals("o2", absent.get("id").asText());
        }
    }

    @Test
    public void forgedTicketIsRefused() throws Exception {
        Node a = Node.create();
        Node b = Node.create();
        try (Client c = Client.open(server.wsUrl())) {
            long expires = Instant.now().getEpochSecond() + 60;
            // a's id and key, b's signature
            c.send(a.ticket("hello", expires, b.sign(Node.signedBytes(a.id, expires))));
            JsonNode error = c.await(f -> "error".equals(f.path("type").asText()));
            assertEquals("bad_ticket", error.get("code").asText());
            assertEquals(1008, c.awaitClose());
        }
    }

    @Test
    public void oversizeFrameIsClosedWith1009() throws Exception {
        try (Client c = Client.open(server.wsUrl())) {
            c.hello(Node.create());
            c.send("{\"type\":\"ping\",\"pad\":\"" + "x".repeat(70_000) + "\"}");
            assertEquals(1009, c.awaitClose());
            assertTrue("reason names the limit: " + c.closeReason, c.closeReason.contains("65536"));
        }
    }

    @Test
    public void floodIsRateLimitedAndClosedWhileOthersAreServed() throws Exception {
        Node flooder = Node.create();
        Node b = Node.create();
        Node c = Node.create();
        try (Client cf = Client.open(server.wsUrl()); Client cb = Client.open(server.wsUrl());
                Client cc = Client.open(server.wsUrl())) {
            cf.hello(flooder);
            cb.hello(b);
            cc.hello(c);
            AtomicBoolean stop = new AtomicBoolean();
            Thread flood = new Thread(() -> {
                String frame = "{\"type\":\"signal\",\"to\":\"" + b.id + "\",\"kind\":\"candidate\",\"payload\":{}}";
                for (int i = 0; i < 5000 && !stop.get() && cf.closeCode.getNow(null) == null; i++) {
                    try {
                        cf.socket.sendText(frame, true).get(5, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        return; // closed under us
                    }
                }
            });
            flood.start();
            // a well-behaved neighbour on the same address still gets through, promptly
            for (int i = 0; i < 5; i++) {
                long t0 = System.nanoTime();
                String id = "c" + i;
                cc.send("{\"type\":\"signal\",\"id\":\"" + id + "\",\"to\":\"" + b.id
                        + "\",\"kind\":\"offer\",\"payload\":{\"n\":\"" + i + "\"}}");
                JsonNode ack = cc.await(f -> id.equals(f.path("id").asText()));
                assertEquals(ack.toString(), "sent", ack.get("type").asText());
                String n = Integer.toString(i);
                cb.await(f -> "signal".equals(f.path("type").asText()) && c.id.equals(f.path("from").asText())
                        && n.equals(f.path("payload").path("n").asText()));
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue("relay took " + ms + " ms during the flood", ms < 2000);
            }
            int closeCode = cf.awaitClose();
            stop.set(true);
            flood.join(10_000);
            assertEquals(1008, closeCode);
            assertTrue(cf.closeReason, cf.closeReason.startsWith("flooding"));
            assertTrue("rate_limited errors before the close", cf.count("rate_limited") > 0);
            assertEquals("the neighbour stays connected", null, cc.closeCode.getNow(null));
        }
    }

    @Test
    public void twentyFirstConnectionFromOneAddressIsRefused() throws Exception {
        awaitNoConnections();
        List<Client> open = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                open.add(Client.open(server.wsUrl()));
            }
            try {
                Client extra = Client.open(server.wsUrl());
                extra.close();
                fail("the 21st connection from 127.0.0.1 was accepted");
            } catch (CompletionException e) {
                assertTrue(String.valueOf(e.getCause()), e.getCause() instanceof WebSocketHandshakeException);
                assertEquals(429, ((WebSocketHandshakeException) e.getCause()).getResponse().statusCode());
            }
            JsonNode metrics = JSON.readTree(server.get("/metrics").body());
            assertTrue(metrics.toString(), metrics.get("rejections").path("too_many_connections").asLong() >= 1);
            assertEquals(20, metrics.get("connections").asInt());
        } finally {
            for (Client c : open) {
                c.close();
            }
        }
    }

    @Test
    public void metricsCountRelaysAndNodes() throws Exception {
        JsonNode before = JSON.readTree(server.get("/signal/metrics").body());
        Node a = Node.create();
        Node b = Node.create();
        try (Client ca = Client.open(server.wsUrl()); Client cb = Client.open(server.wsUrl())) {
            ca.hello(a);
            cb.hello(b);
            ca.send("{\"type\":\"signal\",\"id\":\"m\",\"to\":\"" + b.id + "\",\"kind\":\"bye\",\"payload\":{}}");
            ca.await(f -> "sent".equals(f.path("type").asText()));
            JsonNode after = JSON.readTree(server.get("/signal/metrics").body());
            assertTrue(after.get("connectedNodes").asInt() >= 2);
            assertTrue(after.get("messagesRelayed").asLong() >= before.get("messagesRelayed").asLong() + 1);
            assertTrue(after.get("hellos").asLong() >= before.get("hellos").asLong() + 2);
            assertTrue(after.get("connectionsOpened").asLong() >= before.get("connectionsOpened").asLong() + 2);
            JsonNode health = JSON.readTree(server.get("/health").body());
            assertTrue(health.get("connectedNodes").asInt() >= 2);
        }
    }

    private static void awaitNoConnections() throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        JsonNode m = null;
        while (System.nanoTime() < deadline) {
            m = JSON.readTree(server.get("/metrics").body());
            if (m.get("connections").asInt() == 0) {
                return;
            }
            Thread.sleep(100);
        }
        fail("connections of earlier tests still open: " + m);
    }

    private static String hmacSha1(String secret, String username) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA1");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
        return Base64.getEncoder().encodeToString(mac.doFinal(username.getBytes(StandardCharsets.UTF_8)));
    }

    /** A node identity: a JDK Ed25519 key and the node id the product derives from it. */
    static final class Node {
        final KeyPair keys;
        final byte[] publicKey;
        final String id;

        private Node(KeyPair keys) {
            this.keys = keys;
            byte[] encoded = keys.getPublic().getEncoded();
            this.publicKey = Arrays.copyOfRange(encoded, encoded.length - 32, encoded.length);
            this.id = new Ed25519SignatureVerifier().nodeIdOf(publicKey);
        }

        static Node create() throws Exception {
            return new Node(KeyPairGenerator.getInstance("Ed25519").generateKeyPair());
        }

        static byte[] signedBytes(String nodeId, long expires) {
            return ("sover-presence-v1\n" + nodeId + "\n" + expires).getBytes(StandardCharsets.UTF_8);
        }

        byte[] sign(byte[] message) throws Exception {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(keys.getPrivate());
            s.update(message);
            return s.sign();
        }

        String ticket(String type, long expires, byte[] signature) {
            return JSON.createObjectNode().put("type", type).put("nodeId", id)
                    .put("publicKey", Base64.getEncoder().encodeToString(publicKey)).put("expires", expires)
                    .put("signature", Base64.getEncoder().encodeToString(signature)).toString();
        }
    }

    /** A JDK WebSocket client that queues every frame it receives. */
    static final class Client implements WebSocket.Listener, AutoCloseable {
        final LinkedBlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
        final List<JsonNode> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
        volatile String closeReason;
        private final StringBuilder partial = new StringBuilder();
        WebSocket socket;

        static Client open(String url) {
            Client c = new Client();
            c.socket = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
                    .buildAsync(URI.create(url), c).orTimeout(10, TimeUnit.SECONDS).join();
            return c;
        }

        JsonNode hello(Node node) throws Exception {
            long expires = Instant.now().getEpochSecond() + 100;
            send(node.ticket("hello", expires, node.sign(Node.signedBytes(node.id, expires))));
            JsonNode welcome = await(f -> !"pong".equals(f.path("type").asText()));
            assertEquals(welcome.toString(), "welcome", welcome.get("type").asText());
            return welcome;
        }

        void send(String text) throws Exception {
            socket.sendText(text, true).get(10, TimeUnit.SECONDS);
        }

        /** The next frame that matches, skipping others; fails after the deadline. */
        JsonNode await(Predicate<JsonNode> match) throws Exception {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (true) {
                long left = deadline - System.nanoTime();
                JsonNode f = left > 0 ? frames.poll(left, TimeUnit.NANOSECONDS) : null;
                if (f == null) {
                    fail("no matching frame within " + WAIT + "; close " + closeCode.getNow(null) + " " + closeReason);
                }
                if (match.test(f)) {
                    return f;
                }
            }
        }

        long count(String code) {
            return seen.stream().filter(f -> code.equals(f.path("code").asText())).count();
        }

        int awaitClose() throws Exception {
            return closeCode.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                try {
                    JsonNode f = JSON.readTree(partial.toString());
                    frames.add(f);
                    seen.add(f);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                } finally {
                    partial.setLength(0);
                }
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closeReason = reason;
            closeCode.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closeReason = String.valueOf(error);
            closeCode.complete(1006);
        }

        @Override
        public void close() {
            if (!socket.isOutputClosed()) {
                socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").orTimeout(5, TimeUnit.SECONDS)
                        .exceptionally(t -> null).join();
            }
            socket.abort();
        }
    }
}
