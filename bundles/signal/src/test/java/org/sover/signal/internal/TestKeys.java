package org.sover.signal.internal;

import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;

import org.sover.api.crypto.SignatureVerifier;

import com.fasterxml.jackson.databind.ObjectMapper;

/** Real Ed25519 keys from the JDK, a verifier double backed by the JDK, and a clock tests move. */
final class TestKeys {
    private static final byte[] X509_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

    private TestKeys() {
    }

    /** A node: JDK key pair, raw public key, and an id derived as the double does. */
    record Node(KeyPair keys, byte[] publicKey, String id) {
        static Node create() throws Exception {
            KeyPair kp = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            byte[] encoded = kp.getPublic().getEncoded();
            byte[] raw = Arrays.copyOfRange(encoded, encoded.length - 32, encoded.length);
            return new Node(kp, raw, VERIFIER.nodeIdOf(raw));
        }

        byte[] sign(byte[] message) throws Exception {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(keys.getPrivate());
            s.update(message);
            return s.sign();
        }

        String ticket(String type, long expires) throws Exception {
            return ticket(type, id, expires, sign(PresenceTicket.signedBytes(id, expires)));
        }

        String ticket(String type, String nodeId, long expires, byte[] signature) {
            return new ObjectMapper().createObjectNode().put("type", type).put("nodeId", nodeId)
                    .put("publicKey", Base64.getEncoder().encodeToString(publicKey)).put("expires", expires)
                    .put("signature", Base64.getEncoder().encodeToString(signature)).toString();
        }
    }

    static final SignatureVerifier VERIFIER = new SignatureVerifier() {
        @Override
        public boolean verify(byte[] publicKey, byte[] message, byte[] signature) {
            try {
                byte[] spki = new byte[X509_PREFIX.length + 32];
                System.arraycopy(X509_PREFIX, 0, spki, 0, X509_PREFIX.length);
                System.arraycopy(publicKey, 0, spki, X509_PREFIX.length, 32);
                PublicKey key = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
                Signature s = Signature.getInstance("Ed25519");
                s.initVerify(key);
                s.update(message);
                return s.verify(signature);
            } catch (Exception e) {
                return false;
            }
        }

        @Override
        public String nodeIdOf(byte[] publicKey) {
            if (publicKey == null || publicKey.length != 32) {
                throw new IllegalArgumentException("32 bytes");
            }
            try {
                return "N" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(publicKey)).substring(0, 20);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public boolean isValidNodeId(String nodeId) {
            return nodeId.startsWith("N");
        }

        @Override
        public byte[] agreementKeyOf(byte[] ed25519PublicKey) {
            throw new UnsupportedOperationException();
        }
    };

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A clock that moves only when told. */
    static final class MutableClock extends Clock {
        private Instant now;

        MutableClock(Instant start) {
            this.now = start;
        }

        void advanceMillis(long millis) {
            now = now.plusMillis(millis);
        }

        void advanceSeconds(long seconds) {
            now = now.plusSeconds(seconds);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
