package org.sover.crypto.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.InvalidKeyException;
import java.util.Arrays;
import java.util.HexFormat;

import org.bouncycastle.math.ec.rfc7748.X25519;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class AgreementKeysTest {
    private static final HexFormat HEX = HexFormat.of();
    /** RFC 8032, section 7.1, test 1. */
    private static final byte[] RFC8032_SEED = HEX.parseHex(
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    private static final byte[] RFC8032_PUBLIC = HEX.parseHex(
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    /**
     * Computed outside Java: the clamped first half of SHA-512(seed) (Python hashlib), its X25519
     * public key from OpenSSL (pyca/cryptography), which equals (1 + y) / (1 - y) mod p in Python
     * integers.
     */
    private static final byte[] RFC8032_AGREEMENT_PRIVATE = HEX.parseHex(
            "307c83864f2833cb427a2ef1c00a013cfdff2768d980c0a3a520f006904de94f");
    private static final byte[] RFC8032_AGREEMENT_PUBLIC = HEX.parseHex(
            "d85e07ec22b0ad881537c2f44d662d1a143cf830c57aca4305d85c7a90f6b62e");

    @Rule
    public TemporaryFolder temp = new TemporaryFolder();

    private final Ed25519SignatureVerifier verifier = new Ed25519SignatureVerifier();

    @Test
    public void rfc8032KeyMapsToTheKeyOpenSslComputes() throws Exception {
        Path dir = temp.newFolder().toPath();
        Path keyFile = Files.write(dir.resolve(Ed25519NodeIdentity.KEY_FILE), RFC8032_SEED);
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
        Ed25519NodeIdentity identity = new Ed25519NodeIdentity(dir);

        assertArrayEquals(RFC8032_PUBLIC, identity.publicKey());
        assertArrayEquals(RFC8032_AGREEMENT_PRIVATE, AgreementKeys.privateKeyOf(RFC8032_SEED));
        assertArrayEquals(RFC8032_AGREEMENT_PUBLIC, identity.agreementPublicKey());
        assertArrayEquals(RFC8032_AGREEMENT_PUBLIC, verifier.agreementKeyOf(RFC8032_PUBLIC));
    }

    @Test
    public void peersComputeTheKeyTheNodeAgreesWith() throws Exception {
        for (int i = 0; i < 20; i++) {
            Path dir = temp.newFolder().toPath();
            Ed25519NodeIdentity identity = new Ed25519NodeIdentity(dir);
            byte[] seed = Files.readAllBytes(dir.resolve(Ed25519NodeIdentity.KEY_FILE));
            byte[] fromPrivate = new byte[32];
            X25519.scalarMultBase(AgreementKeys.privateKeyOf(seed), 0, fromPrivate, 0);

            assertArrayEquals(fromPrivate, identity.agreementPublicKey());
            assertArrayEquals(fromPrivate, verifier.agreementKeyOf(identity.publicKey()));
        }
    }

    @Test
    public void bouncyCastleClampsTheScalarItself() {
        byte[] unclamped = RFC8032_AGREEMENT_PRIVATE.clone();
        unclamped[0] |= 7;
        unclamped[31] |= (byte) 0x80;
        unclamped[31] &= ~0x40;
        byte[] publicKey = new byte[32];
        X25519.scalarMultBase(unclamped, 0, publicKey, 0);
        assertArrayEquals(RFC8032_AGREEMENT_PUBLIC, publicKey);
    }

    @Test
    public void bothSidesAgreeOnTheSameSecret() throws Exception {
        Ed25519NodeIdentity alice = new Ed25519NodeIdentity(temp.newFolder().toPath());
        Ed25519NodeIdentity bob = new Ed25519NodeIdentity(temp.newFolder().toPath());

        byte[] aliceSide = alice.sharedSecret(verifier.agreementKeyOf(bob.publicKey()));
        byte[] bobSide = bob.sharedSecret(verifier.agreementKeyOf(alice.publicKey()));
        assertArrayEquals(aliceSide, bobSide);
        assertFalse(Arrays.equals(new byte[32], aliceSide));
    }

    @Test
    public void malformedEd25519KeysAreRefused() {
        byte[] neutral = new byte[32];
        neutral[0] = 1;
        byte[] neutralWithSignBit = neutral.clone();
        neutralWithSignBit[31] = (byte) 0x80;
        byte[] allOnes = new byte[32];
        Arrays.fill(allOnes, (byte) 0xff);
        byte[] notOnCurve = new byte[32];
        notOnCurve[0] = 2;
        byte[][] refused = {
            null, new byte[31], new byte[33], neutral, neutralWithSignBit,
            new byte[32], // y = 0: a point of order 4
            HEX.parseHex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), // y = -1: order 2
            allOnes, // y >= p, not canonical
            notOnCurve,
        };
        for (byte[] key : refused) {
            String what = key == null ? "null" : HEX.formatHex(key);
            IllegalArgumentException e = assertThrows(what, IllegalArgumentException.class,
                    () -> verifier.agreementKeyOf(key));
            assertTrue(e.getMessage(), e.getMessage().contains("Ed25519"));
        }
        IllegalArgumentException degenerate = assertThrows(IllegalArgumentException.class,
                () -> verifier.agreementKeyOf(neutral));
        assertTrue(degenerate.getMessage(), degenerate.getMessage().contains("y = 1"));
    }

    @Test
    public void smallOrderPeerKeysGiveNoSecret() throws Exception {
        Ed25519NodeIdentity identity = new Ed25519NodeIdentity(temp.newFolder().toPath());
        byte[] one = new byte[32];
        one[0] = 1;
        for (byte[] key : new byte[][] {new byte[32], one}) {
            assertThrows(InvalidKeyException.class, () -> identity.sharedSecret(key));
        }
        assertThrows(InvalidKeyException.class, () -> identity.sharedSecret(new byte[31]));
        assertThrows(InvalidKeyException.class, () -> identity.sharedSecret(null));
    }

    @Test
    public void returnedKeysAreCopies() throws Exception {
        Ed25519NodeIdentity identity = new Ed25519NodeIdentity(temp.newFolder().toPath());
        byte[] first = identity.agreementPublicKey();
        first[0] ^= 1;
        assertEquals(32, identity.agreementPublicKey().length);
        assertFalse(Arrays.equals(first, identity.agreementPublicKey()));
    }
}
