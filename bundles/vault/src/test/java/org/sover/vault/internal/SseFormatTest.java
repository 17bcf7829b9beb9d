package org.sover.vault.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;

import java.util.HashMap;
import java.util.Map;

import org.junit.Test;
import org.osgi.service.event.Event;
import org.sover.api.replication.ReplicationEvents;

public class SseFormatTest {

    @Test
    public void aJobEventIsOneDataLineOfItsPropertiesWithTimesInIso() {
        Map<String, Object> p = new HashMap<>();
        p.put(ReplicationEvents.JOB_ID, "j1");
        p.put(ReplicationEvents.PEER_ID, "GRAN");
        p.put(ReplicationEvents.STATE, "failed");
        p.put(ReplicationEvents.ATTEMPTS, 3);
        p.put(ReplicationEvents.LAST_ERROR, "refused:\nline two");
        p.put(ReplicationEvents.NEXT_ATTEMPT_AT, 1_795_269_720_000L);
        String sse = SseFormat.format(new Event(ReplicationEvents.JOB, p));
        assertEquals("event: job\n"
                + "data: {\"attempts\":3,\"jobId\":\"j1\",\"lastError\":\"refused:\\nline two\","
                + "\"nextAttemptAt\":\"2026-11-21T14:02:00Z\",\"peerId\":\"GRAN\",\"state\":\"failed\"}\n\n", sse);
    }

    @Test
    public void eachTopicHasItsEventName() {
        assertEquals("event: jobs\ndata: {\"count\":12,\"reason\":\"peer_back\",\"state\":\"pending\"}\n\n",
                SseFormat.format(new Event(ReplicationEvents.JOBS,
                        Map.of(ReplicationEvents.COUNT, 12, ReplicationEvents.STATE, "pending",
                                ReplicationEvents.REASON, "peer_back"))));
        assertEquals("event: peer\ndata: {\"peerId\":\"GRAN\",\"up\":false}\n\n", SseFormat.format(
                new Event(ReplicationEvents.PEER, Map.of(ReplicationEvents.PEER_ID, "GRAN", ReplicationEvents.UP, false))));
        assertEquals("event: blob\ndata: {\"blobId\":\"b1\",\"peerId\":\"GRAN\"}\n\n", SseFormat.format(
                new Event(ReplicationEvents.BLOB, Map.of(ReplicationEvents.BLOB_ID, "b1", ReplicationEvents.PEER_ID, "GRAN"))));
    }

    @Test
    public void eventAdminsOwnPropertiesAreLeftOut() {
        // Event adds event.topics itself; senders may add bundle.* or service.* properties.
        String sse = SseFormat.format(new Event(ReplicationEvents.BLOB,
                Map.of(ReplicationEvents.BLOB_ID, "b1", "bundle.symbolicName", "org.sover.replication")));
        assertEquals("event: blob\ndata: {\"blobId\":\"b1\"}\n\n", sse);
    }

    @Test
    public void otherTopicsAreNotStreamed() {
        assertNull(SseFormat.format(new Event("org/sover/replication/OTHER", Map.of())));
        assertNull(SseFormat.format(new Event("org/osgi/framework/BundleEvent/STARTED", Map.of())));
    }

    @Test
    public void theStreamStartsWithHelloAndTheReconnectDelay() {
        assertEquals("retry: 5000\nevent: hello\ndata: {\"nodeId\":\"AAAAAAA-BBBBBBB\"}\n\n",
                SseFormat.hello("AAAAAAA-BBBBBBB"));
        assertEquals(": keep-alive\n\n", new String(SseFormat.KEEP_ALIVE, java.nio.charset.StandardCharsets.UTF_8));
    }
}
