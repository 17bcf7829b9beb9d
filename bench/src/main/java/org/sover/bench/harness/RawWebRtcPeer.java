package org.sover.bench.harness;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import dev.onvoid.webrtc.CreateSessionDescriptionObserver;
import dev.onvoid.webrtc.PeerConnectionFactory;
import dev.onvoid.webrtc.PeerConnectionObserver;
import dev.onvoid.webrtc.RTCAnswerOptions;
import dev.onvoid.webrtc.RTCConfiguration;
import dev.onvoid.webrtc.RTCDataChannel;
import dev.onvoid.webrtc.RTCDataChannelBuffer;
import dev.onvoid.webrtc.RTCDataChannelInit;
import dev.onvoid.webrtc.RTCDataChannelObserver;
import dev.onvoid.webrtc.RTCDataChannelState;
import dev.onvoid.webrtc.RTCIceCandidate;
import dev.onvoid.webrtc.RTCIceServer;
import dev.onvoid.webrtc.RTCIceTransportPolicy;
import dev.onvoid.webrtc.RTCOfferOptions;
import dev.onvoid.webrtc.RTCPeerConnection;
import dev.onvoid.webrtc.RTCPeerConnectionState;
import dev.onvoid.webrtc.RTCSdpType;
import dev.onvoid.webrtc.RTCSessionDescription;
import dev.onvoid.webrtc.RTCStats;
import dev.onvoid.webrtc.RTCStatsType;
import dev.onvoid.webrtc.SetSessionDescriptionObserver;
import dev.onvoid.webrtc.media.audio.HeadlessAudioDeviceModule;

/**
 * The reference of the webrtc rows: one end of a raw webrtc-java data channel, run as its own
 * JVM (the harness starts two). Signaling goes through the harness over stdin/stdout, one line
 * per message: {@code SDP <offer|answer> <base64>} and {@code CAND <mid> <index> <base64>}; the
 * harness copies these lines from one peer's stdout to the other's stdin. The sender opens one
 * ordered, reliable channel and sends the given files (or a byte count) in messages of at most
 * 256 KiB, keeping the channel's buffer under 4 MiB (polled: {@code onBufferedAmountChange} never
 * fires in 0.14.0), as Sover's transport does; the receiver counts the bytes and answers
 * {@code done} once all have arrived. Each prints one {@code RESULT} line with
 * {@link System#nanoTime()} stamps (CLOCK_MONOTONIC, the same in every process of the machine).
 *
 * <p>Rules from shared/notes/webrtc-java.md: one factory with a headless audio module, every
 * callback body wrapped (an escaping exception kills the JVM), nothing blocks on the native
 * callback thread (work goes to {@code control}), message buffers are read during the call,
 * teardown in the order channel, connection, factory, audio module; a watchdog halts the JVM
 * after {@code --timeout} seconds whatever happens.
 *
 * <pre>
 * java -cp benchmarks.jar org.sover.bench.harness.RawWebRtcPeer --role send|receive
 *      [--policy all|relay] [--ice URL --user U --pass P] [--files LIST | --bytes N]
 *      [--message 262144] [--high-water 4194304] [--timeout 600]
 *      [--channels N] [--per-file true] [--trace true] [--free-after-ms 2000]
 * </pre>
 *
 * The last four are for diagnosis only (the harness uses none of them): N channels sending at
 * once; with {@code --per-file} a new channel per file, as Sover's transport opens one per blob
 * (header {@code size <n>}, the file, an {@code ack} from the receiver, then the sender closes
 * it and the receiver frees its end {@code --free-after-ms} later, -1 = at the end only);
 * {@code --trace} logs every channel's label and SCTP stream id as it is opened, got, completed
 * and freed.
 * </pre>
 */
