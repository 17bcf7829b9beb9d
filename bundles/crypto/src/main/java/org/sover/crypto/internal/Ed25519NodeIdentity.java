package org.sover.crypto.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;

import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.generators.Ed25519KeyPairGenerator;
import org.bouncycastle.crypto.params.Ed25519KeyGenerationParameters;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.sover.api.crypto.NodeIdentity;

/**
 * This node's Ed25519 key, created at first activation and kept as {@code node.key} (the raw
 * 32-byte private key) in the key directory. Losing the file changes the node id. The X25519
 * agreement key is derived from it on load (see {@link AgreementKeys}) and never stored.
 */
@Component(service = {NodeIdentity.class, NodeKeyAgreement.class}, configurationPid = CryptoConfig.PID,
        immediate = true)
public final class Ed25519NodeIdentity implements NodeIdentity, NodeKeyAgreement {
    static final String KEY_FILE = "node.key";
    /** Bytes of SHA-256 shown in the fingerprint: 128 bits are plenty for people comparing by eye. */
    private static final int FINGERPRINT_BYTES = 16;

    private volatile Identity identity;

    @Activate
    public Ed25519NodeIdentity(CryptoConfig config) throws IOException {
        this(KeyDirectory.configured(config.keyDir()));
    }

    public Ed25519NodeIdentity(Path keyDir) throws IOException {
        this.identity = Identity.load(new KeyDirectory(keyDir));
    }

    /** A new key directory means another identity; unrelated keys of the shared PID change nothing. */
    @Modified
    void modified(CryptoConfig config) throws IOException {
        Path keyDir = KeyDirectory.configured(config.keyDir());
        if (!keyDir.equals(identity.keyDir())) {
            identity = Identity.load(new KeyDirectory(keyDir));
        }
    }

    @Override
    public String nodeId() {
        return identity.nodeId();
    }

    @Override
    public byte[] publicKey() {
        return identity.publicKey().clone();
    }

    /**
     * The first 16 bytes of SHA-256 of the public key as uppercase hex in eight groups of four,
     * e.g. {@code 3F2A 9C01 ...}.
     */
    @Override
    public String fingerprint() {
        return fingerprintOf(identity.publicKey());
    }

    @Override
    public byte[] sign(byte[] message) {
        Ed25519Signer signer = new Ed25519Signer();
        signer.init(true, identity.privateKey());
        signer.update(message, 0, message.length);
        return signer.generateSignature();
    }

    @Override
    public byte[] agreementPublicKey() {
        return identity.agreementPublicKey().clone();
    }

    /** Only for this bundle (through {@link NodeKeyAgreement}); the private key itself stays here. */
    @Override
    public byte[] sharedSecret(byte[] peerAgreementPublicKey) throws GeneralSecurityException {
        return AgreementKeys.sharedSecret(identity.agreementPrivateKey(), peerAgreementPublicKey);
    }

    static String fingerprintOf(byte[] publicKey) {
        String hex = HexFormat.of().withUpperCase().formatHex(NodeIdFormat.sha256(publicKey), 0, FINGERPRINT_BYTES);
        StringBuilder grouped = new StringBuilder(hex.length() + hex.length() / 4);
        for (int i = 0; i < hex.length(); i += 4) {
            if (i > 0) {
                grouped.append(' ');
            }
            grouped.append(hex, i, i + 4);
        }
        return grouped.toString();
    }

    private record Identity(Path keyDir, Ed25519PrivateKeyParameters privateKey, byte[] publicKey, String nodeId,
            byte[] agreementPrivateKey, byte[] agreementPublicKey) {
        static Identity load(KeyDirectory keys) throws IOException {
            Optional<byte[]> stored = keys.read(KEY_FILE, Ed25519PrivateKeyParameters.KEY_SIZE);
            Ed25519PrivateKeyParameters privateKey;
            if (stored.isPresent()) {
                privateKey = new Ed25519PrivateKeyParameters(stored.get(), 0);
                Arrays.fill(stored.get(), (byte) 0);
            } else {
                Ed25519KeyPairGenerator generator = new Ed25519KeyPairGenerator();
                generator.init(new Ed25519KeyGenerationParameters(new SecureRandom()));
                AsymmetricCipherKeyPair pair = generator.generateKeyPair();
                privateKey = (Ed25519PrivateKeyParameters) pair.getPrivate();
                byte[] encoded = privateKey.getEncoded();
                try {
                    keys.create(KEY_FILE, encoded);
                } finally {
                    Arrays.fill(encoded, (byte) 0);
                }
            }
            byte[] publicKey = privateKey.generatePublicKey().getEncoded();
            byte[] seed = privateKey.getEncoded();
            byte[] agreementPrivateKey;
            try {
                agreementPrivateKey = AgreementKeys.privateKeyOf(seed);
            } finally {
                Arrays.fill(seed, (byte) 0);
            }
            return new Identity(keys.path(), privateKey, publicKey, NodeIdFormat.fromPublicKey(publicKey),
                    agreementPrivateKey, AgreementKeys.publicKeyOfPrivate(agreementPrivateKey));
        }
    }
}
