package org.sover.replication.internal;

import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.time.Instant;

import org.junit.Test;
import org.sover.api.crypto.BlobManifest;
import org.sover.api.replication.Delivery;
import org.sover.api.vault.BlobRecord;

/** How the worker checks a receiver's acknowledgement against what it sent. */
public class ReplicationWorkerMismatchTest {
    private static final String BLOB_ID = "3a2f10a74177ddea5844011c6d8b04df4a578c509b5f2e7bcf565c6ad3cebf1c";
    private static final String OTHER_ID = "1b4f0e9851971998e732078544c96b36c3d01cedf7caa332359d6f1d83567014";
    private static final String SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    private static final String OTHER_SHA = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

    private final BlobRecord blob = new BlobRecord(new BlobManifest(BLOB_ID, 1000, 1100, 1, SHA, "node-a",
            Instant.ofEpochMilli(1_700_000_000_000L)), new byte[64]);

    @Test
    public void anAcknowledgementOfTheSameBlobSizeAndHashMatches() {
        assertNull(ReplicationWorker.mismatch(blob, new Delivery(BLOB_ID, 1100, SHA, "relay")));
        assertNull(ReplicationWorker.mismatch(blob, new Delivery(BLOB_ID, 1100, SHA, null)));
    }

    @Test
    public void anotherBlobIsAMismatchNamingBoth() {
        String problem = ReplicationWorker.mismatch(blob, new Delivery(OTHER_ID, 1100, SHA, "lan"));

        assertNotNull(problem);
        assertTrue(problem, problem.contains(OTHER_ID));
        assertTrue(problem, problem.contains(BLOB_ID));
    }

    @Test
    public void anotherSizeIsAMismatchNamingBothSizes() {
        // The plaintext size is not what the receiver measures: it stores ciphertext.
        String problem = ReplicationWorker.mismatch(blob, new Delivery(BLOB_ID, 1000, SHA, "lan"));

        assertNotNull(problem);
        assertTrue(problem, problem.contains("1000"));
        assertTrue(problem, problem.contains("1100"));
    }

    @Test
    public void anotherHashIsAMismatchNamingBothHashes() {
        String problem = ReplicationWorker.mismatch(blob, new Delivery(BLOB_ID, 1100, OTHER_SHA, "lan"));

        assertNotNull(problem);
        assertTrue(problem, problem.contains(OTHER_SHA));
        assertTrue(problem, problem.contains(SHA));
        assertNotNull(ReplicationWorker.mismatch(blob, new Delivery(BLOB_ID, 1100, null, "lan")));
    }

    @Test
    public void noAcknowledgementIsAMismatch() {
        assertNotNull(ReplicationWorker.mismatch(blob, null));
    }
}
