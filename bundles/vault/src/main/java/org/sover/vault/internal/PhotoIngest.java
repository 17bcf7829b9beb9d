package org.sover.vault.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Clock;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

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
 * blob, sign the manifest, commit the blob, read capture facts and make a thumbnail from
 * the stored ciphertext, then write the photo record. Plaintext touches only memory buffers.
 */
final class PhotoIngest {
    private static final Logger LOG = LoggerFactory.getLogger(PhotoIngest.class);
    private final VaultRepository repository;
    private final BlobStore blobs;
    private final VaultCipher cipher;
    private final NodeIdentity identity;
    private final MediaInspector media = new MediaInspector();
    private final Clock clock;
    private final BlobLocks locks = new BlobLocks();
    private final LongSupplier thumbnailMaxSourceBytes;

    PhotoIngest(VaultRepository repository, BlobStore blobs, VaultCipher cipher, NodeIdentity identity, Clock clock,
            LongSupplier thumbnailMaxSourceBytes) {
        this.repository = repository;
        this.blobs = blobs;
        this.cipher = cipher;
        this.identity = identity;
        this.clock = clock;
        this.thumbnailMaxSourceBytes = thumbnailMaxSourceBytes;
    }

    /** One file to ingest. */
    record Upload(String albumId, String filename, String declaredType, InputStream body, long maxBytes,
            String accountId, String username, String idempotencyKey) {
    }

    AddedPhoto ingest(Upload u) throws IOException {
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

        try (PendingBlob pending = blobs.create()) {
            EncryptingStream enc = cipher.encrypt(pending.output());
            copyLimited(new SequenceStream(prefix, u.body()), enc, u.maxBytes(), u.filename());
            enc.close(); // writes the final segment; on an exception above, closing pending discards it all
            EncryptionResult result = enc.result();
            BlobManifest manifest = new BlobManifest(result.contentId(), result.plaintextSize(), result.cipherSize(),
                    result.segments(), result.cipherSha256(), identity.nodeId(), clock.instant());
            BlobRecord record = new BlobRecord(manifest, identity.sign(manifest.canonicalBytes()));

            ReentrantLock lock = locks.of(record.id());
            lock.lock();
            try {
                boolean isNew = pending.commit(record.id());
                MediaInspector.Facts facts = MediaInspector.Facts.NONE;
                String thumbId = null;
                if (contentType.startsWith("image/")) {
                    try (InputStream plain = cipher.decrypt(blobs.open(record.id()))) {
                        facts = media.facts(plain);
                    }
                    thumbId = storeThumbnail(record.id(), result.plaintextSize(), facts.orientation());
                }
                Instant now = clock.instant();
                NewPhoto draft = new NewPhoto(u.albumId(), u.filename(), contentType, result.plaintextSize(),
                        facts.width(), facts.height(), facts.takenAt() != null ? facts.takenAt() : now, u.username(),
                        identity.nodeId());
                AddedPhoto added;
                try {
                    added = repository.addPhoto(draft, record, u.accountId(), u.idempotencyKey());
                } catch (ConflictException e) {
                    if (isNew) {
                        removeQuietly(record.id());
                        removeQuietly(thumbnailIdOf(record.id()));
                    }
                    throw ApiException.notFound("The album " + u.albumId() + " does not exist (any more).");
                }
                if (added.created() && thumbId != null && added.photo().thumbBlobId() == null) {
                    repository.setThumbnail(added.photo().id(), thumbId);
                    added = new AddedPhoto(withThumbnail(added.photo(), thumbId), true);
                }
                return added;
            } finally {
                lock.unlock();
            }
        }
    }

    /** Removes a blob no live photo references any more, and its thumbnail. */
    void collect(String blobId) {
        ReentrantLock lock = locks.of(blobId);
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

    /** A thumbnail is a function of its photo's bytes, so it lives under an id derived from the blob's. */
    static String thumbnailIdOf(String blobId) {
        return blobId + "t";
    }

    private static void copyLimited(InputStream in, OutputStream out, long maxBytes, String filename) throws IOException {
        byte[] buf = new byte[256 * 1024];
        long total = 0;
        int n;
        while ((n = in.read(buf)) >= 0) {
            total += n;
            if (total > maxBytes) {
                throw new ApiException(413, "too_large", "\"" + filename + "\" is larger than the limit of "
                        + maxBytes + " bytes (maxUploadBytes in etc/org.sover.vault.cfg).");
            }
            out.write(buf, 0, n);
        }
    }

    private String storeThumbnail(String blobId, long size, int orientation) {
        if (size > thumbnailMaxSourceBytes.getAsLong()) {
            return null;
        }
        String thumbId = thumbnailIdOf(blobId);
        try {
            if (blobs.exists(thumbId)) {
                return thumbId; // the same bytes were uploaded before
            }
            byte[] jpeg;
            try (InputStream plain = cipher.decrypt(blobs.open(blobId))) {
                jpeg = media.thumbnail(plain, orientation);
            }
            if (jpeg == null) {
                return null;
            }
            try (PendingBlob pending = blobs.create()) {
                EncryptingStream enc = cipher.encrypt(pending.output());
                enc.write(jpeg);
                enc.close();
                pending.commit(thumbId);
            }
            return thumbId;
        } catch (InsufficientStorageException e) {
            LOG.warn("no room for a thumbnail: {}", e.getMessage());
            return null;
        } catch (IOException e) {
            LOG.warn("thumbnail failed: {}", e.toString());
            return null;
        }
    }

    private void removeQuietly(String blobId) {
        try {
            blobs.delete(blobId);
        } catch (IOException e) {
            LOG.warn("could not remove unused blob {}: {}", blobId, e.toString());
        }
    }

    private static Photo withThumbnail(Photo p, String thumbId) {
        return new Photo(p.id(), p.albumId(), p.blobId(), p.filename(), p.contentType(), p.size(), p.width(),
                p.height(), p.takenAt(), p.uploadedAt(), p.updatedAt(), p.rev(), p.nodeId(), thumbId, p.uploadedBy());
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
