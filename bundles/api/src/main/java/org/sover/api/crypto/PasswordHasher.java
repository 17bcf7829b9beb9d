package org.sover.api.crypto;

/** Password hashing for accounts (a memory-hard KDF); encodings carry their own parameters. */
public interface PasswordHasher {
    String hash(char[] password);

    boolean verify(char[] password, String encoded);
}
