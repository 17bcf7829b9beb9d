package org.sover.api.crypto;

import java.nio.charset.StandardCharsets;

/**
 * The parts of a node-to-node HTTP request that its sender signs with its node key: a change
 * to any of them (a tampered body, another path, a replayed nonce) breaks the signature.
 * Sent as headers {@code X-Sover-Node}, {@code X-Sover-Time} (epoch millis),
 * {@code X-Sover-Nonce} and {@code X-Sover-Signature} (base64url, no padding).
 *
 * @param query      the raw query string, or "" when there is none
 * @param bodySha256 hex SHA-256 of the body ("" body included)
 */
public record SignedRequest(String method, String path, String query, String bodySha256, String nodeId,
        long timestampMillis, String nonce) {

    /**
     * The canonical form is one field a line, so no field may contain a line break:
     * otherwise two different requests could sign the same bytes.
     */
    public SignedRequest {
        requireOneLine("method", method);
        requireOneLine("path", path);
        requireOneLine("query", query);
        requireOneLine("bodySha256", bodySha256);
        requireOneLine("nodeId", nodeId);
        requireOneLine("nonce", nonce);
    }

    private static void requireOneLine(String name, String value) {
        if (value == null || value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
            throw new IllegalArgumentException(name + " must be present and on one line");
        }
    }

    public byte[] canonicalBytes() {
        String text = "sover-request-v1\n" + method + '\n' + path + '\n' + query + '\n' + bodySha256 + '\n' + nodeId
                + '\n' + timestampMillis + '\n' + nonce + '\n';
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
