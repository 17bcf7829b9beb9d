package org.sover.crypto.internal;

import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class Argon2PasswordHasherTest {
    /** From the Argon2 reference implementation's tests (src/test.c): "password", salt "somesalt". */
    private static final String REFERENCE = "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4";
    private static final String REFERENCE_P2 = "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc";

    /** Tiny parameters keep the tests fast; the defaults have a test of their own. */
    private final Argon2PasswordHasher hasher = new Argon2PasswordHasher(64, 1, 1);

    @Test
    public void hashVerifiesWithTheRightPasswordOnly() {
        String encoded = hasher.hash("correct horse".toCharArray());

        assertTrue(encoded, encoded.matches("\\$argon2id\\$v=19\\$m=64,t=1,p=1\\$[A-Za-z0-9+/]{22}\\$[A-Za-z0-9+/]{43}"));
        assertTrue(hasher.verify("correct horse".toCharArray(), encoded));
        assertFalse(hasher.verify("correct horsf".toCharArray(), encoded));
        assertFalse(hasher.verify(new char[0], encoded));
    }

    @Test
    public void saltMakesEveryHashDifferent() {
        char[] password = "same".toCharArray();
        assertNotEquals(hasher.hash(password), hasher.hash(password));
    }

    @Test
    public void verifyReadsParametersFromTheEncoding() {
        String encoded = new Argon2PasswordHasher(128, 2, 2).hash("pw".toCharArray());
        assertTrue(hasher.verify("pw".toCharArray(), encoded));
    }

    @Test
    public void verifiesHashesOfTheReferenceImplementation() {
        assertTrue(hasher.verify("password".toCharArray(), REFERENCE));
        assertTrue(hasher.verify("password".toCharArray(), REFERENCE_P2));
        assertFalse(hasher.verify("Password".toCharArray(), REFERENCE));
    }

    @Test
    public void nonAsciiPasswordsRoundTrip() {
        String encoded = hasher.hash("Grüße, 家族".toCharArray());
        assertTrue(hasher.verify("Grüße, 家族".toCharArray(), encoded));
        assertFalse(hasher.verify("Grusse, 家族".toCharArray(), encoded));
    }

    @Test
    public void malformedEncodingsAreRejectedWithoutThrowing() {
        char[] password = "password".toCharArray();
        String[] malformed = {
            null, "", "password", "$argon2id$", "$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
            REFERENCE.replace("v=19", "v=16"),
            REFERENCE.replace("m=256", "m=0"),
            REFERENCE.replace("m=256", "m=99999999999"),
            REFERENCE.replace("t=2", "t=0"),
            REFERENCE.replace("p=1", "p=0"),
            REFERENCE.replace("c29tZXNhbHQ", "c29tZ"),
            REFERENCE.replace("c29tZXNhbHQ", "!!!"),
            REFERENCE.replace("$c29tZXNhbHQ", ""),
            REFERENCE.substring(0, REFERENCE.length() - 30),
            REFERENCE.replace("nf65", "nf66"),
            REFERENCE + "$",
            REFERENCE + "=",
            " " + REFERENCE,
        };
        for (String encoded : malformed) {
            assertFalse(String.valueOf(encoded), hasher.verify(password, encoded));
        }
        assertFalse(hasher.verify(null, REFERENCE));
    }

    @Test
    public void defaultsAreOwaspArgon2id() {
        Argon2PasswordHasher defaults = new Argon2PasswordHasher(Argon2PasswordHasher.DEFAULT_MEMORY_KIB,
                Argon2PasswordHasher.DEFAULT_ITERATIONS, Argon2PasswordHasher.DEFAULT_PARALLELISM);
        String encoded = defaults.hash("family".toCharArray());

        assertTrue(encoded, encoded.startsWith("$argon2id$v=19$m=19456,t=2,p=1$"));
        assertTrue(defaults.verify("family".toCharArray(), encoded));
    }

    @Test
    public void invalidConfigurationIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Argon2PasswordHasher(4, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new Argon2PasswordHasher(64, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new Argon2PasswordHasher(64, 1, 0));
    }
}