public final class RawWebRtcPeer {
    private static final PrintStream OUT = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false,
            StandardCharsets.UTF_8);

    private final boolean sender;
    private final boolean relay;
    private final String iceUrl;
    private final String iceUser;
    private final String icePass;
    private final List<Path> files = new ArrayList<>();
    private long total;
    private final int message;
    private final long highWater;
    private final long timeoutNanos;
    /** Diagnosis only (the harness uses 1 and false): channels sending at once, and a new channel per file as Sover does. */
    private final int channels;
    private final boolean perFile;
    /** Diagnosis only: a LOG line per channel opened, got, acked and freed, with its SCTP stream id. */
    private final boolean trace;
    /** Diagnosis only, --per-file: the receiver frees a channel this long after its ack (Sover: 2000 ms). */
    private final long freeAfterMillis;
    private final long startNanos = System.nanoTime();

    /** Every change to the connection, and every line from the other peer, runs here (never on the native thread). */
    private final ExecutorService control = Executors.newSingleThreadExecutor(daemon("raw-control"));
    /** Lines to stdout leave in order from here: a full pipe must not block a native callback. */
    private final ExecutorService out = Executors.newSingleThreadExecutor(daemon("raw-out"));
    private volatile boolean closing;

    private HeadlessAudioDeviceModule adm;
    private PeerConnectionFactory factory;
    private RTCPeerConnection pc;
    /** The first channel (bench-0): "done" goes over it; the sender's offer carries it. */
    private final AtomicReference<RTCDataChannel> channel = new AtomicReference<>();
    /** Further channels the receiver got (disposed 2 s after their ack, or at teardown). */
    private final List<ChannelObserver> others = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final java.util.concurrent.ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            daemon("raw-timer"));
    private final List<RTCIceCandidate> pendingCandidates = new ArrayList<>();
    private boolean remoteSet;

    private final CountDownLatch open = new CountDownLatch(1);
    private final CountDownLatch failed = new CountDownLatch(1);
    private final CountDownLatch complete = new CountDownLatch(1);
    private final CountDownLatch closed = new CountDownLatch(1);
    private volatile String failure;
    private volatile RTCPeerConnectionState pcState = RTCPeerConnectionState.NEW;

    // receiver counters: touched only on the native callback thread, read after 'complete'
    private byte[] scratch = new byte[256 * 1024];
    private volatile long received;
    private volatile long firstReceivedNanos;
    private volatile long lastReceivedNanos;
    private volatile long messages;

    private RawWebRtcPeer(Map<String, String> a) throws IOException {
        sender = "send".equals(a.get("--role"));
        relay = "relay".equals(a.getOrDefault("--policy", "all"));
        iceUrl = a.get("--ice");
        iceUser = a.get("--user");
        icePass = a.get("--pass");
        message = Integer.parseInt(a.getOrDefault("--message", Integer.toString(256 * 1024)));
        highWater = Long.parseLong(a.getOrDefault("--high-water", Long.toString(4L << 20)));
        timeoutNanos = TimeUnit.SECONDS.toNanos(Long.parseLong(a.getOrDefault("--timeout", "600")));
        channels = Integer.parseInt(a.getOrDefault("--channels", "1"));
        perFile = Boolean.parseBoolean(a.getOrDefault("--per-file", "false"));
        trace = Boolean.parseBoolean(a.getOrDefault("--trace", "false"));
        freeAfterMillis = Long.parseLong(a.getOrDefault("--free-after-ms", "2000"));
        if (a.containsKey("--files")) {
            for (String l : Files.readAllLines(Paths.get(a.get("--files")))) {
                if (!l.isBlank()) {
                    Path f = Paths.get(l.trim());
                    files.add(f);
                    total += Files.size(f);
                }
            }
        } else {
            total = Long.parseLong(a.getOrDefault("--bytes", Long.toString(64L << 20)));
        }
        if (message > 256 * 1024) {
            throw new IllegalArgumentException("a message is at most 262144 bytes (a=max-message-size)");
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new java.util.HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i], args[i + 1]);
        }
        RawWebRtcPeer p = new RawWebRtcPeer(a);
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(TimeUnit.NANOSECONDS.toMillis(p.timeoutNanos) + 15_000);
            } catch (InterruptedException e) {
                return;
            }
            OUT.println("ERROR watchdog: still running after the timeout; halting");
            OUT.flush();
            Runtime.getRuntime().halt(3);
        }, "raw-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        int code;
        try {
            code = p.run();
        } catch (Throwable t) {
            p.line("ERROR " + oneLine(t.toString()));
            code = 2;
        } finally {
            p.teardown();
        }
        p.out.shutdown();
        p.out.awaitTermination(5, TimeUnit.SECONDS);
        OUT.flush();
        System.exit(code);
    }

    private int run() throws Exception {
        long t0 = System.nanoTime();
        adm = new HeadlessAudioDeviceModule();
        factory = new PeerConnectionFactory(adm);
        line(String.format(java.util.Locale.ROOT, "LOG factory created in %d ms", (System.nanoTime() - t0) / 1_000_000));
        RTCConfiguration cfg = new RTCConfiguration();
        if (iceUrl != null) {
            RTCIceServer ice = new RTCIceServer();
            ice.urls = new ArrayList<>(List.of(iceUrl));
            ice.username = iceUser;
            ice.password = icePass;
            cfg.iceServers.add(ice);
        }
        cfg.iceTransportPolicy = relay ? RTCIceTransportPolicy.RELAY : RTCIceTransportPolicy.ALL;
        pc = factory.createPeerConnection(cfg, new Observer());
        if (pc == null) {
            throw new IllegalStateException("createPeerConnection returned null");
        }
        Thread stdin = new Thread(this::readStdin, "raw-stdin");
        stdin.setDaemon(true);
        stdin.start();
        if (sender) {
            RTCDataChannel dc = pc.createDataChannel("bench-0", new RTCDataChannelInit()); // ordered, reliable
            if (dc == null) {
                throw new IllegalStateException("createDataChannel returned null");
            }
            channel.set(dc);
            ChannelObserver o = new ChannelObserver(dc);
            dc.registerObserver(o);
            firstObserver = o;
            control.execute(() -> pc.createOffer(new RTCOfferOptions(), new Created("offer")));
        }
        if (!await(open, 60)) {
            throw new IllegalStateException("no open data channel within 60 s (connection " + pcState + ")"
                    + (failure == null ? "" : ": " + failure));
        }
        line(String.format(java.util.Locale.ROOT, "LOG channel open %d ms after start",
                (System.nanoTime() - startNanos) / 1_000_000));
        return sender ? send() : receive();
    }

    // ---- sender

    private volatile ChannelObserver firstObserver;
    private final java.util.concurrent.atomic.AtomicLong firstSent = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong sentBytes = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong sentMessages = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong bufferWaits = new java.util.concurrent.atomic.AtomicLong();

    /** What the sender sends: a file, or {@code size} zero bytes. */
    private record Item(Path file, long size) {
        InputStream open() throws IOException {
            return file != null ? Files.newInputStream(file) : new Zeros(size);
        }
    }

    private int send() throws Exception {
        List<Item> items = new ArrayList<>();
        if (files.isEmpty()) {
            for (long left = total; left > 0; left -= Math.min(left, 8L << 20)) {
                items.add(new Item(null, Math.min(left, 8L << 20)));
            }
        } else {
            for (Path f : files) {
                items.add(new Item(f, Files.size(f)));
            }
        }
        long deadline = startNanos + timeoutNanos;
        long cpu0 = cpuNanos();
        // the fixed channels: bench-0 (already open) and, for --channels N without --per-file, N-1 more
        List<ChannelObserver> fixed = new ArrayList<>();
        if (!perFile) {
            fixed.add(firstObserver);
            for (int i = 1; i < channels; i++) {
                fixed.add(openChannel("bench-" + i, deadline));
            }
        }
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        ExecutorService workers = Executors.newFixedThreadPool(channels, daemon("raw-send"));
        List<java.util.concurrent.Future<?>> done = new ArrayList<>();
        for (int w = 0; w < channels; w++) {
            ChannelObserver mine = perFile ? null : fixed.get(w);
            done.add(workers.submit(() -> {
                byte[] full = new byte[message];
                int i;
                while ((i = next.getAndIncrement()) < items.size()) {
                    Item item = items.get(i);
                    ChannelObserver ch = perFile ? openChannel("f-" + i, deadline) : mine;
                    try {
                        if (perFile) {
                            ch.dc.send(new RTCDataChannelBuffer(ByteBuffer.wrap(("size " + item.size())
                                    .getBytes(StandardCharsets.UTF_8)), false));
                        }
                        try (InputStream in = item.open()) {
                            sendAll(ch.dc, in, full, deadline);
                        }
                        trace("sent " + ch.label + " " + item.size());
                        if (perFile && !ch.acked.await(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                            throw new IllegalStateException("no ack for " + ch.dc.getLabel() + " (" + item.size() + " bytes)");
                        }
                    } finally {
                        if (perFile) {
                            ch.dispose();
                        }
                    }
                }
                return null;
            }));
        }
        try {
            for (java.util.concurrent.Future<?> f : done) {
                f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
        } finally {
            workers.shutdownNow(); // the workers see the interrupt between messages
            if (!workers.awaitTermination(10, TimeUnit.SECONDS)) {
                line("LOG a sending thread did not stop");
            }
        }
        long last = System.nanoTime();
        if (!await(complete, Math.max(5, TimeUnit.NANOSECONDS.toSeconds(deadline - System.nanoTime())))) {
            throw new IllegalStateException("the receiver did not confirm " + sentBytes + " bytes in time");
        }
        long confirmed = System.nanoTime();
        long cpu = cpuNanos() - cpu0;
        String path = path();
        for (int i = 1; i < fixed.size(); i++) {
            fixed.get(i).dispose();
        }
        line("RESULT role=send bytes=" + sentBytes + " messages=" + sentMessages + " first=" + firstSent + " last=" + last
                + " confirmed=" + confirmed + " cpu=" + cpu + " waits=" + bufferWaits + " path=" + path);
        return 0;
    }

    /** A new channel from this (sending) side, open. */
    private ChannelObserver openChannel(String label, long deadline) throws Exception {
        RTCDataChannel dc;
        synchronized (this) {
            if (closing) {
                throw new IllegalStateException("closing");
            }
            dc = pc.createDataChannel(label, new RTCDataChannelInit());
        }
        if (dc == null) {
            throw new IllegalStateException("createDataChannel(" + label + ") returned null");
        }
        ChannelObserver o = new ChannelObserver(dc);
        dc.registerObserver(o);
        onControl(() -> o.check());
        if (!o.opened.await(Math.max(1, Math.min(deadline - System.nanoTime(), TimeUnit.SECONDS.toNanos(30))),
                TimeUnit.NANOSECONDS)) {
            o.dispose();
            throw new IllegalStateException("channel " + label + " did not open within 30 s");
        }
        trace("open " + label + " id=" + dc.getId());
        return o;
    }

    /** The stream in messages of at most {@code message} bytes, the channel's buffer kept under the high-water mark. */
    private void sendAll(RTCDataChannel dc, InputStream in, byte[] full, long deadline) throws Exception {
        while (true) {
            int n = in.readNBytes(full, 0, message);
            if (n == 0) {
                return;
            }
            // a heap buffer is sent whole (its backing array): exact arrays for short messages
            byte[] msg = n == message ? full : java.util.Arrays.copyOf(full, n);
            while (dc.getBufferedAmount() >= highWater) {
                bufferWaits.incrementAndGet();
                if (Thread.currentThread().isInterrupted() || closing) {
                    throw new InterruptedException("stopped after " + sentBytes + " bytes");
                }
                if (System.nanoTime() > deadline || failure != null) {
                    throw new IllegalStateException("stalled after " + sentBytes + " bytes" + (failure == null ? ""
                            : ": " + failure));
                }
                LockSupport.parkNanos(1_000_000);
            }
            if (Thread.currentThread().isInterrupted() || closing) {
                throw new InterruptedException("stopped after " + sentBytes + " bytes");
            }
            RTCDataChannelState st = dc.getState();
            if (st != RTCDataChannelState.OPEN) {
                throw new IllegalStateException("channel " + dc.getLabel() + " is " + st + " after " + sentBytes + " bytes");
            }
            firstSent.compareAndSet(0, System.nanoTime());
            dc.send(new RTCDataChannelBuffer(ByteBuffer.wrap(msg), true));
            sentBytes.addAndGet(n);
            sentMessages.incrementAndGet();
        }
    }

    // ---- receiver

    private int receive() throws Exception {
        long cpu0 = cpuNanos();
        long deadline = startNanos + timeoutNanos;
        try {
            if (!await(complete, Math.max(1, TimeUnit.NANOSECONDS.toSeconds(deadline - System.nanoTime())))) {
                throw new IllegalStateException("received " + received + " of " + total + " bytes before the timeout");
            }
        } catch (IllegalStateException e) {
            throw new IllegalStateException(e.getMessage() + " (received " + received + " of " + total + " bytes)");
        }
        long cpu = cpuNanos() - cpu0;
        String path = path();
        line("RESULT role=receive bytes=" + received + " messages=" + messages + " first=" + firstReceivedNanos + " last="
                + lastReceivedNanos + " cpu=" + cpu + " path=" + path);
        // the sender closes on our "done": give it a moment so the answer is not lost in our teardown
        await(closed, 5);
        return 0;
    }

    /** Called on the native thread for every binary message: count, copy out (the buffer dies with the call). */
    private void onBytes(ChannelObserver from, ByteBuffer data) {
        int n = data.remaining();
        if (n > scratch.length) {
            scratch = new byte[n];
        }
        data.get(scratch, 0, n);
        long now = System.nanoTime();
        if (received == 0) {
            firstReceivedNanos = now;
        }
        received += n;
        messages++;
        if (from.answered && trace) {
            trace("bytes after the ack on " + from.label + ": " + n);
        }
        from.got += n;
        if (from.expected >= 0 && from.got >= from.expected && !from.answered) {
            from.answered = true;
            trace("complete " + from.label + " " + from.got);
            onControl(() -> {
                from.sendText("ack");
                // the sender closes on the ack; free ours a little later, as Sover does (2 s)
                if (freeAfterMillis >= 0) {
                    timer.schedule(() -> onControl(from::dispose), freeAfterMillis, TimeUnit.MILLISECONDS);
                }
            });
        }
        if (received >= total && lastReceivedNanos == 0) {
            lastReceivedNanos = now;
            complete.countDown();
            onControl(() -> {
                ChannelObserver first = firstObserver;
                if (first != null) {
                    first.sendText("done");
                }
            });
        }
    }

    // ---- signaling through the harness

    private void readStdin() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            String l;
            while ((l = r.readLine()) != null) {
                String lineIn = l;
                onControl(() -> onSignal(lineIn));
            }
        } catch (IOException | RuntimeException e) {
            // the harness went away: the watchdog or the deadlines end this process
        }
    }

    /** On the control thread. */
    private void onSignal(String l) {
        String[] f = l.trim().split(" ");
        if (closing || pc == null) {
            return;
        }
        if (f[0].equals("SDP") && f.length == 3) {
            String sdp = new String(Base64.getDecoder().decode(f[2]), StandardCharsets.UTF_8);
            boolean offer = f[1].equals("offer");
            pc.setRemoteDescription(new RTCSessionDescription(offer ? RTCSdpType.OFFER : RTCSdpType.ANSWER, sdp),
                    new SetSessionDescriptionObserver() {
                        @Override
                        public void onSuccess() {
                            onControl(() -> {
                                remoteSet = true;
                                for (RTCIceCandidate c : pendingCandidates) {
                                    pc.addIceCandidate(c);
                                }
                                pendingCandidates.clear();
                                if (offer) {
                                    pc.createAnswer(new RTCAnswerOptions(), new Created("answer"));
                                }
                            });
                        }

                        @Override
                        public void onFailure(String error) {
                            fail("setRemoteDescription: " + error);
                        }
                    });
        } else if (f[0].equals("CAND") && f.length == 4) {
            RTCIceCandidate c = new RTCIceCandidate(f[1], Integer.parseInt(f[2]),
                    new String(Base64.getDecoder().decode(f[3]), StandardCharsets.UTF_8));
            if (remoteSet) {
                pc.addIceCandidate(c);
            } else {
                pendingCandidates.add(c);
            }
        }
    }

    /** Our offer or answer was made: send it first (no candidate may overtake it), then apply it. */
    private final class Created implements CreateSessionDescriptionObserver {
        private final String type;

        Created(String type) {
            this.type = type;
        }

        @Override
        public void onSuccess(RTCSessionDescription d) {
            try {
                String sdp = d.sdp;
                onControl(() -> {
                    line("SDP " + type + " " + Base64.getEncoder().encodeToString(sdp.getBytes(StandardCharsets.UTF_8)));
                    pc.setLocalDescription(new RTCSessionDescription(d.sdpType, sdp), new SetSessionDescriptionObserver() {
                        @Override
                        public void onSuccess() {
                            // ICE goes on by itself
                        }

                        @Override
                        public void onFailure(String error) {
                            fail("setLocalDescription: " + error);
                        }
                    });
                });
            } catch (Throwable t) {
                fail("offer/answer callback: " + t);
            }
        }

        @Override
        public void onFailure(String error) {
            fail("creating the " + type + ": " + error);
        }
    }

    private final class Observer implements PeerConnectionObserver {
        @Override
        public void onIceCandidate(RTCIceCandidate c) {
            try {
                String mid = c.sdpMid == null ? "0" : c.sdpMid;
                String text = "CAND " + mid + " " + c.sdpMLineIndex + " "
                        + Base64.getEncoder().encodeToString(c.sdp.getBytes(StandardCharsets.UTF_8));
                line(text);
            } catch (Throwable t) {
                fail("candidate callback: " + t);
            }
        }

        @Override
        public void onConnectionChange(RTCPeerConnectionState state) {
            try {
                pcState = state;
                if (state == RTCPeerConnectionState.FAILED) {
                    fail("ICE failed (connection FAILED)");
                } else if (state == RTCPeerConnectionState.CLOSED) {
                    closed.countDown();
                }
            } catch (Throwable t) {
                // nothing may escape
            }
        }

        @Override
        public void onDataChannel(RTCDataChannel dc) {
            try {
                if (sender) {
                    return;
                }
                ChannelObserver o = new ChannelObserver(dc);
                dc.registerObserver(o);
                trace("got " + o.label + " id=" + dc.getId());
                if (!channel.compareAndSet(null, dc)) {
                    others.add(o);
                } else {
                    firstObserver = o;
                }
                onControl(o::check);
            } catch (Throwable t) {
                fail("data channel callback: " + t);
            }
        }
    }

    private final class ChannelObserver implements RTCDataChannelObserver {
        final RTCDataChannel dc;
        final CountDownLatch opened = new CountDownLatch(1);
        final CountDownLatch acked = new CountDownLatch(1);
        /** Receiver, --per-file: the size announced by the header, bytes so far, ack sent (native thread only). */
        long expected = -1;
        long got;
        boolean answered;
        private boolean disposed;

        final String label;

        ChannelObserver(RTCDataChannel dc) {
            this.dc = dc;
            this.label = dc.getLabel();
        }

        @Override
        public void onBufferedAmountChange(long previousAmount) {
            // never called by webrtc-java 0.14.0: the sender polls
        }

        @Override
        public void onStateChange() {
            try {
                onControl(this::check);
            } catch (Throwable t) {
                // nothing may escape
            }
        }

        @Override
        public void onMessage(RTCDataChannelBuffer buffer) {
            try {
                if (buffer.binary) {
                    onBytes(this, buffer.data);
                } else {
                    ByteBuffer d = buffer.data;
                    byte[] b = new byte[d.remaining()];
                    d.get(b);
                    String text = new String(b, StandardCharsets.UTF_8);
                    if (sender && "done".equals(text)) {
                        complete.countDown();
                    } else if (sender && "ack".equals(text)) {
                        acked.countDown();
                    } else if (!sender && text.startsWith("size ")) {
                        expected = Long.parseLong(text.substring(5));
                    }
                }
            } catch (Throwable t) {
                fail("message callback: " + t);
            }
        }

        /** On the control thread (or a sender thread right after registering). */
        void check() {
            RTCDataChannel c = dc;
            RTCDataChannelState s;
            synchronized (this) {
                if (disposed || closing) {
                    return;
                }
                s = c.getState();
            }
            if (s == RTCDataChannelState.OPEN) {
                opened.countDown();
                if (c == channel.get()) {
                    open.countDown();
                }
            } else if ((s == RTCDataChannelState.CLOSED || s == RTCDataChannelState.CLOSING) && c == channel.get()) {
                closed.countDown();
                if (complete.getCount() > 0) {
                    fail("the data channel closed");
                }
            }
        }

        void sendText(String text) {
            synchronized (this) {
                if (disposed || closing) {
                    return;
                }
                try {
                    dc.send(new RTCDataChannelBuffer(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), false));
                } catch (Exception e) {
                    fail("sending " + text + " on " + dc.getLabel() + ": " + e);
                }
            }
        }

        /** unregister, close, dispose: once. */
        synchronized void dispose() {
            if (disposed) {
                return;
            }
            disposed = true;
            others.remove(this);
            trace("free " + label);
            try {
                dc.unregisterObserver();
                dc.close();
                dc.dispose();
            } catch (Throwable t) {
                line("LOG disposing " + oneLine(t.toString()));
            }
        }
    }

    // ---- ICE path from the stats (as transport-webrtc's IcePath)

    private String path() {
        CompletableFuture<String> f = new CompletableFuture<>();
        onControl(() -> pc.getStats(report -> {
            try {
                Map<String, RTCStats> stats = report.getStats();
                RTCStats pair = null;
                for (RTCStats s : stats.values()) {
                    if (s.getType() == RTCStatsType.TRANSPORT) {
                        Object sel = s.getAttributes().get("selectedCandidatePairId");
                        if (sel != null && stats.get(sel.toString()) != null) {
                            pair = stats.get(sel.toString());
                        }
                    }
                }
                if (pair == null) {
                    f.complete("unknown");
                    return;
                }
                String local = type(stats, pair.getAttributes().get("localCandidateId"));
                String remote = type(stats, pair.getAttributes().get("remoteCandidateId"));
                f.complete("relay".equals(local) || "relay".equals(remote) ? "relay"
                        : local == null && remote == null ? "unknown" : local + "/" + remote);
            } catch (Throwable t) {
                f.complete("unknown");
            }
        }));
        try {
            String p = f.get(3, TimeUnit.SECONDS);
            return "host/host".equals(p) ? "host" : p.replace('/', '-');
        } catch (Exception e) {
            return "unknown";
        }
    }

    private static String type(Map<String, RTCStats> stats, Object id) {
        RTCStats c = id == null ? null : stats.get(id.toString());
        Object t = c == null ? null : c.getAttributes().get("candidateType");
        return t == null ? null : t.toString();
    }

    // ---- teardown: channel, connection, factory, audio module (the order that never crashed)

    private void teardown() {
        closing = true;
        try {
            control.submit(() -> {
            }).get(5, TimeUnit.SECONDS); // let a running control task finish
        } catch (Exception e) {
            // go on
        }
        control.shutdown();
        try {
            control.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        timer.shutdownNow();
        for (ChannelObserver o : new ArrayList<>(others)) {
            o.dispose();
        }
        ChannelObserver first = firstObserver;
        if (first != null) {
            first.dispose();
        }
        if (pc != null) {
            try {
                pc.close();
            } catch (Throwable t) {
                line("LOG closing the connection: " + oneLine(t.toString()));
            }
        }
        if (factory != null) {
            try {
                factory.dispose();
            } catch (Throwable t) {
                line("LOG disposing the factory: " + oneLine(t.toString()));
            }
        }
        if (adm != null) {
            try {
                adm.dispose();
            } catch (Throwable t) {
                line("LOG disposing the audio module: " + oneLine(t.toString()));
            }
        }
    }

    // ---- helpers

    private void fail(String why) {
        if (failure == null) {
            failure = why;
            line("LOG failure: " + oneLine(why));
        }
        failed.countDown();
        open.countDown(); // wake the main thread; it checks 'failure'
    }

    private void onControl(Runnable r) {
        if (closing || control.isShutdown()) {
            return;
        }
        try {
            control.execute(() -> {
                try {
                    r.run();
                } catch (Throwable t) {
                    fail("control task: " + t);
                }
            });
        } catch (Throwable t) {
            // shutting down
        }
    }

    private void trace(String what) {
        if (trace) {
            line("LOG " + (System.nanoTime() - startNanos) / 1_000_000 + " ms " + what);
        }
    }

    private void line(String s) {
        try {
            out.execute(() -> {
                OUT.println(s);
                OUT.flush();
            });
        } catch (Throwable t) {
            // shutting down
        }
    }

    /** Waits up to {@code seconds} for the latch; throws as soon as a failure was recorded (except for 'closed'). */
    private boolean await(CountDownLatch l, long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            if (l != closed && failure != null) {
                throw new IllegalStateException(failure);
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return l.getCount() == 0;
            }
            if (l.await(Math.min(left, 200_000_000L), TimeUnit.NANOSECONDS)) {
                if (l != closed && failure != null) {
                    throw new IllegalStateException(failure);
                }
                return true;
            }
        }
    }

    private static long cpuNanos() {
        java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean s ? s.getProcessCpuTime() : -1;
    }

    private static String oneLine(String s) {
        return s.replace('\n', ' ').replace('\r', ' ');
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    /** {@code n} zero bytes. */
    private static final class Zeros extends InputStream {
        private long left;

        Zeros(long n) {
            left = n;
        }

        @Override
        public int read() {
            if (left <= 0) {
                return -1;
            }
            left--;
            return 0;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (left <= 0) {
                return -1;
            }
            int n = (int) Math.min(len, left);
            java.util.Arrays.fill(b, off, off + n, (byte) 0);
            left -= n;
            return n;
        }
    }
}
