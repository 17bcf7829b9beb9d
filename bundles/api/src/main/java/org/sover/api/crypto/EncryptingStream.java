package org.sover.api.crypto;

import java.io.OutputStream;

/** Plaintext in, ciphertext out; {@link #result()} is available after {@link #close()}. */
public abstract class EncryptingStream extends OutputStream {
    /** @throws IllegalStateException before the stream was closed */
    public abstract EncryptionResult result();
}
