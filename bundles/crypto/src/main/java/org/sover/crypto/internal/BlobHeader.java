package org.sover.crypto.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The plaintext header in front of every blob:
 * {@code "SOVB" | version 0x01 | segment size u32 | nonce prefix (7) | wrapped key length u16 | wrapped key}.
 * All of it is authenticated as the AAD of every segment.
 */
final class BlobHeader {
    static final byte[] MAGIC = "SOVB".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int NONCE_PREFIX_BYTES = 7;
    /** A 32-byte data key wrapped with RFC 3394 gains one 8-byte block. */
    static final int WRAPPED_KEY_BYTES = 40;
    private static final int FIXED_BYTES = MAGIC.length + 1 + 4 + NONCE_PREFIX_BYTES + 2;
    static final int LENGTH = FIXED_BYTES + WRAPPED_KEY_BYTES;
    /** Bounds for a segment size read from a header, so a damaged one cannot demand huge buffers. */
    private static final int MIN_SEGMENT_SIZE = 1024;
    private static final int MAX_SEGMENT_SIZE = 16 << 20;

    private final int segmentSize;
    private final byte[] noncePrefix;
    private final byte[] wrappedKey;
    private final byte[] encoded;

    BlobHeader(int segmentSize, byte[] noncePrefix, byte[] wrappedKey) {
        if (noncePrefix.length != NONCE_PREFIX_BYTES || wrappedKey.length != WRAPPED_KEY_BYTES) {
            throw new IllegalArgumentException("nonce prefix must have " + NONCE_PREFIX_BYTES
                    + " bytes and the wrapped key " + WRAPPED_KEY_BYTES);
        }
        this.segmentSize = segmentSize;
        this.noncePrefix = noncePrefix.clone();
        this.wrappedKey = wrappedKey.clone();
        this.encoded = ByteBuffer.allocate(LENGTH)
                .put(MAGIC)
                .put((byte) VERSION)
                .putInt(segmentSize)
                .put(noncePrefix)
                .putShort((short) wrappedKey.length)
                .put(wrappedKey)
                .array();
    }

    /** Reads and checks a header; the segments' tags later prove it was not altered. */
    static BlobHeader read(InputStream in) throws IOException {
        byte[] fixed = in.readNBytes(FIXED_BYTES);
        if (fixed.length < FIXED_BYTES) {
            throw new IOException("blob is damaged or truncated: it ends inside its header");
        }
        ByteBuffer buffer = ByteBuffer.wrap(fixed);
        byte[] magic = new byte[MAGIC.length];
        buffer.get(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new IOException("not a Sover blob: the header does not start with \"SOVB\"");
        }
        int version = buffer.get() & 0xff;
        if (version != VERSION) {
            throw new IOException("unsupported blob version " + version + "; this node reads version " + VERSION);
        }
        long segmentSize = buffer.getInt() & 0xffffffffL;
        if (segmentSize < MIN_SEGMENT_SIZE || segmentSize > MAX_SEGMENT_SIZE) {
            throw new IOException("blob header is damaged: segment size " + segmentSize + " is out of range");
        }
        byte[] noncePrefix = new byte[NONCE_PREFIX_BYTES];
        buffer.get(noncePrefix);
        int wrappedLength = buffer.getShort() & 0xffff;
        if (wrappedLength != WRAPPED_KEY_BYTES) {
            throw new IOException("blob header is damaged: wrapped key length " + wrappedLength + " is not "
                    + WRAPPED_KEY_BYTES);
        }
        byte[] wrappedKey = in.readNBytes(wrappedLength);
        if (wrappedKey.length < wrappedLength) {
            throw new IOException("blob is damaged or truncated: it ends inside its header");
        }
        return new BlobHeader((int) segmentSize, noncePrefix, wrappedKey);
    }

    int segmentSize() {
        return segmentSize;
    }

    /** Ciphertext bytes of a full segment: plaintext plus the GCM tag. */
    int cipherSegmentSize() {
        return segmentSize + SegmentedVaultCipher.TAG_BYTES;
    }

    byte[] wrappedKey() {
        return wrappedKey.clone();
    }

    /** The exact header bytes, used as AAD; callers must not modify the array. */
    byte[] encoded() {
        return encoded;
    }

    /** Nonce of one segment: prefix (7) | segment index u32 (4) | 1 if it is the final segment, else 0. */
    byte[] nonce(long index, boolean last) {
        byte[] nonce = new byte[NONCE_PREFIX_BYTES + 5];
        System.arraycopy(noncePrefix, 0, nonce, 0, NONCE_PREFIX_BYTES);
        nonce[7] = (byte) (index >>> 24);
        nonce[8] = (byte) (index >>> 16);
        nonce[9] = (byte) (index >>> 8);
        nonce[10] = (byte) index;
        nonce[11] = (byte) (last ? 1 : 0);
        return nonce;
    }
}
