package org.sover.bench.harness;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The operator's signal server from the built signal-distribution: a fresh copy of the
 * assembly (without its data/) under the harness's work dir, started with {@code bin/karaf
 * server} on 127.0.0.1 and a free port, as an operator runs it and as itests' SignalProcess
 * does. Its default limits and heap (bin/setenv: -Xmx192m unless EXTRA_JAVA_OPTS has an -Xmx).
 */
final class SignalServerProcess implements AutoCloseable {
    final Path home;
    final Path log;
    final int port;
    /** The JVM's GC log (-Xlog:gc, UTC timestamps): which pauses fell into which phase. */
    final Path gcLog;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    private Process process;
    private long startedNanos;

    SignalServerProcess(Path assembly, Path work, String name) throws IOException {
        if (!Files.isExecutable(assembly.resolve("bin/karaf"))) {
            throw new IllegalStateException("no signal distribution at " + assembly
                    + " (build it: mvn -pl signal-distribution -am install)");
        }
        this.home = work.resolve(name);
        this.log = work.resolve(name + ".out");
        this.gcLog = work.resolve(name + "-gc.log");
        Procs.deleteTree(home);
        Files.deleteIfExists(log);
        Files.deleteIfExists(gcLog);
        try (Stream<Path> s = Files.walk(assembly)) {
            for (Path from : (Iterable<Path>) s::iterator) {
                Path rel = assembly.relativize(from);
                if (rel.startsWith("data")) {
                    continue; // a run of the build's own copy must not leak into this one
                }
                Path to = home.resolve(rel.toString());
                if (Files.isDirectory(from)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(from, to, StandardCopyOption.COPY_ATTRIBUTES, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        this.port = Procs.freePort();
    }

    /**
     * Starts it with the soft file-descriptor limit raised to the hard one (the JVM does that too
     * with its default -XX:+MaxFDLimit). EXTRA_JAVA_OPTS gets {@code -Xlog:gc:file=...} (a line per
     * GC pause into {@link #gcLog}; no -Xmx, so bin/setenv still adds its default heap) and
     * {@code extraJavaOpts} (may be empty).
     */
    SignalServerProcess start(String extraJavaOpts) throws IOException {
        ProcessBuilder pb = new ProcessBuilder("sh", "-c", "ulimit -n \"$(ulimit -Hn)\" 2>/dev/null; exec \"$0\" server",
                home.resolve("bin/karaf").toString());
        pb.environment().keySet().removeIf(k -> k.startsWith("SIGNAL_") || k.equals("EXTRA_JAVA_OPTS")
                || k.equals("KARAF_EXEC"));
        pb.environment().put("SIGNAL_HTTP_PORT", Integer.toString(port));
        pb.environment().put("SIGNAL_HTTP_HOST", "127.0.0.1");
        pb.environment().put("SIGNAL_DATA", home.resolve("data").toString());
        String opts = "-Xlog:gc:file=" + gcLog + ":utctime";
        if (extraJavaOpts != null && !extraJavaOpts.isBlank()) {
            opts = opts + " " + extraJavaOpts;
        }
        pb.environment().put("EXTRA_JAVA_OPTS", opts);
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        startedNanos = System.nanoTime();
        process = Procs.start(pb);
        return this;
    }

    /** Polls GET /health every 50 ms until it answers 200 UP; seconds since start(). */
    double awaitHealthy(int timeoutSeconds) throws InterruptedException {
        long deadline = startedNanos + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the signal server exited with " + process.exitValue() + ": " + tail());
            }
            HttpResponse<String> r = get("/health");
            if (r != null && r.statusCode() == 200 && "UP".equals(Api.str(r.body(), "status"))) {
                return (System.nanoTime() - startedNanos) / 1e9;
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("the signal server did not answer /health within " + timeoutSeconds + " s: "
                + tail());
    }

    /** The last lines of the console output (the work dir is gone after the row). */
    String tail() {
        try {
            List<String> l = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
            return String.join(" / ", l.subList(Math.max(0, l.size() - 8), l.size()));
        } catch (IOException e) {
            return "(no console output)";
        }
    }

    /** GET on the server, or null when nothing answers (5 s timeout). */
    HttpResponse<String> get(String path) throws InterruptedException {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return null;
        }
    }

    boolean alive() {
        return process != null && process.isAlive();
    }

    long javaPid() {
        return process == null ? -1 : Procs.javaPid(process);
    }

    /** CPU seconds (user + system) of the server's JVM so far, or NaN. */
    double cpuSeconds() {
        long pid = javaPid();
        return pid < 0 ? Double.NaN : ProcessHandle.of(pid).flatMap(p -> p.info().totalCpuDuration())
                .map(d -> d.toNanos() / 1e9).orElse(Double.NaN);
    }

    /** The "Max open files" soft limit of the server's JVM, as /proc shows it. */
    String fdLimit() {
        try {
            for (String l : Files.readAllLines(Paths.get("/proc/" + javaPid() + "/limits"))) {
                if (l.startsWith("Max open files")) {
                    return l.substring("Max open files".length()).trim().split("\\s+")[0];
                }
            }
        } catch (IOException e) {
            // unknown
        }
        return "?";
    }

    /** Open file descriptors of the server's JVM. */
    long openFds() {
        try (Stream<Path> s = Files.list(Paths.get("/proc/" + javaPid() + "/fd"))) {
            return s.count();
        } catch (IOException e) {
            return -1;
        }
    }

    /**
     * The JVM's heap from {@code jstat -gc}: used and capacity in MB (young + old), the number
     * of young and full GCs and the GC seconds; null when jstat is not there or failed.
     */
    double[] heap() {
        Path jstat = Paths.get(System.getProperty("java.home"), "bin", "jstat");
        if (!Files.isExecutable(jstat)) {
            return null;
        }
        List<String> lines = run(List.of(jstat.toString(), "-gc", Long.toString(javaPid())), 15);
        if (lines == null || lines.size() < 2) {
            return null;
        }
        String[] names = lines.get(0).trim().split("\\s+");
        String[] values = lines.get(1).trim().split("\\s+");
        java.util.Map<String, Double> m = new java.util.HashMap<>();
        for (int i = 0; i < Math.min(names.length, values.length); i++) {
            try {
                m.put(names[i], Double.parseDouble(values[i]));
            } catch (NumberFormatException e) {
                // "-" for a column this collector lacks
            }
        }
        double used = (m.getOrDefault("S0U", 0.0) + m.getOrDefault("S1U", 0.0) + m.getOrDefault("EU", 0.0)
                + m.getOrDefault("OU", 0.0)) / 1024;
        double capacity = (m.getOrDefault("S0C", 0.0) + m.getOrDefault("S1C", 0.0) + m.getOrDefault("EC", 0.0)
                + m.getOrDefault("OC", 0.0)) / 1024;
        return new double[] {used, capacity, m.getOrDefault("YGC", -1.0), m.getOrDefault("FGC", -1.0),
                m.getOrDefault("GCT", -1.0)};
    }

    /**
     * The GC pauses logged between two instants (epoch ms, by the time a pause ended): count,
     * total ms, longest ms.
     */
    double[] gcPauses(long fromMillis, long toMillis) {
        double[] r = {0, 0, 0};
        if (!Files.exists(gcLog)) {
            return r;
        }
        java.time.format.DateTimeFormatter f = java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ");
        java.util.regex.Pattern line = java.util.regex.Pattern.compile("^\\[([^\\]]+)\\].* Pause .* ([0-9.]+)ms$");
        try {
            for (String l : Files.readAllLines(gcLog, StandardCharsets.ISO_8859_1)) {
                java.util.regex.Matcher m = line.matcher(l);
                if (!m.matches()) {
                    continue;
                }
                long at = java.time.OffsetDateTime.parse(m.group(1), f).toInstant().toEpochMilli();
                if (at >= fromMillis && at < toMillis) {
                    double ms = Double.parseDouble(m.group(2));
                    r[0]++;
                    r[1] += ms;
                    r[2] = Math.max(r[2], ms);
                }
            }
        } catch (IOException | RuntimeException e) {
            // leave what was counted
        }
        return r;
    }

    /** Asks the JVM for a full GC ({@code jcmd GC.run}), to see the live heap afterwards. */
    boolean fullGc() {
        Path jcmd = Paths.get(System.getProperty("java.home"), "bin", "jcmd");
        return Files.isExecutable(jcmd) && run(List.of(jcmd.toString(), Long.toString(javaPid()), "GC.run"), 30) != null;
    }

    /** A thread dump of the server ({@code jcmd Thread.print}) into {@code to}. */
    void threadDump(Path to) {
        Path jcmd = Paths.get(System.getProperty("java.home"), "bin", "jcmd");
        List<String> lines = Files.isExecutable(jcmd)
                ? run(List.of(jcmd.toString(), Long.toString(javaPid()), "Thread.print"), 30) : null;
        if (lines != null) {
            try {
                Files.write(to, lines);
            } catch (IOException e) {
                // best effort
            }
        }
    }

    private List<String> run(List<String> cmd, int timeoutSeconds) {
        Process p = null;
        Path outFile = null;
        try {
            outFile = Files.createTempFile(log.getParent(), "cmd-", ".out");
            p = Procs.start(new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.to(outFile.toFile())));
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return null;
            }
            return Files.readAllLines(outFile, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } finally {
            Procs.killTree(p, 2);
            if (outFile != null) {
                try {
                    Files.deleteIfExists(outFile);
                } catch (IOException e) {
                    // the work dir goes anyway
                }
            }
        }
    }

    /** Lines of the console output and Karaf's log that mention {@code needle}. */
    long logLinesWith(String needle) {
        long n = 0;
        for (Path f : List.of(log, home.resolve("data/log/karaf.log"))) {
            if (Files.exists(f)) {
                try (Stream<String> s = Files.lines(f, StandardCharsets.ISO_8859_1)) {
                    n += s.filter(l -> l.contains(needle)).count();
                } catch (IOException | java.io.UncheckedIOException e) {
                    // unreadable: count nothing
                }
            }
        }
        return n;
    }

    /** SIGTERM to the server's process tree, SIGKILL after 20 s. */
    void stop() {
        Procs.killTree(process, 20);
    }

    @Override
    public void close() {
        stop();
        Procs.deleteTree(home);
    }
}
