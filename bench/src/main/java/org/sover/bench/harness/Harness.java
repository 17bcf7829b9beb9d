package org.sover.bench.harness;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The benchmark harness of issue 6: runs every row N times, each with its reference measured in
 * the same run on the same data, and writes a dated section into RESULTS.md. It only measures
 * and reports; it asserts nothing. Usage (normally through bench/run.sh):
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar org.sover.bench.harness.Harness [--runs N] [--quick]
 *      [--rows upload,replication,webrtc,catchup,boot,jobqueue,signal] [--seed S] [--out FILE]
 *      [--assembly DIR] [--signal DIR] [--karaf DIR] [--bench DIR]
 * </pre>
 */
public final class Harness {
    static final double MB = 1e6;
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")
            .withZone(ZoneOffset.UTC);

    int runs = 3;
    boolean quick;
    /** For investigations (BENCH_KEEP_LOGS set): every run keeps its logs, the replication row logs its timeline. */
    static final boolean KEEP_ALL_LOGS = System.getenv("BENCH_KEEP_LOGS") != null;
    long seed = 6;
    static final List<String> ALL_ROWS = List.of("upload", "replication", "webrtc", "catchup", "boot", "jobqueue", "crypto",
            "signal");
    Set<String> rowsWanted = new LinkedHashSet<>(ALL_ROWS);
    /** Whether run.sh built the product before this run (false with --no-build: an A/B or a re-run of what is there). */
    boolean built = true;
    Path bench = Paths.get("bench").toAbsolutePath();
    Path assembly;
    Path karaf;
    /** The built signal server (signal-distribution/target/assembly). */
    Path signalAssembly;
    Path out;
    Path work;
    Path dataRoot;
    String netns = "no";
    final Map<String, Row> rows = new LinkedHashMap<>();
    final List<String> log = new ArrayList<>();
    final Instant started = Instant.now();
    final String runId = Long.toString(System.currentTimeMillis(), 36);
    DataGen.DataSet big;
    /** The second batches' data: as {@link #big}, another seed; made when first needed ({@link #secondSet()}). */
    DataGen.DataSet second;
    String dataLine = "";

    public static void main(String[] args) throws Exception {
        Harness h = new Harness();
        h.parse(args);
        h.run();
    }

    void parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--quick" -> quick = true;
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--rows" -> rowsWanted = new LinkedHashSet<>(Arrays.asList(args[++i].split(",")));
                case "--out" -> out = Paths.get(args[++i]).toAbsolutePath();
                case "--assembly" -> assembly = Paths.get(args[++i]).toAbsolutePath();
                case "--karaf" -> karaf = Paths.get(args[++i]).toAbsolutePath();
                case "--signal" -> signalAssembly = Paths.get(args[++i]).toAbsolutePath();
                case "--bench" -> bench = Paths.get(args[++i]).toAbsolutePath();
                case "--netns" -> netns = args[++i];
                case "--built" -> built = Boolean.parseBoolean(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (assembly == null) {
            assembly = bench.resolveSibling("assembly").resolve("target/assembly");
        }
        if (signalAssembly == null) {
            signalAssembly = bench.resolveSibling("signal-distribution").resolve("target/assembly");
        }
        if (karaf == null) {
            karaf = bench.resolve("target/karaf/apache-karaf-4.4.8");
        }
        if (out == null) {
            out = quick ? bench.resolve("target/RESULTS-quick.md") : bench.resolve("RESULTS.md");
        }
        // one directory per invocation: two harness runs at once (e.g. rows being developed) never delete each other's nodes
        work = bench.resolve("target/work").resolve(runId);
        dataRoot = bench.resolve("target/data");
    }

    // sizes: full / quick
    int bigCount() {
        return quick ? 10 : 200;
    }

    int smallCount() {
        return quick ? 300 : 10_000;
    }

    long streamBytes() {
        return quick ? 200L << 20 : 2L << 30;
    }

    /** The data of the second batches ({@link #secondBatch}): as many files as {@link #big}, seed + 100. */
    DataGen.DataSet secondSet() throws Exception {
        if (second == null) {
            long t0 = System.nanoTime();
            second = DataGen.ensure(dataRoot, "photos-v2-" + (seed + 100) + "-" + bigCount(), seed + 100, bigCount(), 2L << 20,
                    8L << 20, 2);
            say(String.format(Locale.ROOT, "data of the second batches: %d files, %,d bytes, seed %d, `%s` (ready in %.1f s)",
                    second.files().size(), second.bytes(), seed + 100, bench.relativize(second.dir()),
                    (System.nanoTime() - t0) / 1e9));
        }
        return second;
    }

    int idleSeconds() {
        return quick ? 5 : 30;
    }

    void run() throws Exception {
        say("harness " + runId + ": runs=" + runs + (quick ? " QUICK" : "") + " rows=" + rowsWanted + " out=" + out);
        Procs.deleteTree(work);
        Files.createDirectories(work);
        defineRows();
        long t0 = System.nanoTime();
        big = DataGen.ensure(dataRoot, "photos-v2-" + seed + "-" + bigCount(), seed, bigCount(), 2L << 20, 8L << 20, 2);
        dataLine = String.format(Locale.ROOT, "%d JPEG files (noise, ImageIO quality 0.95, with an Exif APP1: Make, Model, "
                + "DateTimeOriginal), %,d bytes (%.0f MB), 2–8 MiB each, seed %d, `%s`", big.files().size(), big.bytes(),
                big.bytes() / MB, seed, bench.relativize(big.dir()));
        say("data: " + dataLine + String.format(" (ready in %.1f s)", (System.nanoTime() - t0) / 1e9));
        for (String r : rowsWanted) {
            for (int i = 1; i <= runs; i++) {
                say("== " + r + " run " + i + "/" + runs + " (load average " + loadAverage() + ")");
                boolean failed = false;
                try {
                    switch (r) {
                        case "upload" -> upload();
                        case "replication" -> replication();
                        case "catchup" -> catchup();
                        case "boot" -> bootAndMemory();
                        case "jobqueue" -> jobQueue();
                        case "crypto" -> crypto();
                        case "webrtc" -> WebRtcRows.run(this);
                        case "signal" -> SignalLoad.run(this);
                        default -> throw new IllegalArgumentException("unknown row " + r);
                    }
                } catch (Exception e) {
                    e.printStackTrace();
                    String msg = r + " run " + i + " failed: " + e;
                    say(msg);
                    firstRowOf(r).errors.add(msg);
                    failed = true;
                } finally {
                    if (failed || KEEP_ALL_LOGS) {
                        keepLogs(r + "-" + i);
                    }
                    Procs.deleteTree(work);
                    Files.createDirectories(work);
                }
            }
            write();
        }
        write();
        Procs.deleteTree(work);
        say("wrote " + out);
    }

