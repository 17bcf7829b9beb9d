package org.sover.bench.harness;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/** A Sover node from the ONE unpacked distribution, with its own SOVER_DATA and free loopback ports. */
final class Node implements AutoCloseable {
    static final String PASSWORD = "bench-password-1";
    final Path assembly;
    final Path data;
    final Path log;
    final int httpPort;
    final int sshPort;
    final Map<String, String> env = new HashMap<>();
    private Process process;
    long startedNanos;

    Node(Path assembly, Path work, String name) throws IOException {
        this.assembly = assembly;
        Files.createDirectories(work);
        this.data = work.resolve(name);
        Procs.deleteTree(data);
        this.log = work.resolve(name + ".out");
        Files.deleteIfExists(log);
        this.httpPort = Procs.freePort();
        this.sshPort = Procs.freePort();
        env.put("SOVER_ADMIN_PASSWORD", PASSWORD);
        // for profiling: BENCH_NODE_JAVA_OPTS goes to every node's EXTRA_JAVA_OPTS, {name} replaced by the node's name
        String extra = System.getenv("BENCH_NODE_JAVA_OPTS");
        if (extra != null && !extra.isBlank()) {
            env.put("EXTRA_JAVA_OPTS", extra.replace("{name}", name));
        }
    }

    Node javaOpts(String opts) {
        env.merge("EXTRA_JAVA_OPTS", opts, (a, b) -> b + " " + a);
        return this;
    }

    /** Writes etc/<pid>.cfg before the first start (the node copies the rest of etc/ from the distribution). */
    Node configure(String pid, String text) throws IOException {
        Path etc = etc();
        Files.writeString(etc.resolve(pid + ".cfg"), "# written by the benchmark harness\n" + text + "\n");
        return this;
    }

    /** Appends lines to a file of the node's etc/ before the first start (e.g. a logger in org.ops4j.pax.logging.cfg). */
    Node appendEtc(String file, String text) throws IOException {
        Files.writeString(etc().resolve(file), "\n# added by the benchmark harness\n" + text + "\n",
                java.nio.file.StandardOpenOption.APPEND);
        return this;
    }

    /** The node's own etc/, copied from the distribution if the node never started. */
    private Path etc() throws IOException {
        Path etc = data.resolve("etc");
        if (!Files.isDirectory(etc)) {
            Files.createDirectories(data, java.nio.file.attribute.PosixFilePermissions
                    .asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
            Path from = assembly.resolve("etc");
            try (Stream<Path> s = Files.walk(from)) {
                for (Path f : (Iterable<Path>) s::iterator) {
                    Path to = etc.resolve(from.relativize(f).toString());
                    if (Files.isDirectory(f)) {
                        Files.createDirectories(to);
                    } else {
                        Files.copy(f, to, StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        }
        return etc;
    }

    Node noWebrtc() throws IOException {
        return configure("org.sover.transport.webrtc", "enabled = false");
    }

    Node start() throws IOException {
        ProcessBuilder pb = new ProcessBuilder(assembly.resolve("bin/karaf").toString(), "server");
        pb.environment().remove("SOVER_ADMIN_PASSWORD");
        pb.environment().remove("EXTRA_JAVA_OPTS");
        pb.environment().put("SOVER_DATA", data.toString());
        pb.environment().put("SOVER_HTTP_PORT", Integer.toString(httpPort));
        pb.environment().put("SOVER_HTTP_HOST", "127.0.0.1");
        pb.environment().put("SOVER_SSH_PORT", Integer.toString(sshPort));
        pb.environment().putAll(env);
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        startedNanos = System.nanoTime();
        process = Procs.start(pb);
        return this;
    }

    /** Starts the nodes together (they boot in parallel), then waits until each is healthy (180 s each at most). */
    static void startHealthy(Node... nodes) throws IOException, InterruptedException {
        for (Node n : nodes) {
            n.start();
        }
        for (Node n : nodes) {
            n.awaitHealthy(180);
        }
    }

    /** Polls /v1/health every 50 ms until it answers 200 UP; returns seconds since start(). */
    double awaitHealthy(int timeoutSeconds) throws IOException, InterruptedException {
        Api api = new Api(httpPort);
        long deadline = startedNanos + timeoutSeconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("node exited with " + process.exitValue() + "; see " + log);
            }
            try {
                HttpResponse<String> r = api.get("/v1/health");
                if (r.statusCode() == 200 && "UP".equals(Api.str(r.body(), "status"))) {
                    return (System.nanoTime() - startedNanos) / 1e9;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("node not healthy within " + timeoutSeconds + " s; see " + log);
    }

    Api admin() throws IOException, InterruptedException {
        Api api = new Api(httpPort);
        api.login("admin", PASSWORD);
        return api;
    }

    long javaPid() {
        return Procs.javaPid(process);
    }

    boolean alive() {
        return process != null && process.isAlive();
    }

    /** Stops the node (SIGTERM to its tree, SIGKILL after 30 s); keeps its data. */
    void stop() {
        Procs.killTree(process, 30);
        process = null;
    }

    /**
     * Runs one Karaf shell command as admin through bin/client over SSH (as an admin does), with
     * bounded waits; returns its exit code and output.
     */
    ClientResult client(String command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("timeout", "60", assembly.resolve("bin/client").toString(), "-a",
                Integer.toString(sshPort), "-h", "127.0.0.1", "-u", "admin", "-p", PASSWORD, "-b", "-r", "3", "-d", "1");
        pb.environment().put("SOVER_DATA", data.toString());
        pb.environment().put("SOVER_SSH_PORT", Integer.toString(sshPort));
        pb.redirectErrorStream(true);
        Process p = Procs.start(pb);
        try {
            p.getOutputStream().write((command + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (!p.waitFor(70, java.util.concurrent.TimeUnit.SECONDS)) {
                throw new IllegalStateException("bin/client '" + command + "' did not end");
            }
            return new ClientResult(p.exitValue(), out);
        } finally {
            Procs.killTree(p, 1);
        }
    }

    record ClientResult(int exitCode, String output) {
    }

    /** True if the node's console or Karaf log mentions an OutOfMemoryError. */
    boolean sawOutOfMemory() throws IOException {
        if (Files.exists(log) && Files.readString(log).contains("OutOfMemoryError")) {
            return true;
        }
        if (Files.isDirectory(data)) {
            try (Stream<Path> s = Files.walk(data)) {
                for (Path f : (Iterable<Path>) s.filter(p -> p.toString().endsWith(".log"))::iterator) {
                    if (Files.readString(f, java.nio.charset.StandardCharsets.ISO_8859_1).contains("OutOfMemoryError")) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** Stops the node and deletes its data, keeping its logs beside it (work/<name>-log/) for a failed run's report. */
    @Override
    public void close() {
        stop();
        if (Files.isDirectory(data)) {
            Path kept = data.resolveSibling(data.getFileName() + "-log");
            try (Stream<Path> s = Files.walk(data)) {
                for (Path f : (Iterable<Path>) s.filter(p -> Files.isRegularFile(p) && p.toString().endsWith(".log"))::iterator) {
                    Path to = kept.resolve(data.relativize(f).toString());
                    Files.createDirectories(to.getParent());
                    Files.copy(f, to, StandardCopyOption.REPLACE_EXISTING);
                }
            } catch (IOException | RuntimeException e) {
                System.err.println("could not keep the logs of " + data + ": " + e);
            }
        }
        Procs.deleteTree(data);
    }
}
