package org.sover.signal.client.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;

import java.util.List;

import org.junit.Test;
import org.sover.api.signal.Signaling.IceServer;

import com.fasterxml.jackson.databind.ObjectMapper;

public class IceServersTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    public void serverListPlusConfiguredStun() throws Exception {
        List<IceServer> servers = IceServers.merge(JSON.readTree(
                "[{\"urls\":[\"stun:s:3478\"]},{\"urls\":[\"turn:t:3478\"],\"username\":\"9:N\",\"credential\":\"c\"}]"),
                List.of("stun:mine:3478", "stun:s:3478"), List.of("turn:mine:3478"));
        assertEquals(4, servers.size());
        assertEquals(new IceServer(List.of("stun:s:3478"), null, null), servers.get(0));
        assertEquals(new IceServer(List.of("turn:t:3478"), "9:N", "c"), servers.get(1));
        assertEquals(new IceServer(List.of("stun:mine:3478"), null, null), servers.get(2));
        // configured TURN gets the server's credentials
        assertEquals(new IceServer(List.of("turn:mine:3478"), "9:N", "c"), servers.get(3));
    }

    @Test
    public void configuredTurnWithoutServerCredentialsIsLeftOut() {
        List<IceServer> servers = IceServers.merge(null, List.of("stun:mine:3478"), List.of("turn:mine:3478"));
        assertEquals(1, servers.size());
        assertNull(servers.get(0).username());
        assertEquals(List.of(), IceServers.merge(null, List.of(), List.of()));
    }
}
