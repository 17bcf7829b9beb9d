package org.sover.transport.http.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.After;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.Timeout;
import org.sover.api.crypto.BlobManifest;
import org.sover.api.crypto.NodeIdentity;
import org.sover.api.crypto.SignatureVerifier;
import org.sover.api.replication.Peer;
import org.sover.api.replication.PeerRole;
import org.sover.api.replication.TransferException;
import org.sover.api.storage.BlobStore;
import org.sover.api.vault.BlobRecord;

/**
 * How a push meets a peer that answers before taking the body (it already has the blob, or
 * refuses it) and a connection that closes before any answer, against a plain socket server
 * on 127.0.0.1 that records what arrived.
 */
public class HttpTransportPushTest {
    private static final String SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    private static final int CIPHER_SIZE = 4 * 1024 * 1024;
    private static final String REFUSAL = "{\"error\":\"insufficient_storage\",\"message\":\"full\"}";

    @Rule
    public Timeout timeout = Timeout.seconds(60);

    private final ServerSocket server;
    private final List<String> requestHeads = new CopyOnWriteArrayList<>();
    private Thread serving;

    public HttpTransportPushTest() throws IOException {
        server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
    }

    @After
    public void stop() throws Exception {
        server.close();
        if (serving != null) {
            serving.join(10_000);
        }
    }

    @Test
    public void anAnswerGivenBeforeTheBodyWasTakenIsTheAnswer() throws Exception {
        serve(1); // answers as soon as it has the head, then reads the body, as the node API does

        TransferException e = assertThrows(TransferException.class, () -> transport().send(peer(), blob()));

        assertTrue(e.getMessage(), e.getMessage().contains("refused the blob: HTTP 507 full"));
        assertFalse("the peer answered: it is reachable", e.isUnreachable());
        assertEquals(1, requestHeads.size());
    }

    @Test
    public void aConnectionClosedBeforeAnyAnswerIsTriedOnceMoreOnANewOne() throws Exception {
        serve(2); // the first connection closes without an answer, the second answers

        TransferException e = assertThrows(TransferException.class, () -> transport().send(peer(), blob()));

        assertTrue(e.getMessage(), e.getMessage().contains("refused the blob: HTTP 507"));
        assertEquals(2, requestHeads.size());
    }

    @Test
    public void aPeerThatIsNotListeningIsUnreachableAfterOneTry() throws Exception {
        int port = server.getLocalPort();
        server.close();
        Peer gone = new Peer("node-b", new byte[32], "B", PeerRole.FULL, List.of("http://127.0.0.1:" + port), false,
                Instant.EPOCH, null, null, null);

        TransferException e = assertThrows(TransferException.class, () -> transport().send(gone, blob()));

        assertTrue(e.getMessage(), e.isUnreachable());
    }

