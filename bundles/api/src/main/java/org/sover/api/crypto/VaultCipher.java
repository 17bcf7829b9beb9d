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

    /** Size of the ciphertext for a plaintext of the given size. */
    long cipherSize(long plaintextSize);
}
