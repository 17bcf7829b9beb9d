package org.sover.vault.internal;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventConstants;
import org.osgi.service.event.EventHandler;
import org.sover.api.replication.ReplicationEvents;

/**
 * Makes the thumbnail of each blob that arrives from a peer, in the background, so the
 * photo's first view does not wait for it: on the same single thread and bounded queue as
 * uploads' thumbnails, once blobs have stopped arriving for a moment
 * ({@link PhotoIngest#makeThumbnailWhenQuiet}), so a sync keeps the CPU. When a big sync
 * brings more blobs than the queue holds, the rest are made at their first
 * {@code GET .../thumbnail}.
 */
@Component(service = EventHandler.class, immediate = true,
        property = EventConstants.EVENT_TOPIC + "=" + ReplicationEvents.BLOB)
public final class ThumbnailBackfill implements EventHandler {
    private final PhotoIngest ingest;

    @Activate
    public ThumbnailBackfill(@Reference PhotoIngest ingest) {
        this.ingest = ingest;
    }

    @Override
    public void handleEvent(Event event) {
        if (event.getProperty(ReplicationEvents.BLOB_ID) instanceof String blobId) {
            ingest.makeThumbnailWhenQuiet(blobId);
        }
    }
}
