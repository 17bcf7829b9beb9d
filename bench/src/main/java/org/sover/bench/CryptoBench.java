package org.sover.bench;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.sover.api.crypto.EncryptingStream;
import org.sover.api.crypto.EncryptionResult;
import org.sover.crypto.internal.Ed25519NodeIdentity;
import org.sover.crypto.internal.SegmentedVaultCipher;

/**
 * Issue 6's crypto micro-benchmark: one photo-sized blob sealed and opened by the vault cipher
 * the nodes use (AES-256-GCM per 64 KiB segment, HMAC-SHA256 of the plaintext for the content
 * id, SHA-256 of the ciphertext for the manifest), fed as an upload feeds it (256 KiB writes),
 * and the JDK primitives it is built from over the same bytes in the same run: AES-256-GCM alone
 * (the upload row's reference, 16 KiB updates) and SHA-256 alone. No I/O: the sink discards.
 * One op is one blob; the harness turns ops/s into MB/s.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class CryptoBench {
    /** The mean size of the harness's photos (2–8 MiB). */
    public static final int BLOB_BYTES = 5 << 20;
    private static final int UPLOAD_WRITE = 256 * 1024;
    private static final int GCM_UPDATE = 16 * 1024;
    private Path dir;
    private SegmentedVaultCipher cipher;
    private byte[] plaintext;
    private byte[] sealed;
    private final byte[] buffer = new byte[UPLOAD_WRITE + 64];
    private SecretKeySpec aesKey;
    private long nonce;
    private MessageDigest sha256;

    @Setup(Level.Trial)
    public void setUp() throws IOException, GeneralSecurityException {
        dir = Files.createTempDirectory("sover-bench-crypto-");
        cipher = new SegmentedVaultCipher(dir, true, new Ed25519NodeIdentity(dir));
        plaintext = new byte[BLOB_BYTES];
        new SplittableRandom(6).nextBytes(plaintext);
        ByteArrayOutputStream out = new ByteArrayOutputStream(BLOB_BYTES + (1 << 20));
        try (EncryptingStream s = cipher.encrypt(out)) {
            s.write(plaintext);
        }
        sealed = out.toByteArray();
        byte[] key = new byte[32];
        new SplittableRandom(7).nextBytes(key);
        aesKey = new SecretKeySpec(key, "AES");
        sha256 = MessageDigest.getInstance("SHA-256", "SUN");
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** Sover: what an upload costs in crypto. */
    @Benchmark
    public EncryptionResult seal() throws IOException {
        EncryptingStream s = cipher.encrypt(OutputStream.nullOutputStream());
        for (int off = 0; off < plaintext.length; off += UPLOAD_WRITE) {
            s.write(plaintext, off, Math.min(UPLOAD_WRITE, plaintext.length - off));
        }
        s.close();
        return s.result();
    }

    /** Sover: what serving a photo (or making its thumbnail) costs in crypto. */
    @Benchmark
    public long open() throws IOException {
        long total = 0;
        try (InputStream in = cipher.decrypt(new ByteArrayInputStream(sealed))) {
            int n;
            while ((n = in.read(buffer, 0, UPLOAD_WRITE)) >= 0) {
                total += n;
            }
        }
        if (total != BLOB_BYTES) {
            throw new IllegalStateException("opened " + total + " bytes of " + BLOB_BYTES);
        }
        return total;
    }

    /** Reference: JDK AES-256-GCM over the same bytes, one IV per blob, as the upload row measures it. */
    @Benchmark
    public int jdkAesGcm() throws GeneralSecurityException {
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding", "SunJCE");
        byte[] iv = ByteBuffer.allocate(12).putLong(++nonce).array();
        c.init(Cipher.ENCRYPT_MODE, aesKey, new GCMParameterSpec(128, iv));
        int out = 0;
        for (int off = 0; off < plaintext.length; off += GCM_UPDATE) {
            out += c.update(plaintext, off, Math.min(GCM_UPDATE, plaintext.length - off), buffer, 0);
        }
        return out + c.doFinal(buffer, 0);
    }

    /** Reference: one SHA-256 pass over the same bytes; the seal makes two (plaintext and ciphertext). */
    @Benchmark
    public byte[] jdkSha256() {
        sha256.update(plaintext, 0, plaintext.length);
        return sha256.digest();
    }
}
