package org.sover.replication.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

import org.sover.api.crypto.NodeIdentity;
import org.sover.api.crypto.SignedRequest;

/** The {@code X-Sover-*} headers of a signed node-to-node request or response (docs/PROTOCOL.md). */
final class SignedHeaders {
    static final String NODE = "X-Sover-Node";
    static final String TIME = "X-Sover-Time";
    static final String NONCE = "X-Sover-Nonce";
    static final String SIGNATURE = "X-Sover-Signature";
    /** The method a response's signature is made for, bound to the request's path and nonce. */
    static final String RESPONSE = "RESPONSE";
    private static final SecureRandom RANDOM = new SecureRandom();
    static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    static final Base64.Decoder B64D = Base64.getUrlDecoder();

    private SignedHeaders() {
    }

    static String newNonce() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return B64.encodeToString(b);
    }

    static String sha256Hex(byte[] body) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Headers that sign {@code method path?query} with {@code body} as this node. */
    static Map<String, String> sign(NodeIdentity identity, String method, String path, String query, byte[] body,
            long timeMillis, String nonce) {
        return signHashed(identity, method, path, query, sha256Hex(body), timeMillis, nonce);
    }

    /** As {@link #sign}, for a body known by its hex SHA-256 (a blob, by its manifest). */
    static Map<String, String> signHashed(NodeIdentity identity, String method, String path, String query,
            String bodySha256, long timeMillis, String nonce) {
        SignedRequest r = new SignedRequest(method, path, query == null ? "" : query, bodySha256,
                identity.nodeId(), timeMillis, nonce);
        Map<String, String> h = new LinkedHashMap<>();
        h.put(NODE, identity.nodeId());
        h.put(TIME, Long.toString(timeMillis));
        h.put(NONCE, nonce);
        h.put(SIGNATURE, B64.encodeToString(identity.sign(r.canonicalBytes())));
        return h;
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
