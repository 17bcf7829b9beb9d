package org.sover.signal.internal;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import org.sover.api.crypto.SignatureVerifier;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A node's signed claim to be present: {@code hello} and {@code renew} carry it. The signature
 * covers {@code "sover-presence-v1\n" + nodeId + "\n" + expires}, so a ticket names one node and
 * one expiry and nothing else.
 */
public record PresenceTicket(String nodeId, byte[] publicKey, long expires, byte[] signature) {
    public static final String CONTEXT = "sover-presence-v1\n";

    /** What the signature covers. */
    public static byte[] signedBytes(String nodeId, long expires) {
        return (CONTEXT + nodeId + "\n" + expires).getBytes(StandardCharsets.UTF_8);
    }

    /** A ticket that failed; {@code code} goes into the error frame, {@code message} to people. */
    public static final class Rejected extends Exception {
        private static final long serialVersionUID = 1L;
        public final String code;

        public Rejected(String code, String message) {
            super(message);
            this.code = code;
        }
    }

    public static PresenceTicket parse(JsonNode frame) throws Rejected {
        JsonNode nodeId = frame.get("nodeId");
        JsonNode key = frame.get("publicKey");
        JsonNode expires = frame.get("expires");
        JsonNode signature = frame.get("signature");
        if (nodeId == null || !nodeId.isTextual() || key == null || !key.isTextual() || expires == null
                || !expires.canConvertToLong() || signature == null || !signature.isTextual()) {
            throw new Rejected("bad_ticket", "a presence ticket needs nodeId, publicKey, expires and signature");
        }
        try {
            return new PresenceTicket(nodeId.asText(), Base64.getDecoder().decode(key.asText()), expires.asLong(),
                    Base64.getDecoder().decode(signature.asText()));
        } catch (IllegalArgumentException e) {
            throw new Rejected("bad_ticket", "publicKey and signature must be base64");
        }
    }

    /**
     * Checks that the key belongs to the node id, the signature is the key's, and the expiry lies
     * in the future but at most {@code maxAheadSeconds} ahead.
     */
    public void verify(SignatureVerifier verifier, long nowEpochSecond, long maxAheadSeconds) throws Rejected {
        String derived;
        try {
            derived = verifier.nodeIdOf(publicKey);
        } catch (IllegalArgumentException e) {
            throw new Rejected("bad_ticket", "publicKey is not a raw 32-byte Ed25519 key");
        }
        if (!derived.equals(nodeId)) {
            throw new Rejected("bad_ticket", "nodeId does not belong to publicKey");
        }
        if (!verifier.verify(publicKey, signedBytes(nodeId, expires), signature)) {
            throw new Rejected("bad_ticket", "signature does not verify");
        }
        if (expires <= nowEpochSecond) {
            throw new Rejected("expired_ticket", "ticket expired at " + expires + " (server time " + nowEpochSecond
                    + "); check the node's clock");
        }
        if (expires > nowEpochSecond + maxAheadSeconds) {
            throw new Rejected("bad_ticket", "ticket expires too far ahead: at most " + maxAheadSeconds
                    + " s from now (server time " + nowEpochSecond + ")");
        }
    }
}
