package org.sover.replication.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;

import org.junit.Test;

/** The proof of a pairing token that a joining node sends through a signal server instead of the token. */
public class TokenProofTest {
    private static final String HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    private static final byte[] KEY_B = new byte[32];
    private static final byte[] KEY_X = new byte[32];

    static {
        KEY_X[0] = 1;
    }

    @Test
    public void theIssuerComputesTheSameProofFromTheHashItStores() {
        assertEquals(PeerDirectoryService.tokenProof(HASH, "NODE-B", KEY_B),
                PeerDirectoryService.tokenProof(HASH, "NODE-B", KEY_B));
    }

    @Test
    public void theProofIsBoundToTheJoiningNodeAndItsKey() {
        String proof = PeerDirectoryService.tokenProof(HASH, "NODE-B", KEY_B);
        assertNotEquals("another node id", proof, PeerDirectoryService.tokenProof(HASH, "NODE-X", KEY_B));
        assertNotEquals("another key", proof, PeerDirectoryService.tokenProof(HASH, "NODE-B", KEY_X));
        assertNotEquals("another token", proof, PeerDirectoryService.tokenProof(HASH.replace('9', '8'), "NODE-B", KEY_B));
    }

    @Test
    public void theProofDoesNotShowTheToken() {
        String proof = PeerDirectoryService.tokenProof(HASH, "NODE-B", KEY_B);
        assertFalse(proof.contains(HASH.substring(0, 8)));
    }
}
