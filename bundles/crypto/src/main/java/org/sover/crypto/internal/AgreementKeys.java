package org.sover.crypto.internal;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.util.Arrays;

import org.bouncycastle.math.ec.rfc7748.X25519;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * X25519 key-agreement keys derived from Ed25519 keys, exactly as libsodium's
 * {@code crypto_sign_ed25519_sk_to_curve25519} and {@code crypto_sign_ed25519_pk_to_curve25519}
 * do. A node's pinned signing key then also tells every peer its agreement key, so no second
 * key has to be created, stored or exchanged during pairing.
 */
final class AgreementKeys {
    static final int KEY_SIZE = X25519.POINT_SIZE;
    private static final BigInteger P = BigInteger.ONE.shiftLeft(255).subtract(BigInteger.valueOf(19));

    private AgreementKeys() {
    }

    /**
     * The private scalar: the first 32 bytes of SHA-512 of the Ed25519 seed, clamped. That is the
     * scalar Ed25519 signs with, so it pairs with the public key {@link #publicKeyOf} computes.
     */
    static byte[] privateKeyOf(byte[] ed25519Seed) {
        byte[] hash = JdkPrimitives.sha512().digest(ed25519Seed);
        try {
            byte[] scalar = Arrays.copyOf(hash, X25519.SCALAR_SIZE);
            // X25519 clamps again when it uses the scalar; clamping here keeps the bytes libsodium's.
            X25519.clampPrivateKey(scalar);
            return scalar;
        } finally {
            Arrays.fill(hash, (byte) 0);
        }
    }

    /** The X25519 public key of a private scalar from {@link #privateKeyOf}. */
    static byte[] publicKeyOfPrivate(byte[] privateKey) {
        byte[] publicKey = new byte[KEY_SIZE];
        X25519.scalarMultBase(privateKey, 0, publicKey, 0);
        return publicKey;
    }

    /**
     * The birational map from Edwards to Montgomery form: u = (1 + y) / (1 - y) mod p, where y is
     * the little-endian public key without its top bit (the sign of x). Public data, so the
     * variable-time BigInteger arithmetic leaks nothing.
     *
     * @throws IllegalArgumentException unless {@code ed25519PublicKey} is a 32-byte Ed25519 public key
     *         in the prime-order subgroup (libsodium refuses the same keys)
     */
    static byte[] publicKeyOf(byte[] ed25519PublicKey) {
        if (ed25519PublicKey == null || ed25519PublicKey.length != Ed25519.PUBLIC_KEY_SIZE) {
            throw new IllegalArgumentException("an Ed25519 public key has " + Ed25519.PUBLIC_KEY_SIZE + " bytes");
        }
        byte[] bigEndian = new byte[ed25519PublicKey.length];
        for (int i = 0; i < bigEndian.length; i++) {
            bigEndian[i] = ed25519PublicKey[ed25519PublicKey.length - 1 - i];
        }
        bigEndian[0] &= 0x7f;
        BigInteger y = new BigInteger(1, bigEndian);
        if (y.mod(P).equals(BigInteger.ONE)) {
            throw new IllegalArgumentException("the Ed25519 public key is the neutral point (y = 1), "
                    + "which has no agreement key");
        }
        if (!Ed25519.validatePublicKeyFull(ed25519PublicKey, 0)) {
            throw new IllegalArgumentException("not an Ed25519 public key: not a point of the curve's "
                    + "prime-order subgroup");
        }
        BigInteger u = BigInteger.ONE.add(y).multiply(BigInteger.ONE.subtract(y).modInverse(P)).mod(P);
        byte[] magnitude = u.toByteArray();
        byte[] littleEndian = new byte[KEY_SIZE];
        // toByteArray is big-endian and may carry a leading sign byte or be shorter than 32 bytes.
        for (int i = 0; i < magnitude.length && i < KEY_SIZE; i++) {
            littleEndian[i] = magnitude[magnitude.length - 1 - i];
        }
        return littleEndian;
    }

    /**
     * X25519 of a private scalar with a peer's public key; the caller clears the result.
     *
     * @throws InvalidKeyException when the peer's key has small order, which makes the shared
     *         secret all zeros (a peer could force that value, so it is never used)
     */
    static byte[] sharedSecret(byte[] privateKey, byte[] peerPublicKey) throws GeneralSecurityException {
        if (peerPublicKey == null || peerPublicKey.length != KEY_SIZE) {
            throw new InvalidKeyException("an X25519 public key has " + KEY_SIZE + " bytes");
        }
        byte[] shared = new byte[KEY_SIZE];
        // Bouncy Castle checks for the all-zero result without branching on secret bytes.
        if (!X25519.calculateAgreement(privateKey, 0, peerPublicKey, 0, shared, 0)) {
            throw new InvalidKeyException("the X25519 public key has small order, so it agrees on no secret");
        }
        return shared;
    }
}
