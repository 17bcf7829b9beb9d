package org.sover.itests;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A node started from the ONE unpacked distribution of this build, with its own
 * SOVER_DATA and free loopback ports, exactly as an admin starts it.
 */
public final class NodeProcess implements AutoCloseable {
    public static final Path ASSEMBLY = Paths.get(System.getProperty("sover.assembly.dir", "../assembly/target/assembly"))
            .toAbsolutePath().normalize();
    public final Path data;
    public final int httpPort;
    public final int sshPort;
    private final Map<String, String> env;
    private final Path log;
    private Process process;

    private NodeProcess(Path data, Map<String, String> extraEnv) throws IOException {
        this.data = data;
        this.httpPort = freePort();
        this.sshPort = freePort();
        this.log = data.resolveSibling(data.getFileName() + ".out");
        this.env = new HashMap<>(extraEnv);
    }

    /** A new node in a fresh directory under the build's work folder. */
    public static NodeProcess create(String name, Map<String, String> extraEnv) throws IOException {
        Path work = Paths.get(System.getProperty("sover.test.work", "target/work")).toAbsolutePath();
        Files.createDirectories(work);
        Path data = Files.createTempDirectory(work, name + "-");
        Files.delete(data); // the launcher creates it, owner-only
        return new NodeProcess(data, extraEnv);
    }

    public Http http() {
        return new Http(httpPort);
    }

    public NodeProcess start() throws IOException {
        ProcessBuilder pb = new ProcessBuilder(ASSEMBLY.resolve("bin/karaf").toString(), "server");
        pb.environment().remove("SOVER_ADMIN_PASSWORD");
        pb.environment().putAll(environment());
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        process = pb.start();
        return this;
    }

    /** The variables that choose this node: its data, its loopback ports, and any extra ones. */
    public Map<String, String> environment() {
        Map<String, String> all = new HashMap<>();
        all.put("SOVER_DATA", data.toString());
        all.put("SOVER_HTTP_PORT", Integer.toString(httpPort));
        all.put("SOVER_HTTP_HOST", "127.0.0.1");
        all.put("SOVER_SSH_PORT", Integer.toString(sshPort));
        all.putAll(env);
        return all;
    }

    public NodeProcess awaitHealthy(Duration timeout) throws InterruptedException {
        http().await("/v1/health", r -> r.statusCode() == 200, timeout);
        return this;
    }

    /**
     * Waits until the web UI answers at {@code /}. The console is a bundle of its own: its servlet
     * registers after the vault API's, so {@code /v1/health} can say UP while {@code /} still
     * answers 404 (about 0.1 s in a CI run, where a browser that loaded the page in that moment
     * waited in vain on the 404 page).
     */
    public NodeProcess awaitUi(Duration timeout) throws InterruptedException {
        http().await("/", r -> r.statusCode() == 200, timeout);
        return this;
    }

    /** The JVM's pid (bin/karaf may run it as a child). */
    public long javaPid() {
        return process.toHandle().descendants().filter(h -> h.info().command().map(c -> c.endsWith("java")).orElse(false))
                .mapToLong(ProcessHandle::pid).findFirst().orElse(process.pid());
    }

    /** SIGKILL to the node and its children: a power cut, as far as the node can tell. */
    public void kill9() throws InterruptedException {
        if (process == null) {
            return;
        }
        List<ProcessHandle> all = process.toHandle().descendants().toList();
        all.forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        for (ProcessHandle h : all) {
            h.onExit().orTimeout(30, TimeUnit.SECONDS).exceptionally(t -> null).join();
        }
        process.waitFor(30, TimeUnit.SECONDS);
        process = null;
    }

    /** A clean shutdown through bin/stop, or SIGKILL if it does not finish in time. */
    public void stop() throws IOException, InterruptedException {
        if (process == null) {
            return;
        }
        ProcessBuilder pb = new ProcessBuilder(ASSEMBLY.resolve("bin/stop").toString());
        pb.environment().put("SOVER_DATA", data.toString());
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Process stop = pb.start();
        stop.waitFor(30, TimeUnit.SECONDS);
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            kill9();
        }
        process = null;
    }

    /** Runs one shell command through bin/client, as an admin does. */
    public ClientResult client(String user, String password, String command)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("timeout", "60", ASSEMBLY.resolve("bin/client").toString(), "-a",
                Integer.toString(sshPort), "-h", "127.0.0.1", "-u", user, "-p", password, "-b", "-r", "3", "-d", "1");
        pb.environment().put("SOVER_DATA", data.toString());
        pb.environment().put("SOVER_SSH_PORT", Integer.toString(sshPort));
        pb.redirectErrorStream(true);
        Process p = pb.start();
        p.getOutputStream().write((command + "\n").getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(70, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        return new ClientResult(p.exitValue(), out);
    }

    public record ClientResult(int exitCode, String output) {
    }

    /**
     * Stops the node and removes its data directory: for tests that leave gigabytes behind. Its
     * Karaf log is kept beside the console output ({@code <data>-karaf.log}), so a failed scenario
     * still shows what the node logged (a 503's cause, say).
     */
    public void closeAndDeleteData() throws Exception {
        close();
        Path karafLog = karafLog();
        if (Files.exists(karafLog)) {
            Files.copy(karafLog, data.resolveSibling(data.getFileName() + "-karaf.log"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        try (java.util.stream.Stream<Path> s = Files.walk(data)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /**
     * Writes {@code etc/<pid>.cfg} of this node (its own copy of etc/, made here from the
     * distribution's if the node never started); a running node applies it within a second or two.
     */
    public void configure(String pid, Map<String, String> properties) throws IOException {
        Path etc = data.resolve("etc");
        if (!Files.isDirectory(etc)) {
            if (!Files.isDirectory(data)) {
                Files.createDirectories(data, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
            }
            try (java.util.stream.Stream<Path> s = Files.walk(ASSEMBLY.resolve("etc"))) {
                for (Path from : (Iterable<Path>) s::iterator) {
                    Path to = etc.resolve(ASSEMBLY.resolve("etc").relativize(from).toString());
                    if (Files.isDirectory(from)) {
                        Files.createDirectories(to);
                    } else {
                        Files.copy(from, to);
                    }
                }
            }
        }
        StringBuilder text = new StringBuilder("# written by the test\n");
        properties.forEach((k, v) -> text.append(k).append(" = ").append(v).append('\n'));
        Path tmp = etc.resolve(pid + ".cfg.tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, etc.resolve(pid + ".cfg"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Where the node's Karaf log is (it exists once the node has started). */
    public Path karafLog() {
        return data.resolve("karaf/log/karaf.log");
    }

    public String log() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Override
    public void close() throws Exception {
        stop();
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
