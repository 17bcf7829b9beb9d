package org.sover.transport.webrtc.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.reflect.Proxy;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.junit.After;
import org.junit.AfterClass;
import org.junit.Assume;
import org.junit.BeforeClass;
import org.junit.Test;
import org.sover.api.crypto.BlobManifest;
import org.sover.api.crypto.NodeIdentity;
import org.sover.api.crypto.SignatureVerifier;
import org.sover.api.replication.BlobReceiver;
import org.sover.api.replication.Delivery;
import org.sover.api.replication.Peer;
import org.sover.api.replication.PeerDirectory;
import org.sover.api.replication.PeerLinks;
import org.sover.api.replication.PeerRole;
import org.sover.api.replication.ReplicationMonitor;
import org.sover.api.replication.TransferException;
import org.sover.api.signal.SignalException;
import org.sover.api.signal.Signaling;
import org.sover.api.storage.BlobStore;
import org.sover.api.vault.BlobRecord;
import org.sover.webrtc.runtime.WebRtcRuntime;

/**
 * Two real transports in one JVM, on the real native library, joined by in-memory signaling.
 * The coturn tests start a TURN server on loopback and skip when {@code turnserver} is missing.
 */
public class WebRtcTransportTest {
    private static WebRtcRuntime runtime;

    private final Hub hub = new Hub();
    private final List<WebRtcTransport> transports = new ArrayList<>();
    private Node a;
    private Node b;
    private Process turn;

    @BeforeClass
    public static void loadRuntime() {
        runtime = new WebRtcRuntime();
        runtime.factory();
    }

    @AfterClass
    public static void disposeRuntime() {
        runtime.close();
    }

    @After
    public void stop() {
        for (WebRtcTransport t : transports) {
            t.deactivate();
        }
        hub.close();
        if (turn != null) {
            turn.destroy();
            try {
                turn.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Test
    public void blobsArriveByteIdenticalOverHostCandidates() throws Exception {
        start(Map.of());
        byte[] small = random(3 * 1024 * 1024);
        Delivery d = a.sendTo(b, small);
        assertDelivered(small, d, "host");

        byte[] big = random(20 * 1024 * 1024);
        long t0 = System.nanoTime();
        Delivery d2 = a.sendTo(b, big);
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertDelivered(big, d2, "host");
        System.out.printf("WebRTC host path: 20 MiB in %.2f s = %.1f MB/s%n", seconds, big.length / seconds / 1e6);

        PeerLinks.Link link = a.transport.links().get(0);
        assertEquals(b.id, link.nodeId());
        assertEquals("connected", link.state());
        assertEquals("host", link.path());
        assertEquals(small.length + big.length, link.bytesSent());
        assertNotNull(link.lastHandshakeAt());
        assertEquals(small.length + big.length, b.transport.links().get(0).bytesReceived());
    }

    @Test
    public void fourBlobsInParallelAndBothDirectionsAtOnce() throws Exception {
        start(Map.of());
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<byte[]> data = new ArrayList<>();
            List<Future<Delivery>> sent = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                byte[] blob = random(1024 * 1024 + i * 777_777);
                data.add(blob);
                sent.add(pool.submit(() -> a.sendTo(b, blob)));
            }
            // Glare: B offers to A while A offers to B; one connection must come out of it.
            byte[] back = random(2 * 1024 * 1024);
            Future<Delivery> reverse = pool.submit(() -> b.sendTo(a, back));
            for (int i = 0; i < 4; i++) {
                assertDelivered(data.get(i), sent.get(i).get(60, TimeUnit.SECONDS), "host");
            }
            Delivery r = reverse.get(60, TimeUnit.SECONDS);
            assertEquals(r.blobId(), sha(back));
            assertArrayEquals(back, a.received.get(sha(back)));
        } finally {
            pool.shutdownNow();
        }
    }

    /** Blobs go one after another on a few long-lived channels, not one channel each. */
    @Test
    public void blobsShareAFewLongLivedChannels() throws Exception {
        start(Map.of());
        for (int i = 0; i < 30; i++) {
            byte[] blob = random(64 * 1024 + i * 1000);
            assertDelivered(blob, a.sendTo(b, blob), "host");
        }
        assertEquals("one lane for one sender at a time", 1, a.transport.session(b.id).lanesOpened.get());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> senders = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int base = 100 + t * 10;
                senders.add(pool.submit(() -> {
                    for (int i = 0; i < 10; i++) {
                        byte[] blob = random((base + i) * 1000);
                        assertDelivered(blob, a.sendTo(b, blob), "host");
                    }
                    return null;
                }));
            }
            for (Future<?> f : senders) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        int opened = a.transport.session(b.id).lanesOpened.get();
        assertTrue("70 blobs, 4 senders at most at once: " + opened + " lanes", opened <= 4);
        assertEquals(opened, b.transport.session(a.id).lanesOpened.get());
        assertEquals(0, a.transport.session(b.id).lanesLost.get());
    }

