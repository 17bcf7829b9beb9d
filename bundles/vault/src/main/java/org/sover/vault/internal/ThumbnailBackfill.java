package org.sover.vault.internal;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventConstants;
import org.osgi.service.event.EventHandler;
import org.sover.api.replication.ReplicationEvents;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the thumbnail of each blob that arrives from a peer, in the background, so the
 * photo's first view does not wait for it. One thread and a bounded queue: when a big sync
 * brings blobs faster than they are decoded, the rest are skipped and made at their first
 * {@code GET .../thumbnail} instead.
 */
@Component(service = EventHandler.class, immediate = true,
        property = EventConstants.EVENT_TOPIC + "=" + ReplicationEvents.BLOB)
public final class ThumbnailBackfill implements EventHandler {
    private static final Logger LOG = LoggerFactory.getLogger(ThumbnailBackfill.class);
    static final int QUEUE_SIZE = 500;

    private final PhotoIngest ingest;
    private final ThreadPoolExecutor worker;

    @Activate
    public ThumbnailBackfill(@Reference PhotoIngest ingest) {
        this.ingest = ingest;
        this.worker = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(QUEUE_SIZE),
                r -> {
                    Thread t = new Thread(r, "sover-thumbnails");
                    t.setDaemon(true);
                    t.setPriority(Thread.NORM_PRIORITY - 1);
                    return t;
                }, (task, executor) -> {
                    if (!executor.isShutdown()) {
                        LOG.debug("thumbnail queue full; that thumbnail is made when first asked for");
                    }
                });
    }

    @Override
    public void handleEvent(Event event) {
        if (event.getProperty(ReplicationEvents.BLOB_ID) instanceof String blobId) {
            worker.execute(() -> make(blobId));
        }
    }

    private void make(String blobId) {
        try {
            ingest.prepareThumbnail(blobId);
        } catch (RuntimeException e) {
            LOG.warn("could not make the thumbnail of blob {} ahead of time: {}", blobId, e.toString());
        }
    }

    @Deactivate
    void deactivate() {
        worker.shutdownNow();
        try {
            if (!worker.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.warn("a thumbnail was still being made when the vault stopped");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
