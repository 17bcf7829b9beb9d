package org.sover.crypto.internal;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.HKDFParameters;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.sover.api.crypto.EncryptingStream;
import org.sover.api.crypto.VaultCipher;

/**
 * Blob encryption under the family vault key ({@code vault.key}, 32 random bytes in the key
 * directory). Every blob gets a random data key, wrapped (RFC 3394) under a key derived from
 * the vault key, and is sealed in AES-256-GCM segments of 64 KiB whose nonces carry the
 * segment index and a final flag; see the bundle README for the exact format. The vault key
 * travels between family nodes only sealed to the receiving node's agreement key
 * ({@link SealedVaultKey}).
 */
@Component(service = VaultCipher.class, configurationPid = CryptoConfig.PID, immediate = true)
@Designate(ocd = CryptoConfig.class) // one designation for the PID all components of this bundle share
public final class SegmentedVaultCipher implements VaultCipher {
    static final String KEY_FILE = "vault.key";
    /** The key an installed vault key replaced, kept in case a blob still needs it. */
    static final String PREVIOUS_KEY_FILE = "vault.key.previous";
    static final int SEGMENT_SIZE = 65536;
    static final int TAG_BYTES = 16;
    static final int TAG_BITS = TAG_BYTES * 8;
    /** Segment indexes are 32 bits in the nonce. */
    static final long MAX_SEGMENTS = 1L << 32;
    static final int KEY_BYTES = 32;
    private static final String GCM = "AES/GCM/NoPadding";
    private static final String KEY_WRAP = "AESWrap";

    private final SecureRandom random = new SecureRandom();
    private final NodeKeyAgreement identity;
    private volatile VaultKeys keys;

    /** The identity is this bundle's own, referenced by its internal type so no other bundle can stand in. */
    @Activate
    public SegmentedVaultCipher(CryptoConfig config, @Reference NodeKeyAgreement identity) throws IOException {
        this(KeyDirectory.configured(config.keyDir()), config.createVaultKey(), identity);
    }

    /**
     * @param createVaultKey whether to create {@code vault.key} when it is missing
     * @param identity       this node, which vault keys are sealed by and to
     */
    public SegmentedVaultCipher(Path keyDir, boolean createVaultKey, NodeKeyAgreement identity) throws IOException {
        this.identity = Objects.requireNonNull(identity, "identity");
        this.keys = VaultKeys.load(new KeyDirectory(keyDir), createVaultKey, random);
    }

    /** Reloads keys only when their settings changed; other keys of the shared PID change nothing. */
    @Modified
    synchronized void modified(CryptoConfig config) throws IOException {
        Path keyDir = KeyDirectory.configured(config.keyDir());
        VaultKeys current = keys;
        if (!keyDir.equals(current.keyDir()) || config.createVaultKey() != current.createVaultKey()) {
            keys = VaultKeys.load(new KeyDirectory(keyDir), config.createVaultKey(), random);
        }
    }

    @Override
    public boolean hasVaultKey() {
        return keys.kek() != null;
    }

    @Override
    public EncryptingStream encrypt(OutputStream sink) throws IOException {
        Objects.requireNonNull(sink, "sink");
        VaultKeys current = requireVaultKey();
        byte[] dataKey = new byte[KEY_BYTES];
        byte[] noncePrefix = new byte[BlobHeader.NONCE_PREFIX_BYTES];
        random.nextBytes(dataKey);
        random.nextBytes(noncePrefix);
        try {
            SecretKey key = new SecretKeySpec(dataKey, "AES");
            BlobHeader header = new BlobHeader(SEGMENT_SIZE, noncePrefix, wrap(current.kek(), key));
            return new SegmentEncryptingStream(sink, header, key, current.dedupKey());
        } finally {
            Arrays.fill(dataKey, (byte) 0);
        }
    }