    /** The receiver answers before the end (here: refuses); the frames still in flight must not spill into the next blob. */
    @Test
    public void aBlobAnsweredEarlyLeavesTheLaneUsable() throws Exception {
        start(Map.of());
        b.refuseAbove = 10 * 1024 * 1024;
        try {
            // Refused after 6 MiB read, while A is still sending. Should B take the frames still in
            // flight for a header, its answers to them would put the lane out of step (A would not
            // reuse it) or fail the next blob.
            a.sendTo(b, random(40 * 1024 * 1024));
            fail("B refuses blobs above 10 MiB");
        } catch (TransferException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("413 too_large"));
        }
        byte[] next = random(3 * 1024 * 1024);
        assertDelivered(next, a.sendTo(b, next), "host");
        assertEquals("the refused blob's lane carried the next one", 1, a.transport.session(b.id).lanesOpened.get());
    }

    /** libwebrtc sometimes never announces a new channel to the other side: the sender notices and uses another. */
    @Test
    public void aChannelTheReceiverNeverSawIsReplaced() throws Exception {
        start(Map.of());
        java.util.concurrent.atomic.AtomicBoolean lostOne = new java.util.concurrent.atomic.AtomicBoolean();
        b.transport.loseIncoming = label -> label.startsWith("blobs:") && lostOne.compareAndSet(false, true);
        a.transport.readyTimeoutNanos = TimeUnit.SECONDS.toNanos(2);
        byte[] blob = random(3 * 1024 * 1024);
        assertDelivered(blob, a.sendTo(b, blob), "host");
        assertTrue(lostOne.get());
        assertEquals(1, a.transport.session(b.id).lanesLost.get());
        assertEquals(2, a.transport.session(b.id).lanesOpened.get());
    }

    @Test
    public void alteredFingerprintFailsTheSendWithTheSignatureReason() throws Exception {
        hub.rewrite = payload -> {
            if (payload.get("sdp") == null) {
                return payload;
            }
            Map<String, String> p = new ConcurrentHashMap<>(payload);
            p.put("sdp", payload.get("sdp").replaceAll("a=fingerprint:sha-256 [0-9A-F:]+",
                    "a=fingerprint:sha-256 " + "AB:".repeat(31) + "AB"));
            return p;
        };
        start(Map.of());
        long t0 = System.nanoTime();
        try {
            a.sendTo(b, random(1024));
            fail("a tampered session must not carry the blob");
        } catch (TransferException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("does not verify (the DTLS fingerprint may have been altered"
                    + " by the signal server)"));
            assertTrue("not unreachable: HTTP must still be tried", !e.isUnreachable());
        }
        assertTrue("fails fast", System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5));
        assertTrue(b.transport.links().get(0).lastError().startsWith("SDP signature from node A does not verify"));
        assertTrue(a.transport.links().get(0).lastError().contains("does not verify"));
        assertTrue(b.notes.toString(), b.notes.stream().anyMatch(n -> n.contains("does not verify")));
        assertTrue(b.received.isEmpty());
    }

    @Test
    public void relayOnlyThroughCoturn() throws Exception {
        String secret = "S3cret";
        int port = startTurn(secret);
        hub.iceServers = List.of(restCredentials("turn:127.0.0.1:" + port + "?transport=udp", secret, secret));
        start(Map.of("iceTransportPolicy", "relay"));
        byte[] small = random(512 * 1024);
        assertDelivered(small, a.sendTo(b, small), "relay");
        byte[] big = random(20 * 1024 * 1024);
        long t0 = System.nanoTime();
        Delivery d = a.sendTo(b, big);
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertDelivered(big, d, "relay");
        System.out.printf("WebRTC relay path (coturn on loopback): 20 MiB in %.2f s = %.1f MB/s%n", seconds,
                big.length / seconds / 1e6);
        assertEquals("relay", a.transport.links().get(0).path());
    }

    @Test
    public void wrongTurnCredentialFailsWithinTheConnectTimeout() throws Exception {
        int port = startTurn("right");
        hub.iceServers = List.of(restCredentials("turn:127.0.0.1:" + port + "?transport=udp", "right", "wrong"));
        start(Map.of("iceTransportPolicy", "relay", "connectTimeoutSeconds", 5));
        long t0 = System.nanoTime();
        try {
            a.sendTo(b, random(1024));
            fail("no relay, no transfer");
        } catch (TransferException e) {
            System.out.println("wrong TURN credential: " + e.getMessage());
            assertTrue(e.getMessage(), e.getMessage().contains("ICE") || e.getMessage().contains("TURN"));
            assertTrue(!e.isUnreachable());
        }
        assertTrue("within the connect timeout", System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(7));
        assertNotNull(a.transport.links().get(0).lastError());
    }

    /** Node requests through the tunnel: a request reaches the other node's API and a multi-frame answer comes back whole. */
    @Test
    public void nodeRequestsGoThroughTheTunnel() throws Exception {
        start(Map.of());
        byte[] answer = random(600 * 1024); // three binary frames of at most 256 KiB
        List<String> seen = new CopyOnWriteArrayList<>();
        b.transport.nodeApi = (via, request) -> {
            seen.add(via + " " + request.method() + " " + request.path() + "?" + request.query() + " "
                    + request.headers().get("X-Test"));
            return new org.sover.api.replication.NodeTunnel.Response(200, Map.of("X-Sover-Signature", "sig"), answer);
        };
        org.sover.api.replication.NodeTunnel.Response r = a.transport.exchange(a.peerOf(b),
                new org.sover.api.replication.NodeTunnel.Request("GET", "/node/v1/ops", "after=&limit=200",
                        Map.of("X-Test", "yes"), new byte[0]), java.time.Duration.ofSeconds(20));
        assertEquals(200, r.status());
        assertEquals("sig", r.headers().get("X-Sover-Signature"));
        assertTrue(Arrays.equals(answer, r.body()));
        assertEquals(List.of(a.id + " GET /node/v1/ops?after=&limit=200 yes"), seen);

        b.transport.nodeApi = null;
        try {
            a.transport.exchange(a.peerOf(b), new org.sover.api.replication.NodeTunnel.Request("GET", "/node/v1/ping", "",
                    Map.of(), new byte[0]), java.time.Duration.ofSeconds(20));
            fail("a node without its API running answered");
        } catch (IOException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("not running"));
        }

        // Sequential requests, refused or answered, all go on the first call's channel.
        b.transport.nodeApi = (via, request) -> new org.sover.api.replication.NodeTunnel.Response(200, Map.of(),
                request.query().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        for (int i = 0; i < 20; i++) {
            org.sover.api.replication.NodeTunnel.Response each = a.transport.exchange(a.peerOf(b),
                    new org.sover.api.replication.NodeTunnel.Request("GET", "/node/v1/ops", "after=" + i, Map.of(),
                            new byte[0]), java.time.Duration.ofSeconds(20));
            assertEquals("after=" + i, new String(each.body(), java.nio.charset.StandardCharsets.UTF_8));
        }
        assertEquals("22 requests one after another on one channel", 1,
                a.transport.session(b.id).rpcLanesOpened.get());
    }

    /** A tunnel channel the other end never heard of fails that one request; the next goes on a new channel. */
    @Test
    public void aTunnelChannelTheOtherEndNeverSawIsNotReused() throws Exception {
        start(Map.of());
        b.transport.nodeApi = (via, request) -> new org.sover.api.replication.NodeTunnel.Response(200, Map.of(),
                new byte[] {42});
        java.util.concurrent.atomic.AtomicBoolean lostOne = new java.util.concurrent.atomic.AtomicBoolean();
        b.transport.loseIncoming = label -> label.startsWith("rpc:") && lostOne.compareAndSet(false, true);
        org.sover.api.replication.NodeTunnel.Request ping = new org.sover.api.replication.NodeTunnel.Request("GET",
                "/node/v1/ping", "", Map.of(), new byte[0]);
        try {
            a.transport.exchange(a.peerOf(b), ping, java.time.Duration.ofSeconds(2));
            fail("B never saw the channel, yet the request was answered");
        } catch (IOException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("did not answer"));
        }
        assertTrue(lostOne.get());
        for (int i = 0; i < 3; i++) {
            assertTrue(Arrays.equals(new byte[] {42},
                    a.transport.exchange(a.peerOf(b), ping, java.time.Duration.ofSeconds(20)).body()));
        }
        assertEquals("the lost channel was dropped, its replacement kept", 2,
                a.transport.session(b.id).rpcLanesOpened.get());
    }

    @Test
    public void switchedOffItCannotReachAndRefusesToSend() throws Exception {
        start(Map.of("enabled", false));
        assertTrue(!a.transport.canReach(a.peerOf(b)));
        try {
            a.sendTo(b, random(10));
            fail();
        } catch (TransferException e) {
            assertTrue(e.getMessage().contains("switched off"));
        }
    }

    @Test
    public void largeBlobsGoToHttpFirst() throws Exception {
        start(Map.of("largeBlobBytes", 1000L));
        assertTrue(a.transport.suits(a.peerOf(b), a.record("x", 999)));
        assertTrue(!a.transport.suits(a.peerOf(b), a.record("y", 1000)));
        assertTrue(a.transport.canReach(a.peerOf(b)));
    }

    // ---- set-up ----

    private void start(Map<String, Object> config) throws Exception {
        a = new Node("A");
        b = new Node("B");
        a.pin(b);
        b.pin(a);
        a.start(config);
        b.start(config);
    }

    private void assertDelivered(byte[] data, Delivery d, String path) throws Exception {
        assertEquals(sha(data), d.blobId());
        assertEquals(data.length, d.size());
        assertEquals(sha(data), d.cipherSha256());
        assertEquals(path, d.path());
        assertArrayEquals(data, b.received.get(d.blobId()));
    }

    private int startTurn(String secret) throws Exception {
        Assume.assumeTrue("turnserver (coturn) is not installed", new File("/usr/bin/turnserver").canExecute()
                || new File("/usr/local/bin/turnserver").canExecute());
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        int minPort = 50000 + new Random().nextInt(10000);
        turn = new ProcessBuilder("turnserver", "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
                "--listening-port=" + port, "--min-port=" + minPort, "--max-port=" + (minPort + 200), "--realm=test",
                "--no-tls", "--no-dtls", "--no-cli", "--allow-loopback-peers", "--use-auth-secret",
                "--static-auth-secret=" + secret, "--log-file=stdout").redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(turn.getInputStream(), StandardCharsets.UTF_8));
        List<String> log = new CopyOnWriteArrayList<>();
        Thread drain = new Thread(() -> {
            try {
                String line;
                while ((line = out.readLine()) != null) {
                    log.add(line);
                }
            } catch (IOException e) {
                // ended
            }
        });
        drain.setDaemon(true);
        drain.start();
        // coturn 4.6.1 does not always print "Total auth threads:"; a STUN answer on the port is the sure sign.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!stunAnswers(port)) {
            if (System.nanoTime() > deadline || !turn.isAlive()) {
                fail("coturn did not start: " + String.join("\n", log));
            }
        }
        return port;
    }

    private static boolean stunAnswers(int port) throws IOException {
        byte[] request = new byte[20];
        request[1] = 1; // Binding request, no attributes
        ByteBuffer.wrap(request, 4, 4).putInt(0x2112A442);
        new Random().nextBytes(Arrays.copyOfRange(request, 8, 20));
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.setSoTimeout(200);
            socket.send(new DatagramPacket(request, request.length, InetAddress.getLoopbackAddress(), port));
            DatagramPacket answer = new DatagramPacket(new byte[512], 512);
            socket.receive(answer);
            return answer.getLength() >= 20 && answer.getData()[0] == 1 && answer.getData()[1] == 1;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    /** coturn's REST scheme: username "expiry:name", password base64(HMAC-SHA1(secret, username)). */
    private static Signaling.IceServer restCredentials(String url, String secret, String usedSecret) throws Exception {
        String user = (System.currentTimeMillis() / 1000 + 3600) + ":test";
        Mac mac = Mac.getInstance("HmacSHA1");
        mac.init(new SecretKeySpec(usedSecret.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
        String password = Base64.getEncoder().encodeToString(mac.doFinal(user.getBytes(StandardCharsets.UTF_8)));
        return new Signaling.IceServer(List.of(url), user, password);
    }

    private static byte[] random(int size) {
        byte[] b = new byte[size];
        new Random(size).nextBytes(b);
        return b;
    }

    private static String sha(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    @SuppressWarnings("unchecked")
    private static <T> T proxy(Class<T> type, java.util.function.BiFunction<String, Object[], Object> body) {
        return (T) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] { type }, (p, m, args) -> {
            if (m.getName().equals("toString")) {
                return type.getSimpleName() + " double";
            }
            return body.apply(m.getName(), args);
        });
    }

    private static WebRtcConfig config(Map<String, Object> values) {
        return proxy(WebRtcConfig.class, (method, args) -> {
            if (values.containsKey(method)) {
                return values.get(method);
            }
            try {
                return WebRtcConfig.class.getMethod(method).getDefaultValue();
            } catch (NoSuchMethodException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** One node: identity, pinned peers, its blobs, what it received, what its monitor was told. */
    private final class Node {
        final String id;
        final KeyPair keys;
        final Map<String, Peer> pinned = new ConcurrentHashMap<>();
        final Map<String, byte[]> stored = new ConcurrentHashMap<>();
        final Map<String, byte[]> received = new ConcurrentHashMap<>();
        final List<String> notes = new CopyOnWriteArrayList<>();
        /** Blobs larger than this are refused after 6 MiB of them were read. */
        volatile long refuseAbove = Long.MAX_VALUE;
        WebRtcTransport transport;

        Node(String name) throws Exception {
            // Node ids compare like real ones; A's is the smaller.
            this.id = name + "AAAAAA-BBBBBBB-CCCCCCC-DDDDDDD-EEEEEEE-FFFFFFF-GGGGGGG-HHHHHHH".substring(1);
            this.keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        }

        byte[] rawKey() {
            byte[] x509 = keys.getPublic().getEncoded();
            return Arrays.copyOfRange(x509, x509.length - 32, x509.length);
        }

        void pin(Node other) {
            pinned.put(other.id, peerOf(other));
        }

        Peer peerOf(Node other) {
            return new Peer(other.id, other.rawKey(), "node " + other.id.charAt(0), PeerRole.FULL, List.of(), false,
                    Instant.now(), null, null, null);
        }

        BlobRecord record(String blobId, long size) {
            return new BlobRecord(new BlobManifest(blobId, size, size, 1, blobId, id, Instant.now()), new byte[64]);
        }

        Delivery sendTo(Node other, byte[] data) throws Exception {
            String blobId = sha(data);
            stored.put(blobId, data);
            return transport.send(peerOf(other), record(blobId, data.length));
        }

        void start(Map<String, Object> config) {
            NodeIdentity identity = new NodeIdentity() {
                @Override
                public String nodeId() {
                    return id;
                }

                @Override
                public byte[] publicKey() {
                    return rawKey();
                }

                @Override
                public String fingerprint() {
                    return id;
                }

                @Override
                public byte[] sign(byte[] message) {
                    try {
                        Signature s = Signature.getInstance("Ed25519");
                        s.initSign(keys.getPrivate());
                        s.update(message);
                        return s.sign();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }

                @Override
                public byte[] agreementPublicKey() {
                    throw new UnsupportedOperationException();
                }
            };
            SignatureVerifier verifier = proxy(SignatureVerifier.class, (method, args) -> {
                if (!method.equals("verify")) {
                    throw new UnsupportedOperationException(method);
                }
                try {
                    byte[] prefix = HexFormat.of().parseHex("302a300506032b6570032100");
                    byte[] spki = Arrays.copyOf(prefix, 44);
                    System.arraycopy((byte[]) args[0], 0, spki, 12, 32);
                    PublicKey key = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
                    Signature s = Signature.getInstance("Ed25519");
                    s.initVerify(key);
                    s.update((byte[]) args[1]);
                    return s.verify((byte[]) args[2]);
                } catch (Exception e) {
                    return false;
                }
            });
            PeerDirectory directory = proxy(PeerDirectory.class, (method, args) -> switch (method) {
            case "peer" -> Optional.ofNullable(pinned.get((String) args[0]));
            case "peers" -> List.copyOf(pinned.values());
            default -> throw new UnsupportedOperationException(method);
            });
            BlobStore blobs = proxy(BlobStore.class, (method, args) -> {
                byte[] data = stored.get((String) args[0]);
                switch (method) {
                case "open":
                    if (data == null) {
                        throw new RuntimeException(new NoSuchFileException((String) args[0]));
                    }
                    return new ByteArrayInputStream(data);
                case "exists":
                    return data != null;
                case "size":
                    return data == null ? -1L : (long) data.length;
                default:
                    throw new UnsupportedOperationException(method);
                }
            });
            BlobReceiver receiver = new BlobReceiver() {
                @Override
                public Delivery receive(String sender, BlobRecord record, InputStream ciphertext)
                        throws BlobRejectedException, IOException {
                    assertTrue(pinned.containsKey(sender));
                    if (record.manifest().cipherSize() > refuseAbove) {
                        ciphertext.readNBytes(6 * 1024 * 1024);
                        throw new BlobRejectedException(413, "too_large", "this node takes blobs up to " + refuseAbove
                                + " bytes");
                    }
                    byte[] data = ciphertext.readAllBytes();
                    String hash;
                    try {
                        hash = sha(data);
                    } catch (Exception e) {
                        throw new IOException(e);
                    }
                    if (data.length != record.manifest().cipherSize() || !hash.equals(record.manifest().cipherSha256())) {
                        throw new BlobRejectedException(422, "hash_mismatch", "Blob " + record.id() + " arrived with "
                                + data.length + " bytes and SHA-256 " + hash);
                    }
                    received.put(record.id(), data);
                    return new Delivery(record.id(), data.length, hash, null);
                }

                @Override
                public boolean has(String blobId) {
                    return received.containsKey(blobId);
                }
            };
            ReplicationMonitor monitor = proxy(ReplicationMonitor.class, (method, args) -> {
                if (method.equals("note")) {
                    notes.add(args[0] + " " + args[1]);
                }
                return null;
            });
            transport = new WebRtcTransport(runtime, hub.signalingFor(id), identity, verifier, directory, blobs, receiver,
                    config(config));
            transport.monitor = monitor;
            transports.add(transport);
        }
    }

    /** Signaling between the nodes of one test, delivering in order on one thread per recipient. */
    private static final class Hub {
        final Map<String, Signaling.Listener> listeners = new ConcurrentHashMap<>();
        final Map<String, ExecutorService> queues = new ConcurrentHashMap<>();
        volatile UnaryOperator<Map<String, String>> rewrite = UnaryOperator.identity();
        volatile List<Signaling.IceServer> iceServers = List.of();

        Signaling signalingFor(String me) {
            return new Signaling() {
                @Override
                public void send(String to, String kind, Map<String, String> payload) throws SignalException {
                    Signaling.Listener l = listeners.get(to);
                    if (l == null) {
                        throw new SignalException("node " + to + " is not present");
                    }
                    Map<String, String> relayed = rewrite.apply(payload);
                    queues.computeIfAbsent(to, k -> Executors.newSingleThreadExecutor())
                            .execute(() -> l.onMessage(me, kind, relayed));
                }

                @Override
                public Subscription subscribe(Listener listener) {
                    listeners.put(me, listener);
                    return () -> listeners.remove(me, listener);
                }

                @Override
                public Status status() {
                    return new Status("connected", "memory:", true, null, Instant.now(), null, null, 0, 0, null);
                }

                @Override
                public List<IceServer> iceServers() {
                    return iceServers;
                }

                @Override
                public boolean isPresent(String nodeId) {
                    return listeners.containsKey(nodeId);
                }
            };
        }

        void close() {
            queues.values().forEach(ExecutorService::shutdownNow);
        }
    }
}
