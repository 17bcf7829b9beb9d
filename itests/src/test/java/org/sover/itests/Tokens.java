package org.sover.itests;

import java.io.IOException;

/** Logs in through the API and returns the session cookie, for clients outside {@link Http}. */
public final class Tokens {
    private Tokens() {
    }

    public static String sessionCookie(int port, String user, String password) throws IOException, InterruptedException {
        Http http = new Http(port);
        var r = http.postJson("/v1/session", "{\"username\":\"" + user + "\",\"password\":\"" + password + "\"}");
        if (r.statusCode() != 200) {
            throw new AssertionError("login failed: " + r.statusCode() + " " + r.body());
        }
        String setCookie = r.headers().firstValue("Set-Cookie").orElseThrow();
        return setCookie.substring(0, setCookie.indexOf(';'));
    }
}
