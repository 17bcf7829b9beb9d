package org.sover.api.crypto;

/**
 * What encrypting one blob produced.
 *
 * @param contentId    hex HMAC-SHA256 of the plaintext under a key derived from the vault
 *                     key: the dedup id, which peers without the vault key cannot guess
 * @param plaintextSize bytes of plaintext
 * @param cipherSize   bytes of ciphertext written (header included)
 * @param segments     number of encrypted segments
 * @param cipherSha256 hex SHA-256 of the ciphertext, checkable by any node
 */
public record EncryptionResult(String contentId, long plaintextSize, long cipherSize, int segments,
        String cipherSha256) {
}
