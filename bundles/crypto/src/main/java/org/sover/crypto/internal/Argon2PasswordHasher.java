package org.sover.crypto.internal;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.sover.api.crypto.PasswordHasher;

/**
 * Argon2id password hashes in the PHC string format,
 * {@code $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>} (standard base64 without padding).
 * The defaults are OWASP's minimum for Argon2id; stored hashes keep their own parameters, so
 * raising them later does not lock anyone out.
 */
@Component(service = PasswordHasher.class, configurationPid = CryptoConfig.PID)
public final class Argon2PasswordHasher implements PasswordHasher {
    static final int DEFAULT_MEMORY_KIB = 19456;
    static final int DEFAULT_ITERATIONS = 2;
    static final int DEFAULT_PARALLELISM = 1;
    private static final int SALT_BYTES = 16;
    private static final int HASH_BYTES = 32;
    /** Bounds for parameters read from an encoding, so a forged one cannot exhaust memory or CPU. */
    private static final int MAX_MEMORY_KIB = 1 << 20;
    private static final int MAX_ITERATIONS = 64;
    private static final int MAX_PARALLELISM = 16;

    private static final Pattern PHC = Pattern.compile(
            "\\$argon2id\\$v=19\\$m=(\\d{1,10}),t=(\\d{1,10}),p=(\\d{1,10})\\$([A-Za-z0-9+/]+)\\$([A-Za-z0-9+/]+)");

    private final SecureRandom random = new SecureRandom();
    private volatile Cost cost;

    @Activate
    public Argon2PasswordHasher(CryptoConfig config) {
        this(config.argon2MemoryKiB(), config.argon2Iterations(), config.argon2Parallelism());
    }

    public Argon2PasswordHasher(int memoryKiB, int iterations, int parallelism) {
        this.cost = Cost.checked(memoryKiB, iterations, parallelism);
    }

    @Modified
    void modified(CryptoConfig config) {
        cost = Cost.checked(config.argon2MemoryKiB(), config.argon2Iterations(), config.argon2Parallelism());
    }

    @Override
    public String hash(char[] password) {
        Cost current = cost;
        byte[] salt = new byte[SALT_BYTES];
        random.nextBytes(salt);
        byte[] hash = derive(password, salt, current, HASH_BYTES);
        Base64.Encoder base64 = Base64.getEncoder().withoutPadding();
        return "$argon2id$v=19$m=" + current.memoryKiB() + ",t=" + current.iterations() + ",p="
                + current.parallelism() + '$' + base64.encodeToString(salt) + '$' + base64.encodeToString(hash);
    }

    /** False for a wrong password and for an encoding this hasher cannot read. */
    @Override
    public boolean verify(char[] password, String encoded) {
        if (password == null || encoded == null) {
            return false;
        }
        Matcher m = PHC.matcher(encoded);
        if (!m.matches()) {
            return false;
        }
        try {
            Cost stored = Cost.bounded(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)),
                    Long.parseLong(m.group(3)));
            byte[] salt = Base64.getDecoder().decode(m.group(4));
            byte[] expected = Base64.getDecoder().decode(m.group(5));
            if (stored == null || salt.length < 8 || salt.length > 64 || expected.length < 16 || expected.length > 64) {
                return false;
            }
            return MessageDigest.isEqual(derive(password, salt, stored, expected.length), expected);
        } catch (IllegalArgumentException malformed) {
            return false;
        }
    }

    private static byte[] derive(char[] password, byte[] salt, Cost cost, int length) {
        Argon2Parameters parameters = new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                .withVersion(Argon2Parameters.ARGON2_VERSION_13)
                .withMemoryAsKB(cost.memoryKiB())
                .withIterations(cost.iterations())
                .withParallelism(cost.parallelism())
                .withSalt(salt)
                .build();
        Argon2BytesGenerator generator = new Argon2BytesGenerator();
        generator.init(parameters);
        byte[] out = new byte[length];
        // Passwords are encoded as UTF-8, as other Argon2 implementations do.
        generator.generateBytes(password, out);
        return out;
    }

    private record Cost(int memoryKiB, int iterations, int parallelism) {
        /** Configured parameters: invalid ones stop activation with a message naming the key. */
        static Cost checked(int memoryKiB, int iterations, int parallelism) {
            if (parallelism < 1 || parallelism > MAX_PARALLELISM) {
                throw new IllegalArgumentException("argon2Parallelism must be 1.." + MAX_PARALLELISM + ", not "
                        + parallelism);
            }
            if (iterations < 1 || iterations > MAX_ITERATIONS) {
                throw new IllegalArgumentException("argon2Iterations must be 1.." + MAX_ITERATIONS + ", not "
                        + iterations);
            }
            if (memoryKiB < 8 * parallelism || memoryKiB > MAX_MEMORY_KIB) {
                throw new IllegalArgumentException("argon2MemoryKiB must be " + 8 * parallelism + ".."
                        + MAX_MEMORY_KIB + ", not " + memoryKiB);
            }
            return new Cost(memoryKiB, iterations, parallelism);
        }

        /** Parameters read from an encoding, or null when they are out of bounds. */
        static Cost bounded(long memoryKiB, long iterations, long parallelism) {
            if (parallelism < 1 || parallelism > MAX_PARALLELISM || iterations < 1 || iterations > MAX_ITERATIONS
                    || memoryKiB < 8 * parallelism || memoryKiB > MAX_MEMORY_KIB) {
                return null;
            }
            return new Cost((int) memoryKiB, (int) iterations, (int) parallelism);
        }
    }
}
