package org.sover.crypto.internal;

import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.osgi.service.component.annotations.Component;
import org.sover.api.crypto.SignatureVerifier;

/**
 * Checks other nodes' Ed25519 signatures and computes their X25519 agreement keys. Stateless and
 * separate from the node identity, so a process that only verifies needs no key file of its own.
 */
@Component(service = SignatureVerifier.class)
public final class Ed25519SignatureVerifier implements SignatureVerifier {
    private static final int SIGNATURE_SIZE = 64;

    public Ed25519SignatureVerifier() {
    }

    /** False for a wrong signature and for anything malformed: callers fail closed either way. */
    @Override
    public boolean verify(byte[] publicKey, byte[] message, byte[] signature) {
        if (publicKey == null || message == null || signature == null
                || publicKey.length != Ed25519PublicKeyParameters.KEY_SIZE || signature.length != SIGNATURE_SIZE) {
            return false;
        }
        try {
            Ed25519Signer signer = new Ed25519Signer();
            signer.init(false, new Ed25519PublicKeyParameters(publicKey, 0));
            signer.update(message, 0, message.length);
            return signer.verifySignature(signature);
        } catch (RuntimeException invalidKey) {
            // Bouncy Castle rejects public keys that are not points on the curve.
            return false;
        }
    }

    /** @throws IllegalArgumentException unless {@code publicKey} is a raw 32-byte Ed25519 key */
    @Override
    public String nodeIdOf(byte[] publicKey) {
        if (publicKey == null || publicKey.length != Ed25519PublicKeyParameters.KEY_SIZE) {
            throw new IllegalArgumentException("an Ed25519 public key has " + Ed25519PublicKeyParameters.KEY_SIZE
                    + " bytes");
        }
        return NodeIdFormat.fromPublicKey(publicKey);
    }

    @Override
    public boolean isValidNodeId(String nodeId) {
        return NodeIdFormat.isValid(nodeId);
    }

    /**
     * @throws IllegalArgumentException unless {@code ed25519PublicKey} is a raw 32-byte Ed25519 key
     *         in the curve's prime-order subgroup, as every key a node generates is
     */
    @Override
    public byte[] agreementKeyOf(byte[] ed25519PublicKey) {
        return AgreementKeys.publicKeyOf(ed25519PublicKey);
    }
}
