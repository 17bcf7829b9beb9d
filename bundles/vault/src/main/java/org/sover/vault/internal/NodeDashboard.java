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
import org.sover.api.signal.Signaling;
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
            SettingsStore settings, SettingsStore.Installed installed, Signaling signaling) throws IOException {
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
        m.put("switches", settings == null ? null : settings.switches(installed));
        m.put("capabilities", Map.of("p2p", installed.p2p(), "signaling", installed.signaling()));
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

        m.put("signaling", signaling(signaling));
        // The dashboard shows which servers ICE uses; credentials only go to /v1/nodes.
        m.put("iceServers", signaling == null ? List.of() : signaling.iceServers().stream()
                .map(i -> Map.of("urls", i.urls(), "turn", i.username() != null)).toList());
        return m;
    }

    static Map<String, Object> signaling(Signaling signaling) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (signaling == null) {
            out.put("url", null);
            out.put("state", "not_installed");
            return out;
        }
        Signaling.Status s = signaling.status();
        out.put("url", s.url());
        out.put("state", s.state());
        out.put("embedded", s.embedded());
        out.put("browserUrl", s.browserUrl());
        out.put("connectedSince", Json.time(s.connectedSince()));
        out.put("lastError", s.lastError());
        out.put("lastErrorAt", Json.time(s.lastErrorAt()));
        out.put("messagesSent", s.messagesSent());
        out.put("messagesReceived", s.messagesReceived());
        out.put("credentialsExpireAt", Json.time(s.credentialsExpireAt()));
        return out;
    }

    /**
     * The body of {@code GET /v1/nodes}: this node, the family's other nodes, the signaling URL a
     * browser should use and the ICE servers with fresh, short-lived TURN credentials.
     */
    static Map<String, Object> nodes(NodeIdentity identity, PeerDirectory directory, Signaling signaling) {
        Map<String, Object> self = new LinkedHashMap<>();
        self.put("nodeId", identity.nodeId());
        self.put("fingerprint", identity.fingerprint());
        self.put("name", directory == null ? null : directory.nodeName());
        self.put("addresses", directory == null ? List.of() : directory.nodeAddresses());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("node", self);
        m.put("peers", directory == null ? List.of() : directory.peers().stream().filter(p -> !p.blocked())
                .map(p -> {
                    Map<String, Object> x = new LinkedHashMap<>();
                    x.put("nodeId", p.nodeId());
                    x.put("name", p.name());
                    x.put("role", p.role().wireName());
                    return x;
                }).toList());
        Map<String, Object> sig = new LinkedHashMap<>();
        Signaling.Status status = signaling == null ? null : signaling.status();
        sig.put("url", status == null ? null : status.browserUrl());
        sig.put("state", status == null ? "not_installed" : status.state());
        m.put("signaling", sig);
        m.put("iceServers", signaling == null ? List.of() : signaling.iceServers().stream().map(i -> {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("urls", i.urls());
            if (i.username() != null) {
                x.put("username", i.username());
                x.put("credential", i.credential());
            }
            return x;
        }).toList());
        m.put("credentialsExpireAt", status == null ? null : Json.time(status.credentialsExpireAt()));
        return m;
    }
}
