package org.sover.signal.internal;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * TURN REST credentials as coturn checks them with {@code use-auth-secret}: the username is
 * {@code <expiry epoch seconds>:<node id>}, the credential {@code base64(HMAC-SHA1(secret, username))}.
 */
public final class TurnCredentials {
    private TurnCredentials() {
    }

    public record Credential(String username, String credential, long expiresEpochSecond) {
        @Override
        public String toString() {
            return "Credential[username=" + username + ", expires=" + expiresEpochSecond + "]";
        }
    }

    public static Credential issue(String secret, String nodeId, long expiresEpochSecond) {
        String username = expiresEpochSecond + ":" + nodeId;
        return new Credential(username, hmac(secret, username), expiresEpochSecond);
    }

    static String hmac(String secret, String username) {
        try {
            Mac mac = Mac.getInstance("HmacSHA1");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
            return Base64.getEncoder().encodeToString(mac.doFinal(username.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA1 is part of every JDK", e);
        }
    }
}
