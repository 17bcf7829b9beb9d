package org.sover.api.crypto;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.SeekableByteChannel;

/**
 * Blob encryption under the family vault key: AES-256-GCM in fixed-size segments, a
 * random per-blob key wrapped by the vault key in the blob header. Segments are bound to
 * their index and to "last segment", so truncation, reordering and splicing fail to
 * decrypt.
 */
public interface VaultCipher {
    /** False on a storage-only node that holds ciphertext without the family key. */
    boolean hasVaultKey();

    /**
     * Returns a stream that takes plaintext and writes ciphertext to {@code sink}. Closing
     * the returned stream writes the final segment (it does not close {@code sink}); then
     * {@link EncryptingStream#result()} tells the content id and sizes.
     */
    EncryptingStream encrypt(OutputStream sink) throws IOException;

    /** Plaintext of a whole blob; reading past a damaged or truncated segment throws IOException. */
    InputStream decrypt(InputStream ciphertext) throws IOException;

    /**
     * Plaintext from {@code plaintextOffset} to the end, reading only the segments needed
     * (for HTTP Range requests). The channel is closed with the returned stream. An offset equal
     * to the plaintext size gives an empty stream, a larger one an EOFException.
     */
    InputStream decrypt(SeekableByteChannel ciphertext, long plaintextOffset) throws IOException;

    /**
     * The family vault key sealed to a peer for the pairing handover: ephemeral X25519 with the
     * peer's agreement key, HKDF-SHA256, AES-256-GCM, with both node ids bound in as AAD.
     *
     * @throws IllegalStateException    on a node without the vault key
     * @throws IllegalArgumentException for a malformed agreement key or node id
     */
    byte[] sealVaultKey(byte[] peerAgreementPublicKey, String peerNodeId);

    /**
     * Opens a vault key sealed to this node by {@code senderNodeId} and makes it this node's
     * vault key (the previous key file is kept as {@code vault.key.previous}). The caller
     * checks first that no blob depends on the old key.
     *
     * @throws java.security.GeneralSecurityException when it was not sealed to this node or was altered
     * @throws java.io.IOException when the key file cannot be written (the old key stays in use)
     * @throws IllegalArgumentException for a malformed sender node id
     */
    void installVaultKey(byte[] sealed, String senderNodeId)
            throws java.security.GeneralSecurityException, java.io.IOException;

    /** Size of the ciphertext for a plaintext of the given size. */
    long cipherSize(long plaintextSize);
}
