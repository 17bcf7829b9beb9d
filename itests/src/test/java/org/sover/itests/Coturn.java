package org.sover.itests;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Debian's coturn started by a test on 127.0.0.1 only, with TURN REST credentials
 * ({@code use-auth-secret}); loopback peers are allowed because both nodes live on this
 * machine. Stopped by {@link #close()}.
 */
public final class Coturn implements AutoCloseable {
    public final int port;
    public final String secret;
    private final Process process;
    private final Path log;

    private Coturn(int port, String secret, Process process, Path log) {
        this.port = port;
        this.secret = secret;
        this.process = process;
        this.log = log;
    }

    public static boolean installed() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, "turnserver"))) {
                return true;
            }
        }
        return false;
    }

    public static Coturn start(String secret) throws IOException, InterruptedException {
        return start(secret, NodeProcess.freePort());
    }

    /** On a given port, e.g. the one a previous coturn used, so the signal server's TURN URL stays right. */
    public static Coturn start(String secret, int port) throws IOException, InterruptedException {
        int minRelay = 20000 + (port % 20000);
        Path log = Files.createTempFile("coturn-", ".log");
        Process p = new ProcessBuilder(List.of("turnserver", "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
                "--listening-port=" + port, "--min-port=" + minRelay, "--max-port=" + (minRelay + 200),
                "--realm=sover-test", "--no-tls", "--no-dtls", "--no-cli", "--allow-loopback-peers",
                "--use-auth-secret", "--static-auth-secret=" + secret, "--log-file=stdout", "--no-stun-backward-compatibility"))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Coturn c = new Coturn(port, secret, p, log);
        // coturn 4.6.1 does not always log "Total auth threads:": a STUN answer is the sure sign.
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline && p.isAlive()) {
            if (stunAnswers(port)) {
                return c;
            }
        }
        c.close();
        throw new IllegalStateException("coturn did not start; its log:\n" + Files.readString(log));
    }

    /** Sends a STUN Binding request to 127.0.0.1:{@code port}; true when a Binding success comes back within 200 ms. */
    private static boolean stunAnswers(int port) throws IOException {
        byte[] request = new byte[20];
        request[1] = 1; // Binding request, no attributes
        java.nio.ByteBuffer.wrap(request, 4, 4).putInt(0x2112A442); // magic cookie; transaction id zeros
        try (java.net.DatagramSocket socket = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            socket.setSoTimeout(200);
            socket.send(new java.net.DatagramPacket(request, request.length, java.net.InetAddress.getLoopbackAddress(), port));
            java.net.DatagramPacket answer = new java.net.DatagramPacket(new byte[512], 512);
            socket.receive(answer);
            return answer.getLength() >= 20 && answer.getData()[0] == 1 && answer.getData()[1] == 1;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        }
    }

    /** The URL nodes are given, e.g. {@code turn:127.0.0.1:3478?transport=udp}. */
    public String url() {
        return "turn:127.0.0.1:" + port + "?transport=udp";
    }

    public String log() throws IOException {
        return Files.readString(log);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
        }
    }
}