    /** The returned stream closes {@code ciphertext}; if this throws, the caller still owns it. */
    @Override
    public InputStream decrypt(InputStream ciphertext) throws IOException {
        Objects.requireNonNull(ciphertext, "ciphertext");
        VaultKeys current = requireVaultKey();
        BlobHeader header = BlobHeader.read(ciphertext);
        return new SegmentDecryptingStream(ciphertext, header, unwrap(current.kek(), header), 0, 0);
    }

    /** Closes the channel also when it fails, since the caller handed it over. */
    @Override
    public InputStream decrypt(SeekableByteChannel ciphertext, long plaintextOffset) throws IOException {
        Objects.requireNonNull(ciphertext, "ciphertext");
        try {
            if (plaintextOffset < 0) {
                throw new IllegalArgumentException("negative offset " + plaintextOffset);
            }
            VaultKeys current = requireVaultKey();
            InputStream in = Channels.newInputStream(ciphertext.position(0));
            BlobHeader header = BlobHeader.read(in);
            long cipherBytes = ciphertext.size() - BlobHeader.LENGTH;
            long segmentBytes = header.cipherSegmentSize();
            long segments = Math.max(1, (cipherBytes + segmentBytes - 1) / segmentBytes);
            long finalBytes = cipherBytes - (segments - 1) * segmentBytes;
            if (finalBytes < TAG_BYTES) {
                throw new IOException(SegmentDecryptingStream.damagedAt(segments - 1));
            }
            long plaintextSize = cipherBytes - segments * TAG_BYTES;
            if (plaintextOffset > plaintextSize) {
                throw new EOFException("offset " + plaintextOffset + " is past the end of the blob ("
                        + plaintextSize + " bytes)");
            }
            // An offset equal to the size still opens the final segment, so even that is authenticated.
            long first = Math.min(plaintextOffset / header.segmentSize(), segments - 1);
            int skip = (int) (plaintextOffset - first * header.segmentSize());
            SecretKey dataKey = unwrap(current.kek(), header);
            ciphertext.position(BlobHeader.LENGTH + first * segmentBytes);
            return new SegmentDecryptingStream(in, header, dataKey, first, skip);
        } catch (IOException | RuntimeException e) {
            try {
                ciphertext.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * @param peerNodeId in any spelling {@code isValidNodeId} accepts
     * @throws IllegalArgumentException when the peer's node id or agreement key is malformed
     * @throws IllegalStateException    on a node without the vault key
     */
    @Override
    public byte[] sealVaultKey(byte[] peerAgreementPublicKey, String peerNodeId) {
        String peer = NodeIdFormat.canonical(peerNodeId);
        byte[] vaultKey = requireVaultKey().vaultKey().getEncoded();
        try {
            return SealedVaultKey.seal(vaultKey, identity.nodeId(), peerAgreementPublicKey, peer, random);
        } finally {
            Arrays.fill(vaultKey, (byte) 0);
        }
    }

    /**
     * Writes the opened key as {@code vault.key} (the replaced one becomes {@code vault.key.previous})
     * and only then switches to it, so blobs are never encrypted under a key that is not on disk.
     * Blobs being written meanwhile finish under the key they started with.
     *
     * @throws IllegalArgumentException when {@code senderNodeId} is not a valid node id
     * @throws IOException              when the key files cannot be written; the old key stays in use
     */
    @Override
    public synchronized void installVaultKey(byte[] sealed, String senderNodeId)
            throws GeneralSecurityException, IOException {
        String sender = NodeIdFormat.canonical(senderNodeId);
        byte[] vaultKey = SealedVaultKey.open(sealed, sender, identity);
        try {
            VaultKeys current = keys;
            try {
                new KeyDirectory(current.keyDir()).replace(KEY_FILE, vaultKey, PREVIOUS_KEY_FILE);
            } catch (IOException e) {
                throw new IOException("cannot write the received vault key to "
                        + current.keyDir().resolve(KEY_FILE) + "; this node keeps its previous key", e);
            }
            keys = VaultKeys.derive(current.keyDir(), current.createVaultKey(), vaultKey);
        } finally {
            Arrays.fill(vaultKey, (byte) 0);
        }
    }

    @Override
    public long cipherSize(long plaintextSize) {
        if (plaintextSize < 0) {
            throw new IllegalArgumentException("negative size " + plaintextSize);
        }
        long segments = Math.max(1, (plaintextSize + SEGMENT_SIZE - 1) / SEGMENT_SIZE);
        return BlobHeader.LENGTH + plaintextSize + segments * TAG_BYTES;
    }

    private VaultKeys requireVaultKey() {
        VaultKeys current = keys;
        if (current.kek() == null) {
            throw new IllegalStateException("this node has no vault key (" + current.keyDir().resolve(KEY_FILE)
                    + "), so it stores blobs without reading them; pair it as a family node (or copy the family's "
                    + "vault.key there) to read them, or set createVaultKey=true to start a new vault");
        }
        return current;
    }

    private static byte[] wrap(SecretKey kek, SecretKey dataKey) {
        try {
            Cipher wrapper = JdkPrimitives.cipher(KEY_WRAP);
            wrapper.init(Cipher.WRAP_MODE, kek);
            return wrapper.wrap(dataKey);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot wrap a blob key", e);
        }
    }

    private static SecretKey unwrap(SecretKey kek, BlobHeader header) throws IOException {
        try {
            Cipher unwrapper = JdkPrimitives.cipher(KEY_WRAP);
            unwrapper.init(Cipher.UNWRAP_MODE, kek);
            Key key = unwrapper.unwrap(header.wrappedKey(), "AES", Cipher.SECRET_KEY);
            return (SecretKey) key;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot unwrap the blob key: the blob header is damaged, or the blob was "
                    + "encrypted under another vault key", e);
        }
    }

    /**
     * The vault key (kept only to seal it for a new family node) and the keys derived from it; all
     * three are null on a node without the vault key.
     */
    private record VaultKeys(Path keyDir, boolean createVaultKey, SecretKey vaultKey, SecretKey kek,
            SecretKey dedupKey) {
        static VaultKeys load(KeyDirectory dir, boolean create, SecureRandom random) throws IOException {
            Optional<byte[]> stored = dir.read(KEY_FILE, KEY_BYTES);
            byte[] vaultKey;
            if (stored.isPresent()) {
                vaultKey = stored.get();
            } else if (create) {
                vaultKey = new byte[KEY_BYTES];
                random.nextBytes(vaultKey);
                dir.create(KEY_FILE, vaultKey);
            } else {
                return new VaultKeys(dir.path(), false, null, null, null);
            }
            try {
                return derive(dir.path(), create, vaultKey);
            } finally {
                Arrays.fill(vaultKey, (byte) 0);
            }
        }

        /** The caller still owns and clears {@code vaultKey}; the key specs copy it. */
        static VaultKeys derive(Path keyDir, boolean create, byte[] vaultKey) {
            byte[] kek = hkdf(vaultKey, "sover blob-kek v1");
            byte[] dedupKey = hkdf(vaultKey, "sover dedup v1");
            try {
                return new VaultKeys(keyDir, create, new SecretKeySpec(vaultKey, "RAW"),
                        new SecretKeySpec(kek, "AES"), new SecretKeySpec(dedupKey, "HmacSHA256"));
            } finally {
                Arrays.fill(kek, (byte) 0);
                Arrays.fill(dedupKey, (byte) 0);
            }
        }

        /** HKDF-SHA256 without salt; the JDK 17 has no HKDF, and these inputs are tiny. */
        private static byte[] hkdf(byte[] vaultKey, String info) {
            HKDFBytesGenerator generator = new HKDFBytesGenerator(new SHA256Digest());
            generator.init(new HKDFParameters(vaultKey, null, info.getBytes(StandardCharsets.US_ASCII)));
            byte[] out = new byte[KEY_BYTES];
            generator.generateBytes(out, 0, out.length);
            return out;
        }
    }
}
