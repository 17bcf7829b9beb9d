package org.sover.storage.internal;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import org.osgi.service.event.Event;
import org.osgi.service.event.EventAdmin;
import org.sover.api.replication.Job;
import org.sover.api.replication.JobState;
import org.sover.api.replication.ReplicationEvents;

/** Posts job state changes to EventAdmin when one is registered (after the change committed). */
final class JobEvents {
    private final AtomicReference<EventAdmin> admin = new AtomicReference<>();

    void bind(EventAdmin eventAdmin) {
        admin.set(eventAdmin);
    }

    void unbind(EventAdmin eventAdmin) {
        admin.compareAndSet(eventAdmin, null);
    }

    Job job(Job job) {
        EventAdmin target = admin.get();
        if (target != null) {
            Map<String, Object> p = new HashMap<>();
            p.put(ReplicationEvents.JOB_ID, job.id());
            put(p, ReplicationEvents.PHOTO_ID, job.photoId());
            p.put(ReplicationEvents.BLOB_ID, job.blobId());
            p.put(ReplicationEvents.PEER_ID, job.peerId());
            p.put(ReplicationEvents.STATE, job.state().wireName());
            p.put(ReplicationEvents.ATTEMPTS, job.attempts());
            put(p, ReplicationEvents.LAST_ERROR, job.lastError());
            put(p, ReplicationEvents.TRANSPORT, job.transport());
            put(p, ReplicationEvents.PATH, job.path());
            if (job.nextAttemptAt() != null) {
                p.put(ReplicationEvents.NEXT_ATTEMPT_AT, job.nextAttemptAt().toEpochMilli());
            }
            target.postEvent(new Event(ReplicationEvents.JOB, p));
        }
        return job;
    }

    /** Many jobs moved to {@code state}; nothing is posted when none did. */
    int bulk(String peerId, JobState state, int count, String reason) {
        EventAdmin target = admin.get();
        if (target != null && count > 0) {
            Map<String, Object> p = new HashMap<>();
            put(p, ReplicationEvents.PEER_ID, peerId);
            p.put(ReplicationEvents.STATE, state.wireName());
            p.put(ReplicationEvents.COUNT, count);
            p.put(ReplicationEvents.REASON, reason);
            target.postEvent(new Event(ReplicationEvents.JOBS, p));
        }
        return count;
    }

    private static void put(Map<String, Object> p, String key, Object value) {
        if (value != null) {
            p.put(key, value);
        }
    }
}
