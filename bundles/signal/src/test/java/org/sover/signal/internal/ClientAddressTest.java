package org.sover.signal.internal;

import static org.junit.Assert.assertEquals;

import java.util.List;

import org.junit.Test;

/** Which address the per-address limits count, with and without a reverse proxy in front. */
public class ClientAddressTest {
    private static SignalLimits trusting(String... proxies) {
        SignalLimits d = SignalLimits.defaults();
        return new SignalLimits(d.maxMessageBytes(), d.maxConnectionsPerIp(), d.messagesPerSecond(),
                d.idleTimeoutSeconds(), d.presenceTtlSeconds(), d.turnTtlSeconds(), "", List.of(), List.of(),
                List.of(proxies));
    }

    @Test
    public void withoutTrustedProxiesTheTcpPeerCountsAndForwardedHeadersAreIgnored() {
        assertEquals("203.0.113.9", SignalLimits.defaults().clientAddress("203.0.113.9", "198.51.100.1"));
    }

    @Test
    public void behindATrustedProxyTheAddressItSawCounts() {
        assertEquals("198.51.100.7", trusting("127.0.0.1").clientAddress("127.0.0.1", "198.51.100.7"));
    }

    @Test
    public void aClientCannotPickItsAddressByForgingTheHeader() {
        // The client sent "X-Forwarded-For: 10.9.9.9"; the proxy appended the address it saw.
        assertEquals("198.51.100.7", trusting("127.0.0.1").clientAddress("127.0.0.1", "10.9.9.9, 198.51.100.7"));
    }

    @Test
    public void anUntrustedPeerCannotClaimAnotherAddress() {
        assertEquals("203.0.113.9", trusting("127.0.0.1").clientAddress("203.0.113.9", "198.51.100.7"));
    }
}
