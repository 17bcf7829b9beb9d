package org.sover.replication.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.sover.api.crypto.NodeIdentity;
import org.sover.api.crypto.SignatureVerifier;
import org.sover.api.crypto.SignedHeaders;
import org.sover.api.crypto.VaultCipher;
import org.sover.api.replication.JobQueue;
import org.sover.api.replication.PairingException;
import org.sover.api.replication.Peer;
import org.sover.api.replication.PeerDirectory;
import org.sover.api.replication.PeerRole;
import org.sover.api.replication.PeerStore;
import org.sover.api.replication.PeerSync;
import org.sover.api.replication.PendingPeer;
import org.sover.api.vault.VaultRepository;
import org.sover.api.vault.VaultStats;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Pairing (docs/PROTOCOL.md): issues one-time pairing lines, completes a pasted one by
 * contacting its issuer, answers other nodes' pairing requests, and keeps the peer list and
 * approval queue through {@link PeerStore}.
 */
@Component(service = {PeerDirectory.class, PeerDirectoryService.class}, configurationPid = "org.sover.replication",
        immediate = true)
@Designate(ocd = ReplicationConfig.class)
public final class PeerDirectoryService implements PeerDirectory {
    private static final Logger LOG = LoggerFactory.getLogger(PeerDirectoryService.class);
    static final String PAIR_PATH = "/node/v1/pair";
    private static final ObjectMapper JSON = new ObjectMapper();
    private final PeerStore peers;
    private final NodeIdentity identity;
    private final SignatureVerifier signatures;
    private final VaultCipher cipher;
    private final VaultRepository repository;
    private final JobQueue jobs;
    private final Clock clock;
    private volatile ReplicationConfig config;
    private final RequestVerifier verifier;
    private final NodeClient client;
    private volatile MetadataPuller puller;

    @Activate
    public PeerDirectoryService(@Reference PeerStore peers, @Reference NodeIdentity identity,
            @Reference SignatureVerifier signatures, @Reference VaultCipher cipher, @Reference VaultRepository repository,
            @Reference JobQueue jobs, ReplicationConfig config) {
        this(peers, identity, signatures, cipher, repository, jobs, config, Clock.systemUTC());
    }

    PeerDirectoryService(PeerStore peers, NodeIdentity identity, SignatureVerifier signatures, VaultCipher cipher,
            VaultRepository repository, JobQueue jobs, ReplicationConfig config, Clock clock) {
        this.jobs = jobs;
        this.peers = peers;
        this.identity = identity;
        this.signatures = signatures;
        this.cipher = cipher;
        this.repository = repository;
        this.clock = clock;
        this.client = new NodeClient(identity, signatures, clock);
        this.config = config;
        this.verifier = new RequestVerifier(peers, signatures, clock,
                () -> Duration.ofSeconds(this.config.clockSkewSeconds()));
    }

    /** Optional and dynamic: the puller needs this service, so this side of the cycle must give way. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, unbind = "unbindPuller")
    void bindPuller(MetadataPuller p) {
        puller = p;
    }

    void unbindPuller(MetadataPuller p) {
        if (puller == p) {
            puller = null;
        }
    }

    private volatile SignalPairing signalPairing;

    /** Optional and dynamic: pairing through signaling exists only where a signal client runs. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            unbind = "unbindSignalPairing")
    void bindSignalPairing(SignalPairing p) {
        signalPairing = p;
    }

    void unbindSignalPairing(SignalPairing p) {
        if (signalPairing == p) {
            signalPairing = null;
        }
    }

    /**
     * Proves knowledge of a pairing token without showing it, bound to the joining node: a
     * signal server that relays the request can neither read the token nor use the proof for a
     * key of its own. Keyed by the token's hash, which the issuing node stores.
     */
    static String tokenProof(String tokenHashHex, String nodeId, byte[] publicKey) {
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new javax.crypto.spec.SecretKeySpec(SignedHeaders.utf8(tokenHashHex), "HmacSHA256"));
            return SignedHeaders.B64.encodeToString(mac.doFinal(SignedHeaders.utf8(
                    "sover-pair-proof-v1\n" + nodeId + "\n" + SignedHeaders.B64.encodeToString(publicKey))));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    @Modified
    void modified(ReplicationConfig newConfig) {
        this.config = newConfig;
    }

    RequestVerifier verifier() {
        return verifier;
    }

    /** The one signed-request client of this bundle (one HttpClient, one selector thread). */
    NodeClient client() {
        return client;
    }

    NodeIdentity identity() {
        return identity;
    }

