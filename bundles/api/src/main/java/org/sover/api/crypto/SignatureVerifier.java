package org.sover.api.crypto;

/** Verifies other nodes' signatures and derives node ids from public keys. */
public interface SignatureVerifier {
    boolean verify(byte[] publicKey, byte[] message, byte[] signature);

    /** The node id belonging to a raw Ed25519 public key. */
    String nodeIdOf(byte[] publicKey);

    /** True when the check characters of a node id are right (typos are caught before use). */
    boolean isValidNodeId(String nodeId);
}
