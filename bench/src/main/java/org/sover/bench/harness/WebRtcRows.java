package org.sover.bench.harness;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The webrtc rows of issue 6: the same ~1 GiB replicated A→B over WebRTC, direct (host
 * candidates) and relayed through coturn, against a raw webrtc-java data channel between two
 * JVMs ({@link RawWebRtcPeer}) that moves the same bytes in the same run, on the same path.
 *
 * <p>Per run: one coturn and one signal server (the built signal assembly), as the integration
 * tests start them; then for each row two fresh nodes (the relay row's with
 * {@code iceTransportPolicy = relay} written before their first start), A's HTTP blob transport
 * stopped (as WebRtcScenarioIT w1 does) so that blobs can only go over WebRTC, the files
 * uploaded to A (not timed), then pairing → B lists every photo (timed), then A's jobs are checked:
 * every one done over {@code webrtc} with the expected path, or the run is an error.
 */
final class WebRtcRows {
    private static final String WEBRTC_PID = "org.sover.transport.webrtc";
    /** Host candidate inside the loopback-only namespace (TEST-NET-1: never routed anywhere). */
    private static final String NETNS_HOST = "192.0.2.1";
    /** Said in the rows' setup when the harness gave the namespace a host address. */
    private static String hostSetup = "";
    private static boolean addedVeth;

    private WebRtcRows() {
    }

    static void run(Harness h) throws Exception {
        Row direct = h.rows.get("webrtc-direct");
        Row relay = h.rows.get("webrtc-relay");
        DataGen.DataSet data = h.big;
        Harness.warmCache(data.files());
        String hostNote = "";
        Path work = h.work.resolve("webrtc");
        Files.createDirectories(work);
        String secret = "bench-turn-" + Long.toHexString(new SecureRandom().nextLong());
        CoturnServer turn = null;
        SignalServer signal = null;
        try {
            try {
                hostNote = ensureHostAddress(h);
                turn = CoturnServer.start(work, secret);
                signal = SignalServer.start(h.signalAssembly, work.resolve("signal-data"), turn);
            } catch (Exception e) {
                String msg = "no host address, coturn or signal server: " + describe(e);
                h.say("webrtc: " + msg);
                direct.errors.add(msg);
                relay.errors.add(msg);
                return;
            }
            h.say("webrtc: coturn on 127.0.0.1:" + turn.port + ", signal server on 127.0.0.1:" + signal.port
                    + (hostNote.isEmpty() ? "" : "; " + hostNote));
            measure(h, direct, false, turn, signal, work);
            measure(h, relay, true, turn, signal, work);
        } finally {
            if (signal != null) {
                signal.close();
            }
            if (turn != null) {
                turn.close();
            }
            Procs.deleteTree(work);
            if (addedVeth) {
                removeHostAddress(h);
            }
        }
    }

