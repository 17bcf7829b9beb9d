package org.sover.vault.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import javax.servlet.AsyncContext;
import javax.servlet.AsyncEvent;
import javax.servlet.AsyncListener;
import javax.servlet.ServletOutputStream;
import javax.servlet.WriteListener;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One open {@code GET /v1/events} stream. Writing never blocks: messages wait in a bounded
 * queue and go out whenever the container says the connection takes more (non-blocking
 * servlet output), so no thread is held per client and a slow client cannot stall the
 * others. A client whose queue overflows, or whose connection takes nothing for a while, is
 * dropped by {@link EventFanout}; its browser reconnects.
 */
final class SseClient implements WriteListener, AsyncListener {
    private static final Logger LOG = LoggerFactory.getLogger(SseClient.class);
    /** Queued messages are joined into writes of about this size. */
    private static final int WRITE_CHUNK = 64 * 1024;

    private final AsyncContext context;
    private final ServletOutputStream out;
    private final int maxQueuedBytes;
    private final BooleanSupplier stillSignedIn;
    private final Consumer<SseClient> onClose;
    private final Deque<byte[]> queue = new ArrayDeque<>();
    private int queuedBytes;
    private boolean unflushed;
    private boolean draining;
    private boolean closed;
    private boolean started;
    /** System.nanoTime() since data has been waiting for the connection; 0 while everything is out. */
    private long blockedSince;
    private long nextSignInCheck;

    /**
     * @param stillSignedIn whether the credential the stream was opened with is still valid
     * @param onClose       called once when the stream ends, whoever ends it
     */
    SseClient(AsyncContext context, int maxQueuedBytes, BooleanSupplier stillSignedIn, long nextSignInCheck,
            Consumer<SseClient> onClose) throws IOException {
        this.context = context;
        this.out = context.getResponse().getOutputStream();
        this.maxQueuedBytes = maxQueuedBytes;
        this.stillSignedIn = stillSignedIn;
        this.nextSignInCheck = nextSignInCheck;
        this.onClose = onClose;
    }

    /**
     * Puts the first message ahead of anything queued meanwhile and hands writing over to the
     * container. Nothing is written before: until the write listener is set, the stream is in
     * blocking mode and a write could hold the caller's thread.
     */
    void start(byte[] first) {
        boolean ok;
        synchronized (this) {
            queue.addFirst(first);
            queuedBytes += first.length;
            context.addListener(this);
            out.setWriteListener(this);
            started = true;
            ok = drain(); // whether or not the container calls onWritePossible right away
        }
        if (!ok) {
            close();
        }
    }

    /** Queues a message and writes what the connection takes now; false when closed or the queue is full. */
    boolean send(byte[] message) {
        boolean ok;
        synchronized (this) {
            if (closed || queuedBytes + message.length > maxQueuedBytes) {
                return false;
            }
            queue.add(message);
            queuedBytes += message.length;
            ok = drain();
        }
        if (!ok) {
            close();
        }
        return ok;
    }

    @Override
    public void onWritePossible() {
        boolean ok;
        synchronized (this) {
            ok = drain();
        }
        if (!ok) {
            close();
        }
    }

    /** Writes while the connection is ready; false when writing failed. The caller holds the lock. */
    private boolean drain() {
        if (draining || closed || !started) {
            return true; // nested: the outer loop goes on writing; not started: start() will
        }
        draining = true;
        try {
            while (out.isReady()) {
                if (queue.isEmpty()) {
                    if (!unflushed) {
                        blockedSince = 0;
                        return true;
                    }
                    unflushed = false;
                    out.flush();
                    continue;
                }
                out.write(nextChunk());
                unflushed = true;
            }
            if (blockedSince == 0) {
                blockedSince = System.nanoTime();
            }
            return true;
        } catch (IOException | IllegalStateException e) {
            LOG.debug("an event stream could not be written: {}", e.toString());
            return false;
        } finally {
            draining = false;
        }
    }

    private byte[] nextChunk() {
        byte[] first = queue.poll();
        queuedBytes -= first.length;
        if (queue.isEmpty() || first.length + queue.peek().length > WRITE_CHUNK) {
            return first;
        }
        ByteArrayOutputStream chunk = new ByteArrayOutputStream(WRITE_CHUNK);
        chunk.writeBytes(first);
        while (!queue.isEmpty() && chunk.size() + queue.peek().length <= WRITE_CHUNK) {
            byte[] next = queue.poll();
            queuedBytes -= next.length;
            chunk.writeBytes(next);
        }
        return chunk.toByteArray();
    }

    /** How long data has been waiting for a connection that takes nothing, in nanoseconds; 0 when none waits. */
    synchronized long blockedFor(long now) {
        return blockedSince == 0 ? 0 : now - blockedSince;
    }

    /** True once every {@code interval}: time to check that the session or token is still valid. */
    synchronized boolean signInCheckDue(long now, long interval) {
        if (now - nextSignInCheck < 0) {
            return false;
        }
        nextSignInCheck = now + interval;
        return true;
    }

    boolean stillSignedIn() {
        return stillSignedIn.getAsBoolean();
    }

    /** Ends the stream; safe to call more than once and from any thread. */
    void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            queue.clear();
            queuedBytes = 0;
        }
        try {
            context.complete();
        } catch (IllegalStateException e) {
            // the container has completed it already (the client went away)
        }
        onClose.accept(this);
    }

    @Override
    public void onError(Throwable t) {
        LOG.debug("an event stream failed: {}", t.toString());
        close();
    }

    @Override
    public void onComplete(AsyncEvent event) {
        synchronized (this) {
            closed = true;
            queue.clear();
            queuedBytes = 0;
        }
        onClose.accept(this);
    }

    @Override
    public void onTimeout(AsyncEvent event) {
        close();
    }

    @Override
    public void onError(AsyncEvent event) {
        onError(event.getThrowable() == null ? new IOException("the connection failed") : event.getThrowable());
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
        // not restarted
    }
}
