package org.sover.api.crypto;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;


/** The {@code X-Sover-*} headers of a signed node-to-node request or response (docs/PROTOCOL.md). */
public final class SignedHeaders {
    public static final String NODE = "X-Sover-Node";
    public static final String TIME = "X-Sover-Time";
    public static final String NONCE = "X-Sover-Nonce";
    public static final String SIGNATURE = "X-Sover-Signature";
    /** The method a response's signature is made for, bound to the request's path and nonce. */
    public static final String RESPONSE = "RESPONSE";
    private static final SecureRandom RANDOM = new SecureRandom();
    public static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    public static final Base64.Decoder B64D = Base64.getUrlDecoder();

    private SignedHeaders() {
    }

    public static String newNonce() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return B64.encodeToString(b);
    }

    public static String sha256Hex(byte[] body) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Headers that sign {@code method path?query} with {@code body} as this node. */
    public static Map<String, String> sign(NodeIdentity identity, String method, String path, String query, byte[] body,
            long timeMillis, String nonce) {
        return signHashed(identity, method, path, query, sha256Hex(body), timeMillis, nonce);
    }

    /** As {@link #sign}, for a body known by its hex SHA-256 (a blob, by its manifest). */
    public static Map<String, String> signHashed(NodeIdentity identity, String method, String path, String query,
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

    public static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * True when a response carries this node's signature, made by {@code expectedKey}, over the
     * request's path and nonce, the status and the body (a response cannot be replayed as the
     * answer to another request).
     */
    public static boolean responseSignedBy(SignatureVerifier verifier, byte[] expectedKey, String path, String nonce,
            int status, byte[] body, java.util.function.UnaryOperator<String> header) {
        String node = header.apply(NODE);
        String time = header.apply(TIME);
        String sig = header.apply(SIGNATURE);
        if (node == null || time == null || sig == null) {
            return false;
        }
        try {
            SignedRequest signed = new SignedRequest(RESPONSE, path, Integer.toString(status), sha256Hex(body), node,
                    Long.parseLong(time), nonce);
            return verifier.nodeIdOf(expectedKey).equals(node)
                    && verifier.verify(expectedKey, signed.canonicalBytes(), B64D.decode(sig));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
