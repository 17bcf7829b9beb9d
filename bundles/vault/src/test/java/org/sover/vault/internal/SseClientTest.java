package org.sover.vault.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import javax.servlet.AsyncContext;
import javax.servlet.ServletOutputStream;
import javax.servlet.ServletResponse;
import javax.servlet.WriteListener;

import org.junit.Test;

/** The non-blocking write path of one event stream, against a connection the test opens and closes. */
public class SseClientTest {
    private final Connection connection = new Connection();
    private int completed;
    private final List<SseClient> closed = new ArrayList<>();

    @Test
    public void helloGoesFirstAndEverythingIsFlushed() throws IOException {
        SseClient client = client(1024);
        connection.ready = true;
        assertTrue(client.send(bytes("event: job\n\n")));
        assertEquals("nothing is written in blocking mode, before the write listener is set", "", connection.text());
        client.start(bytes("hello\n\n"));
        assertEquals("hello\n\nevent: job\n\n", connection.text());
        assertTrue(connection.flushed);
        assertEquals(0, client.blockedFor(System.nanoTime()));
    }

    @Test
    public void messagesWaitWhileTheConnectionIsBusyAndGoOutTogether() throws IOException {
        SseClient client = client(1024);
        connection.ready = true;
        client.start(bytes("hello\n\n"));
        connection.ready = false;
        client.send(bytes("a\n\n"));
        client.send(bytes("b\n\n"));
        assertEquals("hello\n\n", connection.text());
        assertTrue(client.blockedFor(System.nanoTime()) > 0);
        connection.ready = true;
        connection.listener.onWritePossible();
        assertEquals("hello\n\na\n\nb\n\n", connection.text());
        assertEquals("joined into one write", 2, connection.writes);
        assertEquals(0, client.blockedFor(System.nanoTime()));
    }

    @Test
    public void aClientThatDoesNotKeepUpIsRefused() throws IOException {
        SseClient client = client(10);
        connection.ready = true;
        client.start(bytes("hi\n\n"));
        connection.ready = false;
        assertTrue(client.send(bytes("12345\n")));
        assertFalse("the queue holds at most 10 bytes", client.send(bytes("67890\n")));
    }

    @Test
    public void aFailedWriteEndsTheStreamOnce() throws IOException {
        SseClient client = client(1024);
        connection.ready = true;
        client.start(bytes("hello\n\n"));
        connection.broken = true;
        assertFalse(client.send(bytes("a\n\n")));
        assertEquals(1, completed);
        assertEquals(List.of(client), closed);
        client.close();
        assertFalse(client.send(bytes("b\n\n")));
        assertEquals(1, completed);
        assertEquals(1, closed.size());
    }

    @Test
    public void theSignInIsCheckedOncePerInterval() throws IOException {
        SseClient client = client(1024);
        long now = 1_000;
        assertFalse(client.signInCheckDue(now - 1, 100));
        assertTrue(client.signInCheckDue(now, 100));
        assertFalse(client.signInCheckDue(now + 99, 100));
        assertTrue(client.signInCheckDue(now + 100, 100));
    }

    private SseClient client(int maxQueued) throws IOException {
        ServletResponse response = (ServletResponse) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {ServletResponse.class}, (proxy, method, args) -> {
                    if (method.getName().equals("getOutputStream")) {
                        return connection;
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
        AsyncContext context = (AsyncContext) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {AsyncContext.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "getResponse" -> response;
                    case "complete" -> {
                        completed++;
                        yield null;
                    }
                    case "addListener" -> null;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
        return new SseClient(context, maxQueued, () -> true, 1_000, closed::add);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A servlet output stream in non-blocking mode whose readiness the test decides. */
    private static final class Connection extends ServletOutputStream {
        final ByteArrayOutputStream written = new ByteArrayOutputStream();
        WriteListener listener;
        boolean ready;
        boolean broken;
        boolean flushed;
        int writes;

        @Override
        public boolean isReady() {
            return listener == null || ready; // blocking mode is always "ready": a write would wait
        }

        @Override
        public void setWriteListener(WriteListener writeListener) {
            listener = writeListener;
        }

        @Override
        public void write(int b) {
            throw new AssertionError("messages are written whole");
        }

        @Override
        public void write(byte[] b) throws IOException {
            if (!isReady()) {
                throw new IllegalStateException("not ready");
            }
            if (broken) {
                throw new IOException("Broken pipe");
            }
            written.write(b);
            writes++;
            flushed = false;
        }

        @Override
        public void flush() {
            if (!isReady()) {
                throw new IllegalStateException("not ready");
            }
            flushed = true;
        }

        String text() {
            return written.toString(StandardCharsets.UTF_8);
        }
    }
}