    // ---- issuing and pasting pairing lines -------------------------------------------------

    @Override
    public String createPairingPayload(PeerRole role) {
        String token = SignedHeaders.newNonce() + SignedHeaders.newNonce();
        Instant expires = clock.instant().plus(Duration.ofMinutes(config.pairingMinutes()));
        peers.createPairingToken(SignedHeaders.sha256Hex(SignedHeaders.utf8(token)), role, expires);
        return new PairingPayload(identity.nodeId(), identity.publicKey(), name(), addresses(), token, expires, role)
                .encode(identity);
    }

    @Override
    public Peer acceptPairingPayload(String line) throws PairingException {
        PairingPayload p;
        try {
            p = PairingPayload.decode(line, signatures);
        } catch (IllegalArgumentException e) {
            throw new PairingException(400, "bad_payload", e.getMessage());
        }
        if (p.nodeId().equals(identity.nodeId())) {
            throw new PairingException(400, "own_payload", "That is this node's own pairing line: paste it on the other node.");
        }
        if (peers.isBlocked(p.nodeId())) {
            throw new PairingException(403, "blocked", "Node " + p.nodeId() + " is blocked here; unblock it first.");
        }
        if (p.role() == PeerRole.FULL && !holdsNothing() && !sameVaultAlready(p.nodeId())) {
            throw new PairingException(409, "vault_not_empty", "This node already holds photos under its own vault key, "
                    + "so it cannot join another family vault. Pair a node before uploading to it, or pair as storage.");
        }
        ObjectNode request = JSON.createObjectNode();
        request.put("token", p.token());
        request.put("nodeId", identity.nodeId());
        request.put("publicKey", SignedHeaders.B64.encodeToString(identity.publicKey()));
        request.put("name", name());
        addresses().forEach(request.putArray("addresses")::add);
        request.put("role", p.role().wireName());
        byte[] body = SignedHeaders.utf8(request.toString());
        // The other node pins this one before it answers and may push blobs or pull at once;
        // those requests wait until this node has pinned it below, rather than being refused.
        try (RequestVerifier.UnderWay underWay = verifier.pairingWith(p.nodeId())) {
            return pair(p, request, body);
        }
    }

    private Peer pair(PairingPayload p, ObjectNode request, byte[] body) throws PairingException {
        List<String> problems = new ArrayList<>();
        for (String address : p.addresses()) {
            NodeClient.Reply reply;
            try {
                reply = client.postJson(address, PAIR_PATH, body, p.publicKey());
            } catch (IOException e) {
                problems.add(address + ": " + e.getMessage());
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PairingException(503, "interrupted", "Pairing was interrupted; try again.");
            }
            return completePairing(p, address, reply);
        }
        SignalPairing relay = signalPairing;
        if (relay != null) {
            // Neither address answers (both nodes behind NATs, say): through the signal server,
            // with a proof of the token instead of the token.
            request.remove("token");
            request.put("tokenProof", tokenProof(SignedHeaders.sha256Hex(SignedHeaders.utf8(p.token())),
                    identity.nodeId(), identity.publicKey()));
            try {
                return completePairing(p, null, relay.pair(p.nodeId(), SignedHeaders.utf8(request.toString()),
                        p.publicKey(), Duration.ofSeconds(20)));
            } catch (IOException e) {
                problems.add("signaling: " + e.getMessage());
            }
        }
        throw new PairingException(502, "unreachable", "Could not reach node " + p.name() + " at "
                + String.join(", ", p.addresses()) + " (" + String.join("; ", problems)
                + "). Make sure it is running and that this node can reach it, or that both use the same signal server.");
    }

