package org.sover.signal.client.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

import org.junit.Test;

public class SignalUrlsTest {
    @Test
    public void environmentOverridesConfiguredUrl() {
        assertEquals(Optional.of("wss://env/signal"),
                SignalUrls.operatorUrl("wss://cfg/signal", Map.of("SOVER_SIGNAL_URL", "wss://env/signal")));
        assertEquals(Optional.of("wss://cfg/signal"), SignalUrls.operatorUrl(" wss://cfg/signal ", Map.of()));
        assertEquals(Optional.empty(), SignalUrls.operatorUrl("", Map.of("SOVER_SIGNAL_URL", " ")));
        assertEquals(Optional.empty(), SignalUrls.operatorUrl(null, Map.of()));
    }

    @Test
    public void embeddedUrlUsesTheHttpPort() {
        Properties p = new Properties();
        assertEquals("ws://127.0.0.1:8181/signal", SignalUrls.embeddedUrl(p));
        p.setProperty("sover.http.port", "9001");
        assertEquals("ws://127.0.0.1:9001/signal", SignalUrls.embeddedUrl(p));
        p.setProperty("org.osgi.service.http.port", "9002");
        assertEquals("ws://127.0.0.1:9002/signal", SignalUrls.embeddedUrl(p));
        p.setProperty("sover.http.host", "0.0.0.0");
        assertEquals("ws://127.0.0.1:9002/signal", SignalUrls.embeddedUrl(p));
        p.setProperty("sover.http.host", "192.168.1.5");
        assertEquals("ws://192.168.1.5:9002/signal", SignalUrls.embeddedUrl(p));
        p.setProperty("sover.http.host", "fd00::5");
        assertEquals("ws://[fd00::5]:9002/signal", SignalUrls.embeddedUrl(p));
    }

    @Test
    public void peerHttpAddressesBecomeSignalEndpoints() {
        assertEquals(Optional.of("ws://nas.local:8181/signal"), SignalUrls.fromHttpAddress("http://nas.local:8181"));
        assertEquals(Optional.of("ws://nas.local:8181/signal"), SignalUrls.fromHttpAddress("http://nas.local:8181/"));
        assertEquals(Optional.of("wss://vault.example.org/signal"), SignalUrls.fromHttpAddress("https://vault.example.org"));
        assertEquals(Optional.of("ws://[fd00::1]:8181/signal"), SignalUrls.fromHttpAddress("http://[fd00::1]:8181"));
        assertEquals(Optional.empty(), SignalUrls.fromHttpAddress("ftp://x"));
        assertEquals(Optional.empty(), SignalUrls.fromHttpAddress(""));
        assertEquals(Optional.empty(), SignalUrls.fromHttpAddress("not a url"));
    }

    @Test
    public void onlyWebSocketUrlsAreUsable() {
        assertTrue(SignalUrls.isWebSocketUrl("ws://h:1/signal"));
        assertTrue(SignalUrls.isWebSocketUrl("wss://h/signal"));
        assertFalse(SignalUrls.isWebSocketUrl("http://h/signal"));
        assertFalse(SignalUrls.isWebSocketUrl("nonsense"));
    }

    @Test
    public void listsComeAsArraysOrCommaSeparated() {
        assertEquals(List.of("stun:a", "stun:b", "stun:c"), SignalUrls.splitAll("stun:a, stun:b", "stun:c", "stun:a"));
        assertEquals(List.of(), SignalUrls.splitAll((String[]) null));
        assertEquals(List.of(), SignalUrls.splitAll(""));
    }
}
