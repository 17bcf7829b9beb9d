package org.sover.replication.internal;

import org.sover.api.crypto.SignedHeaders;
import java.io.IOException;
import java.util.Map;

import javax.servlet.Servlet;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.sover.api.replication.BlobReceiver;
import org.sover.api.replication.Change;
import org.sover.api.replication.Delivery;
import org.sover.api.replication.NodeProtocol;
import org.sover.api.storage.BlobStore;
import org.sover.api.vault.BlobRecord;
import org.sover.api.vault.VaultRepository;
import org.sover.api.replication.MetadataLog;
import org.sover.api.replication.Peer;
import org.sover.api.replication.PeerRole;
import org.sover.api.storage.Page;
import org.sover.api.replication.NodeRequestHandler;
import org.sover.api.replication.NodeTunnel;
import org.sover.api.replication.PeerStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The node-to-node API under {@code /node/v1} (docs/PROTOCOL.md): a separate authentication
 * domain from the family's {@code /v1}, where every request is signed by a node key and every
 * answer is signed by this node.
 */
@Component(service = { Servlet.class, NodeRequestHandler.class }, immediate = true, property = {
    "osgi.http.whiteboard.servlet.pattern=/node/v1/*", "osgi.http.whiteboard.servlet.name=sover-node-api"})
