package org.sover.signal.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.junit.Before;
import org.junit.Test;
import org.sover.signal.internal.TestKeys.MutableClock;
import org.sover.signal.internal.TestKeys.Node;

import com.fasterxml.jackson.databind.JsonNode;

public class SignalHubTest {
    private final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T10:00:00Z"));
    private SignalHub hub;
    private Node a;
    private Node b;

    @Before
    public void setUp() throws Exception {
        hub = new SignalHub(clock, TestKeys.VERIFIER, SignalLimits.defaults());
        a = Node.create();
        b = Node.create();
    }

    private long now() {
        return clock.instant().getEpochSecond();
    }

    private FakeConnection connect(String ip) {
        FakeConnection c = new FakeConnection(ip);
        assertNotNull(hub.open(c));
        return c;
    }

    private SignalHub.Session hello(FakeConnection c, Node node) throws Exception {
        SignalHub.Session s = hub.sessions().stream().filter(x -> x.connection == c).findFirst().orElseThrow();
        hub.onText(s, node.ticket("hello", now() + 100));
        return s;
    }

    private SignalHub.Session session(FakeConnection c) {
        return hub.sessions().stream().filter(x -> x.connection == c).findFirst().orElse(null);
    }

    @Test
    public void goodTicketIsWelcomed() throws Exception {
        FakeConnection c = connect("10.0.0.1");
        hello(c, a);
        JsonNode welcome = c.last();
        assertEquals("welcome", welcome.get("type").asText());
        assertEquals(a.id(), welcome.get("nodeId").asText());
        assertEquals(now() + 100, welcome.get("presenceExpires").asLong());
        assertEquals(60, welcome.get("renewSeconds").asLong());
        assertTrue(welcome.get("iceServers").isArray());
        assertNull(c.closeCode);
        assertTrue(hub.isPresent(a.id()));
        assertEquals(1, hub.connectedNodes());
    }

    @Test
    public void forgedSignatureIsRefused() throws Exception {
        FakeConnection c = connect("10.0.0.1");
        long exp = now() + 100;
        // b signs a's ticket: the key named in the ticket is a's
        hub.onText(session(c), a.ticket("hello", a.id(), exp, b.sign(PresenceTicket.signedBytes(a.id(), exp))));
        assertRefused(c, "bad_ticket");
        assertFalse(hub.isPresent(a.id()));
        assertEquals(1, hub.metrics().rejections("bad_ticket"));
    }

    @Test
    public void wrongNodeIdIsRefused() throws Exception {
        FakeConnection c = connect("10.0.0.1");
        long exp = now() + 100;
        hub.onText(session(c), a.ticket("hello", b.id(), exp, a.sign(PresenceTicket.signedBytes(b.id(), exp))));
        assertRefused(c, "bad_ticket");
        assertTrue(c.all().get(0).get("message").asText().contains("nodeId"));
    }

    @Test
    public void expiredTicketIsRefused() throws Exception {
        FakeConnection c = connect("10.0.0.1");
        hub.onText(session(c), a.ticket("hello", now() - 1));
        assertRefused(c, "expired_ticket");
    }

    @Test
    public void ticketTooFarAheadIsRefused() throws Exception {
        FakeConnection c = connect("10.0.0.1");
        hub.onText(session(c), a.ticket("hello", now() + 241)); // 2 x presenceTtl (120) is the most
        assertRefused(c, "bad_ticket");
        FakeConnection d = connect("10.0.0.1");
        hub.onText(session(d), a.ticket("hello", now() + 240));
        assertEquals("welcome", d.last().get("type").asText());
        assertEquals("presence is capped at the TTL", now() + 120, d.last().get("presenceExpires").asLong());
    }

    @Test
    public void nothingIsRelayedBeforeHello() throws Exception {
        FakeConnection bConn = connect("10.0.0.2");
        hello(bConn, b);
        FakeConnection c = connect("10.0.0.1");
        hub.onText(session(c), "{\"type\":\"signal\",\"id\":\"1\",\"to\":\"" + b.id() + "\",\"kind\":\"offer\",\"payload\":{}}");
        assertRefused(c, "hello_required");
        assertEquals(1, bConn.frames.size()); // only its welcome
    }

