package org.sover.api.vault;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

import org.sover.api.storage.Page;

/**
 * Albums, photos and blob records in the metadata store. Every write bumps the record's
 * {@code rev} and stamps {@code updatedAt} and the writing node; deletes are tombstones
 * (deleted records are never returned by the read methods).
 */
public interface VaultRepository {
    Album createAlbum(String name, String nodeId);

    Optional<Album> album(String id);

    /** Whether a live album with this id exists; unlike {@link #album} it does not count the album's photos. */
    boolean albumExists(String id);

    /** All live albums, newest first. */
    List<Album> albums();

    /** @return the renamed album, or empty if there is no such live album */
    Optional<Album> renameAlbum(String id, String name, String nodeId);

    /**
     * Tombstones the album and every photo in it.
     *
     * @return the blob ids that no live photo references any more (to be removed from disk),
     *         or empty if there was no such live album
     */
    Optional<List<String>> deleteAlbum(String id, String nodeId);

    /**
     * In one transaction: stores the blob record if new, the photo record, the idempotency
     * key, and a pending replication job of the blob for every pinned peer that is not
     * blocked (no photo without its jobs). If {@code (accountId, idempotencyKey)} was already used, nothing is
     * written and the earlier photo is returned with {@code created=false}. If the album
     * already holds a live photo of the same blob, that photo is returned with
     * {@code created=false}.
     *
     * @param idempotencyKey may be null
     * @throws org.sover.api.storage.ConflictException when the album does not exist (any more)
     */
    AddedPhoto addPhoto(NewPhoto photo, BlobRecord blob, String accountId, String idempotencyKey);

    Optional<Photo> findByIdempotencyKey(String accountId, String idempotencyKey);

    Optional<Photo> photo(String id);

    /** Photos of an album by capture time, newest first; {@code cursor} null for the first page. */
    Page<Photo> photos(String albumId, int limit, String cursor);

    /** All live photos across albums by capture time, newest first. */
    Page<Photo> timeline(int limit, String cursor);

    /** @return the moved photo, or empty if the photo or the target album is not live */
    Optional<Photo> movePhoto(String id, String albumId, String nodeId);

    /**
     * Tombstones a photo.
     *
     * @return the blob ids no live photo references any more, or empty if there was no such live photo
     */
    Optional<List<String>> deletePhoto(String id, String nodeId);

    void setThumbnail(String photoId, String thumbBlobId);

    Optional<BlobRecord> blob(String blobId);

    /** Removes a blob record no live photo references; false if it is still referenced. */
    boolean deleteBlobRecordIfUnreferenced(String blobId);

    /**
     * Records a blob received from a peer (its bytes are already in the blob store), so the
     * photos that reference it become visible; false when the record existed.
     */
    boolean putBlobRecord(BlobRecord blob);

    /**
     * Blob ids that live photos reference but this node has no record of (their bytes have not
     * arrived), photos last written longest ago first. Whoever repairs decides how long to wait
     * (by its own clock: the photos' times are their writers').
     */
    List<String> missingBlobs(int limit);

    /** Blob records in id order after {@code afterId} (null: from the start), to check the store against. */
    List<BlobRecord> blobRecords(String afterId, int limit);

    /**
     * Forgets the record of a blob whose bytes are lost or damaged here, whether photos
     * reference it or not: they stop being listed until repair brings the bytes back.
     */
    boolean dropBlobRecord(String blobId);

    VaultStats stats();

    /** Forgets idempotency keys older than {@code before}. */
    int purgeIdempotencyKeys(Instant before);
}