    /** One row of one run: Sover, then the raw reference; both figures or an error. */
    private static void measure(Harness h, Row row, boolean relay, CoturnServer turn, SignalServer signal, Path work) {
        String mode = relay ? "relay" : "direct";
        DataGen.DataSet data = h.big;
        row.setup = String.format(Locale.ROOT, "%d files, %.0f MB; fresh A+B per run, A uploads first (not timed), A's "
                + "transport-http stopped; %s%s", data.files().size(), data.bytes() / MB, relay
                        ? "iceTransportPolicy = relay on both; raw: RELAY policy, same coturn, REST credentials"
                        : "ICE policy all; raw: host candidates only", hostSetup);
        SoverResult s = null;
        RawResult r = null;
        List<String> errs = new ArrayList<>();
        try {
            s = sover(h, relay, signal, turn, work);
            h.say(String.format(Locale.ROOT, "webrtc-%s: Sover %.1f MB/s (%.2f s; first photo on B %.2f s; CPU A %.1f s, "
                    + "B %.1f s, coturn %.1f s; %d jobs retried; UDP %,d datagrams, %,d dropped for full receive buffers)",
                    mode, s.mbps, s.seconds, s.firstOnB, s.cpuA, s.cpuB, s.cpuTurn, s.retried, s.udpIn, s.udpDrops));
            h.say(String.format(Locale.ROOT, "webrtc-%s: second batch on the same nodes: Sover %.1f MB/s (%.2f s; first photo "
                    + "on B %.2f s; CPU A %.1f s, B %.1f s; %d jobs retried)", mode, s.second.mbps(), s.second.seconds(),
                    s.second.firstOnB(), s.second.cpuA(), s.second.cpuB(), s.secondRetried));
            for (String p : s.problems) {
                h.say("webrtc-" + mode + ":   seen: " + p);
            }
        } catch (Exception e) {
            errs.add("Sover: " + e.getMessage());
            h.say("webrtc-" + mode + ": Sover failed: " + e);
        }
        try {
            r = raw(h, relay, turn, work);
            h.say(String.format(Locale.ROOT, "webrtc-%s: raw webrtc-java %.1f MB/s (%.2f s; channel open after %s; CPU "
                    + "sender %.1f s, receiver %.1f s, coturn %.1f s; path %s; UDP %,d datagrams, %,d dropped)", mode, r.mbps,
                    r.seconds, r.openNote, r.cpuSend, r.cpuReceive, r.cpuTurn, r.path, r.udpIn, r.udpDrops));
        } catch (Exception e) {
            errs.add("raw reference: " + describe(e));
            h.say("webrtc-" + mode + ": raw reference failed: " + e);
        }
        if (s != null && r != null) {
            Row warm = h.rows.get(relay ? "webrtc-relay-warm" : "webrtc-direct-warm");
            warm.setup = String.format(Locale.ROOT, "%d other files, %.0f MB; A's sending paused while they are uploaded, "
                    + "timing from switching it on", h.second.files().size(), h.second.bytes() / MB);
            warm.sover.add(s.second.mbps());
            warm.ref.add(r.mbps);
            warm.notes.add(String.format(Locale.ROOT, "run %d: first photo on B %.1f s; CPU A %.1f + B %.1f s%s", warm.sover.size(),
                    s.second.firstOnB(), s.second.cpuA(), s.second.cpuB(),
                    s.secondRetried == 0 ? "" : "; " + s.secondRetried + " job(s) retried"));
            row.sover.add(s.mbps);
            row.ref.add(r.mbps);
            row.notes.add(String.format(Locale.ROOT, "run %d: B listed the first photo %.1f s after pairing (A+B CPU "
                    + "%.1f s till then), half %.1f s, all but one %.1f s; CPU A %.1f + B %.1f s%s vs raw %.1f + %.1f s%s%s",
                    row.sover.size(), s.firstOnB, s.cpuFirst, s.halfOnB, s.allButOneOnB, s.cpuA, s.cpuB,
                    relay ? String.format(Locale.ROOT, " + coturn %.1f", s.cpuTurn) : "", r.cpuSend, r.cpuReceive,
                    relay ? String.format(Locale.ROOT, " + coturn %.1f", r.cpuTurn) : "",
                    s.retried == 0 && s.problems.isEmpty() ? "" : "; " + s.retried + " job(s) retried; "
                            + String.join(" / ", s.problems.stream().map(WebRtcRows::shorten).toList())));
        } else {
            row.errors.add(String.join("; ", errs) + (s != null ? String.format(Locale.ROOT, " (Sover alone: %.1f MB/s)",
                    s.mbps) : "") + (r != null ? String.format(Locale.ROOT, " (raw alone: %.1f MB/s)", r.mbps) : ""));
        }
    }

    static final double MB = Harness.MB;

    /** Blob ids cut to 8 hex digits, messages to 200 characters (the notes cell is shared by all runs). */
    static String shorten(String x) {
        String t = x.replaceAll("\\b([0-9a-f]{8})[0-9a-f]{56}\\b", "$1…");
        return t.length() > 200 ? t.substring(0, 200) + "…" : t;
    }

    // ---------------------------------------------------------------- Sover

    record SoverResult(double mbps, double seconds, double firstOnB, double halfOnB, double allButOneOnB, double cpuFirst,
            double cpuA, double cpuB, double cpuTurn, int retried, List<String> problems, long udpIn, long udpDrops,
            Harness.Batch second, int secondRetried) {
    }

