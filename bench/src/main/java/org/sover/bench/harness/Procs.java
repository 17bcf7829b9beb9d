package org.sover.bench.harness;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Processes the harness started: every one is stopped with its children, also on failure or Ctrl-C. */
final class Procs {
    private static final List<Process> LIVE = new CopyOnWriteArrayList<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(p -> killTree(p, 5))));
    }

    private Procs() {
    }

    static Process start(ProcessBuilder pb) throws IOException {
        Process p = pb.start();
        LIVE.add(p);
        return p;
    }

    /** SIGTERM to the process and its descendants, SIGKILL after {@code graceSeconds}. */
    static void killTree(Process p, int graceSeconds) {
        if (p == null) {
            return;
        }
        List<ProcessHandle> all = new ArrayList<>(p.toHandle().descendants().toList());
        all.add(p.toHandle());
        all.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(graceSeconds);
        for (ProcessHandle h : all) {
            long left = Math.max(1, deadline - System.nanoTime());
            try {
                h.onExit().get(left, TimeUnit.NANOSECONDS);
            } catch (Exception e) {
                h.destroyForcibly();
            }
        }
        for (ProcessHandle h : all) {
            try {
                h.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // nothing more to do
            }
        }
        LIVE.remove(p);
        freed();
    }

    /** The JVM among the process and its descendants (bin/karaf runs java as a child). */
    static long javaPid(Process p) {
        return Stream.concat(Stream.of(p.toHandle()), p.toHandle().descendants())
                .filter(h -> h.info().command().map(c -> c.endsWith("/java") || c.equals("java")).orElse(false))
                .mapToLong(ProcessHandle::pid).findFirst().orElse(-1);
    }

    /** utime + stime of a process from /proc/<pid>/stat, in seconds (clock ticks of 1/100 s), or -1. */
    static double cpuSeconds(long pid) {
        try {
            double[] t = userKernelSeconds(Files.readString(Path.of("/proc/" + pid + "/stat")));
            return t[0] + t[1];
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** utime and stime of a /proc stat line (a process' or a thread's), in seconds (clock ticks of 1/100 s). */
    private static double[] userKernelSeconds(String stat) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // after the name: state(0) ppid(1) ... utime is field 14 overall = index 11 here, stime index 12
        return new double[] {Long.parseLong(f[11]) / 100.0, Long.parseLong(f[12]) / 100.0};
    }

    /**
     * CPU seconds per thread group of a process (thread names from /proc/<pid>/task/<tid>/stat with
     * trailing numbers dropped, so "qtp123-45" and "qtp123-46" count together), for profiling notes:
     * {user, kernel} each.
     */
    static java.util.Map<String, double[]> threadCpu(long pid) {
        java.util.Map<String, double[]> out = new java.util.TreeMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : tasks.toList()) {
                try {
                    String stat = Files.readString(t.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replaceAll("[-#_ ]?\\d+$", "");
                    double[] used = userKernelSeconds(stat);
                    double[] sum = out.computeIfAbsent(name, k -> new double[2]);
                    sum[0] += used[0];
                    sum[1] += used[1];
                } catch (IOException | RuntimeException gone) {
                    // the thread ended meanwhile
                }
            }
        } catch (IOException e) {
            // the process is gone
        }
        return out;
    }

    /**
     * The {@code n} thread groups that used the most CPU between two {@link #threadCpu} readings,
     * "name 1.2 s (kernel 0.4)" each.
     */
    static String topThreads(java.util.Map<String, double[]> before, java.util.Map<String, double[]> after, int n) {
        double[] none = new double[2];
        return after.entrySet().stream()
                .map(e -> {
                    double[] b = before.getOrDefault(e.getKey(), none);
                    return java.util.Map.entry(e.getKey(), new double[] {e.getValue()[0] - b[0], e.getValue()[1] - b[1]});
                })
                .filter(e -> e.getValue()[0] + e.getValue()[1] >= 0.05)
                .sorted(java.util.Comparator.comparingDouble(e -> -(e.getValue()[0] + e.getValue()[1]))).limit(n)
                .map(e -> String.format(java.util.Locale.ROOT, "%s %.1f s (kernel %.1f)", e.getKey(),
                        e.getValue()[0] + e.getValue()[1], e.getValue()[1]))
                .collect(java.util.stream.Collectors.joining(", "));
    }

    /** A /proc/<pid>/status field in kB (VmRSS, VmHWM), or -1. */
    static long statusKb(long pid, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /**
     * How long freed memory takes to become "cold" on this VM. The guest (Firecracker, a
     * virtio balloon with free page reporting) hands pages it frees back to the host about 2 s
     * later, and the next write into such a page faults in the host: writing 1 GB into the page
     * cache cost 1.0–1.6 s of kernel CPU in pages freed 6 s or more before, 0.2 s in pages freed
     * just before (dd, 2026-11-22 22:40); the disk reference ran at 456–468 MB/s against 687–691.
     * A timed phase that starts right after a node's data or a reference's files were deleted
     * thus writes several times cheaper than one that starts later. The harness lets every timed
     * phase start from the same, cold state: {@link #settle()}.
     */
    static final long SETTLE_NANOS = TimeUnit.SECONDS.toNanos(12);
    /** As if memory had just been freed when the harness starts: the build before it (run.sh) just ended its JVMs. */
    private static volatile long lastFreedNanos = System.nanoTime();

    /** Notes that the harness just freed memory or page cache (deleted files, ended a process). */
    static void freed() {
        lastFreedNanos = System.nanoTime();
    }

    /**
     * Before a timed phase: writes dirty pages back ({@code sync}), then waits until
     * {@link #SETTLE_NANOS} have passed since the harness last freed memory (the host's discard of
     * freed guest pages cannot be observed from inside the guest, so this is a fixed time).
     * Returns the seconds waited.
     */
    static double settle() throws IOException, InterruptedException {
        syncDisks();
        long wait = lastFreedNanos + SETTLE_NANOS - System.nanoTime();
        if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
        }
        return Math.max(0, wait) / 1e9;
    }

    /**
     * Writes every dirty page to disk ({@code sync}, at most 120 s), so a timed phase does not
     * start while the kernel is still writing back what the untimed setup just wrote.
     */
    static void syncDisks() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("sync").redirectErrorStream(true).start();
        if (!p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("sync did not finish within 120 s");
        }
    }

    /** Every port {@link #freePort()} handed out in this invocation. */
    private static final java.util.Set<Integer> HANDED_OUT = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * A loopback port free now and not handed out before in this invocation. The kernel may give
     * the same ephemeral port to two binds in a row once the first socket is closed; on 2026-11-23
     * both Syncthing instances got 33213 and, as Syncthing listens with SO_REUSEPORT, both bound it,
     * so B dialled itself and the run failed after its 15-minute wait.
     */
    static int freePort() throws IOException {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                if (HANDED_OUT.add(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            }
        }
        throw new IOException("no loopback port left that was not handed out already");
    }

    static boolean portOpen(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            System.err.println("could not delete " + dir + ": " + e);
        }
        freed();
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
