package org.sover.bench.harness;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Plain Apache Karaf 4.4.8 (the tar.gz from Maven Central) as the reference for boot and
 * idle memory: a fresh copy of the distribution per run, SSH and RMI moved to free loopback
 * ports, the sample user {@code karaf} enabled so bin/client can log in.
 */
final class PlainKaraf implements AutoCloseable {
    final Path home;
    final Path log;
    final int sshPort;
    private Process process;
    long startedNanos;

    PlainKaraf(Path distribution, Path home) throws IOException {
        this.home = home;
        this.log = home.resolveSibling(home.getFileName() + ".out");
        Procs.deleteTree(home);
        Files.deleteIfExists(log);
        copy(distribution, home);
        this.sshPort = Procs.freePort();
        edit("etc/org.apache.karaf.shell.cfg", "sshPort = 8101", "sshPort = " + sshPort);
        edit("etc/org.apache.karaf.shell.cfg", "sshHost = 0.0.0.0", "sshHost = 127.0.0.1");
        edit("etc/org.apache.karaf.management.cfg", "rmiRegistryPort = 1099", "rmiRegistryPort = " + Procs.freePort());
        edit("etc/org.apache.karaf.management.cfg", "rmiServerPort = 44444", "rmiServerPort = " + Procs.freePort());
        edit("etc/users.properties", "#karaf = karaf", "karaf = karaf");
        edit("etc/users.properties", "#_g_\\:admingroup", "_g_\\:admingroup");
    }

    void start(String extraJavaOpts) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/karaf").toString(), "server");
        pb.environment().remove("KARAF_DATA");
        pb.environment().remove("KARAF_ETC");
        pb.environment().put("EXTRA_JAVA_OPTS", extraJavaOpts);
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        startedNanos = System.nanoTime();
        process = Procs.start(pb);
    }

    /**
     * Seconds from start until the SSH port accepts connections AND data/log/karaf.log has the
     * features service's "Done." (the boot features are installed), polled every 50 ms.
     */
    double awaitReady(int timeoutSeconds) throws IOException, InterruptedException {
        Path karafLog = home.resolve("data/log/karaf.log");
        long deadline = startedNanos + timeoutSeconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("plain Karaf exited; see " + log);
            }
            if (Procs.portOpen(sshPort) && Files.exists(karafLog)
                    && Files.readString(karafLog, StandardCharsets.ISO_8859_1).contains("FeaturesServiceImpl")
                    && Files.readString(karafLog, StandardCharsets.ISO_8859_1).contains("| Done.")) {
                return (System.nanoTime() - startedNanos) / 1e9;
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("plain Karaf not ready within " + timeoutSeconds + " s");
    }

    /** Runs bin/client "bundle:list" once (not timed): the shell really works. Returns the number of Active lines. */
    int clientBundleCount() throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("timeout", "60", home.resolve("bin/client").toString(), "-a",
                Integer.toString(sshPort), "-h", "127.0.0.1", "-u", "karaf", "-p", "karaf", "-r", "3", "-d", "1",
                "bundle:list -t 0");
        pb.redirectErrorStream(true);
        Process p = Procs.start(pb);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(70, TimeUnit.SECONDS);
        Procs.killTree(p, 1);
        return (int) out.lines().filter(l -> l.contains("Active")).count();
    }

    long javaPid() {
        return Procs.javaPid(process);
    }

    @Override
    public void close() {
        Procs.killTree(process, 30);
        process = null;
        Procs.deleteTree(home);
    }

    private void edit(String file, String from, String to) throws IOException {
        Path f = home.resolve(file);
        String text = Files.readString(f, StandardCharsets.ISO_8859_1);
        if (!text.contains(from)) {
            throw new IOException(file + " has no '" + from + "'");
        }
        Files.writeString(f, text.replace(from, to), StandardCharsets.ISO_8859_1);
    }

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path f : (Iterable<Path>) s::iterator) {
                Path t = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(f, t, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }
}
