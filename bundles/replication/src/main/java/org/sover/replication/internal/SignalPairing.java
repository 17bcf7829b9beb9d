package org.sover.replication.internal;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sover.api.crypto.NodeIdentity;
import org.sover.api.crypto.SignatureVerifier;
import org.sover.api.crypto.SignedHeaders;
import org.sover.api.replication.NodeRequestHandler;
import org.sover.api.replication.NodeTunnel;
import org.sover.api.signal.SignalException;
import org.sover.api.signal.Signaling;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Pairing through the signal server, for two nodes that cannot reach each other's HTTP (both
 * behind NATs): the signed {@code POST /node/v1/pair} request and its signed answer travel as
 * two signaling messages ({@code pair-request}, {@code pair-answer}). The request proves it
 * knows the pairing line's token without showing it (a proof bound to the joining node's key),
 * and the vault key in the answer is sealed to that key, so the operator relaying them can
 * neither pair a node of its own with the token nor read the key.
 */
@Component(service = SignalPairing.class, immediate = true)
public final class SignalPairing {
    static final String REQUEST = "pair-request";
    static final String ANSWER = "pair-answer";
    private static final Logger LOG = LoggerFactory.getLogger(SignalPairing.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<Map<String, String>> STRINGS = new TypeReference<>() { };
    private final Signaling signaling;
    private final NodeRequestHandler nodeApi;
    private final NodeIdentity identity;
    private final SignatureVerifier signatures;
    private final Clock clock = Clock.systemUTC();
    private final Map<String, CompletableFuture<Map<String, String>>> waiting = new ConcurrentHashMap<>();
    private final ExecutorService work = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "sover-signal-pairing");
        t.setDaemon(true);
        return t;
    });
    private final Signaling.Subscription subscription;

    @Activate
    public SignalPairing(@Reference Signaling signaling, @Reference NodeRequestHandler nodeApi,
            @Reference NodeIdentity identity, @Reference SignatureVerifier signatures) {
        this.signaling = signaling;
        this.nodeApi = nodeApi;
        this.identity = identity;
        this.signatures = signatures;
        this.subscription = signaling.subscribe(this::onMessage);
    }

    @Deactivate
    void stop() {
        subscription.close();
        work.shutdownNow();
        waiting.values().forEach(f -> f.completeExceptionally(new IOException("signaling pairing stopped")));
    }

    /**
     * Sends a pairing request to {@code nodeId} through signaling and returns its answer, whose
     * signature is checked against {@code expectedKey} (from the pairing line).
     */
    NodeClient.Reply pair(String nodeId, byte[] body, byte[] expectedKey, Duration timeout) throws IOException {
        String nonce = SignedHeaders.newNonce();
        Map<String, String> headers = SignedHeaders.sign(identity, "POST", PeerDirectoryService.PAIR_PATH, "", body,
                clock.millis(), nonce);
        CompletableFuture<Map<String, String>> answer = new CompletableFuture<>();
        waiting.put(nonce, answer);
        try {
            signaling.send(nodeId, REQUEST, Map.of("id", nonce, "body", SignedHeaders.B64.encodeToString(body),
                    "headers", JSON.writeValueAsString(headers)));
            Map<String, String> a = answer.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            int status = Integer.parseInt(a.getOrDefault("status", "0"));
            byte[] bytes = SignedHeaders.B64D.decode(a.getOrDefault("body", ""));
            Map<String, String> answerHeaders = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            answerHeaders.putAll(JSON.readValue(a.getOrDefault("headers", "{}"), STRINGS));
            boolean signed = SignedHeaders.responseSignedBy(signatures, expectedKey, PeerDirectoryService.PAIR_PATH, nonce,
                    status, bytes, answerHeaders::get);
            return new NodeClient.Reply(status, bytes, signed);
        } catch (SignalException e) {
            throw new IOException("signaling: " + e.getMessage(), e);
        } catch (TimeoutException e) {
            throw new IOException("no answer through signaling within " + timeout.toSeconds() + " s");
        } catch (ExecutionException e) {
            throw new IOException(e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
        } catch (IllegalArgumentException e) {
            throw new IOException("an unreadable answer through signaling: " + e.getMessage(), e);
        } finally {
            waiting.remove(nonce);
        }
    }

    /** Called on a signaling thread: hands the work over, never blocks. */
    private void onMessage(String from, String kind, Map<String, String> payload) {
        if (ANSWER.equals(kind)) {
            CompletableFuture<Map<String, String>> f = waiting.get(payload.getOrDefault("id", ""));
            if (f != null) {
                f.complete(payload);
            }
        } else if (REQUEST.equals(kind)) {
            try {
                work.execute(() -> answer(from, payload));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // stopping
            }
        }
    }

    /** Serves the request with the node API's own pairing code and sends its signed answer back. */
    private void answer(String from, Map<String, String> payload) {
        try {
            Map<String, String> headers = JSON.readValue(payload.getOrDefault("headers", "{}"), STRINGS);
            byte[] body = SignedHeaders.B64D.decode(payload.getOrDefault("body", ""));
            NodeTunnel.Response r = nodeApi.handle(from, new NodeTunnel.Request("POST", PeerDirectoryService.PAIR_PATH,
                    "", headers, body));
            signaling.send(from, ANSWER, Map.of("id", payload.getOrDefault("id", ""), "status",
                    Integer.toString(r.status()), "body", SignedHeaders.B64.encodeToString(r.body()), "headers",
                    JSON.writeValueAsString(r.headers())));
        } catch (IOException | SignalException | RuntimeException e) {
            LOG.info("could not answer a pairing request from {} through signaling: {}", from, e.toString());
        }
    }
}
