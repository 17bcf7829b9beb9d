package org.sover.crypto.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.HKDFParameters;
import org.bouncycastle.math.ec.rfc7748.X25519;

/**
 * The family vault key sealed to one peer for the pairing handover (an ECIES box):
 * {@code version 0x01 | ephemeral X25519 public key (32) | nonce (12) | AES-256-GCM(vault key) || tag (48)}.
 * The AES key is HKDF-SHA256 of the X25519 secret between the ephemeral key and the peer's
 * agreement key, salted with both public keys; sender and recipient node ids are the AAD, so a
 * sealed key opens only on the node it was sealed to and only as coming from its sender.
 */
final class SealedVaultKey {
    static final int VERSION = 1;
    static final int NONCE_BYTES = 12;
    static final int LENGTH = 1 + AgreementKeys.KEY_SIZE + NONCE_BYTES + SegmentedVaultCipher.KEY_BYTES
            + SegmentedVaultCipher.TAG_BYTES;
    private static final byte[] HKDF_INFO = "sover vault-key handover v1".getBytes(StandardCharsets.US_ASCII);
    private static final String AAD_PREFIX = "sover-vault-key\n";

    private SealedVaultKey() {
    }

    /**
     * @param senderNodeId and {@code peerNodeId} in canonical form
     * @throws IllegalArgumentException when the peer's agreement key is malformed or of small order
     */
    static byte[] seal(byte[] vaultKey, String senderNodeId, byte[] peerAgreementPublicKey, String peerNodeId,
            SecureRandom random) {
        byte[] ephemeralPrivate = new byte[X25519.SCALAR_SIZE];
        byte[] shared = null;
        byte[] key = null;
        try {
            X25519.generatePrivateKey(random, ephemeralPrivate);
            byte[] ephemeralPublic = AgreementKeys.publicKeyOfPrivate(ephemeralPrivate);
            try {
                shared = AgreementKeys.sharedSecret(ephemeralPrivate, peerAgreementPublicKey);
            } catch (GeneralSecurityException e) {
                throw new IllegalArgumentException("cannot seal the vault key to this agreement key: "
                        + e.getMessage(), e);
            }
            key = handoverKey(shared, ephemeralPublic, peerAgreementPublicKey);
            byte[] nonce = new byte[NONCE_BYTES];
            random.nextBytes(nonce);
            Cipher gcm = JdkPrimitives.cipher("AES/GCM/NoPadding");
            gcm.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"),
                    new GCMParameterSpec(SegmentedVaultCipher.TAG_BITS, nonce));
            gcm.updateAAD(aad(senderNodeId, peerNodeId));
            byte[] ciphertext = gcm.doFinal(vaultKey);
            return ByteBuffer.allocate(LENGTH).put((byte) VERSION).put(ephemeralPublic).put(nonce).put(ciphertext)
                    .array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot seal the vault key", e);
        } finally {
            clear(ephemeralPrivate, shared, key);
        }
    }

    /**
     * The vault key sealed to {@code recipient} by {@code senderNodeId} (canonical form); the
     * caller clears it after use.
     *
     * @throws GeneralSecurityException when it was sealed to another node or by another sender, or
     *         any byte of it was changed
     */
    static byte[] open(byte[] sealed, String senderNodeId, NodeKeyAgreement recipient)
            throws GeneralSecurityException {
        if (sealed == null || sealed.length != LENGTH) {
            throw new GeneralSecurityException("a sealed vault key has " + LENGTH + " bytes, this one has "
                    + (sealed == null ? 0 : sealed.length) + "; it was cut or padded on the way, copy it again");
        }
        int version = sealed[0] & 0xff;
        if (version != VERSION) {
            throw new GeneralSecurityException("unsupported sealed vault key version " + version
                    + "; this node opens version " + VERSION);
        }
        ByteBuffer in = ByteBuffer.wrap(sealed, 1, LENGTH - 1);
        byte[] ephemeralPublic = new byte[AgreementKeys.KEY_SIZE];
        byte[] nonce = new byte[NONCE_BYTES];
        byte[] ciphertext = new byte[in.remaining() - ephemeralPublic.length - nonce.length];
        in.get(ephemeralPublic).get(nonce).get(ciphertext);

        String recipientNodeId = recipient.nodeId();
        byte[] shared = null;
        byte[] key = null;
        try {
            try {
                shared = recipient.sharedSecret(ephemeralPublic);
            } catch (GeneralSecurityException smallOrder) {
                throw new GeneralSecurityException("the sealed vault key is damaged: its ephemeral key is unusable",
                        smallOrder);
            }
            key = handoverKey(shared, ephemeralPublic, recipient.agreementPublicKey());
            Cipher gcm = JdkPrimitives.cipher("AES/GCM/NoPadding");
            gcm.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"),
                    new GCMParameterSpec(SegmentedVaultCipher.TAG_BITS, nonce));
            gcm.updateAAD(aad(senderNodeId, recipientNodeId));
            return gcm.doFinal(ciphertext);
        } catch (AEADBadTagException e) {
            throw new GeneralSecurityException("the vault key was not sealed to this node (" + recipientNodeId
                    + ") by node " + senderNodeId + ", or it was altered on the way; ask node " + senderNodeId
                    + " to seal it to this node again", e);
        } finally {
            clear(shared, key);
        }
    }

    /**
     * Both public keys go into the salt because the X25519 output alone does not commit to them
     * (libsodium's crypto_kx hashes them in for the same reason).
     */
    private static byte[] handoverKey(byte[] shared, byte[] ephemeralPublic, byte[] recipientPublic) {
        byte[] salt = Arrays.copyOf(ephemeralPublic, ephemeralPublic.length + recipientPublic.length);
        System.arraycopy(recipientPublic, 0, salt, ephemeralPublic.length, recipientPublic.length);
        HKDFBytesGenerator generator = new HKDFBytesGenerator(new SHA256Digest());
        generator.init(new HKDFParameters(shared, salt, HKDF_INFO));
        byte[] key = new byte[SegmentedVaultCipher.KEY_BYTES];
        generator.generateBytes(key, 0, key.length);
        return key;
    }

    private static byte[] aad(String senderNodeId, String recipientNodeId) {
        return (AAD_PREFIX + senderNodeId + '\n' + recipientNodeId).getBytes(StandardCharsets.UTF_8);
    }

    private static void clear(byte[]... secrets) {
        for (byte[] secret : secrets) {
            if (secret != null) {
                Arrays.fill(secret, (byte) 0);
            }
        }
    }
}