    private static final Pattern LAST_ERROR = Pattern.compile("\"lastError\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

    /** The node's WARN and ERROR diagnostics (e.g. "WebRTC link to ... failed"), at most three. */
    private static List<String> warnings(Api api, String who) {
        List<String> out = new ArrayList<>();
        try {
            String body = api.get("/v1/diagnostics?limit=500").body();
            Matcher m = Pattern.compile("(?i)\"level\"\\s*:\\s*\"(warn|error)\"\\s*,\\s*\"message\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"")
                    .matcher(body);
            while (m.find() && out.size() < 3) {
                out.add(who + " " + m.group(1) + ": " + m.group(2));
            }
        } catch (Exception e) {
            out.add(who + " diagnostics not readable: " + e);
        }
        return out;
    }

    private static SoverResult sover(Harness h, boolean relay, SignalServer signal, CoturnServer turn, Path work)
            throws Exception {
        DataGen.DataSet data = h.big;
        String prefix = relay ? "wr" : "wd";
        try (Node a = new Node(h.assembly, h.work, prefix + "-a"); Node b = new Node(h.assembly, h.work, prefix + "-b")) {
            for (Node n : new Node[] {a, b}) {
                n.env.put("SOVER_SIGNAL_URL", signal.url());
                if (relay) {
                    n.configure(WEBRTC_PID, "iceTransportPolicy = relay");
                }
                if (System.getenv("BENCH_WEBRTC_DEBUG") != null) { // for diagnosis: the transport's DEBUG log
                    n.appendEtc("org.ops4j.pax.logging.cfg", "log4j2.logger.soverwebrtc.name = org.sover.transport.webrtc\n"
                            + "log4j2.logger.soverwebrtc.level = DEBUG");
                }
            }
            try {
                return soverOn(h, relay, signal, turn, a, b);
            } catch (Exception e) {
                String kept = keepLogs(h, a, b);
                String alive = "A " + (a.alive() ? "alive" : "gone") + ", B " + (b.alive() ? "alive" : "gone");
                throw new IllegalStateException(describe(e) + "; " + alive + "; " + kept, e);
            }
        }
    }

    private static SoverResult soverOn(Harness h, boolean relay, SignalServer signal, CoturnServer turn, Node a, Node b)
            throws Exception {
        DataGen.DataSet data = h.big;
        {
            Node.startHealthy(a, b);
            Api apiA = a.admin();
            Api apiB = b.admin();
            // A's HTTP blob transport stopped: blobs can only go over WebRTC (metadata still over HTTP)
            shell(a, "bundle:stop org.sover.transport.http");
            Node.ClientResult list = shell(a, "bundle:list -s -t 0");
            for (String l : list.output().lines().toList()) {
                if (l.contains("org.sover.transport.http") && l.contains("Active")) {
                    throw new IllegalStateException("transport-http still active on A: " + l.trim());
                }
            }
            awaitSignaling(apiA, signal.url(), "A");
            awaitSignaling(apiB, signal.url(), "B");
            String idB = Api.str(apiB.get("/v1/health").body(), "nodeId");
            String album = apiA.createAlbum("bench webrtc");
            long u0 = System.nanoTime();
            String last = null;
            for (Path f : data.files()) {
                last = apiA.uploadMultipart(album, f, "image/jpeg");
            }
            h.say(String.format(Locale.ROOT, "webrtc-%s: %d files uploaded to A in %.1f s (not timed)", relay ? "relay"
                    : "direct", data.files().size(), (System.nanoTime() - u0) / 1e9));
            int n = data.files().size();
            Harness.awaitIngested(a, n); // as in the replication row
            // A's upload written back first, and cold memory, as in the replication row
            h.settle("webrtc-" + (relay ? "relay" : "direct") + ": Sover");
            long pidA = a.javaPid();
            long pidB = b.javaPid();
            double cpuA0 = Procs.cpuSeconds(pidA);
            double cpuB0 = Procs.cpuSeconds(pidB);
            double turn0 = turn.cpuSeconds();
            long[] udp0 = udp();
            h.say("webrtc-" + (relay ? "relay" : "direct") + ": pairing (timing starts)");
            long t0 = System.nanoTime();
            HttpResponse<String> line = apiA.postJson("/v1/peers/pairing", "{\"role\":\"full\"}");
            Api.check(line, 201, "pairing line");
            Api.check(apiB.postJson("/v1/peers", "{\"payload\":\"" + Api.str(line.body(), "payload") + "\"}"), 201,
                    "pairing on B");
            // first photo, half, all but one, A+B CPU at the first
            double[] marks = {-1, -1, -1, -1};
            Map<String, Double> attemptErrors = new java.util.LinkedHashMap<>();
            int[] polls = {0};
            double seconds = Harness.awaitAlbum(apiB, album, n, t0, (count, at) -> {
                if (count > 0 && marks[0] < 0) {
                    marks[0] = at;
                    marks[3] = Procs.cpuSeconds(pidA) - cpuA0 + Procs.cpuSeconds(pidB) - cpuB0;
                }
                if (count >= n / 2 && marks[1] < 0) {
                    marks[1] = at;
                }
                if (count >= n - 1 && marks[2] < 0) {
                    marks[2] = at;
                }
                if (count != n && polls[0]++ % 10 == 0) { // A's jobs about every second: errors of failed attempts, failures end the run
                    String j = apiA.get("/v1/jobs?peer=" + idB + "&state=pending&limit=20").body();
                    Matcher m = LAST_ERROR.matcher(j);
                    while (m.find()) {
                        if (attemptErrors.size() < 5 && !attemptErrors.containsKey(m.group(1))) {
                            attemptErrors.put(m.group(1), at);
                        }
                    }
                    if (Api.num(j, "failed") > 0) {
                        throw new IllegalStateException("A's jobs for B failed: " + counts(j) + "; " + firstError(apiA, idB));
                    }
                }
            }, () -> "A's jobs " + counts(apiA.get("/v1/jobs?peer=" + idB + "&limit=1").body()) + "; " + firstError(apiA, idB));
            double firstOnB = marks[0];
            double halfOnB = marks[1];
            double allButOneOnB = marks[2];
            double cpuFirst = marks[3];
            double cpuA = Procs.cpuSeconds(pidA) - cpuA0;
            double cpuB = Procs.cpuSeconds(pidB) - cpuB0;
            double cpuTurn = turn.cpuSeconds() - turn0;
            long[] udp1 = udp();
            int status = apiB.getDiscard("/v1/photos/" + last + "/original");
            if (status != 200) {
                throw new IllegalStateException("B answers " + status + " for the last photo's original");
            }
            int retried = verifyJobs(apiA, idB, n, relay ? "relay" : "host");
            // the steady state: the same (warm) nodes send other photos
            Harness.Batch second = h.secondBatch("webrtc-" + (relay ? "relay" : "direct"), a, b, apiA, apiB, n);
            int secondRetried = verifyJobs(apiA, idB, n + h.secondSet().files().size(), relay ? "relay" : "host") - retried;
            List<String> problems = new ArrayList<>();
            attemptErrors.forEach((msg, at) -> problems.add(String.format(Locale.ROOT, "at %.0f s: %s", at, msg)));
            problems.addAll(warnings(apiA, "A"));
            problems.addAll(warnings(apiB, "B"));
            if (retried > 0 || secondRetried > 0 || !problems.isEmpty()) {
                problems.add(keepLogs(h, a, b));
            }
            return new SoverResult(data.bytes() / MB / seconds, seconds, firstOnB, halfOnB, allButOneOnB, cpuFirst, cpuA, cpuB,
                    cpuTurn, retried, problems, udp1[0] - udp0[0], udp1[1] - udp0[1], second, secondRetried);
        }
    }

    /** A shell command through bin/client; SSH may still be starting right after health is UP: a few tries. */
    private static Node.ClientResult shell(Node n, String command) throws Exception {
        Node.ClientResult r = null;
        for (int i = 0; i < 6; i++) {
            r = n.client(command);
            if (r.exitCode() == 0) {
                return r;
            }
            Thread.sleep(2000);
        }
        throw new IllegalStateException("'" + command + "': exit " + r.exitCode() + ": " + r.output().trim());
    }

    /** Keeps a failed run's node logs under bench/target/webrtc-logs (the work dir is deleted after the run). */
    private static String keepLogs(Harness h, Node... nodes) {
        Path to = h.bench.resolve("target/webrtc-logs/" + h.runId + "-" + System.currentTimeMillis() % 100000);
        try {
            for (Node n : nodes) {
                Path dir = Files.createDirectories(to.resolve(n.data.getFileName()));
                if (Files.exists(n.log)) {
                    Files.copy(n.log, dir.resolve("console.out"));
                }
                if (Files.isDirectory(n.data)) {
                    try (java.util.stream.Stream<Path> s = Files.walk(n.data)) {
                        for (Path f : (Iterable<Path>) s.filter(p -> p.getFileName().toString().endsWith(".log")
                                || p.getFileName().toString().startsWith("hs_err"))::iterator) {
                            Files.copy(f, dir.resolve(f.getFileName().toString()),
                                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                        }
                    }
                }
            }
            return "logs in bench/" + h.bench.relativize(to);
        } catch (IOException | RuntimeException e) {
            return "node logs not kept: " + e;
        }
    }

    /** An exception as one line, with where in this harness it came from. */
    static String describe(Throwable e) {
        StringBuilder b = new StringBuilder(e.toString());
        for (StackTraceElement f : e.getStackTrace()) {
            if (f.getClassName().startsWith("org.sover.bench")) {
                b.append(" at ").append(f.getClassName().substring(f.getClassName().lastIndexOf('.') + 1)).append('.')
                        .append(f.getMethodName()).append(':').append(f.getLineNumber());
                break;
            }
        }
        if (e.getCause() != null && e.getCause() != e) {
            b.append(" (cause: ").append(e.getCause()).append(')');
        }
        return b.toString();
    }

    /** Waits until the node's signal client is connected to {@code url} and has TURN credentials. */
    private static void awaitSignaling(Api api, String url, String who) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String body = "";
        Pattern connected = Pattern.compile("\"signaling\"\\s*:\\s*\\{[^}]*\"state\"\\s*:\\s*\"connected\"");
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = api.get("/v1/nodes");
            body = r.body();
            if (r.statusCode() == 200 && connected.matcher(body).find() && body.contains(url)
                    && body.contains("\"username\"")) {
                return;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException(who + " is not connected to the signal server with TURN credentials after 60 s: "
                + body);
    }

    private static final Pattern JOB = Pattern.compile("\"state\"\\s*:\\s*\"([a-z_]+)\"\\s*,\\s*\"attempts\"\\s*:\\s*(\\d+)"
            + ".*?\"transport\"\\s*:\\s*(null|\"[^\"]*\")\\s*,\\s*\"path\"\\s*:\\s*(null|\"[^\"]*\")", Pattern.DOTALL);

    /**
     * Every job of A for B is done, over {@code webrtc}, on {@code path}; returns how many needed
     * more than one attempt. Throws (the run is an error) otherwise.
     */
    private static int verifyJobs(Api apiA, String idB, int n, String path) throws Exception {
        int seen = 0;
        int retried = 0;
        Map<String, Integer> wrong = new HashMap<>();
        String cursor = null;
        for (int page = 0; page < 100; page++) {
            HttpResponse<String> r = apiA.get("/v1/jobs?peer=" + idB + "&limit=500"
                    + (cursor == null ? "" : "&cursor=" + java.net.URLEncoder.encode(cursor, StandardCharsets.UTF_8)));
            Api.check(r, 200, "A's jobs");
            Matcher m = JOB.matcher(r.body());
            while (m.find()) {
                seen++;
                String state = m.group(1);
                String transport = m.group(3).replace("\"", "");
                String p = m.group(4).replace("\"", "");
                if (Integer.parseInt(m.group(2)) > 1) {
                    retried++;
                }
                if (!state.equals("done") || !transport.equals("webrtc") || !p.equals(path)) {
                    wrong.merge(state + "/" + transport + "/" + p, 1, Integer::sum);
                }
            }
            cursor = Api.str(r.body(), "next");
            if (cursor == null) {
                break;
            }
        }
        if (seen != n || !wrong.isEmpty()) {
            throw new IllegalStateException("A's jobs for B: " + seen + " of " + n + " seen; expected done/webrtc/" + path
                    + (wrong.isEmpty() ? "" : ", but found " + wrong));
        }
        return retried;
    }

    private static String counts(String jobsBody) {
        int i = jobsBody.indexOf("\"counts\"");
        return i < 0 ? "?" : jobsBody.substring(i + 9).replace("}}", "}");
    }

    /** The first job error on A for B, for the error message. */
    private static String firstError(Api apiA, String idB) {
        try {
            String body = apiA.get("/v1/jobs?peer=" + idB + "&limit=50").body();
            Matcher m = Pattern.compile("\"lastError\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(body);
            return m.find() ? "a job's last error: " + m.group(1) : "no job error recorded";
        } catch (Exception e) {
            return "jobs not readable: " + e;
        }
    }

    // ---------------------------------------------------------------- raw webrtc-java reference

    record RawResult(double mbps, double seconds, double cpuSend, double cpuReceive, double cpuTurn, String path,
            String openNote, long udpIn, long udpDrops) {
    }

    /**
     * Two {@link RawWebRtcPeer} JVMs: the sender reads the same files in 256 KiB messages, the
     * receiver counts; SDP and candidates go through this process (stdout of one → stdin of the
     * other). MB/s from the sender's first send to the receiver's last byte (both
     * {@code System.nanoTime()}, CLOCK_MONOTONIC, comparable across processes).
     */
    private static RawResult raw(Harness h, boolean relay, CoturnServer turn, Path work) throws Exception {
        DataGen.DataSet data = h.big;
        h.settle("webrtc-" + (relay ? "relay" : "direct") + ": raw");
        Path dir = Files.createTempDirectory(work, relay ? "raw-relay-" : "raw-direct-");
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        Path list = dir.resolve("files.txt");
        Files.write(list, data.files().stream().map(p -> p.toAbsolutePath().toString()).toList());
        long timeout = Math.min(600, 120 + data.bytes() / 5_000_000);
        Path jar = Paths.get(Harness.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> common = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-Djava.awt.headless=true", "-Djava.io.tmpdir=" + tmp, "-cp", jar.toString(),
                RawWebRtcPeer.class.getName(), "--timeout", Long.toString(timeout), "--message", "262144",
                "--high-water", Long.toString(4L << 20)));
        if (relay) {
            String[] cred = turn.credentials("bench-raw", 3600);
            common.addAll(List.of("--policy", "relay", "--ice", turn.url(), "--user", cred[0], "--pass", cred[1]));
        } else {
            common.addAll(List.of("--policy", "all"));
        }
        List<String> send = new ArrayList<>(common);
        send.addAll(List.of("--role", "send", "--files", list.toString()));
        List<String> receive = new ArrayList<>(common);
        receive.addAll(List.of("--role", "receive", "--bytes", Long.toString(data.bytes())));
        double turn0 = turn.cpuSeconds();
        long[] udp0 = udp();
        Peer s = null;
        Peer r = null;
        try {
            s = Peer.start(send, dir.resolve("send.log"));
            r = Peer.start(receive, dir.resolve("receive.log"));
            s.other = r;
            r.other = s;
            s.pump();
            r.pump();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeout + 30);
            for (Peer p : new Peer[] {s, r}) {
                long left = Math.max(1, deadline - System.nanoTime());
                if (!p.process.waitFor(left, TimeUnit.NANOSECONDS)) {
                    throw new IllegalStateException(p.role + " did not exit within " + (timeout + 30) + " s; " + p.tail());
                }
            }
            s.reader.join(5000);
            r.reader.join(5000);
            Map<String, String> rs = s.result;
            Map<String, String> rr = r.result;
            if (rs == null || rr == null || s.process.exitValue() != 0 || r.process.exitValue() != 0) {
                throw new IllegalStateException("sender exit " + s.process.exitValue() + " " + s.tail() + "; receiver exit "
                        + r.process.exitValue() + " " + r.tail());
            }
            long bytes = Long.parseLong(rr.get("bytes"));
            if (bytes != data.bytes() || Long.parseLong(rs.get("bytes")) != data.bytes()) {
                throw new IllegalStateException("sent " + rs.get("bytes") + ", received " + bytes + " of " + data.bytes());
            }
            String expect = relay ? "relay" : "host";
            if (!expect.equals(rs.get("path")) || !expect.equals(rr.get("path"))) {
                throw new IllegalStateException("raw path: sender " + rs.get("path") + ", receiver " + rr.get("path")
                        + ", expected " + expect);
            }
            double seconds = (Long.parseLong(rr.get("last")) - Long.parseLong(rs.get("first"))) / 1e9;
            long[] udp1 = udp();
            return new RawResult(bytes / MB / seconds, seconds, Long.parseLong(rs.get("cpu")) / 1e9,
                    Long.parseLong(rr.get("cpu")) / 1e9, turn.cpuSeconds() - turn0, expect, s.openAt + " / " + r.openAt, udp1[0] - udp0[0], udp1[1] - udp0[1]);
        } finally {
            if (s != null) {
                Procs.killTree(s.process, 5);
            }
            if (r != null) {
                Procs.killTree(r.process, 5);
            }
            Procs.deleteTree(tmp);
        }
    }

    /** One RawWebRtcPeer process: its stdin, a thread reading its stdout, its RESULT. */
    private static final class Peer {
        final String role;
        final Process process;
        final PrintWriter in;
        final Path log;
        final List<String> lines = new CopyOnWriteArrayList<>();
        volatile Peer other;
        volatile Map<String, String> result;
        volatile String openAt = "?";
        Thread reader;

        private Peer(String role, Process process, Path log) {
            this.role = role;
            this.process = process;
            this.log = log;
            OutputStream os = process.getOutputStream();
            this.in = new PrintWriter(new java.io.OutputStreamWriter(os, StandardCharsets.UTF_8), false);
        }

        static Peer start(List<String> cmd, Path log) throws IOException {
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
            String role = cmd.get(cmd.indexOf("--role") + 1);
            return new Peer(role, Procs.start(pb), log);
        }

        /** Reads stdout: signaling lines go to the other peer's stdin, the rest is kept. */
        void pump() {
            reader = new Thread(() -> {
                try (BufferedReader br = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String l;
                    while ((l = br.readLine()) != null) {
                        if (l.startsWith("SDP ") || l.startsWith("CAND ")) {
                            Peer o = other;
                            synchronized (o.in) {
                                o.in.println(l);
                                o.in.flush();
                            }
                            continue;
                        }
                        lines.add(l);
                        if (l.startsWith("RESULT ")) {
                            Map<String, String> m = new ConcurrentHashMap<>();
                            for (String kv : l.substring(7).split(" ")) {
                                int i = kv.indexOf('=');
                                if (i > 0) {
                                    m.put(kv.substring(0, i), kv.substring(i + 1));
                                }
                            }
                            result = m;
                        } else if (l.startsWith("LOG channel open ")) {
                            openAt = l.substring(17).replace(" after start", "");
                        }
                    }
                } catch (IOException e) {
                    lines.add("(stdout: " + e + ")");
                }
            }, "raw-" + role + "-stdout");
            reader.setDaemon(true);
            reader.start();
        }

        String tail() {
            List<String> l = new ArrayList<>(lines);
            try {
                if (Files.exists(log)) {
                    List<String> err = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
                    l.addAll(err.subList(Math.max(0, err.size() - 5), err.size()));
                }
            } catch (IOException e) {
                // leave it out
            }
            l.removeIf(x -> x.contains("attach current thread") || x.contains("Failed to attach thread"));
            return "[" + String.join(" | ", l.subList(Math.max(0, l.size() - 8), l.size())) + "]";
        }
    }

    // ---------------------------------------------------------------- the signal server

    /** The built signal assembly, run in place with its own SIGNAL_DATA on a free loopback port. */
    static final class SignalServer implements AutoCloseable {
        final int port;
        final Path data;
        private Process process;

        private SignalServer(int port, Path data) {
            this.port = port;
            this.data = data;
        }

        static SignalServer start(Path assembly, Path data, CoturnServer turn) throws Exception {
            if (assembly == null || !Files.isExecutable(assembly.resolve("bin/karaf"))) {
                throw new IllegalStateException("no signal assembly at " + assembly);
            }
            SignalServer s = new SignalServer(Procs.freePort(), data);
            ProcessBuilder pb = new ProcessBuilder(assembly.resolve("bin/karaf").toString(), "server");
            pb.environment().remove("EXTRA_JAVA_OPTS");
            pb.environment().put("SIGNAL_DATA", data.toString());
            pb.environment().put("SIGNAL_HTTP_PORT", Integer.toString(s.port));
            pb.environment().put("SIGNAL_HTTP_HOST", "127.0.0.1");
            pb.environment().put("SIGNAL_TURN_SECRET", turn.secret);
            pb.environment().put("SIGNAL_TURN_URLS", turn.url());
            pb.redirectErrorStream(true);
            Path log = data.resolveSibling("signal.out");
            pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            s.process = Procs.start(pb);
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            try {
                while (System.nanoTime() < deadline) {
                    if (!s.process.isAlive()) {
                        throw new IllegalStateException("the signal server exited with " + s.process.exitValue());
                    }
                    try {
                        HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port
                                + "/health")).timeout(Duration.ofSeconds(5)).GET().build(),
                                HttpResponse.BodyHandlers.discarding());
                        if (r.statusCode() == 200) {
                            return s;
                        }
                    } catch (IOException e) {
                        // not listening yet
                    }
                    Thread.sleep(100);
                }
                throw new IllegalStateException("the signal server did not answer /health within 90 s");
            } catch (Exception e) {
                s.close();
                throw e;
            }
        }

