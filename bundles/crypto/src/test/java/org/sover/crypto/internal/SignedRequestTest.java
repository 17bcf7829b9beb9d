package org.sover.crypto.internal;

import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.List;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.sover.api.crypto.SignedRequest;

/** The node-to-node request signature as other bundles make and check it, with this bundle's keys. */
public class SignedRequestTest {
    private static final String BODY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    @Rule
    public TemporaryFolder temp = new TemporaryFolder();

    private final Ed25519SignatureVerifier verifier = new Ed25519SignatureVerifier();

    @Test
    public void signatureCoversEveryField() throws Exception {
        Ed25519NodeIdentity node = new Ed25519NodeIdentity(temp.newFolder().toPath());
        String id = node.nodeId();
        SignedRequest request = new SignedRequest("POST", "/v1/peer/blobs", "page=2", BODY_SHA256, id,
                1_700_000_000_000L, "n0nce");
        byte[] signature = node.sign(request.canonicalBytes());

        assertTrue(verifier.verify(node.publicKey(), request.canonicalBytes(), signature));
        List<SignedRequest> changed = List.of(
                new SignedRequest("GET", "/v1/peer/blobs", "page=2", BODY_SHA256, id, 1_700_000_000_000L, "n0nce"),
                new SignedRequest("POST", "/v1/peer/blob", "page=2", BODY_SHA256, id, 1_700_000_000_000L, "n0nce"),
                new SignedRequest("POST", "/v1/peer/blobs", "page=3", BODY_SHA256, id, 1_700_000_000_000L, "n0nce"),
                new SignedRequest("POST", "/v1/peer/blobs", "", BODY_SHA256, id, 1_700_000_000_000L, "n0nce"),
                new SignedRequest("POST", "/v1/peer/blobs", "page=2", BODY_SHA256.replace('e', 'f'), id,
                        1_700_000_000_000L, "n0nce"),
                new SignedRequest("POST", "/v1/peer/blobs", "page=2", BODY_SHA256,
                        new Ed25519NodeIdentity(temp.newFolder().toPath()).nodeId(), 1_700_000_000_000L, "n0nce"),
                new SignedRequest("POST", "/v1/peer/blobs", "page=2", BODY_SHA256, id, 1_700_000_000_001L, "n0nce"),
                new SignedRequest("POST", "/v1/peer/blobs", "page=2", BODY_SHA256, id, 1_700_000_000_000L, "n0nc3"));
        for (SignedRequest other : changed) {
            assertFalse(other.toString(), verifier.verify(node.publicKey(), other.canonicalBytes(), signature));
        }
    }
}
