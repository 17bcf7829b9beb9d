package org.sover.crypto.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Configuration PID {@code org.sover.crypto}, shared by every component of this bundle; each
 * component reads only the keys it needs.
 */
@ObjectClassDefinition(id = CryptoConfig.PID, name = "Sover crypto",
        description = "Node identity, vault key and password hashing.")
public @interface CryptoConfig {
    String PID = "org.sover.crypto";

    @AttributeDefinition(name = "Key directory", required = false,
            description = "Holds node.key and vault.key. Empty means <sover.data>/keys.")
    String keyDir() default "";

    @AttributeDefinition(name = "Create vault key",
            description = "Create vault.key when it is missing. False on a storage-only node, "
                    + "which keeps ciphertext for the family without being able to read it.")
    boolean createVaultKey() default true;

    @AttributeDefinition(name = "Argon2 memory (KiB)")
    int argon2MemoryKiB() default Argon2PasswordHasher.DEFAULT_MEMORY_KIB;

    @AttributeDefinition(name = "Argon2 iterations")
    int argon2Iterations() default Argon2PasswordHasher.DEFAULT_ITERATIONS;

    @AttributeDefinition(name = "Argon2 parallelism")
    int argon2Parallelism() default Argon2PasswordHasher.DEFAULT_PARALLELISM;
}