    private Peer completePairing(PairingPayload p, String address, NodeClient.Reply reply) throws PairingException {
        JsonNode answer = parse(reply.body());
        if (reply.status() == 202) {
            throw new PairingException(202, "awaiting_approval", "Node " + p.name() + " put this request in its approval "
                    + "queue. Approve it there, then paste the same line here again.");
        }
        if (reply.status() != 200) {
            throw new PairingException(reply.status() >= 500 ? 502 : reply.status(), answer.path("error").asText("refused"),
                    "Node " + p.name() + " refused: " + answer.path("message").asText("HTTP " + reply.status()));
        }
        if (!reply.signedByPeer() || !p.nodeId().equals(answer.path("nodeId").asText())) {
            throw new PairingException(502, "bad_answer", "The answer from " + (address == null ? "signaling" : address)
                    + " is not signed by node "
                    + p.nodeId() + "; something between the two nodes altered it. Nothing was changed.");
        }
        String sealed = answer.path("vaultKey").asText(null);
        if (sealed != null) {
            try {
                cipher.installVaultKey(SignedHeaders.B64D.decode(sealed), p.nodeId());
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                throw new PairingException(502, "bad_vault_key", "The vault key from " + p.name()
                        + " could not be opened; nothing was changed (" + e.getMessage() + ").");
            } catch (IOException e) {
                throw new PairingException(507, "vault_key_not_saved", "The vault key could not be saved on this node: "
                        + e.getMessage());
            }
        }
        List<String> theirAddresses = new ArrayList<>();
        answer.path("addresses").forEach(a -> theirAddresses.add(a.asText()));
        if (theirAddresses.isEmpty()) {
            theirAddresses.addAll(p.addresses());
        }
        Instant now = clock.instant();
        peers.pin(p.nodeId(), p.publicKey(), answer.path("name").asText(p.name()), PeerRole.FULL, theirAddresses, now);
        peers.recordContact(p.nodeId(), now, address);
        sendEverything(p.nodeId());
        LOG.info("Paired with node {} ({}){}", p.nodeId(), p.name(), sealed != null ? "; installed the family vault key" : "");
        return peers.peer(p.nodeId()).orElseThrow();
    }

    /** Answers POST /node/v1/pair; the request is already verified as signed by {@code publicKey}. */
    PairAnswer answerPairRequest(JsonNode request, byte[] publicKey) {
        String nodeId = request.path("nodeId").asText();
        String name = request.path("name").asText(nodeId);
        List<String> addresses = new ArrayList<>();
        request.path("addresses").forEach(a -> addresses.add(a.asText()));
        Instant now = clock.instant();
        Optional<Peer> pinned = peers.peer(nodeId);
        PeerRole role;
        if (pinned.isPresent()) {
            role = pinned.get().role(); // approved earlier, or pairing again
        } else {
            Optional<PeerRole> granted = peers.consumePairingToken(tokenHashOf(request, nodeId, publicKey, now), now);
            if (granted.isEmpty()) {
                PeerRole asked = "storage".equals(request.path("role").asText()) ? PeerRole.STORAGE : PeerRole.FULL;
                peers.addPending(new PendingPeer(nodeId, publicKey, name, asked, addresses, now));
                LOG.info("Node {} ({}) asked to pair without a valid token; it waits for approval", nodeId, name);
                return new PairAnswer(202, JSON.createObjectNode().put("status", "pending")
                        .put("message", "Waiting for an admin's approval on node " + name() + "."));
            }
            role = granted.get();
        }
        peers.pin(nodeId, publicKey, name, role, addresses, now);
        peers.recordContact(nodeId, now, null);
        sendEverything(nodeId);
        ObjectNode answer = JSON.createObjectNode();
        answer.put("nodeId", identity.nodeId());
        answer.put("name", name());
        addresses().forEach(answer.putArray("addresses")::add);
        if (role == PeerRole.FULL && cipher.hasVaultKey()) {
            answer.put("vaultKey", SignedHeaders.B64.encodeToString(
                    cipher.sealVaultKey(signatures.agreementKeyOf(publicKey), nodeId)));
        }
        LOG.info("Paired with node {} ({}) as {}", nodeId, name, role.wireName());
        return new PairAnswer(200, answer);
    }

    /** The hash of the token the request names: sent as is over HTTP, or proven (through signaling). */
    private String tokenHashOf(JsonNode request, String nodeId, byte[] publicKey, Instant now) {
        String proof = request.path("tokenProof").asText(null);
        if (proof == null) {
            return SignedHeaders.sha256Hex(SignedHeaders.utf8(request.path("token").asText("")));
        }
        for (String hash : peers.livePairingTokenHashes(now)) {
            if (java.security.MessageDigest.isEqual(SignedHeaders.utf8(proof),
                    SignedHeaders.utf8(tokenProof(hash, nodeId, publicKey)))) {
                return hash;
            }
        }
        return "";
    }

    record PairAnswer(int status, ObjectNode body) {
    }

    // ---- the peer list ----------------------------------------------------------------------

    @Override
    public List<Peer> peers() {
        return peers.peers();
    }

    @Override
    public Optional<Peer> peer(String nodeId) {
        return peers.peer(nodeId);
    }

    @Override
    public List<PendingPeer> pending() {
        return peers.pending();
    }

