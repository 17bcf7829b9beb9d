package org.sover.api.crypto;

/** Verifies other nodes' signatures and derives node ids from public keys. */
public interface SignatureVerifier {
    boolean verify(byte[] publicKey, byte[] message, byte[] signature);

    /**
     * The node id belonging to a raw Ed25519 public key.
     *
     * @throws IllegalArgumentException for a key that is not 32 bytes
     */
    String nodeIdOf(byte[] publicKey);

    /** True when the check characters of a node id are right (typos are caught before use). */
    boolean isValidNodeId(String nodeId);

    /**
     * The X25519 agreement key of the node with this Ed25519 public key (the birational map).
     *
     * @throws IllegalArgumentException for a key that is not a valid Ed25519 point (check input from peers)
     */
    byte[] agreementKeyOf(byte[] ed25519PublicKey);
}