        String url() {
            return "ws://127.0.0.1:" + port + "/signal";
        }

        @Override
        public void close() {
            Procs.killTree(process, 30);
            process = null;
        }
    }

    // ---------------------------------------------------------------- helpers

    /**
     * libwebrtc ignores loopback adapters, so in the loopback-only namespace of run.sh a peer
     * connection gathers no host candidate at all (and cannot reach coturn either). Inside that
     * namespace only (never on the host), a veth pair gets {@value #NETNS_HOST}/32: host candidates
     * then carry that address, and the packets between them still go through the kernel's local
     * routing, as loopback traffic does. Returns a note for the log, empty when nothing was done.
     */
    static String ensureHostAddress(Harness h) throws IOException, InterruptedException {
        if (!h.netns.startsWith("yes")) {
            return "host candidates on this machine's own interfaces (not in a network namespace)";
        }
        List<String> up = new ArrayList<>();
        for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (ni.isUp() && !ni.isLoopback()) {
                for (InetAddress a : Collections.list(ni.getInetAddresses())) {
                    if (a instanceof Inet4Address) {
                        up.add(ni.getName() + " " + a.getHostAddress());
                    }
                }
            }
        }
        if (up.contains("sover0 " + NETNS_HOST)) {
            addedVeth = true;
            return "";
        }
        if (!up.isEmpty()) {
            return "host candidates on " + up;
        }
        for (String cmd : new String[] {"ip link add sover0 type veth peer name sover1",
                "ip addr add " + NETNS_HOST + "/32 dev sover0", "ip link set sover0 up", "ip link set sover1 up"}) {
            Process p = Procs.start(new ProcessBuilder(cmd.split(" ")).redirectErrorStream(true));
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                Procs.killTree(p, 1);
                throw new IllegalStateException("'" + cmd + "' failed in the network namespace: " + out.trim());
            }
        }
        addedVeth = true;
        hostSetup = "; netns: veth with " + NETNS_HOST + "/32 for host candidates";
        return "libwebrtc ignores loopback adapters: inside the namespace a veth pair sover0/sover1 got " + NETNS_HOST
                + "/32 so that host candidates exist (their packets stay in the kernel's local routing)";
    }

    /** Deletes the veth pair again (deleting one end deletes both), so that later rows see the namespace as before. */
    private static void removeHostAddress(Harness h) {
        try {
            Process p = Procs.start(new ProcessBuilder("ip", "link", "del", "sover0").redirectErrorStream(true));
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                h.say("webrtc: could not delete the veth pair: " + out.trim());
            }
            Procs.killTree(p, 1);
            addedVeth = false;
        } catch (IOException | RuntimeException e) {
            h.say("webrtc: could not delete the veth pair: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * UDP datagrams received and dropped for a full socket buffer (RcvbufErrors) so far, from
     * /proc/net/snmp: counted per network namespace, so in run.sh's namespace only ours.
     */
    static long[] udp() {
        try {
            List<String> l = Files.readAllLines(Path.of("/proc/net/snmp")).stream().filter(x -> x.startsWith("Udp: "))
                    .toList();
            List<String> names = List.of(l.get(0).substring(5).trim().split(" +"));
            String[] v = l.get(1).substring(5).trim().split(" +");
            return new long[] {Long.parseLong(v[names.indexOf("InDatagrams")]), Long.parseLong(v[names.indexOf("RcvbufErrors")])};
        } catch (IOException | RuntimeException e) {
            return new long[] {0, 0};
        }
    }
}