public final class NodeApiServlet extends HttpServlet implements NodeRequestHandler {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(NodeApiServlet.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BODY = 64 * 1024;
    private final transient PeerDirectoryService directory;
    private final transient ContactWrites contacts;
    private final transient MetadataLog log;
    private final transient BlobReceiver receiver;
    private final transient VaultRepository repository;
    private final transient BlobStore blobs;

    @Activate
    public NodeApiServlet(@Reference PeerDirectoryService directory, @Reference PeerStore peers,
            @Reference MetadataLog log, @Reference BlobReceiver receiver, @Reference VaultRepository repository,
            @Reference BlobStore blobs) {
        this.directory = directory;
        this.contacts = new ContactWrites(peers);
        this.log = log;
        this.receiver = receiver;
        this.repository = repository;
        this.blobs = blobs;
    }

    /**
     * A request that came through a tunnel (WebRTC, or signaling for pairing) instead of HTTP:
     * only the reads a pull needs (the op log, pings) and the pairing request, verified by the
     * same code as over HTTP.
     */
    @Override
    public NodeTunnel.Response handle(String viaNodeId, NodeTunnel.Request request) throws IOException {
        boolean allowed = "GET".equals(request.method())
                && ("/node/v1/ops".equals(request.path()) || "/node/v1/ping".equals(request.path()))
                || "POST".equals(request.method()) && PeerDirectoryService.PAIR_PATH.equals(request.path());
        InProcessExchange exchange = new InProcessExchange(request, "tunnel:" + viaNodeId);
        if (!allowed) {
            byte[] body = JSON.writeValueAsBytes(error("not_tunnelled", request.method() + " " + request.path()
                    + " is only served over HTTP."));
            return new NodeTunnel.Response(404, Map.of("Content-Type", "application/json"), body);
        }
        service(exchange.request(), exchange.response(NodeTunnel.MAX_BODY));
        return exchange.response();
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String path = req.getRequestURI();
        String method = req.getMethod();
        if (path.startsWith(NodeProtocol.BLOBS_PATH) && (method.equals("PUT") || method.equals("GET"))) {
            try {
                if (method.equals("PUT")) {
                    putBlob(req, resp, path);
                } else {
                    getBlob(req, resp, path);
                }
            } catch (NodeAuthException e) {
                LOG.info("refused {} {} from {}: {}", method, path, req.getRemoteAddr(), e.getMessage());
                send(req, resp, e.status, error(e.code, e.getMessage()));
            } catch (RuntimeException e) {
                LOG.error("node API failure in {} {}", method, path, e);
                send(req, resp, 500, error("internal", "Something went wrong on this node; its log has the details."));
            }
            return;
        }
        byte[] body = req.getInputStream().readNBytes(MAX_BODY + 1);
        if (body.length > MAX_BODY) {
            send(req, resp, 413, error("too_large", "A node request body may have at most " + MAX_BODY + " bytes."));
            return;
        }
        try {
            if (path.equals(PeerDirectoryService.PAIR_PATH) && method.equals("POST")) {
                pair(req, resp, path, body);
            } else if (path.equals("/node/v1/ops") && method.equals("GET")) {
                ops(req, resp, directory.verifier().verify(method, path, req.getQueryString(), body, req::getHeader));
            } else if (path.equals("/node/v1/ping") && (method.equals("GET") || method.equals("POST"))) {
                Peer peer = directory.verifier().verify(method, path, req.getQueryString(), body, req::getHeader);
                contacts.record(peer, java.time.Instant.now());
                ObjectNode answer = JSON.createObjectNode();
                answer.put("nodeId", directory.identity().nodeId());
                answer.put("peer", peer.nodeId());
                send(req, resp, 200, answer);
            } else {
                send(req, resp, 404, error("not_found", "There is no node API route " + method + " " + path + "."));
            }
        } catch (NodeAuthException e) {
            LOG.info("refused {} {} from {}: {}", method, path, req.getRemoteAddr(), e.getMessage());
            send(req, resp, e.status, error(e.code, e.getMessage()));
        } catch (RuntimeException e) {
            LOG.error("node API failure in {} {}", method, path, e);
            send(req, resp, 500, error("internal", "Something went wrong on this node; its log has the details."));
        }
    }

    /**
     * A blob pushed by a peer: the request signature covers the manifest (in the query) and the
     * hash the body must have; the receiver checks the manifest's origin signature and the
     * bytes before anything is stored.
     */
    private void putBlob(HttpServletRequest req, HttpServletResponse resp, String path)
            throws IOException, NodeAuthException {
        String blobId = path.substring(NodeProtocol.BLOBS_PATH.length());
        BlobRecord record;
        try {
            record = NodeProtocol.decode(req.getParameter("manifest"), req.getParameter("signature"));
        } catch (IllegalArgumentException e) {
            send(req, resp, 400, error("bad_manifest", "The blob manifest is missing or malformed: " + e.getMessage()));
            return;
        }
        if (!record.id().equals(blobId)) {
            send(req, resp, 400, error("bad_manifest", "The manifest is for blob " + record.id() + ", not " + blobId + "."));
            return;
        }
        Peer peer = directory.verifier().verifyHashed("PUT", path, req.getQueryString(),
                record.manifest().cipherSha256(), req::getHeader);
        try {
            receiveBlob(req, resp, peer, record);
        } finally {
            drain(req, record.manifest().cipherSize());
        }
    }

    /**
     * Reads what is left of a family node's push after the answer went out (a blob this node
     * already has, a refusal): closing a connection with bytes unread resets it, and the reset
     * can destroy the answer before the sender reads it.
     */
    private static void drain(HttpServletRequest req, long limit) {
        try {
            java.io.InputStream in = req.getInputStream();
            byte[] buf = new byte[64 * 1024];
            long left = limit;
            int n;
            while (left > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0) {
                left -= n;
            }
        } catch (IOException e) {
            // The sender stopped sending: nothing is left to read.
        }
    }

    private void receiveBlob(HttpServletRequest req, HttpServletResponse resp, Peer peer, BlobRecord record)
            throws IOException {
        String blobId = record.id();
        long length = req.getContentLengthLong();
        if (length >= 0 && length != record.manifest().cipherSize()) {
            send(req, resp, 400, error("bad_length", "The body has " + length + " bytes; the manifest says "
                    + record.manifest().cipherSize() + "."));
            return;
        }
        Delivery stored;
        try {
            stored = receiver.receive(peer.nodeId(), record, req.getInputStream());
        } catch (BlobReceiver.BlobRejectedException e) {
            LOG.warn("refused blob {} from node {}: {}", blobId, peer.nodeId(), e.getMessage());
            send(req, resp, e.status(), error(e.code(), e.getMessage()));
            return;
        }
        contacts.record(peer, java.time.Instant.now());
        ObjectNode answer = JSON.createObjectNode();
        answer.put("blobId", stored.blobId());
        answer.put("size", stored.size());
        answer.put("sha256", stored.cipherSha256());
        send(req, resp, 200, answer);
    }

    /** Repair: a peer that misses a blob fetches it; the manifest travels with it, signed by its origin. */
    private void getBlob(HttpServletRequest req, HttpServletResponse resp, String path)
            throws IOException, NodeAuthException {
        directory.verifier().verify("GET", path, req.getQueryString(), new byte[0], req::getHeader);
        String blobId = path.substring(NodeProtocol.BLOBS_PATH.length());
        java.util.Optional<BlobRecord> record = repository.blob(blobId);
        if (record.isEmpty() || blobs.size(blobId) != record.get().manifest().cipherSize()) {
            send(req, resp, 404, error("not_found", "This node does not hold blob " + blobId + "."));
            return;
        }
        try (java.io.InputStream in = blobs.open(blobId)) {
            resp.setStatus(200);
            resp.setContentType("application/octet-stream");
            resp.setHeader("Cache-Control", "no-store");
            resp.setHeader(NodeProtocol.MANIFEST_HEADER, NodeProtocol.manifest(record.get()));
            resp.setHeader(NodeProtocol.MANIFEST_SIGNATURE_HEADER, NodeProtocol.signature(record.get()));
            resp.setContentLengthLong(record.get().manifest().cipherSize());
            in.transferTo(resp.getOutputStream());
        }
    }

    /** The metadata op log, for full family nodes only: a storage peer never sees names or albums. */
    private void ops(HttpServletRequest req, HttpServletResponse resp, Peer peer) throws IOException {
        if (peer.role() != PeerRole.FULL) {
            send(req, resp, 403, error("storage_peer", "Node " + peer.nodeId() + " is a storage peer; it receives no metadata."));
            return;
        }
        String after = req.getParameter("after");
        int limit;
        try {
            limit = Math.max(1, Math.min(500, Integer.parseInt(req.getParameter("limit") == null ? "200" : req.getParameter("limit"))));
        } catch (NumberFormatException e) {
            send(req, resp, 400, error("bad_request", "limit is a number from 1 to 500."));
            return;
        }
        Page<Change> page;
        try {
            page = log.changesSince(after == null || after.isEmpty() ? null : after, limit);
        } catch (IllegalArgumentException e) {
            send(req, resp, 400, error("bad_cursor", "That op-log cursor is not valid; start again without one."));
            return;
        }
        contacts.record(peer, java.time.Instant.now());
        ObjectNode answer = JSON.createObjectNode();
        page.items().forEach(c -> answer.withArray("changes").add(ChangeCodec.encode(c)));
        if (page.items().isEmpty()) {
            answer.putArray("changes");
        }
        answer.put("next", page.next());
        answer.put("more", page.items().size() == limit);
        send(req, resp, 200, answer);
    }

    private void pair(HttpServletRequest req, HttpServletResponse resp, String path, byte[] body)
            throws IOException, NodeAuthException {
        JsonNode request;
        byte[] key;
        try {
            request = JSON.readTree(body);
            key = SignedHeaders.B64D.decode(request.path("publicKey").asText());
        } catch (IOException | IllegalArgumentException e) {
            send(req, resp, 400, error("bad_request", "The pairing request is not valid JSON with a base64url publicKey."));
            return;
        }
        directory.verifier().verifySelfSigned(key, "POST", path, req.getQueryString(), body, req::getHeader);
        PeerDirectoryService.PairAnswer answer = directory.answerPairRequest(request, key);
        send(req, resp, answer.status(), answer.body());
    }

    private static ObjectNode error(String code, String message) {
        return JSON.createObjectNode().put("error", code).put("message", message);
    }

    /** Every answer is signed for the request's path and nonce, so the caller knows who answered. */
    private void send(HttpServletRequest req, HttpServletResponse resp, int status, ObjectNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        String nonce = req.getHeader(SignedHeaders.NONCE);
        if (nonce != null && nonce.indexOf('\n') < 0 && nonce.indexOf('\r') < 0) {
            for (Map.Entry<String, String> h : SignedHeaders.sign(directory.identity(), SignedHeaders.RESPONSE,
                    req.getRequestURI(), Integer.toString(status), bytes, System.currentTimeMillis(), nonce).entrySet()) {
                resp.setHeader(h.getKey(), h.getValue());
            }
        }
        resp.setStatus(status);
        resp.setContentType("application/json");
        resp.setHeader("Cache-Control", "no-store");
        resp.setContentLength(bytes.length);
        resp.getOutputStream().write(bytes);
    }
}
