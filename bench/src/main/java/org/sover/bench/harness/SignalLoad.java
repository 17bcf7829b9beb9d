package org.sover.bench.harness;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The signal-server rows of issue 6: the built operator signal server (signal-distribution,
 * default limits and heap) under N WebSocket clients that each say hello with their own signed
 * presence ticket and keep their presence as the node's client does (renew when due, WebSocket
 * pings), and the relay latency between pairs of them while all are held.
 *
 * <p>The clients live in the harness JVM on {@link NioWebSocket} (two selector threads). Each
 * socket is bound to its own loopback source address, {@value #PER_ADDRESS} clients per address
 * (127.1.x.y; Linux routes 127.0.0.0/8 to lo), so every address stays under the server's
 * per-address limits (20 connections, 4 × 50 messages/s), as families behind different NATs would.
 */
final class SignalLoad {
    /** What a presence ticket's signature covers first (PresenceTicket.CONTEXT, SignalLink.PRESENCE_CONTEXT). */
    static final String PRESENCE_CONTEXT = "sover-presence-v1\n";
    /** SignalLink.FIRST_TICKET_SECONDS: the hello ticket's lifetime, before the server told the renew interval. */
    static final long FIRST_TICKET_SECONDS = 60;
    /** SignalClient: keepAlive() runs every 5 s. */
    static final long KEEPALIVE_MS = 5_000;
    /** SignalClient.PING_MS. */
    static final long PING_MS = 20_000;
    /** Clients per loopback source address (the server allows 20). */
    static final int PER_ADDRESS = 10;
    /** Upgrades + hellos not yet welcomed, at most. */
    static final int MAX_IN_FLIGHT = 100;
    /** A client not welcomed this long after its connect is dropped (SignalLink: 2 × the 5 s connect timeout). */
    static final long WELCOME_TIMEOUT_MS = 10_000;
    static final int TICK_MS = 100;
    static final int SLOTS = (int) (KEEPALIVE_MS / TICK_MS);

    private SignalLoad() {
    }

    /** Sizes of one run; the BENCH_SIGNAL_* environment variables override them (for investigations). */
    record Plan(int clients, int rampPerSecond, int holdSeconds, int messages) {
        static Plan of(Harness h) {
            return new Plan(env("BENCH_SIGNAL_CLIENTS", h.quick ? 500 : 10_000),
                    env("BENCH_SIGNAL_RAMP_PER_SECOND", h.quick ? 250 : 500),
                    env("BENCH_SIGNAL_HOLD_SECONDS", h.quick ? 50 : 60),
                    env("BENCH_SIGNAL_MESSAGES", h.quick ? 1_000 : 5_000));
        }

        private static int env(String name, int fallback) {
            String v = System.getenv(name);
            return v == null || v.isBlank() ? fallback : Integer.parseInt(v.trim());
        }
    }

    /** One simulated node. */
    static final class Client {
        final int index;
        final InetAddress local;
        final PrivateKey key;
        final String nodeId;
        final String publicKey;
        volatile NioWebSocket.Conn conn;
        volatile String hello;
        volatile long connectNanos;
        volatile boolean welcomed;
        volatile boolean ended;
        final AtomicBoolean inFlight = new AtomicBoolean();
        volatile long renewSeconds = FIRST_TICKET_SECONDS / 2;
        /** Epoch millis; 0 before the welcome. */
        volatile long presenceExpiresAt;
        volatile long lastRenewAt;
        volatile long lastSendAt;
        volatile int renewsSent;
        final AtomicInteger renewsAcked = new AtomicInteger();

        Client(int index, InetAddress local, KeyPair kp) {
            this.index = index;
            this.local = local;
            this.key = kp.getPrivate();
            byte[] encoded = kp.getPublic().getEncoded(); // X.509 SubjectPublicKeyInfo: 12-byte prefix + raw 32 bytes
            byte[] raw = Arrays.copyOfRange(encoded, encoded.length - 32, encoded.length);
            this.publicKey = Base64.getEncoder().encodeToString(raw);
            this.nodeId = nodeIdOf(raw);
        }
    }

    /** What the listeners count (selector threads) and the driver reads. */
    static final class Stats {
        final AtomicInteger welcomed = new AtomicInteger();
        final Map<String, LongAdder> endedBeforeWelcome = new ConcurrentHashMap<>();
        final Map<String, LongAdder> endedAfterWelcome = new ConcurrentHashMap<>();
        final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
        final LongAdder renewsAcked = new LongAdder();
        final LongAdder pings = new LongAdder();
        final AtomicLongArray welcomeNanos;
        final AtomicLongArray sentAt;
        final AtomicLongArray relayNanos;
        final AtomicLongArray ackNanos;
        final LongAdder received = new LongAdder();
        final LongAdder relayRefused = new LongAdder();

        Stats(int clients, int messages) {
            welcomeNanos = new AtomicLongArray(clients);
            sentAt = new AtomicLongArray(messages);
            relayNanos = new AtomicLongArray(messages);
            ackNanos = new AtomicLongArray(messages);
            for (int i = 0; i < messages; i++) {
                relayNanos.set(i, -1);
                ackNanos.set(i, -1);
            }
            for (int i = 0; i < clients; i++) {
                welcomeNanos.set(i, -1);
            }
        }

        static void count(Map<String, LongAdder> m, String key) {
            m.computeIfAbsent(key, k -> new LongAdder()).increment();
        }
    }

    static void run(Harness h) throws Exception {
        Row clientsRow = h.rows.get("signal-clients");
        Row latencyRow = h.rows.get("signal-latency");
        Plan plan = Plan.of(h);
        int n = plan.clients() - plan.clients() % 2;
        String javaOpts = System.getenv().getOrDefault("BENCH_SIGNAL_JAVA_OPTS", "").trim();
        String heapNote = (javaOpts.contains("-Xmx") ? "" : "-Xmx192m from bin/setenv, ") + "-Xlog:gc added"
                + (javaOpts.isEmpty() ? "" : ", BENCH_SIGNAL_JAVA_OPTS `" + javaOpts + "`");
        String setup = String.format(Locale.ROOT, "%,d clients, %d per loopback address, ramp %d/s, hold %d s; server "
                + "with its default limits (%s)", n, PER_ADDRESS, plan.rampPerSecond(), plan.holdSeconds(), heapNote);
        clientsRow.setup = setup;
        latencyRow.setup = String.format(Locale.ROOT, "%,d relays between random pairs of the %,d clients", plan.messages(), n);

        SignalServerProcess server = null;
        NioWebSocket ws = null;
        try {
            server = new SignalServerProcess(h.signalAssembly, h.work, "signal");
            server.start(javaOpts);
            long t0 = System.nanoTime();
            Client[] clients = makeClients(n);
            double keySeconds = (System.nanoTime() - t0) / 1e9;
            double boot = server.awaitHealthy(120);
            h.say(String.format(Locale.ROOT, "signal: server healthy in %.1f s (port %d, pid %d, fd limit %s); %,d Ed25519 "
                    + "keys in %.1f s", boot, server.port, server.javaPid(), server.fdLimit(), n, keySeconds));
            long ownFds = ownFdLimit();
            if (ownFds > 0 && ownFds < n + 1000L) {
                throw new IllegalStateException("the harness may open only " + ownFds + " files; " + n + " clients need more "
                        + "(raise ulimit -n)");
            }
            ws = new NioWebSocket(2, "signal-load");
            new Load(h, plan, server, ws, clients, clientsRow, latencyRow).run();
        } finally {
            if (ws != null) {
                ws.close();
            }
            if (server != null) {
                server.close();
            }
        }
    }

    /** The harness JVM's own soft limit of open files, or -1. */
    static long ownFdLimit() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (l.startsWith("Max open files")) {
                    return Long.parseLong(l.substring("Max open files".length()).trim().split("\\s+")[0]);
                }
            }
        } catch (Exception e) {
            // unknown
        }
        return -1;
    }

    static Client[] makeClients(int n) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("Ed25519");
        Client[] clients = new Client[n];
        for (int i = 0; i < n; i++) {
            clients[i] = new Client(i, sourceAddress(i / PER_ADDRESS), g.generateKeyPair());
        }
        return clients;
    }

    /** 127.1.0.1, 127.1.0.2, ... 127.1.0.250, 127.1.1.1, ... */
    static InetAddress sourceAddress(int a) throws UnknownHostException {
        return InetAddress.getByAddress(new byte[] {127, 1, (byte) (a / 250), (byte) (a % 250 + 1)});
    }

    /** One run: ramp, hold with renewals and relays, figures, goodbye. */
    private static final class Load implements NioWebSocket.Listener {
        final Harness h;
        final Plan plan;
        final SignalServerProcess server;
        final NioWebSocket ws;
        final Client[] clients;
        final Row clientsRow;
        final Row latencyRow;
        final int n;
        final Stats stats;
        final Semaphore handshakes = new Semaphore(MAX_IN_FLIGHT);
        final Set<Client> pending = ConcurrentHashMap.newKeySet();
        final InetSocketAddress address;
        final Signature signer;
        final AtomicInteger relaysSent = new AtomicInteger();
        final AtomicInteger relaysSkipped = new AtomicInteger();
        volatile long relaysFrom;
        long startMs;
        long rampDoneMs;
        long holdEndMs;
        String loadAtRampEnd = "?";
        final Map<String, Long> tcpAtStart = tcpCounters();
        long[] ownGcAtRampEnd = ownGc();

        Load(Harness h, Plan plan, SignalServerProcess server, NioWebSocket ws, Client[] clients, Row clientsRow,
                Row latencyRow) throws Exception {
            this.h = h;
            this.plan = plan;
            this.server = server;
            this.ws = ws;
            this.clients = clients;
            this.clientsRow = clientsRow;
            this.latencyRow = latencyRow;
            this.n = clients.length;
            this.stats = new Stats(n, plan.messages());
            this.address = new InetSocketAddress("127.0.0.1", server.port);
            this.signer = Signature.getInstance("Ed25519");
        }

        void run() throws Exception {
            double cpuStart = server.cpuSeconds();
            startMs = System.currentTimeMillis();
            long start = System.nanoTime();
            long interval = 1_000_000_000L / plan.rampPerSecond();
            long hardDeadline = start + TimeUnit.SECONDS.toNanos(n / plan.rampPerSecond() + 120L + plan.holdSeconds());
            long nextConnectAt = start;
            long nextTickAt = start;
            long nextProgressAt = start + 10_000_000_000L;
            int next = 0;
            long tick = 0;
            long rampDone = -1;
            long holdEnds = Long.MAX_VALUE;
            Thread relay = null;
            int welcomedAtRampEnd = 0;
            double cpuRampEnd = Double.NaN;
            boolean serverDied = false;
            while (true) {
                long now = System.nanoTime();
                while (next < n && now >= nextConnectAt && handshakes.tryAcquire()) {
                    connect(clients[next++]);
                    nextConnectAt = Math.max(nextConnectAt + interval, now - 100_000_000L);
                }
                if (now >= nextTickAt) {
                    keepAlive((int) (tick++ % SLOTS));
                    dropLateHandshakes();
                    nextTickAt += TICK_MS * 1_000_000L;
                }
                if (rampDone < 0 && next == n && pending.isEmpty()) {
                    rampDone = System.nanoTime();
                    rampDoneMs = System.currentTimeMillis();
                    loadAtRampEnd = Harness.loadAverage();
                    holdEnds = rampDone + TimeUnit.SECONDS.toNanos(plan.holdSeconds());
                    welcomedAtRampEnd = stats.welcomed.get();
                    cpuRampEnd = server.cpuSeconds();
                    h.say(String.format(Locale.ROOT, "signal: ramp done in %.1f s: %,d of %,d welcomed (connect → welcome "
                            + "p50 %.1f ms, p99 %.1f ms); holding %d s with renewals, pings and %,d relays",
                            (rampDone - start) / 1e9, welcomedAtRampEnd, n, pct(welcomeMillis(), 0.5),
                            pct(welcomeMillis(), 0.99), plan.holdSeconds(), plan.messages()));
                    ownGcAtRampEnd = ownGc();
                    relaysFrom = rampDone + 2_000_000_000L;
                    relay = startRelays(relaysFrom, holdEnds - 5_000_000_000L);
                }
                if (now >= holdEnds) {
                    break;
                }
                if (now >= nextProgressAt) {
                    nextProgressAt += 10_000_000_000L;
                    System.out.printf(Locale.ROOT, "  signal: %.0f s: %,d welcomed, %,d open, %,d renewals acked, %,d relays "
                            + "received%n", (now - start) / 1e9, stats.welcomed.get(), open(), stats.renewsAcked.sum(),
                            stats.received.sum());
                    if (!server.alive()) {
                        serverDied = true;
                        break;
                    }
                }
                if (now >= hardDeadline) {
                    clientsRow.errors.add("the ramp did not finish within its deadline (" + next + " of " + n
                            + " started, " + pending.size() + " handshakes pending)");
                    break;
                }
                long wake = Math.min(nextTickAt, next < n ? nextConnectAt : Long.MAX_VALUE);
                long sleep = Math.max(0, Math.min(wake - System.nanoTime(), 10_000_000L));
                if (sleep > 0) {
                    TimeUnit.NANOSECONDS.sleep(sleep);
                }
            }
            long holdEnd = System.nanoTime();
            holdEndMs = System.currentTimeMillis();
            if (relay != null) {
                relay.join(10_000);
                relay.interrupt();
            }
            // relays still on their way: at most 5 s more (polled)
            long waitUntil = System.nanoTime() + 5_000_000_000L;
            while (stats.received.sum() + stats.relayRefused.sum() < relaysSent.get() && System.nanoTime() < waitUntil) {
                Thread.sleep(20);
            }
            report(start, rampDone, holdEnd, welcomedAtRampEnd, cpuStart, cpuRampEnd, serverDied);
            goodbye();
        }

        private void connect(Client c) {
            c.hello = ticket(c, "hello", FIRST_TICKET_SECONDS);
            c.inFlight.set(true);
            c.connectNanos = System.nanoTime();
            pending.add(c);
            try {
                c.conn = ws.connect(c.local, address, "/signal", this, c);
            } catch (Exception e) {
                Stats.count(stats.endedBeforeWelcome, "connect: " + e.getMessage());
                c.ended = true;
                settle(c);
            }
        }

        /** Frees the client's handshake slot once. */
        private void settle(Client c) {
            pending.remove(c);
            if (c.inFlight.compareAndSet(true, false)) {
                handshakes.release();
            }
        }

        private void dropLateHandshakes() {
            long now = System.nanoTime();
            for (Client c : pending) {
                if (now - c.connectNanos > WELCOME_TIMEOUT_MS * 1_000_000L && c.conn != null) {
                    c.conn.abort("no welcome within " + WELCOME_TIMEOUT_MS / 1000 + " s");
                }
            }
        }

        /** What SignalClient.keepAlive does every 5 s for each welcomed link (here: one slot of clients per tick). */
        private void keepAlive(int slot) {
            for (int i = slot; i < n; i += SLOTS) {
                Client c = clients[i];
                NioWebSocket.Conn conn = c.conn;
                if (!c.welcomed || c.ended || conn == null) {
                    continue;
                }
                long now = System.currentTimeMillis();
                if (renewDue(c, now)) {
                    c.lastRenewAt = now;
                    if (conn.sendText(ticket(c, "renew", 2 * c.renewSeconds))) {
                        c.lastSendAt = now;
                        c.renewsSent++;
                    }
                } else if (now - c.lastSendAt >= PING_MS) {
                    // as SignalLink.ping(): a WebSocket ping, which does not move lastSendAt
                    if (conn.sendPing()) {
                        stats.pings.increment();
                    }
                }
            }
        }

        /** SignalLink.renewDue (no TURN configured, so no TURN expiry). */
        private static boolean renewDue(Client c, long now) {
            if (now - c.lastRenewAt < 5_000) {
                return false;
            }
            return now - c.lastRenewAt >= c.renewSeconds * 1000
                    || c.presenceExpiresAt > 0 && c.presenceExpiresAt - now < 20_000;
        }

        /** A presence ticket as SignalLink.ticket writes it. */
        private String ticket(Client c, String type, long lifetimeSeconds) {
            long expires = System.currentTimeMillis() / 1000 + lifetimeSeconds;
            try {
                signer.initSign(c.key);
                signer.update((PRESENCE_CONTEXT + c.nodeId + "\n" + expires).getBytes(StandardCharsets.UTF_8));
                String sig = Base64.getEncoder().encodeToString(signer.sign());
                return "{\"type\":\"" + type + "\",\"nodeId\":\"" + c.nodeId + "\",\"publicKey\":\"" + c.publicKey
                        + "\",\"expires\":" + expires + ",\"signature\":\"" + sig + "\"}";
            } catch (java.security.GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }

        // ------------------------------------------------------------ listener (selector threads)

        @Override
        public void onOpen(NioWebSocket.Conn conn) {
            Client c = (Client) conn.attachment;
            long now = System.currentTimeMillis();
            c.lastRenewAt = now;
            c.lastSendAt = now;
            conn.sendText(c.hello);
            c.hello = null;
        }

        @Override
        public void onText(NioWebSocket.Conn conn, String text, long receivedNanos) {
            Client c = (Client) conn.attachment;
            String type = field(text, "type");
            if (type == null) {
                return;
            }
            switch (type) {
                case "signal" -> {
                    int seq = (int) number(field(text, "seq"));
                    long t = number(field(text, "t"));
                    if (seq >= 0 && seq < stats.sentAt.length() && t > 0) {
                        stats.relayNanos.compareAndSet(seq, -1, receivedNanos - t);
                        stats.received.increment();
                    }
                }
                case "sent" -> {
                    int seq = (int) number(field(text, "id"));
                    if (seq >= 0 && seq < stats.sentAt.length()) {
                        stats.ackNanos.compareAndSet(seq, -1, receivedNanos - stats.sentAt.get(seq));
                    }
                }
                case "welcome" -> {
                    long renew = number(field(text, "renewSeconds"));
                    if (renew > 0) {
                        c.renewSeconds = renew;
                    }
                    c.presenceExpiresAt = number(field(text, "presenceExpires")) * 1000;
                    stats.welcomeNanos.set(c.index, receivedNanos - c.connectNanos);
                    c.welcomed = true;
                    stats.welcomed.incrementAndGet();
                    settle(c);
                }
                case "renewed" -> {
                    c.presenceExpiresAt = number(field(text, "presenceExpires")) * 1000;
                    c.renewsAcked.incrementAndGet();
                    stats.renewsAcked.increment();
                }
                case "error" -> {
                    String code = String.valueOf(field(text, "code"));
                    Stats.count(stats.errors, code);
                    String id = field(text, "id");
                    if (id != null && number(id) >= 0 && number(id) < stats.sentAt.length()) {
                        stats.relayRefused.increment();
                    }
                }
                default -> {
                    // pong and anything newer
                }
            }
        }

        @Override
        public void onClosed(NioWebSocket.Conn conn, int code, String reason) {
            Client c = (Client) conn.attachment;
            c.ended = true;
            String why = code + (reason == null || reason.isEmpty() ? "" : " " + clip(reason));
            Stats.count(c.welcomed ? stats.endedAfterWelcome : stats.endedBeforeWelcome, why);
            settle(c);
        }

        // ------------------------------------------------------------ relays

        /** Sends plan.messages relays evenly between {@code from} and {@code until} (nanoTime) on a thread of its own. */
        private Thread startRelays(long from, long until) {
            Thread t = new Thread(() -> {
                int m = plan.messages();
                long interval = Math.max(1, (until - from) / Math.max(1, m));
                String sdp = syntheticSdp();
                for (int seq = 0; seq < m; seq++) {
                    long due = from + seq * interval;
                    long wait = due - System.nanoTime();
                    try {
                        if (wait > 0) {
                            TimeUnit.NANOSECONDS.sleep(wait);
                        }
                    } catch (InterruptedException e) {
                        return;
                    }
                    if (System.nanoTime() > until + 2_000_000_000L) {
                        return;
                    }
                    Client a = null;
                    Client b = null;
                    ThreadLocalRandom r = ThreadLocalRandom.current();
                    for (int attempt = 0; attempt < 50; attempt++) {
                        int k = r.nextInt(n / 2);
                        Client x = clients[k];
                        Client y = clients[k + n / 2];
                        if (x.welcomed && !x.ended && y.welcomed && !y.ended) {
                            boolean flip = r.nextBoolean();
                            a = flip ? y : x;
                            b = flip ? x : y;
                            break;
                        }
                    }
                    if (a == null) {
                        relaysSkipped.incrementAndGet();
                        continue;
                    }
                    String sid = Long.toHexString(r.nextLong());
                    String head = "{\"type\":\"signal\",\"id\":\"" + seq + "\",\"to\":\"" + b.nodeId + "\",\"kind\":";
                    String body = seq % 5 == 0
                            ? "\"offer\",\"payload\":{\"type\":\"offer\",\"sdp\":\"" + sdp + "\",\"sid\":\"" + sid
                                    + "\",\"signature\":\"" + SIGNATURE_LIKE + "\""
                            : "\"candidate\",\"payload\":{\"sid\":\"" + sid + "\",\"candidate\":\"" + CANDIDATE
                                    + "\",\"sdpMid\":\"0\",\"sdpMLineIndex\":\"0\"";
                    long sentAt = System.nanoTime();
                    stats.sentAt.set(seq, sentAt);
                    String frame = head + body + ",\"seq\":\"" + seq + "\",\"t\":\"" + sentAt + "\"}}";
                    if (a.conn.sendText(frame)) {
                        a.lastSendAt = System.currentTimeMillis();
                        relaysSent.incrementAndGet();
                    } else {
                        relaysSkipped.incrementAndGet();
                    }
                }
            }, "signal-relays");
            t.setDaemon(true);
            t.start();
            return t;
        }

        // ------------------------------------------------------------ figures

        private int open() {
            int open = 0;
            for (Client c : clients) {
                if (c.welcomed && !c.ended) {
                    open++;
                }
            }
            return open;
        }

        private double[] welcomeMillis() {
            return millis(stats.welcomeNanos);
        }

        private void report(long start, long rampDone, long holdEnd, int welcomedAtRampEnd, double cpuStart, double cpuRampEnd,
                boolean serverDied) throws Exception {
            long nowMs = System.currentTimeMillis();
            int held = 0;
            int renewedOnce = 0;
            long renewsSent = 0;
            long renewsAcked = 0;
            for (Client c : clients) {
                if (c.welcomed && !c.ended && c.presenceExpiresAt > nowMs) {
                    held++;
                }
                if (c.renewsAcked.get() > 0) {
                    renewedOnce++;
                }
                renewsSent += c.renewsSent;
                renewsAcked += c.renewsAcked.get();
            }
            double cpuEnd = server.cpuSeconds();
            long pid = server.javaPid();
            long rssKb = Procs.statusKb(pid, "VmRSS");
            long hwmKb = Procs.statusKb(pid, "VmHWM");
            long threads = Procs.statusKb(pid, "Threads");
            long fds = server.openFds();
            HttpResponse<String> metrics = server.get("/metrics");
            String m = metrics == null ? "" : metrics.body();
            long connectedNodes = Api.num(m, "connectedNodes");
            long connections = Api.num(m, "connections");
            String rejections = "";
            int r = m.indexOf("\"rejections\":");
            if (r >= 0) {
                rejections = m.substring(r + 13, m.indexOf('}', r) + 1);
            }
            double[] gcRamp = server.gcPauses(startMs, rampDoneMs > 0 ? rampDoneMs : holdEndMs);
            double[] gcHold = rampDoneMs > 0 ? server.gcPauses(rampDoneMs, holdEndMs) : new double[3];
            String loadNow = Harness.loadAverage();
            Map<String, Long> tcp = tcpCounters();
            StringBuilder tcpNote = new StringBuilder();
            for (String k : List.of("ListenOverflows", "ListenDrops", "TCPSynRetrans", "TCPTimeouts")) {
                long d = tcp.getOrDefault(k, 0L) - tcpAtStart.getOrDefault(k, 0L);
                if (d > 0) {
                    tcpNote.append(tcpNote.length() == 0 ? "; loopback TCP during the run: " : ", ").append(k).append(' ')
                            .append(d);
                }
            }
            double[] heap = server.heap();
            double[] live = server.fullGc() ? server.heap() : null;
            long oom = server.logLinesWith("OutOfMemoryError");
            boolean alive = server.alive();

            double[] relay = millis(stats.relayNanos);
            double[] ack = millis(stats.ackNanos);
            double p50 = pct(relay, 0.5);
            double p90 = pct(relay, 0.9);
            double p99 = pct(relay, 0.99);
            double max = relay.length == 0 ? Double.NaN : relay[relay.length - 1];
            int sent = relaysSent.get();
            long lost = sent - relay.length - stats.relayRefused.sum();

            double rampSeconds = rampDone < 0 ? Double.NaN : (rampDone - start) / 1e9;
            double elapsed = (holdEnd - start) / 1e9;
            double cpu = cpuEnd - cpuStart;
            String server1 = String.format(Locale.ROOT, "server at the end of the hold: RSS %.0f MB (peak %.0f MB), heap %s, "
                    + "CPU %.1f s in %.0f s of ramp + hold (%.2f cores; %.1f s of it during the ramp), %d threads, %,d open fds; "
                    + "GC pauses during the ramp %s, during the hold %s",
                    rssKb / 1024.0, hwmKb / 1024.0, heapText(heap, live), cpu, elapsed, cpu / elapsed,
                    cpuRampEnd - cpuStart, threads, fds, pauses(gcRamp), pauses(gcHold));
            String load = String.format(Locale.ROOT, "%,d welcomed by the end of the ramp (%.1f s; connect → welcome p50 "
                    + "%.1f ms, p99 %.1f ms), %,d held at the end of the %d s hold (welcomed, open, presence valid); server "
                    + "/metrics: %d connections, %d present; renewals %,d sent, %,d acknowledged (%,d clients renewed at "
                    + "least once), %,d WebSocket pings", welcomedAtRampEnd, rampSeconds, pct(welcomeMillis(), 0.5),
                    pct(welcomeMillis(), 0.99), held, plan.holdSeconds(), connections, connectedNodes, renewsSent,
                    renewsAcked, renewedOnce, stats.pings.sum());
            clientsRow.sover.add((double) held);
            clientsRow.notes.add(load + "; " + server1 + tcpNote + (rejections.isEmpty() || rejections.equals("{}") ? ""
                    : "; server rejections " + rejections) + failures());
            h.say("signal: " + load);
            h.say("signal: " + server1 + tcpNote + (rejections.isEmpty() ? "" : "; rejections " + rejections));
            if (!stats.errors.isEmpty() || !stats.endedBeforeWelcome.isEmpty() || !stats.endedAfterWelcome.isEmpty()) {
                h.say("signal: clients' errors " + new TreeMap<>(sums(stats.errors)) + ", ended before welcome "
                        + new TreeMap<>(sums(stats.endedBeforeWelcome)) + ", ended after welcome "
                        + new TreeMap<>(sums(stats.endedAfterWelcome)));
            }
            if (serverDied || !alive) {
                clientsRow.errors.add("the signal server exited during the run; see its log");
            }
            if (oom > 0) {
                clientsRow.errors.add("OutOfMemoryError in the signal server's log (" + oom + " lines)");
            }

            String lat = String.format(Locale.ROOT, "p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.1f ms over %,d relays "
                    + "(sender → server → receiver, one JVM's nanoTime; every 5th an offer with a %d-byte SDP, the rest ICE "
                    + "candidates) at %.0f/s, %,d lost, %,d refused, %,d not sent (no pair held); sender's `sent` ack p50 "
                    + "%.2f ms, p99 %.2f ms; server GC pauses in the hold %s; host load average %s → %s",
                    p50, p90, p99, max, relay.length, SDP_BYTES,
                    sent / Math.max(1e-9, plan.holdSeconds() - 7.0), lost, stats.relayRefused.sum(), relaysSkipped.get(),
                    pct(ack, 0.5), pct(ack, 0.99), pauses(gcHold), loadAtRampEnd, loadNow);
            if (relay.length > 0) {
                latencyRow.sover.add(p99);
                latencyRow.notes.add(lat);
            } else {
                latencyRow.errors.add("no relay arrived");
            }
            long[] gcNow = ownGc();
            String own = String.format(Locale.ROOT, "harness JVM (the clients) during the hold: %d GCs, %.2f s in GC",
                    gcNow[0] - ownGcAtRampEnd[0], (gcNow[1] - ownGcAtRampEnd[1]) / 1e3);
            h.say("signal: relay latency " + lat + "; " + own);
            h.say("signal: relay p50/p99/max ms per 10 s of the hold: " + windows());
            if (held < n || p99 > 50) {
                Path dump = h.bench.resolve("target/signal-threads-" + h.runId + "-" + (clientsRow.sover.size()) + ".txt");
                server.threadDump(dump);
                h.say("signal: goal missed; server thread dump in " + h.bench.relativize(dump));
            }
        }

        /** Relay latency p50/p99/max per 10 s window (by send time), for correlating the tail with GCs and renewals. */
        private String windows() {
            StringBuilder sb = new StringBuilder();
            int m = stats.sentAt.length();
            for (int w = 0; w < 100; w++) {
                long lo = relaysFrom + w * 10_000_000_000L;
                long hi = lo + 10_000_000_000L;
                double[] v = new double[m];
                int k = 0;
                boolean any = false;
                for (int i = 0; i < m; i++) {
                    long t = stats.sentAt.get(i);
                    if (t >= lo && t < hi && t != 0) {
                        any = true;
                        long x = stats.relayNanos.get(i);
                        if (x >= 0) {
                            v[k++] = x / 1e6;
                        }
                    }
                }
                if (!any) {
                    break;
                }
                double[] sorted = Arrays.copyOf(v, k);
                Arrays.sort(sorted);
                sb.append(String.format(Locale.ROOT, "%s[%d s: %.1f/%.1f/%.1f]", sb.length() == 0 ? "" : " ", w * 10,
                        pct(sorted, 0.5), pct(sorted, 0.99), k == 0 ? Double.NaN : sorted[k - 1]));
            }
            return sb.toString();
        }

        private String failures() {
            StringBuilder s = new StringBuilder();
            if (!stats.endedBeforeWelcome.isEmpty()) {
                s.append("; never welcomed: ").append(new TreeMap<>(sums(stats.endedBeforeWelcome)));
            }
            if (!stats.endedAfterWelcome.isEmpty()) {
                s.append("; closed after the welcome: ").append(new TreeMap<>(sums(stats.endedAfterWelcome)));
            }
            if (!stats.errors.isEmpty()) {
                s.append("; error frames: ").append(new TreeMap<>(sums(stats.errors)));
            }
            return s.toString().replace('|', '/');
        }

        /** Close handshakes with every client (bounded), then the rest is dropped with the selector threads. */
        private void goodbye() throws InterruptedException {
            for (Client c : clients) {
                NioWebSocket.Conn conn = c.conn;
                if (conn != null && !c.ended) {
                    conn.close(1000, "bye");
                }
            }
            long until = System.nanoTime() + 15_000_000_000L;
            while (System.nanoTime() < until) {
                boolean all = true;
                for (Client c : clients) {
                    if (c.conn != null && !c.ended) {
                        all = false;
                        break;
                    }
                }
                if (all) {
                    return;
                }
                Thread.sleep(50);
            }
        }
    }

    /**
     * The TcpExt counters of this network namespace (/proc/net/netstat): ListenOverflows and
     * ListenDrops tell whether the server's accept queue overflowed during the ramp.
     */
    static Map<String, Long> tcpCounters() {
        Map<String, Long> m = new TreeMap<>();
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/net/netstat"));
            for (int i = 0; i + 1 < lines.size(); i += 2) {
                String[] k = lines.get(i).split("\\s+");
                String[] v = lines.get(i + 1).split("\\s+");
                if (!k[0].equals("TcpExt:")) {
                    continue;
                }
                for (int j = 1; j < Math.min(k.length, v.length); j++) {
                    m.put(k[j], Long.parseLong(v[j]));
                }
            }
        } catch (Exception e) {
            // not on Linux: nothing
        }
        return m;
    }

    /** This JVM's collections and milliseconds in GC so far. */
    static long[] ownGc() {
        long count = 0;
        long ms = 0;
        for (java.lang.management.GarbageCollectorMXBean b : java.lang.management.ManagementFactory
                .getGarbageCollectorMXBeans()) {
            count += Math.max(0, b.getCollectionCount());
            ms += Math.max(0, b.getCollectionTime());
        }
        return new long[] {count, ms};
    }

    static String pauses(double[] p) {
        return String.format(Locale.ROOT, "%.0f (%.0f ms in all, longest %.0f ms)", p[0], p[1], p[2]);
    }

    static String heapText(double[] heap, double[] live) {
        if (heap == null) {
            return "unknown";
        }
        String s = String.format(Locale.ROOT, "%.0f of %.0f MB used (%.0f young + %.0f full GCs, %.1f s GC)", heap[0], heap[1],
                heap[2], heap[3], heap[4]);
        if (live != null) {
            s += String.format(Locale.ROOT, ", %.0f MB live after a full GC", live[0]);
        }
        return s;
    }

    static Map<String, Long> sums(Map<String, LongAdder> m) {
        Map<String, Long> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    /** The values ≥ 0 of {@code a}, in ms, sorted. */
    static double[] millis(AtomicLongArray a) {
        double[] v = new double[a.length()];
        int k = 0;
        for (int i = 0; i < a.length(); i++) {
            long x = a.get(i);
            if (x >= 0) {
                v[k++] = x / 1e6;
            }
        }
        double[] out = Arrays.copyOf(v, k);
        Arrays.sort(out);
        return out;
    }

    /** Nearest-rank percentile of sorted values. */
    static double pct(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    /** The string value of {@code "key":"..."} in a frame the server wrote (no escapes in the values read here). */
    static String field(String json, String key) {
        String k = "\"" + key + "\":";
        int i = json.indexOf(k);
        if (i < 0) {
            return null;
        }
        int s = i + k.length();
        if (s < json.length() && json.charAt(s) == '"') {
            int e = json.indexOf('"', s + 1);
            return e < 0 ? null : json.substring(s + 1, e);
        }
        int e = s;
        while (e < json.length() && (Character.isDigit(json.charAt(e)) || json.charAt(e) == '-')) {
            e++;
        }
        return json.substring(s, e);
    }

    static long number(String s) {
        if (s == null || s.isEmpty()) {
            return -1;
        }
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static String clip(String s) {
        String t = s.replaceAll("[0-9]+(\\.[0-9]+){3}", "<ip>");
        return t.length() <= 60 ? t : t.substring(0, 60);
    }

    // ---------------------------------------------------------------- node ids (bundles/crypto NodeIdFormat)

    private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    /**
     * The node id of a raw Ed25519 public key exactly as the product derives it (NodeIdFormat,
     * Syncthing's device id format): SHA-256, base32 without padding, four chunks of 13 each
     * followed by its luhn32 check character, shown as eight dash-separated groups of seven.
     */
    static String nodeIdOf(byte[] rawPublicKey) {
        byte[] sha;
        try {
            sha = MessageDigest.getInstance("SHA-256").digest(rawPublicKey);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        StringBuilder b32 = new StringBuilder();
        int buffer = 0;
        int bits = 0;
        for (byte x : sha) {
            buffer = (buffer << 8) | (x & 0xff);
            bits += 8;
            while (bits >= 5) {
                b32.append(ALPHABET.charAt((buffer >> (bits - 5)) & 31));
                bits -= 5;
            }
        }
        if (bits > 0) {
            b32.append(ALPHABET.charAt((buffer << (5 - bits)) & 31));
        }
        StringBuilder checked = new StringBuilder(56);
        for (int i = 0; i < b32.length(); i += 13) {
            String chunk = b32.substring(i, i + 13);
            checked.append(chunk).append(luhn32(chunk));
        }
        StringBuilder grouped = new StringBuilder(63);
        for (int i = 0; i < checked.length(); i += 7) {
            if (i > 0) {
                grouped.append('-');
            }
            grouped.append(checked, i, i + 7);
        }
        return grouped.toString();
    }

    static char luhn32(String chunk) {
        int factor = 1;
        int sum = 0;
        int n = ALPHABET.length();
        for (int i = 0; i < chunk.length(); i++) {
            int addend = factor * ALPHABET.indexOf(chunk.charAt(i));
            factor = factor == 2 ? 1 : 2;
            sum += addend / n + addend % n;
        }
        return ALPHABET.charAt((n - sum % n) % n);
    }

    // ---------------------------------------------------------------- relay payloads

    static final String CANDIDATE = "candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 192.168.1.20 "
            + "rport 46154 generation 0 ufrag EsAw network-id 1 network-cost 10";
    /** A base64 Ed25519 signature's length (the transport signs offers and answers). */
    static final String SIGNATURE_LIKE = Base64.getEncoder().encodeToString(new byte[64]);
    static final int SDP_BYTES = syntheticSdp().length();

    /** A data-channel offer about as long as the one WebRTC writes, JSON-escaped (\r\n as \\r\\n). */
    static String syntheticSdp() {
        String[] lines = {"v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0",
            "a=extmap-allow-mixed", "a=msid-semantic: WMS", "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
            "c=IN IP4 0.0.0.0", "a=candidate:1467250027 1 udp 2122260223 192.168.1.20 46243 typ host generation 0 "
                    + "network-id 1 network-cost 10",
            "a=candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 192.168.1.20 rport 46154 "
                    + "generation 0 network-id 1 network-cost 10",
            "a=candidate:3019435811 1 udp 41885439 198.51.100.4 51024 typ relay raddr 203.0.113.7 rport 46154 "
                    + "generation 0 network-id 1 network-cost 10",
            "a=ice-ufrag:EsAw", "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1", "a=ice-options:trickle",
            "a=fingerprint:sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:"
                    + "52:CE:E6:0F",
            "a=setup:actpass", "a=mid:0", "a=sctp-port:5000", "a=max-message-size:262144"};
        return String.join("\\r\\n", lines) + "\\r\\n";
    }
}