    @Test
    public void signalIsRelayedWithSenderAndAcknowledged() throws Exception {
        FakeConnection aConn = connect("10.0.0.1");
        FakeConnection bConn = connect("10.0.0.2");
        SignalHub.Session sa = hello(aConn, a);
        hello(bConn, b);
        hub.onText(sa, "{\"type\":\"signal\",\"id\":\"m1\",\"to\":\"" + b.id()
                + "\",\"kind\":\"offer\",\"payload\":{\"sdp\":\"v=0\"}}");
        JsonNode got = bConn.last();
        assertEquals("signal", got.get("type").asText());
        assertEquals(a.id(), got.get("from").asText());
        assertEquals("offer", got.get("kind").asText());
        assertEquals("v=0", got.get("payload").get("sdp").asText());
        assertFalse(got.has("to"));
        JsonNode ack = aConn.last();
        assertEquals("sent", ack.get("type").asText());
        assertEquals("m1", ack.get("id").asText());
        assertEquals(1, hub.metrics().messagesRelayed());
    }

    @Test
    public void signalToAbsentNodeIsNotPresent() throws Exception {
        FakeConnection aConn = connect("10.0.0.1");
        SignalHub.Session sa = hello(aConn, a);
        hub.onText(sa, "{\"type\":\"signal\",\"id\":\"7\",\"to\":\"" + b.id() + "\",\"kind\":\"offer\",\"payload\":{}}");
        JsonNode err = aConn.last();
        assertEquals("error", err.get("type").asText());
        assertEquals("7", err.get("id").asText());
        assertEquals("not_present", err.get("code").asText());
        assertEquals("node " + b.id() + " is not connected to this signal server", err.get("message").asText());
        assertNull("the sender stays connected", aConn.closeCode);
    }

    @Test
    public void malformedSignalIsAnErrorWithoutClose() throws Exception {
        FakeConnection aConn = connect("10.0.0.1");
        SignalHub.Session sa = hello(aConn, a);
        hub.onText(sa, "{\"type\":\"signal\",\"id\":\"8\",\"to\":\"x\",\"kind\":\"offer\",\"payload\":{\"n\":1}}");
        assertEquals("bad_message", aConn.last().get("code").asText());
        hub.onText(sa, "not json");
        assertEquals("bad_message", aConn.last().get("code").asText());
        assertNull(aConn.closeCode);
    }

