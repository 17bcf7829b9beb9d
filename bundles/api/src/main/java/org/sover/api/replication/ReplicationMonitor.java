package org.sover.api.replication;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What the node dashboard shows about replication: bytes moved (in total, per peer and as a
 * rate over time), each peer's heartbeat round trip and last path, and a bounded diagnostics
 * log. Transports, the worker and the receiver report into it; it keeps everything in memory.
 */
public interface ReplicationMonitor {
    /** A peer as the transfers and heartbeats saw it since this node started. */
    record PeerLink(String nodeId, long bytesSent, long bytesReceived, Long rttMillis, String path,
            Instant lastHandshakeAt) {
    }

    /** Bytes per second over one sampling period, ending at {@code at}. */
    record Sample(Instant at, long sentBytesPerSecond, long receivedBytesPerSecond) {
    }

    /** One line of the diagnostics log; {@code seq} grows by one per line. */
    record Diagnostic(long seq, Instant at, String level, String message) {
    }

    String INFO = "info";
    String WARN = "warn";
    String ERROR = "error";

    void sent(String peerId, long bytes, String path);

    void received(String peerId, long bytes);

    /** A successful heartbeat (metadata pull or ping) and how long its round trip took. */
    void heartbeat(String peerId, long rttMillis);

    /** Adds a line to the diagnostics log (and posts it as a {@code DIAG} event). */
    void note(String level, String message);

    long bytesSent();

    long bytesReceived();

    /** Oldest first; one every few seconds, the last ten minutes at most. */
    List<Sample> samples();

    Optional<PeerLink> link(String nodeId);

    /** Lines after {@code afterSeq}, oldest first; the log keeps the latest 1,000. */
    List<Diagnostic> diagnostics(long afterSeq, int limit);
}
