package org.sover.crypto.internal;

import java.io.IOException;
import java.io.InputStream;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Objects;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * Plaintext of a blob, one authenticated segment at a time: a segment's bytes are released
 * only after its GCM tag verified. Whether a segment is the final one is decided by reading
 * one byte past it, so truncation at a segment boundary, a missing final segment, reordering
 * and trailing bytes all surface as a tag failure.
 */
final class SegmentDecryptingStream extends InputStream {
    private final InputStream source;
    private final BlobHeader header;
    private final SecretKey dataKey;
    private final Cipher cipher = JdkPrimitives.cipher("AES/GCM/NoPadding");
    private final byte[] sealed;
    private final byte[] plain;
    private long index;
    /** Plaintext bytes to drop from the first segment (seeking). */
    private int skip;
    /** The byte read past the previous segment to learn it was not the final one, or -1. */
    private int lookahead = -1;
    private int position;
    private int limit;
    private boolean finished;
    private boolean closed;
    private IOException failure;

    SegmentDecryptingStream(InputStream source, BlobHeader header, SecretKey dataKey, long firstSegment, int skip) {
        this.source = source;
        this.header = header;
        this.dataKey = dataKey;
        this.index = firstSegment;
        this.skip = skip;
        this.sealed = new byte[header.cipherSegmentSize()];
        this.plain = new byte[header.segmentSize()];
    }

    static String damagedAt(long segment) {
        return "blob is damaged or truncated at segment " + segment;
    }

    @Override
    public int read() throws IOException {
        if (!fill()) {
            return -1;
        }
        return plain[position++] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        if (!fill()) {
            return -1;
        }
        int n = Math.min(len, limit - position);
        System.arraycopy(plain, position, b, off, n);
        position += n;
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        long skipped = 0;
        while (skipped < n && fill()) {
            int step = (int) Math.min(n - skipped, limit - position);
            position += step;
            skipped += step;
        }
        return skipped;
    }

    @Override
    public int available() {
        return closed ? 0 : limit - position;
    }

    @Override
    public void close() throws IOException {
        if (!closed) {
            closed = true;
            Arrays.fill(plain, (byte) 0);
            position = limit = 0;
            source.close();
        }
    }

    /** True when verified plaintext is buffered; false at the end of the blob. */
    private boolean fill() throws IOException {
        if (closed) {
            throw new IOException("the decrypting stream is closed");
        }
        if (failure != null) {
            throw new IOException(failure.getMessage(), failure);
        }
        while (position == limit) {
            if (finished) {
                return false;
            }
            try {
                openNextSegment();
            } catch (IOException e) {
                failure = e;
                throw e;
            }
        }
        return true;
    }

    private void openNextSegment() throws IOException {
        int length = 0;
        if (lookahead >= 0) {
            sealed[length++] = (byte) lookahead;
            lookahead = -1;
        }
        length += source.readNBytes(sealed, length, sealed.length - length);
        boolean last = length < sealed.length;
        if (!last) {
            lookahead = source.read();
            last = lookahead < 0;
        }
        if (index >= SegmentedVaultCipher.MAX_SEGMENTS) {
            throw new IOException("blob has more segments than the format allows");
        }
        if (length < SegmentedVaultCipher.TAG_BYTES) {
            throw new IOException(damagedAt(index));
        }
        try {
            cipher.init(Cipher.DECRYPT_MODE, dataKey,
                    new GCMParameterSpec(SegmentedVaultCipher.TAG_BITS, header.nonce(index, last)));
            cipher.updateAAD(header.encoded());
            limit = cipher.doFinal(sealed, 0, length, plain, 0);
        } catch (AEADBadTagException e) {
            Arrays.fill(plain, (byte) 0);
            throw new IOException(damagedAt(index), e);
        } catch (GeneralSecurityException e) {
            Arrays.fill(plain, (byte) 0);
            throw new IOException("cannot decrypt segment " + index, e);
        }
        if (skip > limit) {
            throw new IOException(damagedAt(index));
        }
        position = skip;
        skip = 0;
        index++;
        finished = last;
    }
}
