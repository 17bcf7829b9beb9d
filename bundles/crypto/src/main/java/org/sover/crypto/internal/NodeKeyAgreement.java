package org.sover.crypto.internal;

import java.security.GeneralSecurityException;

/**
 * This node's side of an X25519 key agreement. The node identity implements it, so the agreement
 * private key never leaves the identity: callers get shared secrets, never the key. The identity
 * registers itself under this type too, which lets the vault cipher reference it as a service;
 * this package is not exported, so no other bundle can import the type.
 */
public interface NodeKeyAgreement {
    /** The node id the agreement key belongs to, in canonical form. */
    String nodeId();

    /** This node's X25519 public key, as {@code SignatureVerifier.agreementKeyOf} computes it. */
    byte[] agreementPublicKey();

    /**
     * X25519 of this node's agreement private key with a peer's public key; the caller clears
     * the returned secret after use.
     *
     * @throws GeneralSecurityException when the peer's key is malformed or of small order
     */
    byte[] sharedSecret(byte[] peerAgreementPublicKey) throws GeneralSecurityException;
}
