package org.sover.transport.webrtc.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sover.api.replication.BlobReceiver;
import org.sover.api.replication.BlobReceiver.BlobRejectedException;
import org.sover.api.replication.Delivery;
import org.sover.api.replication.NodeProtocol;
import org.sover.api.vault.BlobRecord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One blob arriving on a lane ({@link ReceiveLane}): after the header frame with the signed
 * manifest ({@link NodeProtocol}) it answers {@code ready} at once, then the ciphertext in binary
 * frames is fed through a queue into the shared {@link BlobReceiver} on a worker thread. It
 * grants credit every {@link #CREDIT_STEP} bytes consumed, and the sender never runs more than
 * {@link SendLane#WINDOW} ahead, so the queue stays bounded although a native callback may never
 * block. Ends with an {@code ack} or {@code error} frame.
 */
final class IncomingBlob {
    private static final Logger LOG = LoggerFactory.getLogger(IncomingBlob.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final int CREDIT_STEP = 1024 * 1024;
    private static final byte[] END = new byte[0];
    private static final String READY = "{\"type\":\"ready\"}";

    private final String senderNodeId;
    private final BlobChannel channel;
    private final Executor work;
    private final BlobReceiver receiver;
    private final long readTimeoutMillis;
    private final LongConsumer bytesReceived;
    private final Runnable finished;
    private final BlockingQueue<byte[]> queue = new LinkedBlockingQueue<>();
    private volatile Pipe pipe;
    private volatile IOException abort;
    private volatile boolean done;

    /**
     * @param finished called once, when the answer is sent or the transfer is dead
     */
    IncomingBlob(String senderNodeId, BlobChannel channel, BlobReceiver receiver, Executor work,
            long readTimeoutMillis, LongConsumer bytesReceived, Runnable finished) {
        this.senderNodeId = senderNodeId;
        this.channel = channel;
        this.work = work;
        this.receiver = receiver;
        this.readTimeoutMillis = readTimeoutMillis;
        this.bytesReceived = bytesReceived;
        this.finished = finished;
    }

    boolean isDone() {
        return done;
    }

    // Called on the native thread: copy, enqueue, return. Nothing here blocks or throws.

    /** A frame after the header; text frames have no meaning here and are ignored. */
    void received(byte[] bytes, boolean binary) {
        if (!done && binary) {
            queue.offer(bytes);
        }
    }

    /** Ends the transfer (channel closed, connection torn down, node stopping): the reader sees the failure. */
    synchronized void abort(IOException reason) {
        abort = reason;
        queue.offer(END);
        if (pipe == null && !done) {
            done = true;
            finished.run();
        }
    }

    /** The header frame: confirms it, then reads the blob on a worker thread. */
    synchronized void start(String headerText) {
        if (done) {
            return; // aborted before it began
        }
        BlobRecord record;
        try {
            JsonNode header = JSON.readTree(headerText);
            if (!"blob".equals(header.path("type").asText())) {
                throw new IllegalArgumentException("the first frame is not a blob header");
            }
            record = NodeProtocol.decode(header.path("manifest").asText(null), header.path("signature").asText(null));
        } catch (IOException | RuntimeException e) {
            pipe = new Pipe(0);
            work.execute(() -> answer(error(400, "bad_request", "the blob header is malformed: " + e.getMessage())));
            return;
        }
        Pipe p = new Pipe(record.manifest().cipherSize());
        pipe = p;
        work.execute(() -> {
            ObjectNode reply;
            try {
                channel.sendText(READY);
                Delivery d = receiver.receive(senderNodeId, record, p);
                reply = JSON.createObjectNode().put("type", "ack").put("blobId", d.blobId()).put("size", d.size())
                        .put("sha256", d.cipherSha256());
            } catch (BlobRejectedException e) {
                reply = error(e.status(), e.code(), e.getMessage());
            } catch (IOException e) {
                reply = error(500, "io_error", "node could not take blob " + record.id() + ": " + e.getMessage());
            } catch (RuntimeException e) {
                LOG.error("receiving blob {} from node {} failed", record.id(), senderNodeId, e);
                reply = error(500, "internal_error", "receiving blob " + record.id() + " failed: " + e);
            }
            bytesReceived.accept(p.consumed);
            answer(reply);
        });
    }

    private static ObjectNode error(int status, String code, String message) {
        return JSON.createObjectNode().put("type", "error").put("status", status).put("code", code)
                .put("message", message);
    }

    private void answer(ObjectNode reply) {
        done = true;
        queue.clear();
        try {
            if (abort == null) {
                channel.sendText(reply.toString());
            }
        } catch (IOException e) {
            LOG.debug("could not answer node {}: {}", senderNodeId, e.getMessage());
        } finally {
            finished.run();
        }
    }

    /** The ciphertext as the blob receiver reads it: exactly {@code size} bytes, then end of stream. */
    private final class Pipe extends InputStream {
        private final long size;
        private long consumed;
        private long credited;
        private byte[] chunk = END;
        private int pos;

        Pipe(long size) {
            this.size = size;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (consumed >= size) {
                return -1;
            }
            while (pos >= chunk.length) {
                byte[] next;
                try {
                    next = queue.poll(readTimeoutMillis, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while receiving from node " + senderNodeId);
                }
                if (abort != null) {
                    throw abort;
                }
                if (next == null) {
                    throw new IOException("node " + senderNodeId + " sent nothing for " + readTimeoutMillis / 1000
                            + " s after " + consumed + " of " + size + " bytes");
                }
                chunk = next;
                pos = 0;
            }
            int n = (int) Math.min(Math.min(len, chunk.length - pos), size - consumed);
            System.arraycopy(chunk, pos, b, off, n);
            pos += n;
            consumed += n;
            if (consumed - credited >= CREDIT_STEP && consumed < size) {
                credited = consumed;
                channel.sendText("{\"type\":\"credit\",\"consumed\":" + consumed + "}");
            }
            return n;
        }
    }
}
