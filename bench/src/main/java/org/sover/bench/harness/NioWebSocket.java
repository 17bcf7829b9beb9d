package org.sover.bench.harness;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small non-blocking WebSocket client (RFC 6455) for load generation: thousands of
 * connections on one or two selector threads, each socket bound to a local address of the
 * caller's choice before it connects (which the JDK's {@code java.net.http.WebSocket} cannot do),
 * so many clients can come from many loopback addresses. Text frames only (binary frames are
 * ignored), masked as a client must; pings are answered with pongs; close frames are echoed.
 * No extensions, no subprotocols, no TLS.
 *
 * <p>Listener callbacks run on the selector thread of the connection and must not block.
 * {@link Conn#sendText}, {@link Conn#sendPing} and {@link Conn#close} may be called from any
 * thread: a frame is written at once when the socket takes it, otherwise queued and written by
 * the selector thread.
 */
final class NioWebSocket implements AutoCloseable {
    /** What happens on a connection. Called on its selector thread: do not block. */
    interface Listener {
        /** The upgrade succeeded (101 with the right Sec-WebSocket-Accept). */
        void onOpen(Conn c);

        /** One whole text message; {@code receivedNanos} is System.nanoTime() right after the read that completed it. */
        void onText(Conn c, String text, long receivedNanos);

        /**
         * The connection ended, once per connection: {@code code} from the server's close frame,
         * 1006 when it broke without one, or the HTTP status (e.g. 429) when the upgrade was refused.
         */
        void onClosed(Conn c, int code, String reason);
    }

    private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    /** Largest message accepted from the server (the signal server sends far less). */
    private static final int MAX_MESSAGE = 1 << 20;
    private static final int OP_CONT = 0;
    private static final int OP_TEXT = 1;
    private static final int OP_BINARY = 2;
    private static final int OP_CLOSE = 8;
    private static final int OP_PING = 9;
    private static final int OP_PONG = 10;

    private final Loop[] loops;
    private final AtomicInteger next = new AtomicInteger();
    private volatile boolean stopping;

    NioWebSocket(int threads, String name) throws IOException {
        loops = new Loop[threads];
        for (int i = 0; i < threads; i++) {
            loops[i] = new Loop(name + "-" + i);
        }
        for (Loop l : loops) {
            l.thread.start();
        }
    }

    /**
     * Opens a connection from {@code local} (port chosen by the kernel) to {@code server} and
     * upgrades it on {@code path}. Returns at once; {@link Listener#onOpen} or
     * {@link Listener#onClosed} follow on the selector thread.
     */
    Conn connect(InetAddress local, InetSocketAddress server, String path, Listener listener, Object attachment)
            throws IOException {
        if (stopping) {
            throw new IOException("closed");
        }
        Loop loop = loops[Math.floorMod(next.getAndIncrement(), loops.length)];
        SocketChannel ch = SocketChannel.open();
        try {
            ch.configureBlocking(false);
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ch.bind(new InetSocketAddress(local, 0));
            Conn c = new Conn(loop, ch, server, path, listener, attachment);
            boolean connected = ch.connect(server);
            loop.submit(() -> c.register(connected));
            return c;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** Stops the selector threads (bounded wait) and closes every connection without a close handshake. */
    @Override
    public void close() {
        stopping = true;
        for (Loop l : loops) {
            l.selector.wakeup();
        }
        for (Loop l : loops) {
            try {
                l.thread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
    }

    /** One selector thread and the connections it serves. */
    private final class Loop implements Runnable {
        final Selector selector;
        final Thread thread;
        private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();

        Loop(String name) throws IOException {
            selector = Selector.open();
            thread = new Thread(this, name);
            thread.setDaemon(true);
        }

        void submit(Runnable r) {
            tasks.add(r);
            selector.wakeup();
        }

        @Override
        public void run() {
            try {
                while (!stopping) {
                    for (Runnable r; (r = tasks.poll()) != null;) {
                        try {
                            r.run();
                        } catch (RuntimeException e) {
                            System.err.println("NioWebSocket task failed: " + e);
                        }
                    }
                    selector.select(100);
                    for (SelectionKey k : selector.selectedKeys()) {
                        Conn c = (Conn) k.attachment();
                        try {
                            if (k.isValid() && k.isConnectable()) {
                                c.onConnectable();
                            }
                            if (k.isValid() && k.isWritable()) {
                                c.flush();
                            }
                            if (k.isValid() && k.isReadable()) {
                                c.onReadable();
                            }
                        } catch (CancelledKeyException e) {
                            c.fail(1006, "cancelled");
                        } catch (IOException | RuntimeException e) {
                            c.fail(1006, String.valueOf(e.getMessage() == null ? e : e.getMessage()));
                        }
                    }
                    selector.selectedKeys().clear();
                }
            } catch (IOException | ClosedSelectorException e) {
                System.err.println("NioWebSocket selector failed: " + e);
            } finally {
                List<Conn> left = new ArrayList<>();
                try {
                    for (SelectionKey k : selector.keys()) {
                        left.add((Conn) k.attachment());
                    }
                } catch (ClosedSelectorException e) {
                    // nothing left to close
                }
                left.forEach(c -> c.fail(1006, "client stopped"));
                try {
                    selector.close();
                } catch (IOException e) {
                    // going away anyway
                }
            }
        }
    }

    enum State { CONNECTING, UPGRADING, OPEN, CLOSING, CLOSED }

    /** One WebSocket connection. */
    final class Conn {
        final Loop loop;
        final SocketChannel ch;
        final InetSocketAddress server;
        final String path;
        final Listener listener;
        final Object attachment;
        volatile State state = State.CONNECTING;
        private SelectionKey key;
        private ByteBuffer in = ByteBuffer.allocate(1024);
        private int needed;
        private final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();
        private String secKey;
        private ByteArrayOutputStream fragments;
        private int fragmentOpcode;
        private boolean closeSent;
        private final AtomicBoolean ended = new AtomicBoolean();

        Conn(Loop loop, SocketChannel ch, InetSocketAddress server, String path, Listener listener, Object attachment) {
            this.loop = loop;
            this.ch = ch;
            this.server = server;
            this.path = path;
            this.listener = listener;
            this.attachment = attachment;
        }

        boolean isOpen() {
            return state == State.OPEN;
        }

        /** Sends one text message; false when the connection is not open. */
        boolean sendText(String text) {
            return sendFrame(OP_TEXT, text.getBytes(StandardCharsets.UTF_8));
        }

        /** Sends a WebSocket ping with an empty payload (as the JDK client's sendPing does). */
        boolean sendPing() {
            return sendFrame(OP_PING, new byte[0]);
        }

        /** Starts the close handshake; the server's close frame or EOF ends the connection. */
        void close(int code, String reason) {
            synchronized (this) {
                if (state != State.OPEN) {
                    return;
                }
                state = State.CLOSING;
            }
            writeClose(code, reason);
        }

        /** Drops the connection at once (no close handshake). */
        void abort(String why) {
            loop.submit(() -> fail(1006, why));
        }

        private boolean sendFrame(int opcode, byte[] payload) {
            if (state != State.OPEN) {
                return false;
            }
            try {
                write(frame(opcode, payload));
                return true;
            } catch (IOException | CancelledKeyException e) {
                abort(String.valueOf(e.getMessage()));
                return false;
            }
        }

        private void writeClose(int code, String reason) {
            byte[] r = reason.getBytes(StandardCharsets.UTF_8);
            byte[] p = new byte[2 + Math.min(r.length, 123)];
            p[0] = (byte) (code >> 8);
            p[1] = (byte) code;
            System.arraycopy(r, 0, p, 2, p.length - 2);
            synchronized (this) {
                if (closeSent) {
                    return;
                }
                closeSent = true;
            }
            try {
                write(frame(OP_CLOSE, p));
            } catch (IOException | CancelledKeyException e) {
                abort(String.valueOf(e.getMessage()));
            }
        }

        /** A client frame: FIN, opcode, masked payload (RFC 6455 5.3). */
        private ByteBuffer frame(int opcode, byte[] payload) {
            int len = payload.length;
            int header = len < 126 ? 2 : len <= 0xffff ? 4 : 10;
            ByteBuffer b = ByteBuffer.allocate(header + 4 + len);
            b.put((byte) (0x80 | opcode));
            if (len < 126) {
                b.put((byte) (0x80 | len));
            } else if (len <= 0xffff) {
                b.put((byte) (0x80 | 126)).putShort((short) len);
            } else {
                b.put((byte) (0x80 | 127)).putLong(len);
            }
            int mask = ThreadLocalRandom.current().nextInt();
            b.putInt(mask);
            byte[] m = {(byte) (mask >>> 24), (byte) (mask >>> 16), (byte) (mask >>> 8), (byte) mask};
            for (int i = 0; i < len; i++) {
                b.put((byte) (payload[i] ^ m[i & 3]));
            }
            b.flip();
            return b;
        }

        /** Writes now when the socket takes it all, else queues the rest for the selector thread. */
        private void write(ByteBuffer b) throws IOException {
            synchronized (this) {
                if (state == State.CLOSED) {
                    return;
                }
                if (out.isEmpty()) {
                    ch.write(b);
                    if (!b.hasRemaining()) {
                        return;
                    }
                }
                out.add(b);
                if (out.size() == 1 && key != null) {
                    key.interestOpsOr(SelectionKey.OP_WRITE);
                    loop.selector.wakeup();
                }
            }
        }

        void flush() throws IOException {
            synchronized (this) {
                while (!out.isEmpty()) {
                    ByteBuffer b = out.peek();
                    ch.write(b);
                    if (b.hasRemaining()) {
                        return;
                    }
                    out.poll();
                }
                key.interestOpsAnd(~SelectionKey.OP_WRITE);
            }
        }

        void register(boolean connected) {
            try {
                synchronized (this) {
                    key = ch.register(loop.selector, connected ? 0 : SelectionKey.OP_CONNECT, this);
                }
                if (connected) {
                    upgrade();
                }
            } catch (IOException | RuntimeException e) {
                fail(1006, "connect: " + e.getMessage());
            }
        }

        void onConnectable() throws IOException {
            if (ch.finishConnect()) {
                upgrade();
            }
        }

        private void upgrade() throws IOException {
            byte[] nonce = new byte[16];
            ThreadLocalRandom.current().nextBytes(nonce);
            secKey = Base64.getEncoder().encodeToString(nonce);
            String request = "GET " + path + " HTTP/1.1\r\nHost: " + server.getHostString() + ":" + server.getPort()
                    + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + secKey
                    + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
            synchronized (this) {
                state = State.UPGRADING;
                key.interestOps(SelectionKey.OP_READ);
            }
            write(ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII)));
        }

        void onReadable() throws IOException {
            int n = ch.read(in);
            long now = System.nanoTime();
            if (n < 0) {
                fail(1006, "connection closed by the server without a close frame");
                return;
            }
            in.flip();
            try {
                if (state == State.UPGRADING && !handshake()) {
                    return;
                }
                if (state == State.OPEN || state == State.CLOSING) {
                    frames(now);
                }
            } finally {
                if (state != State.CLOSED) {
                    in.compact();
                    int want = Math.max(needed, in.position() + 1);
                    if (want > in.capacity()) {
                        if (want > MAX_MESSAGE + 16) {
                            fail(1009, "message from the server larger than " + MAX_MESSAGE + " bytes");
                        } else {
                            ByteBuffer bigger = ByteBuffer.allocate(Math.max(want, in.capacity() * 2));
                            in.flip();
                            bigger.put(in);
                            in = bigger;
                        }
                    }
                    needed = 0;
                }
            }
        }

        /** Parses the 101 response; false while it is incomplete or when it refused the upgrade. */
        private boolean handshake() {
            int end = -1;
            for (int i = in.position(); i + 3 < in.limit(); i++) {
                if (in.get(i) == '\r' && in.get(i + 1) == '\n' && in.get(i + 2) == '\r' && in.get(i + 3) == '\n') {
                    end = i + 4;
                    break;
                }
            }
            if (end < 0) {
                if (in.limit() - in.position() > 16_384) {
                    fail(1002, "HTTP response header too long");
                }
                return false;
            }
            byte[] head = new byte[end - in.position()];
            in.get(head);
            String[] lines = new String(head, StandardCharsets.ISO_8859_1).split("\r\n");
            String[] status = lines[0].split(" ", 3);
            int code = status.length > 1 && status[1].matches("[0-9]{3}") ? Integer.parseInt(status[1]) : -1;
            if (code != 101) {
                fail(code, "upgrade refused: " + lines[0]);
                return false;
            }
            String accept = null;
            for (String l : lines) {
                int colon = l.indexOf(':');
                if (colon > 0 && l.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals("sec-websocket-accept")) {
                    accept = l.substring(colon + 1).trim();
                }
            }
            if (!acceptFor(secKey).equals(accept)) {
                fail(1002, "bad Sec-WebSocket-Accept: " + accept);
                return false;
            }
            state = State.OPEN;
            listener.onOpen(this);
            return true;
        }

        private void frames(long now) {
            while (state != State.CLOSED) {
                int start = in.position();
                int have = in.limit() - start;
                if (have < 2) {
                    return;
                }
                int b0 = in.get(start) & 0xff;
                int b1 = in.get(start + 1) & 0xff;
                boolean fin = (b0 & 0x80) != 0;
                int opcode = b0 & 0x0f;
                boolean masked = (b1 & 0x80) != 0;
                long len = b1 & 0x7f;
                int header = 2;
                if (len == 126) {
                    if (have < 4) {
                        return;
                    }
                    len = in.getShort(start + 2) & 0xffff;
                    header = 4;
                } else if (len == 127) {
                    if (have < 10) {
                        return;
                    }
                    len = in.getLong(start + 2);
                    header = 10;
                }
                if (len < 0 || len > MAX_MESSAGE) {
                    fail(1009, "frame from the server larger than " + MAX_MESSAGE + " bytes");
                    return;
                }
                int maskAt = start + header;
                if (masked) {
                    header += 4;
                }
                if (have < header + len) {
                    needed = (int) (header + len);
                    return;
                }
                byte[] payload = new byte[(int) len];
                in.position(start + header);
                in.get(payload);
                if (masked) {
                    for (int i = 0; i < payload.length; i++) {
                        payload[i] ^= in.get(maskAt + (i & 3));
                    }
                }
                onFrame(fin, opcode, payload, now);
            }
        }

        private void onFrame(boolean fin, int opcode, byte[] payload, long now) {
            switch (opcode) {
                case OP_TEXT, OP_BINARY -> {
                    if (fin) {
                        if (opcode == OP_TEXT) {
                            listener.onText(this, new String(payload, StandardCharsets.UTF_8), now);
                        }
                    } else {
                        fragments = new ByteArrayOutputStream();
                        fragments.writeBytes(payload);
                        fragmentOpcode = opcode;
                    }
                }
                case OP_CONT -> {
                    if (fragments == null) {
                        fail(1002, "continuation frame without a first frame");
                        return;
                    }
                    fragments.writeBytes(payload);
                    if (fragments.size() > MAX_MESSAGE) {
                        fail(1009, "message from the server larger than " + MAX_MESSAGE + " bytes");
                        return;
                    }
                    if (fin) {
                        byte[] all = fragments.toByteArray();
                        fragments = null;
                        if (fragmentOpcode == OP_TEXT) {
                            listener.onText(this, new String(all, StandardCharsets.UTF_8), now);
                        }
                    }
                }
                case OP_CLOSE -> {
                    int code = payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 1005;
                    String reason = payload.length > 2 ? new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8)
                            : "";
                    synchronized (this) {
                        if (state == State.OPEN) {
                            state = State.CLOSING;
                        }
                    }
                    writeClose(code == 1005 ? 1000 : code, "");
                    fail(code, reason);
                }
                case OP_PING -> {
                    try {
                        write(frame(OP_PONG, payload));
                    } catch (IOException e) {
                        fail(1006, "pong: " + e.getMessage());
                    }
                }
                case OP_PONG -> {
                    // an answer to our ping: nothing to do
                }
                default -> fail(1002, "unknown opcode " + opcode);
            }
        }

        /** Ends the connection (once): closes the socket and tells the listener. */
        void fail(int code, String reason) {
            synchronized (this) {
                state = State.CLOSED;
                out.clear();
            }
            if (key != null) {
                key.cancel();
            }
            try {
                ch.close();
            } catch (IOException e) {
                // closing anyway
            }
            if (ended.compareAndSet(false, true)) {
                try {
                    listener.onClosed(this, code, reason);
                } catch (RuntimeException e) {
                    System.err.println("NioWebSocket listener failed: " + e);
                }
            }
        }
    }

    static String acceptFor(String key) {
        try {
            byte[] sha1 = MessageDigest.getInstance("SHA-1").digest((key + GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(sha1);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
