package org.sover.crypto.internal;

import java.util.Locale;

/**
 * Node ids in Syncthing's device id format: SHA-256 of the raw public key in base32 (52
 * characters), split into four chunks of 13 that each get a check character, shown as eight
 * groups of seven, e.g. {@code MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYC-YLTMRWA}.
 */
final class NodeIdFormat {
    private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private static final int CHUNK = 13;
    private static final int CHECKED_CHUNK = CHUNK + 1;
    private static final int GROUP = 7;
    /** Length without dashes: 4 chunks of 13 characters plus 4 check characters. */
    static final int LENGTH = 4 * CHECKED_CHUNK;

    private NodeIdFormat() {
    }

    static String fromPublicKey(byte[] publicKey) {
        String base32 = base32(sha256(publicKey));
        StringBuilder checked = new StringBuilder(LENGTH);
        for (int i = 0; i < base32.length(); i += CHUNK) {
            String chunk = base32.substring(i, i + CHUNK);
            checked.append(chunk).append(checkCharacter(chunk));
        }
        return grouped(checked);
    }

    /**
     * The node id as {@link #fromPublicKey} writes it (uppercase, dashed). Ids are bound into
     * signatures and AAD byte for byte, so both sides must use this one spelling.
     *
     * @throws IllegalArgumentException unless {@link #isValid} accepts {@code nodeId}
     */
    static String canonical(String nodeId) {
        if (!isValid(nodeId)) {
            throw new IllegalArgumentException("not a valid node id: " + nodeId);
        }
        return grouped(compact(nodeId));
    }

    /** Accepts any case, with or without dashes and spaces; every check character must be right. */
    static boolean isValid(String nodeId) {
        if (nodeId == null) {
            return false;
        }
        String compact = compact(nodeId);
        if (compact.length() != LENGTH) {
            return false;
        }
        for (int i = 0; i < LENGTH; i += CHECKED_CHUNK) {
            String chunk = compact.substring(i, i + CHUNK);
            char check = compact.charAt(i + CHUNK);
            if (ALPHABET.indexOf(check) < 0 || !chunk.chars().allMatch(c -> ALPHABET.indexOf(c) >= 0)
                    || checkCharacter(chunk) != check) {
                return false;
            }
        }
        return true;
    }

    private static String compact(String nodeId) {
        return nodeId.replace("-", "").replace(" ", "").toUpperCase(Locale.ROOT);
    }

    private static String grouped(CharSequence compact) {
        StringBuilder grouped = new StringBuilder(LENGTH + LENGTH / GROUP - 1);
        for (int i = 0; i < LENGTH; i += GROUP) {
            if (i > 0) {
                grouped.append('-');
            }
            grouped.append(compact, i, i + GROUP);
        }
        return grouped.toString();
    }

    /**
     * Syncthing's "luhn32": not quite Luhn mod N (the factor starts at 1 from the left), but
     * it is what Syncthing ids use, and it still catches every single-character change.
     */
    static char checkCharacter(String chunk) {
        int factor = 1;
        int sum = 0;
        int n = ALPHABET.length();
        for (int i = 0; i < chunk.length(); i++) {
            int codepoint = ALPHABET.indexOf(chunk.charAt(i));
            if (codepoint < 0) {
                throw new IllegalArgumentException("not a base32 character: " + chunk.charAt(i));
            }
            int addend = factor * codepoint;
            factor = factor == 2 ? 1 : 2;
            sum += addend / n + addend % n;
        }
        return ALPHABET.charAt((n - sum % n) % n);
    }

    /** RFC 4648 base32, uppercase, without padding. */
    static String base32(byte[] bytes) {
        StringBuilder out = new StringBuilder((bytes.length * 8 + 4) / 5);
        int buffer = 0;
        int bits = 0;
        for (byte b : bytes) {
            buffer = (buffer << 8) | (b & 0xff);
            bits += 8;
            while (bits >= 5) {
                out.append(ALPHABET.charAt((buffer >> (bits - 5)) & 31));
                bits -= 5;
            }
        }
        if (bits > 0) {
            out.append(ALPHABET.charAt((buffer << (5 - bits)) & 31));
        }
        return out.toString();
    }

    static byte[] sha256(byte[] data) {
        return JdkPrimitives.sha256().digest(data);
    }
}
