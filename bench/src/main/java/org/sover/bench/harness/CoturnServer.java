package org.sover.bench.harness;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Debian's coturn on 127.0.0.1 with TURN REST credentials ({@code use-auth-secret}), started as
 * the integration tests start it (itests Coturn): loopback peers allowed, no TLS, no CLI.
 */
final class CoturnServer implements AutoCloseable {
    final int port;
    final String secret;
    final Path log;
    private Process process;

    private CoturnServer(int port, String secret, Path log) {
        this.port = port;
        this.secret = secret;
        this.log = log;
    }

    static boolean installed() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, "turnserver"))) {
                return true;
            }
        }
        return false;
    }

    /** Started and answering a STUN Binding request within 20 s. */
    static CoturnServer start(Path work, String secret) throws IOException, InterruptedException {
        if (!installed()) {
            throw new IllegalStateException("turnserver (Debian package coturn) is not installed");
        }
        int port = Procs.freePort();
        int minRelay = 20000 + (port % 20000);
        Files.createDirectories(work);
        CoturnServer c = new CoturnServer(port, secret, work.resolve("coturn-" + port + ".log"));
        ProcessBuilder pb = new ProcessBuilder(List.of("turnserver", "-n", "--listening-ip=127.0.0.1",
                "--relay-ip=127.0.0.1", "--listening-port=" + port, "--min-port=" + minRelay,
                "--max-port=" + (minRelay + 200), "--realm=sover-bench", "--no-tls", "--no-dtls", "--no-cli",
                "--allow-loopback-peers", "--use-auth-secret", "--static-auth-secret=" + secret, "--log-file=stdout",
                "--no-stun-backward-compatibility"));
        pb.redirectErrorStream(true);
        pb.redirectOutput(c.log.toFile());
        c.process = Procs.start(pb);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        try {
            while (System.nanoTime() < deadline && c.process.isAlive()) {
                // coturn 4.6.1 does not always log "Total auth threads:": a STUN answer is the sure sign
                if (stunAnswers(port)) {
                    return c;
                }
            }
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
        String text = Files.exists(c.log) ? Files.readString(c.log, StandardCharsets.ISO_8859_1) : "";
        c.close();
        throw new IllegalStateException("coturn did not start: " + text.substring(Math.max(0, text.length() - 2000)));
    }

    private static boolean stunAnswers(int port) throws IOException {
        byte[] request = new byte[20];
        request[1] = 1; // Binding request, no attributes
        ByteBuffer.wrap(request, 4, 4).putInt(0x2112A442); // magic cookie; transaction id zeros
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            socket.setSoTimeout(200);
            socket.send(new DatagramPacket(request, request.length, InetAddress.getLoopbackAddress(), port));
            DatagramPacket answer = new DatagramPacket(new byte[512], 512);
            socket.receive(answer);
            return answer.getLength() >= 20 && answer.getData()[0] == 1 && answer.getData()[1] == 1;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    /** The URL the signal server hands out: {@code turn:127.0.0.1:<port>?transport=udp}. */
    String url() {
        return "turn:127.0.0.1:" + port + "?transport=udp";
    }

    /** coturn's REST scheme: username {@code expiry:name}, password base64(HMAC-SHA1(secret, username)). */
    String[] credentials(String name, long validSeconds) {
        String user = (System.currentTimeMillis() / 1000 + validSeconds) + ":" + name;
        try {
            Mac mac = Mac.getInstance("HmacSHA1");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
            return new String[] {user, Base64.getEncoder().encodeToString(mac.doFinal(user.getBytes(StandardCharsets.UTF_8)))};
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** CPU seconds coturn used so far (user + system), or -1. */
    double cpuSeconds() {
        return process == null ? -1 : Procs.cpuSeconds(process.pid());
    }

    @Override
    public void close() {
        Procs.killTree(process, 10);
        process = null;
    }
}
