package org.sover.vault.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import javax.servlet.AsyncContext;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventConstants;
import org.osgi.service.event.EventHandler;
import org.sover.api.replication.ReplicationEvents;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands the replication events that storage and replication post to EventAdmin to every open
 * {@code GET /v1/events} stream, and keeps the streams alive: a comment every 15 seconds, a
 * check every 5 minutes that the session or token behind a stream is still valid. EventAdmin
 * calls {@link #handleEvent} on its own thread and only queues work here, so a slow browser
 * never holds it up.
 */
@Component(service = {EventFanout.class, EventHandler.class}, immediate = true,
        property = EventConstants.EVENT_TOPIC + "=" + ReplicationEvents.ALL)
public final class EventFanout implements EventHandler {
    private static final Logger LOG = LoggerFactory.getLogger(EventFanout.class);
    static final int MAX_CLIENTS = 64;
    /** What may wait for one slow client before it is dropped. */
    static final int MAX_QUEUED_BYTES = 256 * 1024;
    static final Duration KEEP_ALIVE = Duration.ofSeconds(15);
    /** A connection that takes nothing for this long is dead or stuck. */
    static final Duration STUCK_AFTER = Duration.ofSeconds(60);
    static final Duration SIGN_IN_CHECK = Duration.ofMinutes(5);

    private final Set<SseClient> clients = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService timer;
    private boolean accepting = true;

    @Activate
    public EventFanout() {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sover-event-streams");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::tick, KEEP_ALIVE.toSeconds(), KEEP_ALIVE.toSeconds(), TimeUnit.SECONDS);
    }

    /**
     * Turns the request into an event stream that starts with {@code hello}; false, with nothing
     * started, when {@link #MAX_CLIENTS} streams are open already.
     *
     * @param stillSignedIn whether the stream's session or token is still valid (checked now and then)
     * @throws IllegalStateException when the container does not allow async processing here
     */
    boolean open(HttpServletRequest req, HttpServletResponse resp, String hello, BooleanSupplier stillSignedIn)
            throws IOException {
        SseClient client;
        synchronized (clients) {
            if (!accepting || clients.size() >= MAX_CLIENTS) {
                return false;
            }
            resp.setStatus(200);
            resp.setContentType("text/event-stream");
            resp.setCharacterEncoding("UTF-8");
            resp.setHeader("X-Accel-Buffering", "no"); // nginx would otherwise hold events back
            AsyncContext context = req.startAsync();
            context.setTimeout(0); // streams end when the client leaves, is dropped or the bundle stops
            try {
                client = new SseClient(context, MAX_QUEUED_BYTES, stillSignedIn,
                        System.nanoTime() + SIGN_IN_CHECK.toNanos(), this::remove);
            } catch (IOException | RuntimeException e) {
                context.complete();
                throw e;
            }
            clients.add(client);
        }
        client.start(hello.getBytes(StandardCharsets.UTF_8));
        return true;
    }

    private void remove(SseClient client) {
        clients.remove(client);
    }

    int size() {
        return clients.size();
    }

    @Override
    public void handleEvent(Event event) {
        if (clients.isEmpty()) {
            return;
        }
        String message = SseFormat.format(event);
        if (message != null) {
            broadcast(message.getBytes(StandardCharsets.UTF_8));
        }
    }

    private void broadcast(byte[] message) {
        for (SseClient client : clients) {
            if (!client.send(message)) {
                LOG.debug("dropping an event stream that does not keep up");
                client.close();
            }
        }
    }

    /** Keep-alives, and dropping streams that are stuck or whose sign-in has ended. */
    private void tick() {
        // An exception must not escape: it would cancel every later run of this task.
        try {
            long now = System.nanoTime();
            for (SseClient client : clients) {
                if (client.blockedFor(now) > STUCK_AFTER.toNanos()) {
                    LOG.debug("dropping an event stream whose connection took nothing for {} s", STUCK_AFTER.toSeconds());
                    client.close();
                } else if (client.signInCheckDue(now, SIGN_IN_CHECK.toNanos()) && !stillSignedIn(client)) {
                    client.close();
                } else if (!client.send(SseFormat.KEEP_ALIVE)) {
                    client.close();
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("event stream upkeep failed", e);
        }
    }

    private static boolean stillSignedIn(SseClient client) {
        try {
            return client.stillSignedIn();
        } catch (RuntimeException e) {
            // The database being away for a moment is no reason to cut every stream.
            LOG.debug("could not check an event stream's sign-in: {}", e.toString());
            return true;
        }
    }

    /** Ends every open stream (their browsers reconnect). */
    void closeAll() {
        for (SseClient client : List.copyOf(clients)) {
            client.close();
        }
    }

    @Deactivate
    void deactivate() {
        synchronized (clients) {
            accepting = false;
        }
        timer.shutdownNow();
        closeAll();
    }
}
