package org.sover.vault.internal;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.sover.api.DataDirectory;
import org.sover.api.crypto.NodeIdentity;
import org.sover.api.replication.JobQueue;
import org.sover.api.replication.PeerDirectory;
import org.sover.api.replication.ReplicationMonitor;
import org.sover.api.replication.Transport;
import org.sover.api.storage.BlobStore;
import org.sover.api.vault.VaultStats;

/**
 * The body of {@code GET /v1/node}: this node, its disk, its queue, its switches, the
 * transports and the transfer rates. Parts whose bundle is away are left empty, not failed:
 * the dashboard is where a family admin looks when something is not running.
 */
final class NodeDashboard {
    private NodeDashboard() {
    }

    static Map<String, Object> body(NodeIdentity identity, String version, PeerDirectory directory, JobQueue queue,
            ReplicationMonitor monitor, List<Transport> transports, VaultStats stats, BlobStore blobs,
            SettingsStore settings) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("nodeId", identity.nodeId());
        m.put("fingerprint", identity.fingerprint());
        m.put("name", directory == null ? null : directory.nodeName());
        m.put("version", version);
        m.put("addresses", directory == null ? List.of() : directory.nodeAddresses());

        Map<String, Object> storage = new LinkedHashMap<>();
        storage.put("dataDirectory", DataDirectory.root().toString());
        storage.put("blobBytes", stats.blobBytes());
        storage.put("freeBytes", blobs.usableSpace());
        storage.put("photos", stats.photos());
        storage.put("albums", stats.albums());
        m.put("storage", storage);

        m.put("queue", queue == null ? null : ReplicationStatus.counts(queue.counts(null)));
        m.put("switches", settings == null ? null : settings.switches());
        m.put("capabilities", Map.of("p2p", false, "signaling", false));
        m.put("transports", transports == null ? List.of() : transports.stream()
                .map(t -> Map.of("name", t.name())).toList());

        Map<String, Object> transfer = new LinkedHashMap<>();
        transfer.put("sentBytes", monitor == null ? 0 : monitor.bytesSent());
        transfer.put("receivedBytes", monitor == null ? 0 : monitor.bytesReceived());
        transfer.put("samples", monitor == null ? List.of() : monitor.samples().stream().map(s -> {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("at", Json.time(s.at()));
            x.put("sentBytesPerSecond", s.sentBytesPerSecond());
            x.put("receivedBytesPerSecond", s.receivedBytesPerSecond());
            return x;
        }).toList());
        m.put("transfer", transfer);

        Map<String, Object> signaling = new LinkedHashMap<>();
        signaling.put("url", null);
        signaling.put("state", "not_installed");
        m.put("signaling", signaling);
        m.put("iceServers", List.of());
        return m;
    }
}
