package org.sover.crypto.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

import org.sover.api.crypto.EncryptingStream;
import org.sover.api.crypto.EncryptionResult;

/**
 * Writes one blob: the header at once, then a sealed segment each time a full segment of
 * plaintext is followed by more. The last segment is held back until {@link #close()}, because
 * only then is it known to be the final one. Buffers at most one segment.
 */
final class SegmentEncryptingStream extends EncryptingStream {
    private final OutputStream sink;
    private final BlobHeader header;
    private final SecretKey dataKey;
    private final Cipher cipher = JdkPrimitives.cipher("AES/GCM/NoPadding");
    private final Mac contentMac = JdkPrimitives.hmacSha256();
    private final MessageDigest cipherDigest = JdkPrimitives.sha256();
    private final byte[] plain;
    private final byte[] sealed;
    private int filled;
    private long segments;
    private long plaintextSize;
    private long cipherSize;
    private boolean closed;
    private boolean failed;
    private EncryptionResult result;

    SegmentEncryptingStream(OutputStream sink, BlobHeader header, SecretKey dataKey, SecretKey dedupKey)
            throws IOException {
        this.sink = sink;
        this.header = header;
        this.dataKey = dataKey;
        this.plain = new byte[header.segmentSize()];
        this.sealed = new byte[header.cipherSegmentSize()];
        try {
            contentMac.init(dedupKey);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot use the dedup key for HmacSHA256", e);
        }
        emit(header.encoded(), header.encoded().length);
    }

    @Override
    public void write(int b) throws IOException {
        ensureWritable();
        if (filled == plain.length) {
            seal(false);
        }
        plain[filled++] = (byte) b;
        contentMac.update((byte) b);
        plaintextSize++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        ensureWritable();
        contentMac.update(b, off, len);
        plaintextSize += len;
        while (len > 0) {
            if (filled == plain.length) {
                seal(false);
            }
            int n = Math.min(len, plain.length - filled);
            System.arraycopy(b, off, plain, filled, n);
            filled += n;
            off += n;
            len -= n;
        }
    }

    /** Flushes the sink; a partial segment stays buffered, as it cannot be sealed yet. */
    @Override
    public void flush() throws IOException {
        if (closed) {
            return;
        }
        ensureWritable();
        sink.flush();
    }

    /** Seals the final segment and flushes, but leaves the sink open. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (!failed) {
                seal(true);
                sink.flush();
                result = new EncryptionResult(HexFormat.of().formatHex(contentMac.doFinal()), plaintextSize,
                        cipherSize, (int) segments, HexFormat.of().formatHex(cipherDigest.digest()));
            }
        } finally {
            Arrays.fill(plain, (byte) 0);
        }
    }

    @Override
    public EncryptionResult result() {
        if (result == null) {
            throw new IllegalStateException(closed ? "encryption failed, the blob is incomplete"
                    : "the result is known only after close()");
        }
        return result;
    }

    private void seal(boolean last) throws IOException {
        if (segments >= Integer.MAX_VALUE) {
            failed = true;
            throw new IOException("blob is too large: more than " + Integer.MAX_VALUE + " segments");
        }
        int length;
        try {
            cipher.init(Cipher.ENCRYPT_MODE, dataKey,
                    new GCMParameterSpec(SegmentedVaultCipher.TAG_BITS, header.nonce(segments, last)));
            cipher.updateAAD(header.encoded());
            length = cipher.doFinal(plain, 0, filled, sealed, 0);
        } catch (GeneralSecurityException e) {
            failed = true;
            throw new IOException("cannot encrypt segment " + segments, e);
        }
        // Count the segment before writing it, so its nonce is never used twice.
        segments++;
        filled = 0;
        emit(sealed, length);
    }

    private void emit(byte[] bytes, int length) throws IOException {
        try {
            sink.write(bytes, 0, length);
        } catch (IOException | RuntimeException e) {
            failed = true;
            throw e;
        }
        cipherDigest.update(bytes, 0, length);
        cipherSize += length;
    }

    private void ensureWritable() throws IOException {
        if (closed) {
            throw new IOException("the encrypting stream is closed");
        }
        if (failed) {
            throw new IOException("an earlier write failed, the blob is incomplete");
        }
    }
}
