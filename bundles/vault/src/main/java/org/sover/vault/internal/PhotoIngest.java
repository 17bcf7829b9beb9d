package org.sover.vault.internal;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.NoSuchFileException;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Lock;
import java.util.function.LongSupplier;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.sover.api.crypto.BlobManifest;
import org.sover.api.crypto.EncryptingStream;
import org.sover.api.crypto.EncryptionResult;
import org.sover.api.crypto.NodeIdentity;
import org.sover.api.crypto.VaultCipher;
import org.sover.api.storage.BlobStore;
import org.sover.api.storage.ConflictException;
import org.sover.api.storage.InsufficientStorageException;
import org.sover.api.storage.PendingBlob;
import org.sover.api.vault.AddedPhoto;
import org.sover.api.vault.BlobRecord;
import org.sover.api.vault.NewPhoto;
import org.sover.api.vault.Photo;
import org.sover.api.vault.VaultRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The path of one upload: sniff the first bytes, encrypt while streaming into a pending
 * blob (keeping the first {@value #FACTS_PREFIX_BYTES} bytes of plaintext in memory), sign the
 * manifest, commit the blob, read capture facts from those first bytes, then write the photo
 * record. Plaintext touches only memory buffers. The thumbnail is made afterwards by one
 * background thread (decoding a photo costs several times what storing it does), or at the
 * first {@code GET .../thumbnail} if that comes first; both wait for one another rather than
 * decoding the same image twice. Also makes the thumbnails of photos that came from another
 * node (peers make their own), under the same per-blob locks as uploads and removals (the
 * blob store's, which the replication bundle's receiver and clean-up hold too).
 */
@Component(service = PhotoIngest.class)
public final class PhotoIngest {
    private static final Logger LOG = LoggerFactory.getLogger(PhotoIngest.class);
    /** Thumbnails made while a request waits, at once; each decodes a whole image. */
    private static final int CONCURRENT_THUMBNAILS = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    private static final int REMEMBERED_UNDECODABLE = 10_000;
    /**
     * Plaintext kept from the start of an upload to read its capture facts without decrypting
     * it again: Exif and the frame size of a JPEG come before the image data.
     */
    static final int FACTS_PREFIX_BYTES = 256 * 1024;
    /** Thumbnails waiting for the background thread; beyond that they are made when first asked for. */
    static final int BACKGROUND_QUEUE = 500;
    /** From this many thumbnails waiting on, uploads' thumbnails no longer wait for a pause. */
    static final int BACKLOG = BACKGROUND_QUEUE / 2;
    /** Background thumbnails wait until no upload has run and no blob has arrived for this long... */
    static final long QUIET_MILLIS = 1500;
    /** ...but at most this long after their blob came. */
    static final long MAX_DEFER_MILLIS = 60_000;
    /** When the last upload ended or the last blob from a peer arrived (System.nanoTime()). */
    private volatile long lastActivity = System.nanoTime() - TimeUnit.DAYS.toNanos(1);
    /** Uploads streaming in now. */
    private final AtomicInteger uploading = new AtomicInteger();
    private final VaultRepository repository;
    private final BlobStore blobs;
    private final VaultCipher cipher;
    private final NodeIdentity identity;
    private final MediaInspector media = new MediaInspector();
    private final Clock clock;
    private final LongSupplier thumbnailMaxSourceBytes;
    private final Semaphore thumbnailPermits = new Semaphore(CONCURRENT_THUMBNAILS, true);
    /** Thumbnails being made now, by blob id, so a request and the background thread never decode one image twice. */
    private final ConcurrentHashMap<String, CompletableFuture<String>> making = new ConcurrentHashMap<>();
    private final ThreadPoolExecutor background;
    /** Blobs whose image could not be decoded, so a photo list does not promise their thumbnail again. */
    private final Set<String> undecodable = Collections.synchronizedSet(Collections.newSetFromMap(
            new LinkedHashMap<String, Boolean>() {
                private static final long serialVersionUID = 1L;

                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                    return size() > REMEMBERED_UNDECODABLE;
                }
            }));

    @Activate
    public PhotoIngest(@Reference VaultRepository repository, @Reference BlobStore blobs,
            @Reference VaultCipher cipher, @Reference NodeIdentity identity, @Reference VaultSettings settings) {
        this(repository, blobs, cipher, identity, Clock.systemUTC(), () -> settings.config().thumbnailMaxSourceBytes());
    }

    PhotoIngest(VaultRepository repository, BlobStore blobs, VaultCipher cipher, NodeIdentity identity, Clock clock,
            LongSupplier thumbnailMaxSourceBytes) {
        this.repository = repository;
        this.blobs = blobs;
        this.cipher = cipher;
        this.identity = identity;
        this.clock = clock;
        this.thumbnailMaxSourceBytes = thumbnailMaxSourceBytes;
        this.background = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(BACKGROUND_QUEUE), r -> {
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

    @Deactivate
    void deactivate() {
        background.shutdownNow();
        try {
            if (!background.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.warn("a thumbnail was still being made when the vault stopped");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One file to ingest. */
    record Upload(String albumId, String filename, String declaredType, InputStream body, long maxBytes,
            String accountId, String username, String idempotencyKey) {
    }

    /**
     * Encrypts and stores one upload and records its photo. Its thumbnail is made in the
     * background once uploads have stopped for a moment ({@link #QUIET_MILLIS}): decoding a
     * photo costs several times what storing it does, and a phone's worth of uploads should have
     * the CPU first. A request for the thumbnail meanwhile makes it at once.
     */
    AddedPhoto ingest(Upload u) throws IOException {
        uploading.incrementAndGet();
        try {
            return store(u);
        } finally {
            lastActivity = System.nanoTime();
            uploading.decrementAndGet();
        }
    }

    private AddedPhoto store(Upload u) throws IOException {
        byte[] prefix = u.body().readNBytes(ContentSniffer.PREFIX_BYTES);
        String detected = ContentSniffer.detect(prefix, prefix.length);
        if (detected == null) {
            throw new ApiException(415, "unsupported_media_type", "\"" + u.filename()
                    + "\" is not a photo or video format the vault knows (JPEG, PNG, GIF, WebP, HEIC, TIFF, MP4, MOV, WebM, AVI).");
        }
        if (!ContentSniffer.fits(u.declaredType(), detected)) {
            throw new ApiException(415, "unsupported_media_type", "\"" + u.filename() + "\" was sent as "
                    + u.declaredType() + " but its content is " + detected + ".");
        }
        String contentType = u.declaredType().equalsIgnoreCase("application/octet-stream")
                || detected.equals("image/jpeg") ? detected : u.declaredType().toLowerCase(Locale.ROOT);

        boolean image = contentType.startsWith("image/");
        AddedPhoto added;
        try (PendingBlob pending = blobs.create()) {
            EncryptingStream enc = cipher.encrypt(pending.output());
            byte[] head = copyLimited(new SequenceStream(prefix, u.body()), enc, u.maxBytes(), u.filename(),
                    image ? FACTS_PREFIX_BYTES : 0);
            enc.close(); // writes the final segment; on an exception above, closing pending discards it all
            EncryptionResult result = enc.result();
            BlobManifest manifest = new BlobManifest(result.contentId(), result.plaintextSize(), result.cipherSize(),
                    result.segments(), result.cipherSha256(), identity.nodeId(), clock.instant());
            BlobRecord record = new BlobRecord(manifest, identity.sign(manifest.canonicalBytes()));

            Lock lock = blobs.lockOf(record.id());
            lock.lock();
            try {
                boolean isNew = pending.commit(record.id());
                MediaInspector.Facts facts = MediaInspector.Facts.NONE;
                if (image) {
                    facts = media.facts(new ByteArrayInputStream(head));
                    if (head.length < result.plaintextSize() && (facts.width() == null || facts.takenAt() == null)) {
                        // Not all in the first bytes (a PNG's text chunks, a file without Exif): read the stored blob.
                        try (InputStream plain = cipher.decrypt(blobs.open(record.id()))) {
                            facts = media.facts(plain);
                        }
                    }
                }
                Instant now = clock.instant();
                NewPhoto draft = new NewPhoto(u.albumId(), u.filename(), contentType, result.plaintextSize(),
                        facts.width(), facts.height(), facts.takenAt() != null ? facts.takenAt() : now, u.username(),
                        identity.nodeId());
                try {
                    added = repository.addPhoto(draft, record, u.accountId(), u.idempotencyKey());
                } catch (ConflictException e) {
                    if (isNew) {
                        removeQuietly(record.id());
                        removeQuietly(thumbnailIdOf(record.id()));
                    }
                    throw ApiException.notFound("The album " + u.albumId() + " does not exist (any more).");
                }
            } finally {
                lock.unlock();
            }
        }
        if (added.created() && added.photo().thumbBlobId() == null && hasThumbnail(added.photo())) {
            queueThumbnail(added.photo().blobId(), true);
        }
        return added;
    }

    /**
     * Queues the thumbnail of a blob that just arrived from a peer, to be made once blobs have
     * stopped arriving (and uploads running) for {@link #QUIET_MILLIS}, or {@link #MAX_DEFER_MILLIS}
     * after it came: decoding photos during a sync takes the CPU the sync needs, and nobody may
     * look at them yet. A request for it meanwhile makes it at once.
     */
    void makeThumbnailWhenQuiet(String blobId) {
        lastActivity = System.nanoTime();
        queueThumbnail(blobId, false);
    }

    /**
     * Queues a thumbnail for the background thread, to be made after a pause (at the latest
     * {@link #MAX_DEFER_MILLIS} from now); when the queue is full it is made at its first request.
     *
     * @param keepUp an upload's: made without waiting for a pause once the queue holds {@link #BACKLOG}
     */
    private void queueThumbnail(String blobId, boolean keepUp) {
        long queued = System.nanoTime();
        background.execute(() -> {
            try {
                awaitQuiet(queued + TimeUnit.MILLISECONDS.toNanos(MAX_DEFER_MILLIS), keepUp);
                prepareThumbnail(blobId);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // stopping
            } catch (RuntimeException e) {
                LOG.warn("could not make the thumbnail of blob {} ahead of time: {}", blobId, e.toString());
            }
        });
    }

    /**
     * Waits until no upload has run and no blob has arrived for {@link #QUIET_MILLIS}, or until
     * {@code latest}. An upload's thumbnail stops waiting while the queue holds {@link #BACKLOG} or
     * more, so that a long burst of uploads is worked off as it comes instead of overflowing the
     * queue (whose overflow would only get its thumbnails at their first request); a sync keeps
     * the CPU however much it brings.
     */
    private void awaitQuiet(long latest, boolean keepUp) throws InterruptedException {
        long quiet = TimeUnit.MILLISECONDS.toNanos(QUIET_MILLIS);
        while (!keepUp || background.getQueue().size() < BACKLOG) {
            long now = System.nanoTime();
            long last = uploading.get() > 0 ? now : lastActivity;
            long wait = Math.min(last + quiet, latest) - now;
            if (wait <= 0) {
                return;
            }
            TimeUnit.NANOSECONDS.sleep(Math.min(wait, TimeUnit.MILLISECONDS.toNanos(100)));
        }
    }

    /** Removes a blob no live photo references any more, and its thumbnail. */
    void collect(String blobId) {
        Lock lock = blobs.lockOf(blobId);
        lock.lock();
        try {
            if (repository.deleteBlobRecordIfUnreferenced(blobId)) {
                removeQuietly(blobId);
                removeQuietly(thumbnailIdOf(blobId));
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Whether {@code GET .../thumbnail} gives one: the photo has a thumbnail, or one can be made
     * now (a photo from another node, in a format this node decodes, not too large).
     */
    boolean hasThumbnail(Photo photo) {
        return photo.thumbBlobId() != null || (MediaInspector.canDecode(photo.contentType())
                && photo.size() <= thumbnailMaxSourceBytes.getAsLong() && cipher.hasVaultKey()
                && !undecodable.contains(photo.blobId()));
    }

    /**
     * The thumbnail of a photo, made now from the stored blob and recorded with the photo when
     * it has none yet (it came from another node); empty when none can be made.
     *
     * @throws ApiException 503 when too many thumbnails are being made at once for too long
     */
    Optional<String> thumbnailFor(Photo photo) {
        if (photo.thumbBlobId() != null) {
            return Optional.of(photo.thumbBlobId());
        }
        if (!hasThumbnail(photo)) {
            return Optional.empty();
        }
        try {
            if (!thumbnailPermits.tryAcquire(30, TimeUnit.SECONDS)) {
                throw new ApiException(503, "unavailable", "The node is busy making thumbnails; try again shortly.");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "unavailable", "The node is shutting down; try again shortly.");
        }
        try {
            String thumbId = thumbnailOfStoredBlob(photo.blobId());
            if (thumbId == null) {
                return Optional.empty();
            }
            repository.setThumbnail(photo.id(), thumbId);
            return Optional.of(thumbId);
        } finally {
            thumbnailPermits.release();
        }
    }

    /**
     * Makes the thumbnail of a blob that just arrived from a peer, before anyone asks: its
     * photos are not looked up (the repository cannot list them by blob), but the thumbnail
     * lives under an id derived from the blob's, so {@link #thumbnailFor} finds it and only
     * records it with the photo.
     */
    void prepareThumbnail(String blobId) {
        if (!cipher.hasVaultKey() || undecodable.contains(blobId)) {
            return;
        }
        Optional<BlobRecord> record = repository.blob(blobId);
        if (record.isPresent() && record.get().manifest().size() <= thumbnailMaxSourceBytes.getAsLong()) {
            thumbnailOfStoredBlob(blobId);
        }
    }

    /**
     * The thumbnail blob of a stored blob, made unless it exists; null when the blob is gone, is
     * not an image this node decodes, or the thumbnail could not be made or stored.
     */
    private String thumbnailOfStoredBlob(String blobId) {
        CompletableFuture<String> mine = new CompletableFuture<>();
        CompletableFuture<String> other = making.putIfAbsent(blobId, mine);
        if (other != null) {
            try {
                return other.get(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            } catch (ExecutionException | TimeoutException e) {
                return null;
            }
        }
        String made = null;
        try {
            made = makeThumbnailOfStoredBlob(blobId);
            return made;
        } finally {
            making.remove(blobId, mine);
            mine.complete(made);
        }
    }

    private String makeThumbnailOfStoredBlob(String blobId) {
        String thumbId = thumbnailIdOf(blobId);
        try {
            if (blobs.exists(thumbId)) {
                return thumbId;
            }
            // Decoded outside the blob's lock, whose stripe uploads share; only storing the result
            // must not race a removal, which would leave a thumbnail without its blob.
            int orientation;
            try (InputStream plain = cipher.decrypt(blobs.open(blobId))) {
                // The bytes, not the record, say what the blob is: a record from a peer is only as good as that peer.
                byte[] prefix = plain.readNBytes(ContentSniffer.PREFIX_BYTES);
                if (!MediaInspector.canDecode(ContentSniffer.detect(prefix, prefix.length))) {
                    undecodable.add(blobId);
                    return null;
                }
                orientation = media.facts(new SequenceStream(prefix, plain)).orientation();
            }
            byte[] jpeg = thumbnailJpeg(blobId, orientation);
            if (jpeg == null) {
                return null;
            }
            Lock lock = blobs.lockOf(blobId);
            lock.lock();
            try {
                if (blobs.exists(thumbId)) {
                    return thumbId; // made meanwhile by another request or the backfill
                }
                return blobs.exists(blobId) ? commitThumbnail(thumbId, jpeg) : null;
            } finally {
                lock.unlock();
            }
        } catch (NoSuchFileException e) {
            return null; // removed meanwhile, or its bytes never arrived here
        } catch (InsufficientStorageException e) {
            LOG.warn("no room for the thumbnail of blob {}: {}", blobId, e.getMessage());
            return null;
        } catch (IOException e) {
            LOG.warn("could not make the thumbnail of blob {}: {}", blobId, e.toString());
            return null;
        }
    }

    /** A thumbnail is a function of its photo's bytes, so it lives under an id derived from the blob's. */
    static String thumbnailIdOf(String blobId) {
        return Photo.thumbnailIdOf(blobId);
    }

    /** Copies the body and returns its first {@code keep} bytes (fewer when it is shorter). */
    private static byte[] copyLimited(InputStream in, OutputStream out, long maxBytes, String filename, int keep)
            throws IOException {
        byte[] buf = new byte[256 * 1024];
        byte[] head = new byte[keep];
        int kept = 0;
        long total = 0;
        int n;
        while ((n = in.read(buf)) >= 0) {
            total += n;
            if (total > maxBytes) {
                throw new ApiException(413, "too_large", "\"" + filename + "\" is larger than the limit of "
                        + maxBytes + " bytes (maxUploadBytes in etc/org.sover.vault.cfg).");
            }
            if (kept < keep) {
                int k = Math.min(n, keep - kept);
                System.arraycopy(buf, 0, head, kept, k);
                kept += k;
            }
            out.write(buf, 0, n);
        }
        Arrays.fill(buf, (byte) 0);
        return kept == keep ? head : Arrays.copyOf(head, kept);
    }

    /** The thumbnail of a stored blob as JPEG; null (and remembered) when the image cannot be decoded. */
    private byte[] thumbnailJpeg(String blobId, int orientation) throws IOException {
        byte[] jpeg;
        try (InputStream plain = cipher.decrypt(blobs.open(blobId))) {
            jpeg = media.thumbnail(plain, orientation);
        }
        if (jpeg == null) {
            undecodable.add(blobId);
        }
        return jpeg;
    }

    private String commitThumbnail(String thumbId, byte[] jpeg) throws IOException {
        try (PendingBlob pending = blobs.create()) {
            EncryptingStream enc = cipher.encrypt(pending.output());
            enc.write(jpeg);
            enc.close();
            pending.commit(thumbId);
        }
        return thumbId;
    }

    private void removeQuietly(String blobId) {
        try {
            blobs.delete(blobId);
        } catch (IOException e) {
            LOG.warn("could not remove unused blob {}: {}", blobId, e.toString());
        }
    }

    /** The sniffed prefix followed by the rest of the body. */
    private static final class SequenceStream extends InputStream {
        private final byte[] prefix;
        private final InputStream rest;
        private int pos;

        SequenceStream(byte[] prefix, InputStream rest) {
            this.prefix = prefix;
            this.rest = rest;
        }

        @Override
        public int read() throws IOException {
            return pos < prefix.length ? prefix[pos++] & 0xff : rest.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (pos < prefix.length) {
                int n = Math.min(len, prefix.length - pos);
                System.arraycopy(prefix, pos, b, off, n);
                pos += n;
                return n;
            }
            return rest.read(b, off, len);
        }
    }
}
