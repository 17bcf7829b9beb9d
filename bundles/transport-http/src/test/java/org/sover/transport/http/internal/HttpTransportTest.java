package org.sover.transport.http.internal;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

public class HttpTransportTest {
    @Test
    public void loopbackPrivateAndLinkLocalAddressesAreTheLan() {
        assertEquals("lan", HttpTransport.pathOf("http://127.0.0.1:8181"));
        assertEquals("lan", HttpTransport.pathOf("http://[::1]:8181"));
        assertEquals("lan", HttpTransport.pathOf("http://192.168.1.20:8181/"));
        assertEquals("lan", HttpTransport.pathOf("http://10.0.0.5:8181"));
        assertEquals("lan", HttpTransport.pathOf("http://[fd12:3456::1]:8181"));
        assertEquals("lan", HttpTransport.pathOf("http://[fe80::1]:8181"));
        assertEquals("lan", HttpTransport.pathOf("http://nas.local:8181"));
    }

    @Test
    public void publicAddressesAndNamesAreDirect() {
        assertEquals("direct", HttpTransport.pathOf("http://203.0.113.7:8181"));
        assertEquals("direct", HttpTransport.pathOf("http://[2001:db8::7]:8181"));
        assertEquals("direct", HttpTransport.pathOf("https://grandma.example.org"));
        assertEquals("direct", HttpTransport.pathOf("not a url"));
    }
}
