package org.sover.itests;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Locale;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A dishonest signal server for tests: a WebSocket proxy on 127.0.0.1 in front of the real
 * one that passes every frame through, except that it alters the DTLS fingerprint in the SDP
 * of relayed offers and answers — what an operator in the middle would have to do. Nodes must
 * notice (the SDP is signed by the sender's node key) and refuse the session.
 */
public final class RewritingSignalProxy implements AutoCloseable {
    private static final String WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    /** In JSON text the SDP's lines are joined by escaped CRLFs; the fingerprint is hex pairs. */
    private static final Pattern FINGERPRINT = Pattern.compile("(a=fingerprint:sha-256 )([0-9A-Fa-f])");
    private final ServerSocket server;
    private final URI upstream;
    private final HttpClient http = HttpClient.newHttpClient();
    private final AtomicInteger rewritten = new AtomicInteger();
    private volatile boolean closed;

    public RewritingSignalProxy(URI upstream) throws IOException {
        this.upstream = upstream;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread accept = new Thread(this::acceptLoop, "rewriting-signal-proxy");
        accept.setDaemon(true);
        accept.start();
    }

    /** The URL to give nodes instead of the real server's. */
    public String url() {
        return "ws://127.0.0.1:" + server.getLocalPort() + upstream.getPath();
    }

    /** How many fingerprints this proxy has altered so far. */
    public int rewritten() {
        return rewritten.get();
    }

    /** Alters the first hex digit of every DTLS fingerprint in {@code text}. */
    static String alter(String text) {
        Matcher m = FINGERPRINT.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String digit = m.group(2).toUpperCase(Locale.ROOT);
            m.appendReplacement(out, m.group(1) + (digit.equals("0") ? "1" : "0"));
        }
        m.appendTail(out);
        return out.toString();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket s = server.accept();
                Thread t = new Thread(() -> serve(s), "rewriting-signal-proxy-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket client) {
        try (client) {
            client.setSoTimeout((int) TimeUnit.MINUTES.toMillis(10));
            InputStream in = client.getInputStream();
            OutputStream out = client.getOutputStream();
            String key = handshake(in);
            if (key == null) {
                return;
            }
            String accept = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1")
                    .digest((key + WS_GUID).getBytes(StandardCharsets.US_ASCII)));
            out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: " + accept + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            WebSocket up = http.newWebSocketBuilder().buildAsync(upstream, new WebSocket.Listener() {
                private final StringBuilder text = new StringBuilder();

                @Override
                public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                    text.append(data);
                    if (last) {
                        String message = text.toString();
                        text.setLength(0);
                        String altered = message.contains("\"type\":\"signal\"") ? alter(message) : message;
                        if (!altered.equals(message)) {
                            rewritten.incrementAndGet();
                        }
                        send(out, 0x1, altered.getBytes(StandardCharsets.UTF_8));
                    }
                    ws.request(1);
                    return null;
                }

                @Override
                public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
                    byte[] r = reason.getBytes(StandardCharsets.UTF_8);
                    ByteBuffer b = ByteBuffer.allocate(2 + r.length).putShort((short) status).put(r);
                    send(out, 0x8, b.array());
                    closeQuietly(client);
                    return null;
                }

                @Override
                public void onError(WebSocket ws, Throwable error) {
                    closeQuietly(client);
                }
            }).get(10, TimeUnit.SECONDS);
            relayFromClient(new DataInputStream(in), out, up);
        } catch (Exception e) {
            // the node went away or the upstream refused: the node sees its connection close
        }
    }

    /** Reads the client's (masked) frames and forwards whole text messages upstream. */
    private void relayFromClient(DataInputStream in, OutputStream out, WebSocket up) throws Exception {
        ByteArrayOutputStream message = new ByteArrayOutputStream();
        while (true) {
            int b0 = in.readUnsignedByte();
            int b1 = in.readUnsignedByte();
            boolean fin = (b0 & 0x80) != 0;
            int opcode = b0 & 0x0f;
            long len = b1 & 0x7f;
            if (len == 126) {
                len = in.readUnsignedShort();
            } else if (len == 127) {
                len = in.readLong();
            }
            if (len > 16 * 1024 * 1024) {
                throw new IOException("frame too large for the test proxy");
            }
            byte[] mask = new byte[4];
            if ((b1 & 0x80) != 0) {
                in.readFully(mask);
            }
            byte[] payload = new byte[(int) len];
            in.readFully(payload);
            for (int i = 0; i < payload.length; i++) {
                payload[i] ^= mask[i % 4];
            }
            switch (opcode) {
                case 0x0, 0x1 -> {
                    message.write(payload);
                    if (fin) {
                        up.sendText(message.toString(StandardCharsets.UTF_8), true).get(10, TimeUnit.SECONDS);
                        message.reset();
                    }
                }
                case 0x8 -> {
                    int status = payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 1000;
                    up.sendClose(status == 1005 ? 1000 : status, "").get(10, TimeUnit.SECONDS);
                    return;
                }
                case 0x9 -> send(out, 0xA, payload);
                default -> {
                    // pong or binary: not part of the signaling protocol
                }
            }
        }
    }

    private static synchronized void send(OutputStream out, int opcode, byte[] payload) {
        try {
            ByteArrayOutputStream frame = new ByteArrayOutputStream();
            frame.write(0x80 | opcode);
            if (payload.length < 126) {
                frame.write(payload.length);
            } else if (payload.length < 65536) {
                frame.write(126);
                frame.write(payload.length >>> 8);
                frame.write(payload.length & 0xff);
            } else {
                frame.write(127);
                frame.write(ByteBuffer.allocate(8).putLong(payload.length).array());
            }
            frame.write(payload);
            out.write(frame.toByteArray());
            out.flush();
        } catch (IOException e) {
            // the node's side is gone
        }
    }

    /** Reads the upgrade request; returns its Sec-WebSocket-Key, or null when it is none. */
    private static String handshake(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4) {
            int c = in.read();
            if (c < 0 || head.size() > 16384) {
                return null;
            }
            head.write(c);
            state = (c == '\r' && (state == 0 || state == 2)) || (c == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
        }
        for (String line : head.toString(StandardCharsets.ISO_8859_1).split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("Sec-WebSocket-Key")) {
                return line.substring(colon + 1).trim();
            }
        }
        return null;
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
    }
}
