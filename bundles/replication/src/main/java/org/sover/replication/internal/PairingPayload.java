package org.sover.replication.internal;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.sover.api.crypto.NodeIdentity;
import org.sover.api.crypto.SignatureVerifier;
import org.sover.api.crypto.SignedHeaders;
import org.sover.api.replication.PeerRole;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The one copyable pairing line: {@code sover-pair:<base64url(JSON)>.<base64url(signature)>},
 * signed by the issuing node so a typo or an edit is caught before any network contact.
 */
record PairingPayload(String nodeId, byte[] publicKey, String name, List<String> addresses, String token,
        Instant expires, PeerRole role) {
    static final String PREFIX = "sover-pair:";
    private static final ObjectMapper JSON = new ObjectMapper();

    String encode(NodeIdentity signer) {
        ObjectNode o = JSON.createObjectNode();
        o.put("v", 1);
        o.put("nodeId", nodeId);
        o.put("publicKey", SignedHeaders.B64.encodeToString(publicKey));
        o.put("name", name);
        addresses.forEach(o.putArray("addresses")::add);
        if (addresses.isEmpty()) {
            o.putArray("addresses");
        }
        o.put("token", token);
        o.put("expires", expires.toString());
        o.put("role", role.wireName());
        byte[] body = SignedHeaders.utf8(o.toString());
        return PREFIX + SignedHeaders.B64.encodeToString(body) + "."
                + SignedHeaders.B64.encodeToString(signer.sign(body));
    }

    /** @throws IllegalArgumentException with a message a person can act on */
    static PairingPayload decode(String line, SignatureVerifier verifier) {
        String s = line == null ? "" : line.strip();
        if (!s.startsWith(PREFIX)) {
            throw new IllegalArgumentException("A pairing line starts with \"sover-pair:\"; copy the whole line.");
        }
        int dot = s.indexOf('.', PREFIX.length());
        if (dot < 0) {
            throw new IllegalArgumentException("The pairing line is incomplete; copy the whole line.");
        }
        try {
            byte[] body = SignedHeaders.B64D.decode(s.substring(PREFIX.length(), dot));
            byte[] signature = SignedHeaders.B64D.decode(s.substring(dot + 1));
            JsonNode o = JSON.readTree(body);
            if (o.path("v").asInt() != 1) {
                throw new IllegalArgumentException("This pairing line comes from a newer Sover; update this node.");
            }
            byte[] key = SignedHeaders.B64D.decode(o.path("publicKey").asText());
            String nodeId = o.path("nodeId").asText();
            if (!verifier.nodeIdOf(key).equals(nodeId) || !verifier.verify(key, body, signature)) {
                throw new IllegalArgumentException("The pairing line was altered or mistyped; copy it again.");
            }
            List<String> addresses = new ArrayList<>();
            o.path("addresses").forEach(a -> addresses.add(a.asText()));
            PeerRole role = PeerRole.valueOf(o.path("role").asText("full").toUpperCase(java.util.Locale.ROOT));
            return new PairingPayload(nodeId, key, o.path("name").asText(nodeId), addresses, o.path("token").asText(),
                    Instant.parse(o.path("expires").asText()), role);
        } catch (IOException | RuntimeException e) {
            if (e instanceof IllegalArgumentException iae && iae.getMessage() != null
                    && iae.getMessage().contains("pairing line")) {
                throw iae;
            }
            throw new IllegalArgumentException("The pairing line was altered or mistyped; copy it again.", e);
        }
    }
}