    @Test
    public void turnCredentialsFollowTheCoturnRestScheme() throws Exception {
        hub.setLimits(new SignalLimits(65536, 20, 50, 60, 120, 600, "s3cret",
                List.of("turn:turn.example.org:3478"), List.of("stun:stun.example.org:3478"), List.of()));
        FakeConnection c = connect("10.0.0.1");
        hello(c, a);
        JsonNode welcome = c.last();
        long expires = now() + 600;
        assertEquals(expires, welcome.get("turnExpires").asLong());
        JsonNode servers = welcome.get("iceServers");
        assertEquals(2, servers.size());
        assertEquals("stun:stun.example.org:3478", servers.get(0).get("urls").get(0).asText());
        assertFalse(servers.get(0).has("username"));
        JsonNode turn = servers.get(1);
        assertEquals("turn:turn.example.org:3478", turn.get("urls").get(0).asText());
        String username = expires + ":" + a.id();
        assertEquals(username, turn.get("username").asText());
        Mac mac = Mac.getInstance("HmacSHA1");
        mac.init(new SecretKeySpec("s3cret".getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
        String expected = Base64.getEncoder().encodeToString(mac.doFinal(username.getBytes(StandardCharsets.UTF_8)));
        assertEquals(expected, turn.get("credential").asText());

        // renew hands out fresh credentials
        clock.advanceSeconds(60);
        hub.onText(session(c), a.ticket("renew", now() + 120));
        JsonNode renewed = c.last();
        assertEquals("renewed", renewed.get("type").asText());
        assertEquals(now() + 600, renewed.get("turnExpires").asLong());
        assertEquals((now() + 600) + ":" + a.id(), renewed.get("iceServers").get(1).get("username").asText());
    }

    @Test
    public void noTurnWithoutSecret() throws Exception {
        hub.setLimits(new SignalLimits(65536, 20, 50, 60, 120, 600, "", List.of("turn:t:3478"), List.of(), List.of()));
        FakeConnection c = connect("10.0.0.1");
        hello(c, a);
        assertEquals(0, c.last().get("iceServers").size());
        assertFalse(c.last().has("turnExpires"));
    }

    @Test
    public void floodIsRateLimitedThenClosed() throws Exception {
        FakeConnection aConn = connect("10.0.0.1");
        FakeConnection bConn = connect("10.0.0.1");
        SignalHub.Session sa = hello(aConn, a);
        SignalHub.Session sb = hello(bConn, b);
        String toB = "{\"type\":\"signal\",\"to\":\"" + b.id() + "\",\"kind\":\"candidate\",\"payload\":{}}";
        // burst: 2 x 50 (the hello took one token)
        for (int i = 0; i < 99; i++) {
            hub.onText(sa, toB);
        }
        assertEquals(0, aConn.count("error", "rate_limited"));
        hub.onText(sa, toB);
        assertEquals(1, aConn.count("error", "rate_limited"));
        assertNull(aConn.closeCode);
        // the neighbour on the same address is not affected
        hub.onText(sb, "{\"type\":\"signal\",\"id\":\"n\",\"to\":\"" + a.id() + "\",\"kind\":\"offer\",\"payload\":{}}");
        assertEquals("sent", bConn.last().get("type").asText());
        // tokens come back with time
        clock.advanceMillis(1000);
        hub.onText(sa, toB);
        assertEquals(1, aConn.count("error", "rate_limited"));
        // more than 5 x 50 within one second closes the connection
        for (int i = 0; i < 250 && aConn.closeCode == null; i++) {
            hub.onText(sa, toB);
        }
        assertEquals(Integer.valueOf(1008), aConn.closeCode);
        assertTrue(aConn.closeReason, aConn.closeReason.startsWith("flooding"));
        assertEquals(1, hub.metrics().rejections("flooding"));
        assertFalse(hub.isPresent(a.id()));
    }

    @Test
    public void tokenBucketRefillsAtItsRate() {
        TokenBucket bucket = new TokenBucket(10, 20, 0);
        int taken = 0;
        while (bucket.tryTake(0)) {
            taken++;
        }
        assertEquals(20, taken);
        assertFalse(bucket.tryTake(99));
        assertTrue(bucket.tryTake(100));
        assertFalse(bucket.tryTake(100));
        assertTrue(bucket.tryTake(10_000));
    }

    @Test
    public void perAddressConnectionLimit() {
        for (int i = 0; i < 20; i++) {
            connect("10.0.0.9");
        }
        assertFalse(hub.admits("10.0.0.9"));
        assertTrue(hub.admits("10.0.0.8"));
        FakeConnection extra = new FakeConnection("10.0.0.9");
        assertNull(hub.open(extra));
        assertEquals(Integer.valueOf(1008), extra.closeCode);
        assertTrue(extra.closeReason.contains("limit 20"));
        assertEquals(1, hub.metrics().rejections("too_many_connections"));
        assertNotNull(hub.open(new FakeConnection("10.0.0.8")));
        // one leaves, another may come
        hub.onClose(hub.sessions().stream().filter(s -> s.ip.equals("10.0.0.9")).findFirst().orElseThrow());
        assertTrue(hub.admits("10.0.0.9"));
    }

    @Test
    public void oversizeFrameClosesWith1009() throws Exception {
        FakeConnection c = connect("10.0.0.1");
        SignalHub.Session s = hello(c, a);
        hub.onText(s, "{\"type\":\"ping\",\"x\":\"" + "é".repeat(33_000) + "\"}");
        assertEquals(Integer.valueOf(1009), c.closeCode);
        assertTrue(c.closeReason.contains("65536"));
    }

    @Test
    public void idleConnectionIsClosed() throws Exception {
        FakeConnection c = connect("10.0.0.1");
        SignalHub.Session s = session(c);
        hub.onText(s, a.ticket("hello", now() + 240)); // present for 120 s
        clock.advanceSeconds(59);
        hub.sweep();
        assertNull(c.closeCode);
        hub.onPing(s); // a ping counts as activity
        clock.advanceSeconds(59);
        hub.sweep();
        assertNull(c.closeCode);
        clock.advanceSeconds(1);
        hub.sweep();
        assertEquals(Integer.valueOf(1001), c.closeCode);
        assertEquals("idle", c.closeReason);
        assertFalse(hub.isPresent(a.id()));
        assertEquals(0, hub.connections());
    }

    @Test
    public void presenceExpiresUnlessRenewed() throws Exception {
        FakeConnection c = connect("10.0.0.1");
        SignalHub.Session s = hello(c, a); // expires now + 100
        for (int i = 0; i < 9; i++) {
            clock.advanceSeconds(10);
            hub.onPing(s);
            hub.sweep();
        }
        assertNull(c.closeCode);
        // renew at 90 s: presence now lasts to 90 + 120
        hub.onText(s, a.ticket("renew", now() + 200));
        assertEquals(now() + 120, c.last().get("presenceExpires").asLong());
        for (int i = 0; i < 11; i++) {
            clock.advanceSeconds(10);
            hub.onPing(s);
            hub.sweep();
        }
        assertNull(c.closeCode);
        clock.advanceSeconds(10);
        hub.onPing(s);
        hub.sweep();
        assertEquals(Integer.valueOf(1008), c.closeCode);
        assertEquals("presence expired", c.closeReason);
    }

    @Test
    public void renewForAnotherNodeIsRefused() throws Exception {
        FakeConnection c = connect("10.0.0.1");
        SignalHub.Session s = hello(c, a);
        hub.onText(s, b.ticket("renew", now() + 100));
        assertEquals(Integer.valueOf(1008), c.closeCode);
    }

    @Test
    public void noHelloWithinTenSecondsCloses() {
        FakeConnection c = connect("10.0.0.1");
        clock.advanceSeconds(9);
        hub.sweep();
        assertNull(c.closeCode);
        clock.advanceSeconds(1);
        hub.sweep();
        assertEquals(Integer.valueOf(1008), c.closeCode);
    }

    @Test
    public void secondConnectionReplacesTheFirst() throws Exception {
        FakeConnection first = connect("10.0.0.1");
        hello(first, a);
        FakeConnection second = connect("10.0.0.2");
        hello(second, a);
        assertEquals("replaced", first.closeReason);
        assertNull(second.closeCode);
        assertEquals(1, hub.connectedNodes());
        FakeConnection bConn = connect("10.0.0.3");
        SignalHub.Session sb = hello(bConn, b);
        hub.onText(sb, "{\"type\":\"signal\",\"id\":\"1\",\"to\":\"" + a.id() + "\",\"kind\":\"offer\",\"payload\":{}}");
        assertEquals("signal", second.last().get("type").asText());
    }

    @Test
    public void onlyFamilyWhenEmbedded() throws Exception {
        hub.setAdmission(id -> id.equals(a.id()) ? Optional.empty() : Optional.of("not paired with this node"));
        FakeConnection ok = connect("10.0.0.1");
        hello(ok, a);
        assertEquals("welcome", ok.last().get("type").asText());
        FakeConnection stranger = connect("10.0.0.2");
        hello(stranger, b);
        assertRefused(stranger, "not_family");
        assertEquals(1, hub.metrics().rejections("not_family"));
    }

    @Test
    public void metricsCountWhatHappened() throws Exception {
        FakeConnection aConn = connect("10.0.0.1");
        SignalHub.Session sa = hello(aConn, a);
        hub.onText(sa, "{\"type\":\"signal\",\"to\":\"nobody\",\"kind\":\"offer\",\"payload\":{}}");
        var m = hub.metricsSnapshot();
        assertEquals(1, m.get("connectedNodes"));
        assertEquals(1, m.get("connections"));
        assertEquals(1L, m.get("connectionsOpened"));
        assertEquals(2L, m.get("messagesReceived"));
        assertEquals(0L, m.get("messagesRelayed"));
        assertEquals(1L, ((java.util.Map<?, ?>) m.get("rejections")).get("not_present"));
    }

    @Test
    public void limitsFromConfigAndEnvironment() {
        SignalConfig config = new SignalConfig() {
            @Override
            public Class<? extends java.lang.annotation.Annotation> annotationType() {
                return SignalConfig.class;
            }

            @Override
            public boolean enabled() {
                return true;
            }

            @Override
            public boolean standalone() {
                return true;
            }

            @Override
            public String turnSecret() {
                return "from-config";
            }

            @Override
            public String[] turnUrls() {
                return new String[] {"turn:a:3478, turn:b:3478"};
            }

            @Override
            public String[] stunUrls() {
                return new String[] {"stun:a:3478", "stun:b:3478"};
            }

            @Override
            public String[] trustedProxies() {
                return new String[0];
            }

            @Override
            public long turnTtlSeconds() {
                return 300;
            }

            @Override
            public long presenceTtlSeconds() {
                return 0; // not positive: default
            }

            @Override
            public int maxMessageBytes() {
                return 1000;
            }

            @Override
            public int maxConnectionsPerIp() {
                return 3;
            }

            @Override
            public int messagesPerSecond() {
                return 10;
            }

            @Override
            public long idleTimeoutSeconds() {
                return 30;
            }
        };
        SignalLimits l = SignalLimits.from(config, java.util.Map.of());
        assertEquals(List.of("turn:a:3478", "turn:b:3478"), l.turnUrls());
        assertEquals(List.of("stun:a:3478", "stun:b:3478"), l.stunUrls());
        assertEquals("from-config", l.turnSecret());
        assertEquals(120, l.presenceTtlSeconds());
        assertEquals(1000, l.maxMessageBytes());
        assertFalse(l.toString().contains("from-config"));
        SignalLimits env = SignalLimits.from(config, java.util.Map.of("SIGNAL_TURN_SECRET", "env-secret",
                "SIGNAL_TURN_URLS", "turn:env:3478", "SIGNAL_STUN_URLS", "stun:env:3478,stun:env2:3478"));
        assertEquals("env-secret", env.turnSecret());
        assertEquals(List.of("turn:env:3478"), env.turnUrls());
        assertEquals(List.of("stun:env:3478", "stun:env2:3478"), env.stunUrls());
    }

    private static void assertRefused(FakeConnection c, String code) throws Exception {
        JsonNode err = c.all().get(0);
        assertEquals("error", err.get("type").asText());
        assertEquals(code, err.get("code").asText());
        assertEquals(Integer.valueOf(1008), c.closeCode);
        assertNotNull(c.closeReason);
        assertTrue(c.closeReason.startsWith(code));
    }

    @Test
    public void slotsReservedAtTheUpgradeCountAgainstTheLimitBeforeTheConnectionsStart() {
        for (int i = 0; i < SignalLimits.defaults().maxConnectionsPerIp(); i++) {
            assertTrue("slot " + i, hub.reserve("10.0.0.7"));
        }
        assertFalse("no slot left while the reserved handshakes are still finishing", hub.reserve("10.0.0.7"));
        hub.release("10.0.0.7");
        assertTrue(hub.reserve("10.0.0.7"));
    }
}
