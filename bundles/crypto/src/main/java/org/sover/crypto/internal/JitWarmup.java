package org.sover.crypto.internal;

import java.lang.System.Logger.Level;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;

import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * Runs the JDK primitives of the blob path (AES-GCM both ways, HMAC-SHA256, SHA-256) a few
 * thousand times on small buffers with a throwaway key, on a background thread after the
 * bundle starts. A fresh JVM runs them without the AES, carry-less multiply and SHA
 * intrinsics until C2 has compiled their callers, which takes some thousands of calls: at one
 * call per 64 KiB segment, that was the first few hundred MB of uploads after every start,
 * at a fraction of the speed (measured: the first two seconds of a 1 GiB upload, see
 * {@code bench/RESULTS.md}). Small buffers reach the same call counts with a few MB of work.
 * Nothing here touches a real key or a photo.
 */
@Component(immediate = true)
public final class JitWarmup {
    /** Calls of each primitive: above C2's invocation threshold (5,000) with a margin. */
    static final int ROUNDS = 12_000;
    private static final int BYTES = 1024;
    private static final System.Logger LOG = System.getLogger(JitWarmup.class.getName());

    private Thread thread;

    @Activate
    void activate() {
        thread = new Thread(() -> {
            long started = System.nanoTime();
            try {
                int done = run(ROUNDS);
                LOG.log(Level.DEBUG, "crypto warm-up: {0} rounds in {1} ms", done,
                        (System.nanoTime() - started) / 1_000_000);
            } catch (GeneralSecurityException | RuntimeException e) {
                LOG.log(Level.WARNING, "crypto warm-up failed; the first uploads after this start run slower", e);
            }
        }, "sover-crypto-warmup");
        thread.setDaemon(true);
        thread.setPriority(Thread.MIN_PRIORITY);
        thread.start();
    }

    @Deactivate
    void deactivate() {
        thread.interrupt();
    }

    /**
     * Seals and opens {@code rounds} small buffers, MACs and hashes them; stops early when the
     * thread is interrupted.
     *
     * @return the rounds done
     * @throws GeneralSecurityException also when a buffer does not come back as it went in
     */
    static int run(int rounds) throws GeneralSecurityException {
        SecureRandom random = new SecureRandom();
        byte[] keyBytes = new byte[32];
        random.nextBytes(keyBytes);
        SecretKeySpec key = new SecretKeySpec(keyBytes, "AES");
        Cipher seal = JdkPrimitives.cipher("AES/GCM/NoPadding");
        Cipher open = JdkPrimitives.cipher("AES/GCM/NoPadding");
        Mac mac = JdkPrimitives.hmacSha256();
        mac.init(new SecretKeySpec(keyBytes, "HmacSHA256"));
        MessageDigest sha = JdkPrimitives.sha256();
        byte[] plain = new byte[BYTES];
        random.nextBytes(plain);
        byte[] sealed = new byte[BYTES + 16];
        byte[] opened = new byte[BYTES];
        byte[] nonce = new byte[12];
        int done = 0;
        for (; done < rounds && !Thread.currentThread().isInterrupted(); done++) {
            // a fresh nonce for every seal under the key, as GCM requires
            nonce[0] = (byte) done;
            nonce[1] = (byte) (done >>> 8);
            nonce[2] = (byte) (done >>> 16);
            nonce[3] = (byte) (done >>> 24);
            GCMParameterSpec spec = new GCMParameterSpec(128, nonce);
            seal.init(Cipher.ENCRYPT_MODE, key, spec);
            int n = seal.doFinal(plain, 0, plain.length, sealed, 0);
            open.init(Cipher.DECRYPT_MODE, key, spec);
            open.doFinal(sealed, 0, n, opened, 0);
            if (!Arrays.equals(plain, opened)) {
                throw new GeneralSecurityException("AES-GCM did not give back what it sealed");
            }
            mac.update(sealed, 0, n);
            sha.update(sealed, 0, n);
        }
        mac.doFinal();
        sha.digest();
        return done;
    }
}
