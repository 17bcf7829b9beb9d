package org.sover.transport.webrtc.internal;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import org.sover.api.crypto.NodeIdentity;
import org.sover.api.crypto.SignatureVerifier;

/**
 * Offers and answers are signed by the sending node's identity, so a signal server that swaps
 * the DTLS fingerprint in the SDP (to sit in the middle of the data channel) is caught: DTLS
 * then authenticates the peer, and everything on the channel is as trusted as the pinned key.
 */
final class SdpSignature {
    private SdpSignature() {
    }

    static byte[] signedBytes(String fromNodeId, String toNodeId, String type, String sdp) {
        return ("sover-sdp-v1\n" + fromNodeId + "\n" + toNodeId + "\n" + type + "\n" + sdp)
                .getBytes(StandardCharsets.UTF_8);
    }

    static String sign(NodeIdentity identity, String toNodeId, String type, String sdp) {
        return Base64.getEncoder().encodeToString(identity.sign(signedBytes(identity.nodeId(), toNodeId, type, sdp)));
    }

    static boolean verify(SignatureVerifier verifier, byte[] pinnedKey, String fromNodeId, String toNodeId, String type,
            String sdp, String signature) {
        if (pinnedKey == null || sdp == null || signature == null) {
            return false;
        }
        try {
            return verifier.verify(pinnedKey, signedBytes(fromNodeId, toNodeId, type, sdp),
                    Base64.getDecoder().decode(signature));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    static String refusal(String peerName) {
        return "SDP signature from " + peerName
                + " does not verify (the DTLS fingerprint may have been altered by the signal server)";
    }
}
