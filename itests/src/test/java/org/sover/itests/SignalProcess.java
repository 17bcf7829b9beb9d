package org.sover.itests;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The operator's signal server from this build's signal-distribution, copied to a directory of
 * its own and started with bin/karaf on a free loopback port, as an operator runs it.
 */
public final class SignalProcess implements AutoCloseable {
    public static final Path DISTRIBUTION = Paths.get(System.getProperty("sover.signal.distribution.dir",
            "../signal-distribution/target/assembly")).toAbsolutePath().normalize();
    public final Path home;
    public final int httpPort;
    private final Map<String, String> env;
    private final Path log;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private Process process;

    private SignalProcess(Path home, Map<String, String> extraEnv) throws IOException {
        this.home = home;
        this.httpPort = NodeProcess.freePort();
        this.log = home.resolveSibling(home.getFileName() + ".out");
        this.env = new HashMap<>(extraEnv);
    }

    /** A fresh copy of the distribution under the build's work folder. */
    public static SignalProcess create(String name, Map<String, String> extraEnv) throws IOException {
        if (!Files.isExecutable(DISTRIBUTION.resolve("bin/karaf"))) {
            throw new IllegalStateException("no signal distribution at " + DISTRIBUTION
                    + ": build it first (mvn -pl signal-distribution install)");
        }
        Path work = Paths.get(System.getProperty("sover.test.work", "target/work")).toAbsolutePath();
        Files.createDirectories(work);
        Path home = Files.createTempDirectory(work, name + "-");
        try (Stream<Path> s = Files.walk(DISTRIBUTION)) {
            for (Path from : (Iterable<Path>) s::iterator) {
                Path rel = DISTRIBUTION.relativize(from);
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
        return new SignalProcess(home, extraEnv);
    }

    /** A fresh copy, started and answering {@code /health} (bounded wait). */
    public static SignalProcess start(String name, Map<String, String> extraEnv) throws Exception {
        return create(name, extraEnv).start().awaitHealthy(Duration.ofSeconds(90));
    }

    public SignalProcess start() throws IOException {
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/karaf").toString(), "server");
        pb.environment().putAll(environment());
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        process = pb.start();
        return this;
    }

    public Map<String, String> environment() {
        Map<String, String> all = new HashMap<>();
        all.put("SIGNAL_HTTP_PORT", Integer.toString(httpPort));
        all.put("SIGNAL_HTTP_HOST", "127.0.0.1");
        all.putAll(env);
        return all;
    }

    /** The URL nodes use: {@code ws://127.0.0.1:<port>/signal}. */
    public String url() {
        return wsUrl();
    }

    public String wsUrl() {
        return "ws://127.0.0.1:" + httpPort + "/signal";
    }

    /** GET on the server; status and body, or status -1 when nothing answers. */
    public HttpResponse<String> get(String path) throws InterruptedException {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                    .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return null;
        }
    }

    /** Polls {@code GET /health} until it answers 200, within {@code timeout}. */
    public SignalProcess awaitHealthy(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = get("/health");
            if (r != null && r.statusCode() == 200) {
                return this;
            }
            if (process != null && !process.isAlive()) {
                throw new IllegalStateException("the signal server exited: " + log());
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the signal server did not answer /health within " + timeout + "; log: "
                + log());
    }

    /** The JVM's pid (bin/karaf may run it as a child). */
    public long javaPid() {
        return process.toHandle().descendants().filter(h -> h.info().command().map(c -> c.endsWith("java")).orElse(false))
                .mapToLong(ProcessHandle::pid).findFirst().orElse(process.pid());
    }

    /** bin/stop, then SIGKILL to whatever is left. */
    public void stop() throws IOException, InterruptedException {
        if (process == null) {
            return;
        }
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/stop").toString());
        pb.environment().putAll(environment());
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Process stop = pb.start();
        if (!stop.waitFor(30, TimeUnit.SECONDS)) {
            stop.destroyForcibly();
        }
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            List<ProcessHandle> all = process.toHandle().descendants().toList();
            all.forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
        process = null;
    }

    public String log() throws IOException {
        String out = Files.exists(log) ? Files.readString(log) : "";
        Path karafLog = home.resolve("data/log/karaf.log");
        return Files.exists(karafLog) ? out + Files.readString(karafLog) : out;
    }

    @Override
    public void close() throws Exception {
        stop();
    }
}
