package org.sover.api.crypto;

/**
 * This node's Ed25519 identity, created at first boot. The node id is derived from the
 * public key (base32 with check characters), so identity is a key, not an address.
 */
public interface NodeIdentity {
    /** 56 base32 characters with four check characters, in 8 dash-separated groups of 7 (Syncthing's device id form). */
    String nodeId();

    /** Raw 32-byte Ed25519 public key. */
    byte[] publicKey();

    /** What people compare when pairing: SHA-256 of the public key, grouped hex. */
    String fingerprint();

    /** Ed25519 signature (64 bytes) over {@code message}. */
    byte[] sign(byte[] message);

    /**
     * This node's X25519 key-agreement public key, derived from the Ed25519 identity (as
     * libsodium's crypto_sign_ed25519_pk_to_curve25519 does), so peers can compute it from the
     * pinned key: {@link SignatureVerifier#agreementKeyOf(byte[])} gives the same bytes.
     */
    byte[] agreementPublicKey();
}