    @Test
    public void aPeerThatStopsTakingTheBodyIsGivenUpAtTheTimeLimit() throws Exception {
        int size = 64 * 1024 * 1024; // far more than the loopback socket buffers hold
        List<Socket> held = new CopyOnWriteArrayList<>();
        Thread silent = new Thread(() -> {
            try {
                while (true) { // every connection: reads the head, then takes nothing more and never answers
                    Socket s = server.accept();
                    held.add(s);
                    requestHeads.add(head(s.getInputStream()));
                }
            } catch (IOException e) {
                // the server socket was closed by stop()
            }
        }, "silent-peer");
        silent.setDaemon(true);
        silent.start();
        serving = silent;
        HttpTransport transport = transport(size);
        transport.baseLimit = Duration.ofSeconds(1);
        transport.minBytesPerSecond = Long.MAX_VALUE;

        long started = System.nanoTime();
        TransferException e;
        try {
            e = assertThrows(TransferException.class, () -> transport.send(peer(), blob(size)));
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;

        assertTrue(e.getMessage(), e.getMessage().contains("no answer within 1 s"));
        assertTrue("gave up after " + seconds + " s", seconds < 20);
        assertTrue(e.isUnreachable());
        assertEquals("not tried again after a timeout", 1, requestHeads.size());
    }

    @Test
    public void anInterruptedPushStopsAndSaysSo() throws Exception {
        serve(1);

        Thread.currentThread().interrupt();
        TransferException e;
        try {
            e = assertThrows(TransferException.class, () -> transport().send(peer(), blob()));
        } finally {
            assertTrue("the interrupt stays set for the caller", Thread.interrupted());
        }

        assertTrue(e.getMessage(), e.getMessage().contains("interrupted"));
    }

    /**
     * Accepts {@code connections} connections one after the other; each reads the request head.
     * All but the last close without a word; the last answers 507 at once, then reads the body
     * to its end before it closes (closing with bytes unread would reset the connection).
     */
    private void serve(int connections) {
        AtomicInteger served = new AtomicInteger();
        serving = new Thread(() -> {
            try {
                while (served.get() < connections) {
                    try (Socket s = server.accept()) {
                        s.setSoTimeout(10_000);
                        InputStream in = s.getInputStream();
                        requestHeads.add(head(in));
                        if (served.incrementAndGet() < connections) {
                            continue; // closed as a peer closes a pooled connection
                        }
                        byte[] body = REFUSAL.getBytes(StandardCharsets.UTF_8);
                        s.getOutputStream().write(("HTTP/1.1 507 Insufficient Storage\r\nContent-Type: application/json\r\n"
                                + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                        s.getOutputStream().write(body);
                        s.getOutputStream().flush();
                        long left = CIPHER_SIZE;
                        byte[] buf = new byte[65536];
                        int n;
                        while (left > 0 && (n = in.read(buf)) > 0) {
                            left -= n;
                        }
                    } catch (SocketTimeoutException e) {
                        // the client stopped sending
                    }
                }
            } catch (IOException e) {
                // the server socket was closed by stop()
            }
        }, "test-peer");
        serving.setDaemon(true);
        serving.start();
    }

    private static String head(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        int b;
        while (matched < 4 && (b = in.read()) >= 0) {
            head.write(b);
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    private Peer peer() {
        return new Peer("node-b", new byte[32], "B", PeerRole.FULL, List.of("http://127.0.0.1:" + server.getLocalPort()),
                false, Instant.EPOCH, null, null, null);
    }

    private static BlobRecord blob() {
        return blob(CIPHER_SIZE);
    }

    private static BlobRecord blob(int size) {
        return new BlobRecord(new BlobManifest("blob-1", size - 100, size, 1, SHA, "node-a", Instant.EPOCH),
                new byte[64]);
    }

    private static HttpTransport transport() {
        return transport(CIPHER_SIZE);
    }

    private static HttpTransport transport(int size) {
        NodeIdentity identity = proxy(NodeIdentity.class, name -> switch (name) {
            case "nodeId" -> "node-a";
            case "sign" -> new byte[64];
            default -> throw new UnsupportedOperationException(name);
        });
        SignatureVerifier signatures = proxy(SignatureVerifier.class, name -> {
            throw new UnsupportedOperationException(name);
        });
        BlobStore blobs = proxy(BlobStore.class, name -> switch (name) {
            case "open" -> new ByteArrayInputStream(new byte[size]);
            default -> throw new UnsupportedOperationException(name);
        });
        HttpTransport.Config config = proxy(HttpTransport.Config.class, name -> switch (name) {
            case "maxSendKiBps" -> 0L;
            default -> throw new UnsupportedOperationException(name);
        });
        return new HttpTransport(identity, signatures, blobs, config);
    }

    interface Answer {
        Object answer(String method);
    }

    private static <T> T proxy(Class<T> type, Answer answer) {
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
                (p, method, args) -> switch (method.getName()) {
                    case "toString" -> "fake " + type.getSimpleName();
                    case "hashCode" -> System.identityHashCode(p);
                    case "equals" -> p == args[0];
                    default -> answer.answer(method.getName());
                }));
    }
}