    /**
     * Copies the consoles and logs of a run's processes to bench/target/failed-logs/ before its work is deleted:
     * of a failed run, or of every run with BENCH_KEEP_LOGS set.
     */
    void keepLogs(String what) {
        Path to = bench.resolve("target/failed-logs").resolve(runId + "-" + what);
        try (java.util.stream.Stream<Path> s = Files.walk(work)) {
            for (Path f : (Iterable<Path>) s.filter(p -> Files.isRegularFile(p)
                    && (p.toString().endsWith(".out") || p.toString().endsWith(".log")))::iterator) {
                Path target = to.resolve(work.relativize(f).toString());
                Files.createDirectories(target.getParent());
                Files.copy(f, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            say("kept the logs of the run in " + bench.relativize(to));
        } catch (IOException | RuntimeException e) {
            say("could not keep the logs of the run: " + e);
        }
    }

    /** The --rows name that measures a table row. */
    static String group(String rowKey) {
        return switch (rowKey) {
            case "album" -> "catchup";
            case "idle", "peak" -> "boot";
            case "webrtc-direct", "webrtc-relay", "webrtc-direct-warm", "webrtc-relay-warm" -> "webrtc";
            case "upload-warm" -> "upload";
            case "replication-warm" -> "replication";
            case "signal-clients", "signal-latency" -> "signal";
            default -> rowKey;
        };
    }

    Row firstRowOf(String key) {
        return switch (key) {
            case "upload" -> rows.get("upload");
            case "replication" -> rows.get("replication");
            case "catchup" -> rows.get("catchup");
            case "boot" -> rows.get("boot");
            case "webrtc" -> rows.get("webrtc-direct");
            case "signal" -> rows.get("signal-clients");
            case "crypto" -> rows.get("crypto");
            default -> rows.get("jobqueue");
        };
    }

    void defineRows() {
        rows.put("upload", new Row("upload ~1 GiB through `/v1` (multipart, 3 at once like the web UI, loopback)", "MB/s",
                "min(disk write + fsync per file, JDK AES-256-GCM 1 thread)", "ratio ≥ 0.6", Row.Better.HIGHER,
                (s, r) -> r >= 0.6));
        rows.put("upload-warm", new Row("the same node uploads a second ~1 GiB (other photos) right after: a warm JVM",
                "MB/s", "the same run's reference", "for information", Row.Better.HIGHER, null));
        rows.put("replication", new Row("replicate the same ~1 GiB A→B over HTTP (A's WebRTC off), pairing → B serves all",
                "s", "Syncthing 1.19 A→B, B's start → B idle with all", "ratio ≤ 0.8", Row.Better.LOWER, (s, r) -> r <= 0.8));
        rows.put("replication-warm", new Row("the same nodes replicate a second ~1 GiB (other photos) right after: warm "
                + "JVMs; A's sending switched on → B serves all", "s", null, "for information (Syncthing's time above includes "
                + "its start)", Row.Better.LOWER, null));
        rows.put("webrtc-direct", new Row("replicate the same ~1 GiB A→B over WebRTC, direct (host candidates; A's HTTP "
                + "blob transport stopped)", "MB/s", "raw webrtc-java data channel between two JVMs, same bytes",
                "ratio ≥ 0.7", Row.Better.HIGHER, (s, r) -> r >= 0.7));
        rows.put("webrtc-direct-warm", new Row("direct: the same nodes send a second ~1 GiB (other photos) right after: "
                + "warm JVMs", "MB/s", "the same run's raw reference", "for information", Row.Better.HIGHER, null));
        rows.put("webrtc-relay", new Row("same over WebRTC relayed through coturn (iceTransportPolicy = relay)", "MB/s",
                "raw webrtc-java data channel through the same coturn, same bytes", "ratio ≥ 0.7", Row.Better.HIGHER,
                (s, r) -> r >= 0.7));
        rows.put("webrtc-relay-warm", new Row("relay: the same nodes send a second ~1 GiB (other photos) right after: "
                + "warm JVMs", "MB/s", "the same run's raw reference", "for information", Row.Better.HIGHER, null));
        rows.put("catchup", new Row("catch-up: " + smallCount() + " small photos uploaded while B was down, B's start → "
                + "A's jobs all done and B serves the last", "s", null, "≤ 60 s", Row.Better.LOWER, (s, r) -> s <= 60));
        rows.put("album", new Row("album of " + smallCount() + " photos: first grid page `?limit=100` (median of 50 after 5 "
                + "warm-ups)", "ms", null, "≤ 100 ms", Row.Better.LOWER, (s, r) -> s <= 100));
        rows.put("boot", new Row("boot: start → `/v1/health` UP (fresh data, the Pi options `" + PI_OPTS + "`)", "s",
                "plain Karaf 4.4.8: start → SSH port open and boot features \"Done.\" (fresh copy, same options)", "ratio ≤ 2.5",
                Row.Better.LOWER, (s, r) -> r <= 2.5));
        rows.put("idle", new Row("idle RSS " + idleSeconds() + " s after boot (the Pi options)", "MB",
                "plain Karaf 4.4.8, same options, " + idleSeconds() + " s after ready", "≤ 256 MB", Row.Better.LOWER,
                (s, r) -> s <= 256));
        rows.put("peak", new Row(String.format(Locale.ROOT, "peak RSS (VmHWM) with a %.1f GiB single streamed upload "
                + "(the same node: the Pi options, -Xmx256m)", streamBytes() / (double) (1L << 30)), "MB", null, "≤ 400 MB, no OOM", Row.Better.LOWER,
                (s, r) -> s <= 400));
        rows.put("jobqueue", new Row("job queue in Derby: enqueue + lease + complete (JMH `JobQueueBench`, 1 thread, 1 fork, "
                + "1 × 5 s warm-up + 3 × 5 s)", "jobs/s", null, "≥ 2,000/s", Row.Better.HIGHER, (s, r) -> s >= 2000));
        rows.put("crypto", new Row("crypto: seal one 5 MiB photo blob as an upload does (JMH `CryptoBench`, 1 thread: "
                + "AES-256-GCM per 64 KiB segment + HMAC-SHA256 of the plaintext + SHA-256 of the ciphertext)", "MB/s",
                "JDK AES-256-GCM alone, same bytes, same JMH run", "for information", Row.Better.HIGHER, null));
        rows.put("signal-clients", new Row("signal server (the built signal assembly): WebSocket clients held at once, each "
                + "said hello with a signed presence ticket and renews it", "clients", null, "10,000", Row.Better.HIGHER,
                (s, r) -> s >= 10_000));
        rows.put("signal-latency", new Row("signal server relay latency with all those clients connected, p99 (p50 in the "
                + "notes)", "ms", null, "p99 ≤ 50 ms", Row.Better.LOWER, (s, r) -> s <= 50));
    }

    // ---------------------------------------------------------------- row 2: upload

    void upload() throws Exception {
        Row row = rows.get("upload");
        row.setup = big.files().size() + " files, " + String.format(Locale.ROOT, "%.0f MB", big.bytes() / MB);
        warmCache(big.files());
        warmCache(secondSet().files()); // the second batch's files are read from memory too
        settle("upload: disk reference");
        double disk = diskWrite(big.files());
        double aes = aesEncrypt(big.files());
        double[] atOnce = uploadOnFreshNode("up", UPLOADS_AT_ONCE, true, true);
        double sover = atOnce[0];
        double thumbsAfter = atOnce[1];
        String cpu = String.format(Locale.ROOT, "%.1f s: CPU node %.1f s, harness (the clients) %.1f s", atOnce[2], atOnce[3],
                atOnce[4]);
        // the same files one request after the other, on a fresh node: for the notes
        double sequential = uploadOnFreshNode("up-seq", 1, false, false)[0];
        double ref = Math.min(disk, aes);
        row.sover.add(sover);
        row.ref.add(ref);
        row.notes.add(String.format(Locale.ROOT, "disk %.0f, AES %.0f; %s; one upload at a time: %.0f MB/s; all thumbnails "
                + "made %.1f s after the last answer", disk, aes, cpu, sequential, thumbsAfter));
        say(String.format(Locale.ROOT, "upload: Sover %.1f MB/s (%d at once), %.1f MB/s one at a time; disk+fsync %.0f MB/s, "
                + "AES-GCM %.0f MB/s; thumbnails done %.1f s after the last answer; %s", sover, UPLOADS_AT_ONCE, sequential, disk,
                aes, thumbsAfter, cpu));
        Row warm = rows.get("upload-warm");
        warm.setup = String.format(Locale.ROOT, "%d other files, %.0f MB, into the upload row's node once its thumbnails are made",
                secondSet().files().size(), secondSet().bytes() / MB);
        warm.sover.add(atOnce[5]);
        warm.ref.add(ref);
        warm.notes.add(String.format(Locale.ROOT, "%.1f s: CPU node %.1f s", atOnce[6], atOnce[7]));
        say(String.format(Locale.ROOT, "upload, second batch on the same node: Sover %.1f MB/s (%.1f s: CPU node %.1f s)",
                atOnce[5], atOnce[6], atOnce[7]));
    }

    /**
     * The data set uploaded into a fresh node, {@code atOnce} requests in flight: MB/s, (if asked,
     * else NaN) seconds from the last answer until every thumbnail was made, seconds, the node's
     * and the harness' CPU seconds; with {@code second}, once the thumbnails are made, also MB/s,
     * seconds and the node's CPU seconds of {@link #secondSet()} uploaded the same way (else NaN).
     */
    double[] uploadOnFreshNode(String name, int atOnce, boolean thumbnails, boolean second) throws Exception {
        try (Node node = new Node(assembly, work, name)) {
            node.start();
            node.awaitHealthy(180);
            Api api = node.admin();
            String album = api.createAlbum("bench upload, " + atOnce + " at once");
            settle("upload: Sover, " + atOnce + " at once");
            Timed first = timedUpload("upload (" + atOnce + " at once)", node, api, album, big, atOnce);
            double thumbs = thumbnails || second ? awaitThumbnails(node, big.files().size(), first.endNanos()) : Double.NaN;
            double[] more = {Double.NaN, Double.NaN, Double.NaN};
            if (second) {
                String album2 = api.createAlbum("bench upload, second batch");
                settle("upload: Sover, second batch on the same node");
                Timed w = timedUpload("upload, second batch", node, api, album2, secondSet(), atOnce);
                more = new double[] {w.mbps(), w.seconds(), w.cpu()};
            }
            return new double[] {first.mbps(), thumbnails ? thumbs : Double.NaN, first.seconds(), first.cpu(), first.client(),
                more[0], more[1], more[2]};
        }
    }

    /** What {@link #timedUpload} measured: MB/s, seconds, the node's and the harness' CPU seconds, and when it ended. */
    private record Timed(double mbps, double seconds, double cpu, double client, long endNanos) {
    }

    /**
     * Uploads {@code data} into {@code album}, {@code atOnce} requests in flight, timed; then says
     * which of the node's threads were busiest and checks that the album counts every file.
     */
    private Timed timedUpload(String what, Node node, Api api, String album, DataGen.DataSet data, int atOnce)
            throws Exception {
        long pid = node.javaPid();
        long self = ProcessHandle.current().pid();
        double cpu0 = Procs.cpuSeconds(pid);
        double self0 = Procs.cpuSeconds(self);
        java.util.Map<String, double[]> threads0 = Procs.threadCpu(pid);
        long t0 = System.nanoTime();
        uploadAll(api, album, data.files(), atOnce);
        long t1 = System.nanoTime();
        double cpu = Procs.cpuSeconds(pid) - cpu0;
        double client = Procs.cpuSeconds(self) - self0;
        say(what + ": the node's busiest threads: " + Procs.topThreads(threads0, Procs.threadCpu(pid), 8));
        checkCount(api, album, data.files().size());
        return new Timed(data.bytes() / MB / ((t1 - t0) / 1e9), (t1 - t0) / 1e9, cpu, client, t1);
    }

    /** As many uploads at once as the web UI makes (webconsole upload.js MAX_PARALLEL). */
    static final int UPLOADS_AT_ONCE = 3;

    /** Uploads the files in order, {@code atOnce} requests in flight. */
    static void uploadAll(Api api, String album, List<Path> files, int atOnce) throws Exception {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(atOnce);
        try {
            List<java.util.concurrent.Future<String>> done = new ArrayList<>();
            for (Path f : files) {
                done.add(pool.submit(() -> api.uploadMultipart(album, f, "image/jpeg")));
            }
            for (java.util.concurrent.Future<String> d : done) {
                d.get(300, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    static void checkCount(Api api, String album, int n) throws IOException, InterruptedException {
        String check = api.get("/v1/albums/" + album).body();
        if (Api.num(check, "photoCount") != n) {
            throw new IllegalStateException("album holds " + Api.num(check, "photoCount") + " photos, not " + n);
        }
    }

    /**
     * Seconds from {@code sinceNanos} until the node's blob store holds {@code n} thumbnails (blob
     * files named after their photo's blob with a trailing {@code t}); thumbnails are made in the
     * background after the upload's answer. NaN if not within 300 s.
     */
    static double awaitThumbnails(Node node, int n, long sinceNanos) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
        Path blobs = node.data.resolve("blobs");
        while (System.nanoTime() < deadline) {
            long count;
            try (java.util.stream.Stream<Path> s = Files.walk(blobs)) {
                count = s.filter(p -> !p.toString().contains("/.tmp/") && p.getFileName().toString().endsWith("t")
                        && Files.isRegularFile(p)).count();
            } catch (java.io.UncheckedIOException e) {
                if (!(e.getCause() instanceof java.nio.file.NoSuchFileException)) {
                    throw e;
                }
                count = -1; // a temporary file (a thumbnail being written) went away under the walk: count again
            }
            if (count >= n) {
                return (System.nanoTime() - sinceNanos) / 1e9;
            }
            Thread.sleep(100);
        }
        return Double.NaN;
    }

    /** Waits until the node made the thumbnails of its {@code n} uploads (the last step of ingest). */
    static void awaitIngested(Node node, int n) throws IOException, InterruptedException {
        if (Double.isNaN(awaitThumbnails(node, n, System.nanoTime()))) {
            throw new IllegalStateException("node " + node.data + " did not make the thumbnails of its " + n + " uploads in 300 s");
        }
    }

    static void warmCache(List<Path> files) throws IOException {
        byte[] buf = new byte[1 << 20];
        for (Path f : files) {
            try (InputStream in = Files.newInputStream(f)) {
                while (in.read(buf) >= 0) {
                    // read into the page cache
                }
            }
        }
    }

    /** Copies every file into a temp dir on the same disk, 1 MiB writes, fsync per file (like dd conv=fsync). */
    double diskWrite(List<Path> files) throws IOException {
        Path dir = Files.createTempDirectory(work, "disk-");
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        long bytes = 0;
        long t0 = System.nanoTime();
        try {
            for (Path f : files) {
                try (FileChannel in = FileChannel.open(f);
                        FileChannel outCh = FileChannel.open(dir.resolve(f.getFileName()), StandardOpenOption.CREATE_NEW,
                                StandardOpenOption.WRITE)) {
                    while (in.read(buf) >= 0) {
                        buf.flip();
                        while (buf.hasRemaining()) {
                            bytes += outCh.write(buf);
                        }
                        buf.clear();
                    }
                    outCh.force(true);
                }
            }
            return bytes / MB / ((System.nanoTime() - t0) / 1e9);
        } finally {
            Procs.deleteTree(dir);
        }
    }

    /**
     * JDK AES-256-GCM, one thread, a fresh IV per file, over the same bytes in 16 KiB updates
     * (as a stream is encrypted), after a 512 MiB warm-up. The update size matters on JDK 17: with
     * 1 MiB updates the GCM loop is called too rarely for C2 to compile it with its AES/GHASH
     * intrinsic, and the figure drops to about a fifth.
     */
    static double aesEncrypt(List<Path> files) throws Exception {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        SecretKeySpec k = new SecretKeySpec(key, "AES");
        int chunk = 16 * 1024;
        byte[] in = new byte[chunk];
        byte[] outBuf = new byte[chunk + 64];
        for (int round = 0; round < 8; round++) {
            Cipher warm = Cipher.getInstance("AES/GCM/NoPadding");
            warm.init(Cipher.ENCRYPT_MODE, k, new GCMParameterSpec(128, new byte[] {(byte) round, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
            for (int i = 0; i < (64 << 20) / chunk; i++) {
                warm.update(in, 0, chunk, outBuf, 0);
            }
            warm.doFinal(outBuf, 0);
        }
        long bytes = 0;
        long t0 = System.nanoTime();
        long counter = 1;
        for (Path f : files) {
            byte[] iv = ByteBuffer.allocate(12).putLong(counter++).array();
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, k, new GCMParameterSpec(128, iv));
            try (InputStream s = Files.newInputStream(f)) {
                int n;
                while ((n = s.readNBytes(in, 0, chunk)) > 0) {
                    c.update(in, 0, n, outBuf, 0);
                    bytes += n;
                }
            }
            c.doFinal(outBuf, 0);
        }
        return bytes / MB / ((System.nanoTime() - t0) / 1e9);
    }

    // ---------------------------------------------------------------- row 3: replication

    void replication() throws Exception {
        Row row = rows.get("replication");
        row.setup = big.files().size() + " files, " + String.format(Locale.ROOT, "%.0f MB", big.bytes() / MB);
        warmCache(big.files());
        double sover;
        double cpuA;
        double cpuB;
        try (Node a = new Node(assembly, work, "rep-a"); Node b = new Node(assembly, work, "rep-b")) {
            a.noWebrtc();
            Node.startHealthy(a, b);
            Api apiA = a.admin();
            Api apiB = b.admin();
            String album = apiA.createAlbum("bench replication");
            String last = null;
            for (Path f : big.files()) {
                last = apiA.uploadMultipart(album, f, "image/jpeg");
            }
            int n = big.files().size();
            // A has finished ingesting (its background thumbnails are made), as Syncthing's A has
            // finished its scan; otherwise the timed phase would share the CPU with upload work.
            awaitIngested(a, n);
            // A's upload (1 GB) is still being written back: B's writes would queue behind it, and
            // Syncthing's B (below) starts from a quiet disk; and both start on cold memory
            settle("replication: Sover");
            if (KEEP_ALL_LOGS) { // to line the nodes' logs up with the timing
                say("replication: pairing (timing starts) at " + Instant.now());
            }
            long pidA = a.javaPid();
            long pidB = b.javaPid();
            double cpuA0 = Procs.cpuSeconds(pidA);
            double cpuB0 = Procs.cpuSeconds(pidB);
            long t0 = System.nanoTime();
            HttpResponse<String> line = apiA.postJson("/v1/peers/pairing", "{\"role\":\"full\"}");
            Api.check(line, 201, "pairing line");
            HttpResponse<String> paired = apiB.postJson("/v1/peers",
                    "{\"payload\":\"" + Api.str(line.body(), "payload") + "\"}");
            Api.check(paired, 201, "pairing on B");
            long deadline = t0 + TimeUnit.SECONDS.toNanos(900);
            double firstOnB = -1;
            double halfOnB = -1;
            double jobsDoneOnA = -1;
            int polls = 0;
            StringBuilder timeline = new StringBuilder();
            long lastCount = -2;
            while (true) {
                HttpResponse<String> r = apiB.get("/v1/albums/" + album);
                long count = r.statusCode() == 200 ? Api.num(r.body(), "photoCount") : -1;
                double now = (System.nanoTime() - t0) / 1e9;
                if (count != lastCount) {
                    timeline.append(String.format(Locale.ROOT, " %.2f:%d", now, count));
                    lastCount = count;
                }
                if (count > 0 && firstOnB < 0) {
                    firstOnB = now;
                }
                if (count >= n / 2 && halfOnB < 0) {
                    halfOnB = now;
                }
                if (jobsDoneOnA < 0 && polls++ % 5 == 0) {
                    String j = apiA.get("/v1/jobs?limit=1").body();
                    if (Api.num(j, "done") == n) {
                        jobsDoneOnA = (System.nanoTime() - t0) / 1e9;
                    }
                }
                if (count == n) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("B lists " + r.body() + " after 900 s");
                }
                Thread.sleep(100);
            }
            sover = (System.nanoTime() - t0) / 1e9;
            cpuA = Procs.cpuSeconds(pidA) - cpuA0;
            cpuB = Procs.cpuSeconds(pidB) - cpuB0;
            if (KEEP_ALL_LOGS) {
                say("replication: seconds:photos on B" + timeline);
            }
            int status = apiB.getDiscard("/v1/photos/" + last + "/original");
            if (status != 200) {
                throw new IllegalStateException("B answers " + status + " for the last photo's original");
            }
            String jobs = apiA.get("/v1/jobs?limit=1").body();
            say("replication: A's jobs after: " + jobs.replaceAll(".*\"counts\"", "counts"));
            rows.get("replication").notes.add(String.format(Locale.ROOT,
                    "first photo on B %.1f s, half %.1f s, A's jobs all done %.1f s (polled every ~0.5 s); CPU A %.1f s + B %.1f s",
                    firstOnB, halfOnB, jobsDoneOnA, cpuA, cpuB));
            Batch w = secondBatch("replication", a, b, apiA, apiB, n);
            Row warm = rows.get("replication-warm");
            warm.setup = String.format(Locale.ROOT, "%d other files, %.0f MB", secondSet().files().size(),
                    secondSet().bytes() / MB);
            warm.sover.add(w.seconds());
            warm.notes.add(String.format(Locale.ROOT, "first photo on B %.1f s; CPU A %.1f s + B %.1f s", w.firstOnB(), w.cpuA(),
                    w.cpuB()));
            say(String.format(Locale.ROOT, "replication, second batch on the same nodes: %.2f s (first photo on B %.2f s; "
                    + "CPU A %.1f s, B %.1f s)", w.seconds(), w.firstOnB(), w.cpuA(), w.cpuB()));
        }
        double ref = syncthing(big);
        row.sover.add(sover);
        row.ref.add(ref);
        say(String.format(Locale.ROOT, "replication: Sover %.2f s, Syncthing %.2f s", sover, ref));
    }

    /** Called on every poll of {@link #awaitAlbum}: the count B's album shows (-1 before B knows it), seconds since t0. */
    interface Poll {
        void seen(long count, double seconds) throws Exception;
    }

    /**
     * Polls B's album every 100 ms until it counts {@code n} photos (B lists a photo once its bytes
     * are there) and returns the seconds since {@code t0}. Fails after 900 s, or after 180 s in
     * which the count did not move, with {@code situation} (what A's jobs say) in the message.
     */
    static double awaitAlbum(Api apiB, String album, int n, long t0, Poll each,
            java.util.concurrent.Callable<String> situation) throws Exception {
        long lastCount = -1;
        long lastProgress = t0;
        while (true) {
            HttpResponse<String> r = apiB.get("/v1/albums/" + album);
            long count = r.statusCode() == 200 ? Api.num(r.body(), "photoCount") : -1;
            long now = System.nanoTime();
            each.seen(count, (now - t0) / 1e9);
            if (count == n) {
                return (System.nanoTime() - t0) / 1e9;
            }
            if (count != lastCount) {
                lastCount = count;
                lastProgress = now;
            }
            if (now - t0 > TimeUnit.SECONDS.toNanos(900) || now - lastProgress > TimeUnit.SECONDS.toNanos(180)) {
                throw new IllegalStateException("B lists " + count + " of " + n + " photos after " + (now - t0) / 1_000_000_000
                        + " s; " + situation.call());
            }
            Thread.sleep(100);
        }
    }

    /** What {@link #secondBatch} measured. */
    record Batch(double seconds, double mbps, double firstOnB, double cpuA, double cpuB) {
    }

    /**
     * The steady state of a replication row: after its timed first batch, A (paired with B, both
     * JVMs warm) sends {@link #secondSet()}. A's sending is paused with the dashboard's switch
     * ({@code PUT /v1/node/switches}) while the set is uploaded to A and ingested; timing starts
     * when the switch is turned back on and ends when B's album counts all its photos (B lists a
     * photo once its bytes are there) and B serves the last one's original.
     *
     * @param before photos A holds already (its thumbnails are counted)
     */
    Batch secondBatch(String label, Node a, Node b, Api apiA, Api apiB, int before) throws Exception {
        DataGen.DataSet data = secondSet();
        Api.check(apiA.putJson("/v1/node/switches", "{\"pauseOutgoing\":true}"), 200, "pausing A's sending");
        String album = apiA.createAlbum("bench, second batch");
        String last = null;
        for (Path f : data.files()) {
            last = apiA.uploadMultipart(album, f, "image/jpeg");
        }
        int n = data.files().size();
        awaitIngested(a, before + n);
        settle(label + ": second batch on the same nodes");
        long pidA = a.javaPid();
        long pidB = b.javaPid();
        double cpuA0 = Procs.cpuSeconds(pidA);
        double cpuB0 = Procs.cpuSeconds(pidB);
        say(label + ": A's sending switched on again (timing starts)");
        long t0 = System.nanoTime();
        Api.check(apiA.putJson("/v1/node/switches", "{\"pauseOutgoing\":false}"), 200, "switching A's sending on");
        double[] firstOnB = {-1};
        double seconds = awaitAlbum(apiB, album, n, t0, (count, at) -> {
            if (count > 0 && firstOnB[0] < 0) {
                firstOnB[0] = at;
            }
        }, () -> "second batch: A's jobs " + apiA.get("/v1/jobs?limit=1").body().replaceAll(".*\"counts\"", "counts"));
        double cpuA = Procs.cpuSeconds(pidA) - cpuA0;
        double cpuB = Procs.cpuSeconds(pidB) - cpuB0;
        int status = apiB.getDiscard("/v1/photos/" + last + "/original");
        if (status != 200) {
            throw new IllegalStateException("second batch: B answers " + status + " for the last photo's original");
        }
        return new Batch(seconds, data.bytes() / MB / seconds, firstOnB[0], cpuA, cpuB);
    }

    /** Syncthing A (send-only, holding hard links of the files) → B (receive-only, empty): B's start → B complete. */
    double syncthing(DataGen.DataSet data) throws Exception {
        Path folderA = work.resolve("st-folder-a");
        Path folderB = work.resolve("st-folder-b");
        Files.createDirectories(folderA.resolve(".stfolder"));
        Files.createDirectories(folderB.resolve(".stfolder"));
        for (Path f : data.files()) {
            Files.createLink(folderA.resolve(f.getFileName()), f);
        }
        try (Syncthing a = new Syncthing(work.resolve("st-a")); Syncthing b = new Syncthing(work.resolve("st-b"))) {
            a.generate();
            b.generate();
            a.configure(b, folderA, "sendonly");
            b.configure(a, folderB, "receiveonly");
            a.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
            while (!a.complete(data.files().size(), data.bytes())) {
                if (!a.alive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("Syncthing A did not finish its scan; see " + a.log + ": "
                            + a.folderStatus());
                }
                Thread.sleep(100);
            }
            settle("replication: Syncthing");
            double cpuA0 = a.cpuSeconds();
            b.start();
            deadline = b.startedNanos + TimeUnit.SECONDS.toNanos(900);
            while (!b.complete(data.files().size(), data.bytes())) {
                if (!b.alive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("Syncthing B not complete; see " + b.log + ": " + b.folderStatus());
                }
                Thread.sleep(100);
            }
            double s = (System.nanoTime() - b.startedNanos) / 1e9;
            double cpuA = a.cpuSeconds() - cpuA0;
            double cpuB = b.cpuSeconds(); // B's whole life is the timed phase
            rows.get("replication").notes.add(String.format(Locale.ROOT, "Syncthing CPU A %.1f s + B %.1f s", cpuA, cpuB));
            long n = 0;
            long bytes = 0;
            for (Path f : data.files()) {
                Path g = folderB.resolve(f.getFileName());
                if (Files.exists(g) && Files.size(g) == Files.size(f)) {
                    n++;
                    bytes += Files.size(g);
                }
            }
            if (n != data.files().size() || bytes != data.bytes()) {
                throw new IllegalStateException("Syncthing B holds " + n + " files, " + bytes + " bytes");
            }
            return s;
        }
    }

    // ---------------------------------------------------------------- rows 4 and 7: catch-up, album page

    void catchup() throws Exception {
        Row row = rows.get("catchup");
        Row album = rows.get("album");
        DataGen.DataSet small = DataGen.ensure(dataRoot, "small-v2-" + seed + "-" + smallCount(), seed + 1, smallCount(),
                20_000, 50_000, 2);
        row.setup = String.format(Locale.ROOT, "%d files, %.0f MB, 20–50 kB each", small.files().size(), small.bytes() / MB);
        album.setup = row.setup;
        warmCache(small.files());
        try (Node a = new Node(assembly, work, "cu-a"); Node b = new Node(assembly, work, "cu-b")) {
            a.noWebrtc();
            Node.startHealthy(a, b);
            Api apiA = a.admin();
            Api apiB = b.admin();
            HttpResponse<String> line = apiA.postJson("/v1/peers/pairing", "{\"role\":\"full\"}");
            Api.check(line, 201, "pairing line");
            Api.check(apiB.postJson("/v1/peers", "{\"payload\":\"" + Api.str(line.body(), "payload") + "\"}"), 201,
                    "pairing on B");
            String albumId = apiA.createAlbum("bench catch-up");
            // B has the album before it goes down
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (apiB.get("/v1/albums/" + albumId).statusCode() != 200) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("album did not reach B");
                }
                Thread.sleep(100);
            }
            b.stop();
            // upload on A, 4 threads
            long t0 = System.nanoTime();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            AtomicInteger next = new AtomicInteger();
            List<Future<String>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                results.add(pool.submit(() -> {
                    Api api = a.admin();
                    String lastId = null;
                    int i;
                    while ((i = next.getAndIncrement()) < small.files().size()) {
                        lastId = api.uploadMultipart(albumId, small.files().get(i), "image/jpeg");
                    }
                    return lastId;
                }));
            }
            List<String> lastIds = new ArrayList<>();
            try {
                for (Future<String> f : results) {
                    lastIds.add(f.get(3600, TimeUnit.SECONDS));
                }
            } finally {
                pool.shutdownNow();
            }
            double upSeconds = (System.nanoTime() - t0) / 1e9;
            int n = small.files().size();
            // the album page on A (row 7), while B is down and A's queue is idle apart from retries
            List<Double> ms = new ArrayList<>();
            for (int i = 0; i < 55; i++) {
                long s0 = System.nanoTime();
                int st = apiA.getDiscard("/v1/albums/" + albumId + "/photos?limit=100");
                if (st != 200) {
                    throw new IllegalStateException("album page: " + st);
                }
                if (i >= 5) {
                    ms.add((System.nanoTime() - s0) / 1e6);
                }
            }
            album.sover.add(Row.median(ms));
            // B comes back
            settle("catch-up");
            b.start();
            deadline = b.startedNanos + TimeUnit.SECONDS.toNanos(1200);
            String jobs = "";
            while (true) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("catch-up not finished after 1200 s: " + jobs);
                }
                // every second: the job counts over 10,000+ jobs cost A real CPU (at 250 ms, 15 % of A's
                // JFR samples during catch-up were this poll)
                Thread.sleep(1000);
                try {
                    jobs = apiA.get("/v1/jobs?limit=1").body();
                    if (Api.num(jobs, "pending") != 0 || Api.num(jobs, "in_flight") != 0 || Api.num(jobs, "failed") != 0) {
                        continue;
                    }
                    if (apiB.get("/v1/session").statusCode() != 200) {
                        apiB = b.admin();
                    }
                    boolean all = true;
                    for (String id : lastIds) {
                        all &= id == null || apiB.getDiscard("/v1/photos/" + id) == 200;
                    }
                    if (all && Api.num(apiB.get("/v1/albums/" + albumId).body(), "photoCount") == n) {
                        break;
                    }
                } catch (IOException e) {
                    // B not up yet
                }
            }
            double s = (System.nanoTime() - b.startedNanos) / 1e9;
            row.sover.add(s);
            row.notes.add(String.format(Locale.ROOT, "uploads on A at %.0f photos/s", n / upSeconds));
            say(String.format(Locale.ROOT, "catch-up: %.1f s (uploads %.0f/s); album page %.1f ms", s, n / upSeconds,
                    Row.median(ms)));
        }
    }

    // ---------------------------------------------------------------- rows 5 and 6: boot, memory

    /**
     * The JVM options docs/RUNBOOK-family.md gives a 1 GB Raspberry Pi: the serial collector (what
     * the JVM picks by itself below 2 GB or 2 cores), a heap that starts small and a young
     * generation of at most 24 MB, so the idle heap is not kept committed and touched, an old
     * generation each full collection sizes to what is live plus 10-20 % at once, and the native
     * heap trimmed every 5 s, so what the JIT compilers freed goes back to the system.
     */
    static final String PI_OPTS = "-Xms32m -Xmx256m -XX:+UseSerialGC -XX:MaxNewSize=24m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=20 -XX:-ShrinkHeapInSteps -XX:TrimNativeHeapInterval=5000";

    void bootAndMemory() throws Exception {
        Row boot = rows.get("boot");
        Row idle = rows.get("idle");
        Row peak = rows.get("peak");
        double[] karaf = plainKarafBootAndIdle(PI_OPTS);
        double[] karafDefault = plainKarafBootAndIdle("-Xmx256m");
        double defaultRss;
        try (Node node = new Node(assembly, work, "mem-g1")) {
            node.javaOpts("-Xmx256m");
            node.start();
            node.awaitHealthy(180);
            Thread.sleep(idleSeconds() * 1000L);
            defaultRss = Procs.statusKb(node.javaPid(), "VmRSS") * 1024 / MB;
        }
        idle.notes.add(String.format(Locale.ROOT, "with only -Xmx256m (G1): Sover %.0f MB, plain Karaf %.0f MB", defaultRss,
                karafDefault[1]));
        try (Node node = new Node(assembly, work, "mem")) {
            node.javaOpts(PI_OPTS);
            node.start();
            double s = node.awaitHealthy(180);
            long pid = node.javaPid();
            Thread.sleep(idleSeconds() * 1000L);
            double rss = Procs.statusKb(pid, "VmRSS") * 1024 / MB;
            boot.sover.add(s);
            boot.ref.add(karaf[0]);
            idle.sover.add(rss);
            idle.ref.add(karaf[1]);
            // a single streamed upload, VmRSS polled every 100 ms
            Api api = node.admin();
            String album = api.createAlbum("bench memory");
            AtomicLong maxRss = new AtomicLong();
            Thread poller = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    maxRss.accumulateAndGet(Procs.statusKb(pid, "VmRSS"), Math::max);
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            poller.setDaemon(true);
            poller.start();
            long size = streamBytes();
            long t0 = System.nanoTime();
            HttpResponse<String> r;
            try {
                r = api.uploadStream(album, "big.mp4", "video/mp4", size, () -> generated(size));
            } finally {
                poller.interrupt();
                poller.join();
            }
            double upS = (System.nanoTime() - t0) / 1e9;
            double hwm = Procs.statusKb(pid, "VmHWM") * 1024 / MB;
            boolean oom = node.sawOutOfMemory() || !node.alive();
            peak.sover.add(hwm);
            peak.notes.add(String.format(Locale.ROOT, "HTTP %d, max polled VmRSS %.0f MB, %.0f MB/s%s", r.statusCode(),
                    maxRss.get() * 1024 / MB, size / MB / upS, oom ? ", OutOfMemoryError or node died" : ", no OOM"));
            if (r.statusCode() != 201) {
                peak.errors.add("streamed upload answered " + r.statusCode() + " " + r.body());
            }
            say(String.format(Locale.ROOT, "boot %.2f s (Karaf %.2f s); idle RSS %.0f MB (Karaf %.0f MB; with only -Xmx256m: "
                    + "%.0f MB, Karaf %.0f MB); upload %d, VmHWM %.0f MB, max VmRSS %.0f MB, oom=%s", s, karaf[0], rss,
                    karaf[1], defaultRss, karafDefault[1], r.statusCode(), hwm, maxRss.get() * 1024 / MB, oom));
        }
    }

    /** Plain Karaf with these JVM options: seconds to ready, and MB of RSS after the idle wait. */
    double[] plainKarafBootAndIdle(String opts) throws Exception {
        try (PlainKaraf k = new PlainKaraf(karaf, work.resolve("karaf"))) {
            k.start(opts);
            double ready = k.awaitReady(180);
            int bundles = k.clientBundleCount();
            say(String.format(Locale.ROOT, "plain Karaf (%s) ready in %.2f s; bin/client bundle:list shows %d active", opts,
                    ready, bundles));
            Thread.sleep(idleSeconds() * 1000L);
            return new double[] {ready, Procs.statusKb(k.javaPid(), "VmRSS") * 1024 / MB};
        }
    }

    /** A video-like body of {@code size} bytes: an MP4 header, then blocks of noise that differ by a counter. */
    static InputStream generated(long size) {
        byte[] block = new byte[1 << 20];
        new java.util.Random(42).nextBytes(block);
        byte[] head = {0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm', 0, 0, 2, 0};
        System.arraycopy(head, 0, block, 0, head.length);
        return new InputStream() {
            long pos;

            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (pos >= size) {
                    return -1;
                }
                int inBlock = (int) (pos % block.length);
                if (inBlock == 0 && pos > 0) {
                    long k = pos / block.length;
                    for (int i = 0; i < 8; i++) {
                        block[16 + i] = (byte) (k >>> (8 * i));
                    }
                }
                int n = (int) Math.min(Math.min(len, block.length - inBlock), size - pos);
                System.arraycopy(block, inBlock, b, off, n);
                pos += n;
                return n;
            }
        };
    }

    // ---------------------------------------------------------------- JMH row

    void jobQueue() throws Exception {
        Row row = rows.get("jobqueue");
        double score = jmh("JobQueueBench", "5s", "5s").get("enqueueLeaseComplete");
        row.sover.add(score);
        say(String.format(Locale.ROOT, "jobqueue: %.0f jobs/s", score));
    }

    void crypto() throws Exception {
        Row row = rows.get("crypto");
        row.setup = "the same random 5 MiB in memory; writes of 256 KiB as an upload makes them; the sink discards";
        Map<String, Double> opsPerSecond = jmh("CryptoBench", "3s", "2s");
        double blobMb = org.sover.bench.CryptoBench.BLOB_BYTES / MB;
        double seal = opsPerSecond.get("seal") * blobMb;
        double open = opsPerSecond.get("open") * blobMb;
        double aes = opsPerSecond.get("jdkAesGcm") * blobMb;
        double sha = opsPerSecond.get("jdkSha256") * blobMb;
        row.sover.add(seal);
        row.ref.add(aes);
        String line = String.format(Locale.ROOT, "seal %.0f MB/s, open %.0f MB/s; JDK AES-256-GCM %.0f MB/s, SHA-256 %.0f MB/s",
                seal, open, aes, sha);
        row.notes.add(line);
        say("crypto: " + line);
    }

    /**
     * One JMH benchmark class from the benchmarks jar in a fork of its own: 1 warm-up iteration and 3 measured, of the
     * given lengths. Returns each benchmark method's score by its simple name.
     */
    Map<String, Double> jmh(String benchmark, String warmup, String iteration) throws Exception {
        Path jar = Paths.get(Harness.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path csv = work.resolve("jmh.csv");
        ProcessBuilder pb = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                jar.toString(), benchmark, "-f", "1", "-wi", "1", "-w", warmup, "-i", "3", "-r", iteration, "-rf", "csv",
                "-rff", csv.toString());
        pb.directory(work.toFile());
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(work.resolveSibling("jmh.out").toFile()));
        Process p = Procs.start(pb);
        try {
            if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("JMH failed; see " + work.resolveSibling("jmh.out"));
            }
        } finally {
            Procs.killTree(p, 5);
        }
        Map<String, Double> scores = new LinkedHashMap<>();
        List<String> lines = Files.readAllLines(csv);
        for (String line : lines.subList(1, lines.size())) {
            String[] cols = line.split(",");
            String name = cols[0].replace("\"", "");
            scores.put(name.substring(name.lastIndexOf('.') + 1), Double.parseDouble(cols[4].replace("\"", "")));
        }
        return scores;
    }

    // ---------------------------------------------------------------- report

    /** {@link Procs#settle()} before a timed phase, logged. */
    void settle(String phase) throws IOException, InterruptedException {
        double waited = Procs.settle();
        say(String.format(Locale.ROOT, "%s: disks synced, %.1f s waited for freed memory to settle", phase, waited));
    }

    void say(String s) {
        String line = Instant.now().toString().substring(11, 19) + " " + s;
        System.out.println(line);
        log.add(line);
    }

    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "?";
        }
    }

    String machine() {
        StringBuilder m = new StringBuilder();
        m.append(Runtime.getRuntime().availableProcessors()).append(" cores");
        try {
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (l.startsWith("MemTotal:")) {
                    long kb = Long.parseLong(l.replaceAll("[^0-9]", ""));
                    m.append(String.format(Locale.ROOT, ", %.1f GiB", kb / 1024.0 / 1024.0));
                }
            }
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) {
                    m.append(" (").append(l.substring(l.indexOf(':') + 1).trim()).append(')');
                    break;
                }
            }
            for (String l : Files.readAllLines(Path.of("/etc/os-release"))) {
                if (l.startsWith("PRETTY_NAME=")) {
                    m.append(", ").append(l.substring(12).replace("\"", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            // leave it out
        }
        m.append(", ").append(System.getProperty("java.vm.name")).append(' ').append(System.getProperty("java.version"));
        m.append(", disk: ").append(disk());
        try {
            m.append(", load average at start ").append(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException e) {
            // leave it out
        }
        return m.toString();
    }

    String disk() {
        try {
            Process p = new ProcessBuilder("df", "-T", "-h", bench.toString()).redirectErrorStream(true).start();
            List<String> l = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
            p.waitFor(10, TimeUnit.SECONDS);
            String[] f = l.get(l.size() - 1).trim().split("\\s+");
            String dev = f[0].replace("/dev/", "").replaceAll("[0-9]+$", "");
            String rot = "";
            Path r = Path.of("/sys/block/" + dev + "/queue/rotational");
            if (Files.exists(r)) {
                rot = Files.readString(r).trim().equals("1") ? ", rotational" : ", non-rotational";
            }
            return f[0] + " " + f[1] + " " + f[2] + rot + " (work and data under bench/target)";
        } catch (Exception e) {
            return "unknown";
        }
    }

    synchronized void write() throws IOException {
        StringBuilder s = new StringBuilder();
        String begin = "<!-- harness " + runId + " -->";
        String end = "<!-- /harness " + runId + " -->";
        s.append(begin).append('\n');
        s.append("## ").append(STAMP.format(started)).append(" — harness (`bench/run.sh").append(built ? "" : " --no-build")
                .append(" --runs ").append(runs).append(quick ? " --quick" : "")
                .append(new ArrayList<>(rowsWanted).equals(ALL_ROWS) ? "" : " --rows " + String.join(",", rowsWanted))
                .append("`)").append(quick ? " — QUICK MODE: small data, harness check only, "
                        + "not the real rows" : "").append("\n\n");
        s.append("Machine: ").append(machine()).append(".  \n");
        s.append("Data: ").append(dataLine).append(".  \n");
        s.append("Syncthing and the nodes in a loopback-only network namespace: ").append(netns).append(".  \n");
        s.append(String.format(Locale.ROOT, "Wall time so far: %.1f min. Figures: median of the runs, (min–max); ratio = "
                + "Sover ÷ reference per run, then median (min–max). MB = 10^6 bytes.%n%n",
                (System.nanoTime() - startNanos) / 60e9));
        s.append("| row | data | Sover | reference (same run) | ratio | goal | verdict | runs | notes |\n");
        s.append("|---|---|---|---|---|---|---|---|---|\n");
        for (Map.Entry<String, Row> e : rows.entrySet()) {
            if (!rowsWanted.contains(group(e.getKey()))) {
                continue; // not asked for in this invocation
            }
            Row r = e.getValue();
            s.append("| ").append(r.title).append(" | ").append(r.setup).append(" | ").append(Row.cell(r.sover, r.unit))
                    .append(" | ").append(r.hasRef() ? r.refTitle + ": " + Row.cell(r.ref, r.unit) : "—").append(" | ")
                    .append(r.hasRef() ? Row.cell(r.ratios(), "") : "—").append(" | ").append(r.goal).append(" | ")
                    .append(r.verdict()).append(" | ").append(r.sover.size()).append(" | ");
            List<String> notes = new ArrayList<>(r.notes);
            if (!r.sover.isEmpty()) {
                notes.add(0, "per run: " + r.sover.stream().map(Row::fmt).toList()
                        + (r.hasRef() ? " vs " + r.ref.stream().map(Row::fmt).toList() : ""));
            }
            r.errors.forEach(x -> notes.add("ERROR: " + x.replace('|', '/').replace('\n', ' ')));
            s.append(String.join("; ", notes)).append(" |\n");
        }
        s.append("\n<details><summary>harness log</summary>\n\n```\n");
        log.forEach(l -> s.append(l).append('\n'));
        s.append("```\n</details>\n");
        s.append(end).append('\n');

        String text = Files.exists(out) ? Files.readString(out) : "# Benchmark results\n";
        int b = text.indexOf(begin);
        if (b >= 0) {
            int e = text.indexOf(end, b) + end.length() + 1;
            text = text.substring(0, b) + s + text.substring(Math.min(e, text.length()));
        } else {
            int at = text.indexOf("\n## ");
            int marker = text.indexOf("\n<!-- harness ");
            if (marker >= 0 && (at < 0 || marker < at)) {
                at = marker;
            }
            if (at < 0) {
                text = text + "\n" + s;
            } else {
                text = text.substring(0, at + 1) + s + "\n" + text.substring(at + 1);
            }
        }
        Files.writeString(out, text);
    }

    final long startNanos = System.nanoTime();
}