    @Override
    public Peer approve(String nodeId) throws PairingException {
        PendingPeer p = peers.takePending(nodeId).orElseThrow(() -> new PairingException(404, "not_found",
                "No pairing request from node " + nodeId + " is waiting."));
        Peer pinned = peers.pin(p.nodeId(), p.publicKey(), p.name(), p.role(), p.addresses(), clock.instant());
        sendEverything(p.nodeId());
        return pinned;
    }

    /**
     * A new peer gets every photo this node holds (photos uploaded later get their jobs with
     * them), and its op log is read right away instead of at the next pull round.
     */
    private void sendEverything(String nodeId) {
        int queued = jobs.enqueueAll(nodeId, clock.instant());
        if (queued > 0) {
            LOG.info("{} blobs queued for node {}", queued, nodeId);
        }
        MetadataPuller p = puller;
        if (p != null) {
            p.pullSoon(nodeId);
        }
    }

    @Override
    public boolean deny(String nodeId) {
        return peers.takePending(nodeId).isPresent();
    }

    @Override
    public Optional<Peer> rename(String nodeId, String name) {
        return peers.rename(nodeId, name);
    }

    @Override
    public boolean remove(String nodeId) {
        return peers.remove(nodeId);
    }

    @Override
    public void block(String nodeId) {
        peers.setBlocked(nodeId, true, clock.instant());
        peers.takePending(nodeId);
    }

    @Override
    public void unblock(String nodeId) {
        peers.setBlocked(nodeId, false, clock.instant());
    }

    @Override
    public PeerSync sync(String nodeId) throws PairingException {
        Peer peer = peers.peer(nodeId).orElseThrow(() -> new PairingException(404, "not_found",
                "Node " + nodeId + " is not paired."));
        if (peer.blocked()) {
            throw new PairingException(403, "blocked", "Node " + nodeId + " is blocked; unblock it first.");
        }
        MetadataPuller p = puller;
        MetadataPuller.PullResult pulled = p == null ? new MetadataPuller.PullResult(false, 0,
                "the metadata pull is not running") : p.pullNow(peer);
        Instant now = clock.instant();
        int requeued = jobs.requeuePeer(nodeId, now);
        int queued = jobs.enqueueAll(nodeId, now);
        LOG.info("sync with node {}: {} changes applied, {} jobs requeued, {} queued{}", nodeId, pulled.applied(),
                requeued, queued, pulled.reached() ? "" : " (not reached: " + pulled.error() + ")");
        return new PeerSync(pulled.reached(), pulled.error(), pulled.applied(), requeued, queued);
    }

    // ---- this node ------------------------------------------------------------------------

    private boolean holdsNothing() {
        VaultStats s = repository.stats();
        return s.photos() == 0 && s.blobs() == 0;
    }

    /** Pairing again with a node we already share the vault with is fine even with photos. */
    private boolean sameVaultAlready(String nodeId) {
        return peers.peer(nodeId).map(p -> p.role() == PeerRole.FULL).orElse(false);
    }

    @Override
    public String nodeName() {
        return name();
    }

    @Override
    public List<String> nodeAddresses() {
        return addresses();
    }

    String name() {
        String configured = config.name();
        if (configured != null && !configured.isBlank()) {
            return configured.strip();
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return identity.nodeId().substring(0, 7);
        }
    }

    /** Where peers can reach this node: configured, or the HTTP port on this machine's addresses. */
    List<String> addresses() {
        if (config.addresses().length > 0) {
            return List.of(config.addresses());
        }
        String port = System.getProperty("sover.http.port", "8181");
        String host = System.getProperty("sover.http.host", "0.0.0.0");
        if (!host.equals("0.0.0.0") && !host.equals("::")) {
            return List.of(url(host, port));
        }
        List<String> out = new ArrayList<>();
        try {
            for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!ni.isUp() || ni.isLoopback()) {
                    continue;
                }
                for (InetAddress a : Collections.list(ni.getInetAddresses())) {
                    if (!a.isLinkLocalAddress()) {
                        out.add(url(a.getHostAddress(), port));
                    }
                }
            }
        } catch (SocketException e) {
            LOG.debug("cannot list network interfaces: {}", e.toString());
        }
        out.add(url("127.0.0.1", port));
        return out;
    }

    private static String url(String host, String port) {
        String h = host.contains(":") && !host.startsWith("[") ? "[" + host.replaceAll("%.*", "") + "]" : host;
        return "http://" + h.toLowerCase(Locale.ROOT) + ":" + port;
    }

    private static JsonNode parse(byte[] body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            return JSON.createObjectNode();
        }
    }
}
