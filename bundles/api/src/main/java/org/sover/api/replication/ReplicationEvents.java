package org.sover.api.replication;

/**
 * EventAdmin topics and properties the replication parts post (asynchronously), for live
 * views such as {@code GET /v1/events}. Values are strings, numbers or null.
 */
public final class ReplicationEvents {
    /** A job changed state: properties {@link #JOB_ID}, {@link #PHOTO_ID}, {@link #BLOB_ID}, {@link #PEER_ID}, {@link #STATE}, {@link #ATTEMPTS}, {@link #LAST_ERROR}, {@link #TRANSPORT}. */
    public static final String JOB = "org/sover/replication/JOB";
    /** Many jobs changed at once (requeue, lease release): {@link #PEER_ID} (may be absent), {@link #STATE}, {@link #COUNT}, {@link #REASON}. */
    public static final String JOBS = "org/sover/replication/JOBS";
    /** A peer went up or down: {@link #PEER_ID}, {@link #UP} (Boolean), {@link #LAST_ERROR}. */
    public static final String PEER = "org/sover/replication/PEER";
    /** A blob arrived and its photos became visible: {@link #BLOB_ID}, {@link #PEER_ID} (the sender). */
    public static final String BLOB = "org/sover/replication/BLOB";
    /** A line of the diagnostics log: {@link #SEQ}, {@link #LEVEL}, {@link #MESSAGE}, {@link #AT} (epoch millis). */
    public static final String DIAG = "org/sover/replication/DIAG";
    /** Every topic above. */
    public static final String ALL = "org/sover/replication/*";

    public static final String JOB_ID = "jobId";
    public static final String PHOTO_ID = "photoId";
    public static final String BLOB_ID = "blobId";
    public static final String PEER_ID = "peerId";
    public static final String STATE = "state";
    public static final String ATTEMPTS = "attempts";
    public static final String LAST_ERROR = "lastError";
    public static final String TRANSPORT = "transport";
    public static final String PATH = "path";
    public static final String NEXT_ATTEMPT_AT = "nextAttemptAt";
    public static final String COUNT = "count";
    public static final String REASON = "reason";
    public static final String UP = "up";
    public static final String SEQ = "seq";
    public static final String LEVEL = "level";
    public static final String MESSAGE = "message";
    public static final String AT = "at";

    private ReplicationEvents() {
    }
}
