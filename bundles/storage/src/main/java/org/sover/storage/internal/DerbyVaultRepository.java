package org.sover.storage.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.sover.api.Ids;
import org.sover.api.crypto.BlobManifest;
import org.sover.api.storage.ConflictException;
import org.sover.api.storage.Page;
import org.sover.api.vault.AddedPhoto;
import org.sover.api.vault.Album;
import org.sover.api.vault.BlobRecord;
import org.sover.api.vault.NewPhoto;
import org.sover.api.vault.Photo;
import org.sover.api.vault.VaultRepository;
import org.sover.api.vault.VaultStats;

/**
 * Albums, photos and blob records in the embedded Derby database; a new photo's replication
 * jobs are written with it (the queue itself is {@link DerbyJobQueue}).
 */
@Component(service = VaultRepository.class)
public final class DerbyVaultRepository implements VaultRepository {
    private static final String DUPLICATE_KEY = "23505";

    /**
     * "This node can serve the photo": its blob record is here. A peer's photo record arrives
     * through the op log before its blob, and a node never lists a photo it cannot serve. The
     * origin stores the blob record with the photo, so there every photo passes.
     */
    private static final String SERVABLE = " AND EXISTS (SELECT 1 FROM blobs b WHERE b.id = p.blob_id)";

    private static final String ALBUMS = "SELECT a.id, a.name, a.created_at, a.updated_at, a.rev, a.node_id"
            + " FROM albums a WHERE a.deleted = FALSE";
    private static final String ALL_CONTENTS = contentsQuery("");
    private static final String ONE_CONTENTS = contentsQuery(" AND p.album_id = ?");

    static final String PHOTO_COLUMNS = "p.id, p.album_id, p.blob_id, p.filename, p.content_type, p.size,"
            + " p.width, p.height, p.taken_at, p.uploaded_at, p.updated_at, p.rev, p.node_id, p.thumb_blob_id,"
            + " p.uploaded_by";

    // Keyset paging: "taken_at <= ?" bounds the index range, the OR skips the rows up to the cursor.
    private static final String AFTER_CURSOR = " AND p.taken_at <= ? AND (p.taken_at < ? OR p.id < ?)";
    private static final String PAGE_ORDER = " ORDER BY p.taken_at DESC, p.id DESC FETCH FIRST ? ROWS ONLY";

    private final DerbyDatabase database;

    @Activate
    public DerbyVaultRepository(@Reference(name = "database") DerbyDatabase database) {
        this.database = database;
    }

    /**
     * Photo count and cover (the first photo of the album's first page) of the albums with
     * servable photos. One grouped pass over photos yields count and newest capture time; the
     * cover is then an equality probe of photos_album_page. A per-album "ORDER BY ... FETCH
     * FIRST" subquery would sort every album's photos instead. Not outer-joined to albums: Derby
     * then evaluates the grouped table, which holds the EXISTS, once per album (1,000 albums of
     * 20 photos took over a minute).
     */
    private static String contentsQuery(String photoFilter) {
        return "SELECT c.album_id, c.n, (SELECT MAX(p.id) FROM photos p"
                + " WHERE p.album_id = c.album_id AND p.deleted = FALSE AND p.taken_at = c.newest" + SERVABLE + ")"
                + " FROM (SELECT p.album_id, COUNT(*) AS n, MAX(p.taken_at) AS newest FROM photos p"
                + " WHERE p.deleted = FALSE" + SERVABLE + photoFilter + " GROUP BY p.album_id) c";
    }

    /** What an album holds on this node; not part of its replicated record. */
    private record Contents(long photoCount, String coverPhotoId) {
        static final Contents EMPTY = new Contents(0, null);
    }

    @Override
    public Album createAlbum(String name, String nodeId) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(nodeId, "nodeId");
        String id = Ids.newId();
        long now = System.currentTimeMillis();
        return database.transaction("create album \"" + name + "\"", c -> {
            DerbyMetadataLog.enterWriter(c);
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO albums (id, name, created_at, updated_at,"
                    + " rev, node_id, deleted, seq) VALUES (?, ?, ?, ?, 1, ?, FALSE, " + DerbyMetadataLog.NEXT_SEQ
                    + ")")) {
                insert.setString(1, id);
                insert.setString(2, name);
                insert.setLong(3, now);
                insert.setLong(4, now);
                insert.setString(5, nodeId);
                insert.executeUpdate();
            }
            return new Album(id, name, Instant.ofEpochMilli(now), Instant.ofEpochMilli(now), 1, nodeId, 0, null);
        });
    }

    @Override
    public Optional<Album> album(String id) {
        return database.query("read album " + id, c -> album(c, id));
    }

    @Override
    public boolean albumExists(String id) {
        return database.query("look up album " + id, c -> {
            try (PreparedStatement select = c.prepareStatement(
                    "SELECT 1 FROM albums WHERE id = ? AND deleted = FALSE")) {
                select.setString(1, id);
                try (ResultSet rs = select.executeQuery()) {
                    return rs.next();
                }
            }
        });
    }

    @Override
    public List<Album> albums() {
        return database.query("list albums", c -> {
            List<Album> albums = new ArrayList<>();
            Map<String, Contents> contents = new HashMap<>();
            try (PreparedStatement select = c.prepareStatement(ALL_CONTENTS); ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    contents.put(rs.getString(1), new Contents(rs.getLong(2), rs.getString(3)));
                }
            }
            try (PreparedStatement select = c.prepareStatement(ALBUMS + " ORDER BY a.created_at DESC, a.id DESC");
                    ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    albums.add(album(rs, contents.getOrDefault(rs.getString(1), Contents.EMPTY)));
                }
            }
            return albums;
        });
    }

    @Override
    public Optional<Album> renameAlbum(String id, String name, String nodeId) {
        Objects.requireNonNull(name, "name");
        long now = System.currentTimeMillis();
        return database.transaction("rename album " + id, c -> {
            DerbyMetadataLog.enterWriter(c);
            if (stampLive(c, "albums", "name = ?", "id", id, now, nodeId, name) == 0) {
                return Optional.empty();
            }
            return album(c, id);
        });
    }

    @Override
    public Optional<List<String>> deleteAlbum(String id, String nodeId) {
        long now = System.currentTimeMillis();
        return database.transaction("delete album " + id, c -> {
            DerbyMetadataLog.enterWriter(c);
            if (stampLive(c, "albums", "deleted = TRUE", "id", id, now, nodeId) == 0) {
                return Optional.empty();
            }
            Set<String> candidates = blobsOfPhotos(c, "album_id = ? AND deleted = FALSE", id);
            stampLive(c, "photos", "deleted = TRUE", "album_id", id, now, nodeId);
            return Optional.of(unreferenced(c, candidates));
        });
    }

    @Override
    public AddedPhoto addPhoto(NewPhoto photo, BlobRecord blob, String accountId, String idempotencyKey) {
        Objects.requireNonNull(photo, "photo");
        Objects.requireNonNull(blob, "blob");
        Objects.requireNonNull(accountId, "accountId");
        if (idempotencyKey != null && idempotencyKey.length() > 128) {
            throw new IllegalArgumentException("idempotency key longer than 128 characters");
        }
        try {
            return database.transaction("add photo " + photo.filename() + " to album " + photo.albumId(),
                    c -> addPhoto(c, photo, blob, accountId, idempotencyKey));
        } catch (IdempotencyKeyTaken race) {
            // A concurrent retry with the same key committed first: answer with its photo.
            return database.query("read the photo of idempotency key " + idempotencyKey,
                    c -> earlierUpload(c, accountId, idempotencyKey))
                    .orElseThrow(() -> new ConflictException("idempotency key " + idempotencyKey + " is in use"));
        }
    }

    private AddedPhoto addPhoto(Connection c, NewPhoto photo, BlobRecord blob, String accountId,
            String idempotencyKey) throws SQLException {
        DerbyMetadataLog.enterWriter(c);
        if (idempotencyKey != null) {
            Optional<AddedPhoto> earlier = earlierUpload(c, accountId, idempotencyKey);
            if (earlier.isPresent()) {
                return earlier.get();
            }
        }
        if (!lockLiveAlbum(c, photo.albumId())) {
            throw new ConflictException("album " + photo.albumId() + " does not exist (any more)");
        }
        long now = System.currentTimeMillis();
        Optional<Photo> same = livePhotoOfBlob(c, photo.albumId(), blob.id());
        if (same.isPresent()) {
            // The photo may have come from a peer whose blob has not arrived yet: the bytes just
            // stored here make it servable.
            insertBlobIfAbsent(c, blob);
            if (idempotencyKey != null) {
                insertIdempotencyKey(c, accountId, idempotencyKey, same.get().id(), now);
            }
            return new AddedPhoto(same.get(), false);
        }
        boolean newBlob = insertBlobIfAbsent(c, blob);
        Instant uploadedAt = Instant.ofEpochMilli(now);
        Instant takenAt = photo.takenAt() == null ? uploadedAt : Instant.ofEpochMilli(photo.takenAt().toEpochMilli());
        Photo created = new Photo(Ids.newId(), photo.albumId(), blob.id(), photo.filename(), photo.contentType(),
                photo.size(), photo.width(), photo.height(), takenAt, uploadedAt, uploadedAt, 1, photo.nodeId(), null,
                photo.uploadedBy());
        insertPhoto(c, created);
        if (idempotencyKey != null) {
            insertIdempotencyKey(c, accountId, idempotencyKey, created.id(), now);
        }
        insertJobs(c, blob.id(), created.id(), newBlob, now);
        return new AddedPhoto(created, true);
    }

    /** No photo without its jobs: one pending job per pinned peer that is not blocked, due now. */
    private static void insertJobs(Connection c, String blobId, String photoId, boolean newBlob, long now)
            throws SQLException {
        if (newBlob) {
            // Jobs of a blob without a record are left from before it was deleted here (only
            // done ones survive deleteBlobRecordIfUnreferenced); peers may have dropped their
            // copies since, so the bytes are sent again.
            try (PreparedStatement delete = c.prepareStatement("DELETE FROM jobs WHERE blob_id = ?")) {
                delete.setString(1, blobId);
                delete.executeUpdate();
            }
        }
        DerbyJobQueue.insertPending(c, blobId, photoId, DerbyPeerStore.unblockedPeerIds(c), now);
    }

    /**
     * Takes the album row's exclusive lock until commit (a write that changes nothing): adds to
     * one album then run one after the other, so two uploads of the same bytes cannot both pass
     * the duplicate check, and no photo lands in an album being deleted.
     */
    private static boolean lockLiveAlbum(Connection c, String albumId) throws SQLException {
        try (PreparedStatement lock = c.prepareStatement(
                "UPDATE albums SET rev = rev WHERE id = ? AND deleted = FALSE")) {
            lock.setString(1, albumId);
            return lock.executeUpdate() == 1;
        }
    }

    private static Optional<AddedPhoto> earlierUpload(Connection c, String accountId, String key) throws SQLException {
        try (PreparedStatement select = c.prepareStatement("SELECT " + PHOTO_COLUMNS + ", p.deleted"
                + " FROM idempotency_keys k JOIN photos p ON p.id = k.photo_id"
                + " WHERE k.account_id = ? AND k.idem_key = ?")) {
            select.setString(1, accountId);
            select.setString(2, key);
            try (ResultSet rs = select.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                if (rs.getBoolean(16)) {
                    throw new ConflictException("the photo uploaded with this idempotency key has been deleted since");
                }
                return Optional.of(new AddedPhoto(photo(rs), false));
            }
        }
    }

    private static Optional<Photo> livePhotoOfBlob(Connection c, String albumId, String blobId) throws SQLException {
        try (PreparedStatement select = c.prepareStatement("SELECT " + PHOTO_COLUMNS + " FROM photos p"
                + " WHERE p.blob_id = ? AND p.deleted = FALSE AND p.album_id = ? FETCH FIRST ROW ONLY")) {
            select.setString(1, blobId);
            select.setString(2, albumId);
            try (ResultSet rs = select.executeQuery()) {
                return rs.next() ? Optional.of(photo(rs)) : Optional.empty();
            }
        }
    }

    /** @return true when this call stored the record */
    private static boolean insertBlobIfAbsent(Connection c, BlobRecord blob) throws SQLException {
        // WITH RS keeps the shared lock on an existing record until commit, so a concurrent
        // deleteBlobRecordIfUnreferenced cannot remove it before this photo references it.
        try (PreparedStatement select = c.prepareStatement("SELECT 1 FROM blobs WHERE id = ? WITH RS")) {
            select.setString(1, blob.id());
            try (ResultSet rs = select.executeQuery()) {
                if (rs.next()) {
                    return false;
                }
            }
        }
        BlobManifest m = blob.manifest();
        try (PreparedStatement insert = c.prepareStatement("INSERT INTO blobs (id, size, cipher_size, segments,"
                + " cipher_sha256, origin_node_id, created_at, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
            insert.setString(1, m.blobId());
            insert.setLong(2, m.size());
            insert.setLong(3, m.cipherSize());
            insert.setInt(4, m.segments());
            insert.setString(5, m.cipherSha256());
            insert.setString(6, m.originNodeId());
            insert.setLong(7, m.createdAt().toEpochMilli());
            insert.setBytes(8, blob.signature());
            insert.executeUpdate();
            return true;
        } catch (SQLException e) {
            // Another upload of the same bytes (into another album) stored the record first; the
            // manifests are equal because the id is the content's hash. Only this statement failed.
            if (!DUPLICATE_KEY.equals(e.getSQLState())) {
                throw e;
            }
            return false;
        }
    }

    private static void insertPhoto(Connection c, Photo p) throws SQLException {
        try (PreparedStatement insert = c.prepareStatement("INSERT INTO photos (id, album_id, blob_id, filename,"
                + " content_type, size, width, height, taken_at, uploaded_at, updated_at, rev, node_id,"
                + " thumb_blob_id, uploaded_by, deleted, seq)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, FALSE, " + DerbyMetadataLog.NEXT_SEQ + ")")) {
            insert.setString(1, p.id());
            insert.setString(2, p.albumId());
            insert.setString(3, p.blobId());
            insert.setString(4, p.filename());
            insert.setString(5, p.contentType());
            insert.setLong(6, p.size());
            setNullableInt(insert, 7, p.width());
            setNullableInt(insert, 8, p.height());
            insert.setLong(9, p.takenAt().toEpochMilli());
            insert.setLong(10, p.uploadedAt().toEpochMilli());
            insert.setLong(11, p.updatedAt().toEpochMilli());
            insert.setLong(12, p.rev());
            insert.setString(13, p.nodeId());
            insert.setString(14, p.thumbBlobId());
            insert.setString(15, p.uploadedBy());
            insert.executeUpdate();
        }
    }

    private static void insertIdempotencyKey(Connection c, String accountId, String key, String photoId, long now)
            throws SQLException {
        try (PreparedStatement insert = c.prepareStatement(
                "INSERT INTO idempotency_keys (account_id, idem_key, photo_id, created_at) VALUES (?, ?, ?, ?)")) {
            insert.setString(1, accountId);
            insert.setString(2, key);
            insert.setString(3, photoId);
            insert.setLong(4, now);
            insert.executeUpdate();
        } catch (SQLException e) {
            if (DUPLICATE_KEY.equals(e.getSQLState())) {
                throw new IdempotencyKeyTaken();
            }
            throw e;
        }
    }

    @Override
    public Optional<Photo> findByIdempotencyKey(String accountId, String idempotencyKey) {
        return database.query("look up idempotency key " + idempotencyKey, c -> {
            try (PreparedStatement select = c.prepareStatement("SELECT " + PHOTO_COLUMNS
                    + " FROM idempotency_keys k JOIN photos p ON p.id = k.photo_id"
                    + " WHERE k.account_id = ? AND k.idem_key = ? AND p.deleted = FALSE")) {
                select.setString(1, accountId);
                select.setString(2, idempotencyKey);
                try (ResultSet rs = select.executeQuery()) {
                    return rs.next() ? Optional.of(photo(rs)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public Optional<Photo> photo(String id) {
        return database.query("read photo " + id, c -> livePhoto(c, id));
    }

    @Override
    public Page<Photo> photos(String albumId, int limit, String cursor) {
        Objects.requireNonNull(albumId, "albumId");
        return page("list the photos of album " + albumId, "", " AND p.album_id = ?", albumId, limit, cursor);
    }

    /**
     * The index is named because Derby's optimizer ignores FETCH FIRST: it would scan and sort
     * every live photo, probing each one's blob, to return one page (10,000 photos: 60 ms
     * instead of 4 ms).
     */
    @Override
    public Page<Photo> timeline(int limit, String cursor) {
        return page("list the timeline", " --DERBY-PROPERTIES index=photos_timeline\n", "", null, limit, cursor);
    }

    private Page<Photo> page(String what, String tableHint, String albumFilter, String albumId, int limit,
            String cursor) {
        KeysetCursor.checkLimit(limit);
        KeysetCursor after = cursor == null ? null : KeysetCursor.decode(cursor);
        String sql = "SELECT " + PHOTO_COLUMNS + " FROM photos p" + tableHint + " WHERE p.deleted = FALSE" + SERVABLE
                + albumFilter + (after == null ? "" : AFTER_CURSOR) + PAGE_ORDER;
        return database.query(what, c -> {
            try (PreparedStatement select = c.prepareStatement(sql)) {
                int i = 1;
                if (albumId != null) {
                    select.setString(i++, albumId);
                }
                if (after != null) {
                    select.setLong(i++, after.time());
                    select.setLong(i++, after.time());
                    select.setString(i++, after.id());
                }
                // One more than asked tells whether another page follows.
                select.setInt(i, limit + 1);
                List<Photo> items = new ArrayList<>(Math.min(limit + 1, 64));
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        items.add(photo(rs));
                    }
                }
                if (items.size() <= limit) {
                    return new Page<>(items, null);
                }
                items.remove(limit);
                Photo last = items.get(limit - 1);
                return new Page<>(items, new KeysetCursor(last.takenAt().toEpochMilli(), last.id()).encode());
            }
        });
    }

    @Override
    public Optional<Photo> movePhoto(String id, String albumId, String nodeId) {
        long now = System.currentTimeMillis();
        return database.transaction("move photo " + id + " to album " + albumId, c -> {
            DerbyMetadataLog.enterWriter(c);
            // A photo this node cannot serve yet is not here for its users, so they cannot move it.
            if (!lockLiveAlbum(c, albumId) || livePhoto(c, id).isEmpty()) {
                return Optional.empty();
            }
            if (stampLive(c, "photos", "album_id = ?", "id", id, now, nodeId, albumId) == 0) {
                return Optional.empty();
            }
            return livePhoto(c, id);
        });
    }

    @Override
    public Optional<List<String>> deletePhoto(String id, String nodeId) {
        long now = System.currentTimeMillis();
        return database.transaction("delete photo " + id, c -> {
            DerbyMetadataLog.enterWriter(c);
            if (stampLive(c, "photos", "deleted = TRUE", "id", id, now, nodeId) == 0) {
                return Optional.empty();
            }
            Set<String> candidates = blobsOfPhotos(c, "id = ?", id);
            return Optional.of(unreferenced(c, candidates));
        });
    }

    /**
     * Sets the thumbnail without bumping {@code rev} or taking a new seq: thumbnails are local to
     * this node, and a new clock would make peers treat the record as edited.
     */
    @Override
    public void setThumbnail(String photoId, String thumbBlobId) {
        database.transaction("set the thumbnail of photo " + photoId, c -> {
            try (PreparedStatement update = c.prepareStatement(
                    "UPDATE photos SET thumb_blob_id = ? WHERE id = ? AND deleted = FALSE")) {
                update.setString(1, thumbBlobId);
                update.setString(2, photoId);
                return update.executeUpdate();
            }
        });
    }

    private static final String BLOB_COLUMNS = "id, size, cipher_size, segments, cipher_sha256, origin_node_id,"
            + " created_at, signature";

    private static BlobRecord blobRecord(ResultSet rs) throws SQLException {
        BlobManifest manifest = new BlobManifest(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getInt(4),
                rs.getString(5), rs.getString(6), Instant.ofEpochMilli(rs.getLong(7)));
        return new BlobRecord(manifest, rs.getBytes(8));
    }

    @Override
    public Optional<BlobRecord> blob(String blobId) {
        return database.query("read blob record " + blobId, c -> {
            try (PreparedStatement select = c.prepareStatement("SELECT " + BLOB_COLUMNS + " FROM blobs WHERE id = ?")) {
                select.setString(1, blobId);
                try (ResultSet rs = select.executeQuery()) {
                    return rs.next() ? Optional.of(blobRecord(rs)) : Optional.empty();
                }
            }
        });
    }

    /**
     * Also true when there is no record but nothing references the id either (thumbnails have
     * no record), so the caller may remove the file. Then the blob's jobs that are not done go
     * too: there is nothing left to send.
     */
    @Override
    public boolean deleteBlobRecordIfUnreferenced(String blobId) {
        return database.transaction("delete blob record " + blobId, c -> {
            // Delete first: the exclusive lock waits for any upload still holding the record (see
            // insertBlobIfAbsent), and the reference check below then sees its photo.
            try (PreparedStatement delete = c.prepareStatement("DELETE FROM blobs WHERE id = ?")) {
                delete.setString(1, blobId);
                delete.executeUpdate();
            }
            if (isReferenced(c, blobId)) {
                c.rollback();
                return false;
            }
            try (PreparedStatement delete = c.prepareStatement(
                    "DELETE FROM jobs WHERE blob_id = ? AND state <> 'done'")) {
                delete.setString(1, blobId);
                delete.executeUpdate();
            }
            return true;
        });
    }

    @Override
    public boolean putBlobRecord(BlobRecord blob) {
        Objects.requireNonNull(blob, "blob");
        return database.transaction("record received blob " + blob.id(), c -> insertBlobIfAbsent(c, blob));
    }

    @Override
    public List<String> missingBlobs(int limit) {
        return database.query("find blobs missing here", c -> {
            List<String> ids = new ArrayList<>();
            try (PreparedStatement select = c.prepareStatement("SELECT p.blob_id, MIN(p.updated_at) FROM photos p"
                    + " WHERE p.deleted = FALSE"
                    + " AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.id = p.blob_id)"
                    + " GROUP BY p.blob_id ORDER BY 2 FETCH FIRST ? ROWS ONLY")) {
                select.setInt(1, limit);
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        ids.add(rs.getString(1));
                    }
                }
            }
            return ids;
        });
    }

    @Override
    public List<BlobRecord> blobRecords(String afterId, int limit) {
        return database.query("list blob records", c -> {
            List<BlobRecord> records = new ArrayList<>();
            try (PreparedStatement select = c.prepareStatement("SELECT " + BLOB_COLUMNS + " FROM blobs WHERE id > ?"
                    + " ORDER BY id FETCH FIRST ? ROWS ONLY")) {
                select.setString(1, afterId == null ? "" : afterId);
                select.setInt(2, limit);
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        records.add(blobRecord(rs));
                    }
                }
            }
            return records;
        });
    }

    @Override
    public boolean dropBlobRecord(String blobId) {
        return database.transaction("drop blob record " + blobId, c -> {
            try (PreparedStatement delete = c.prepareStatement("DELETE FROM blobs WHERE id = ?")) {
                delete.setString(1, blobId);
                return delete.executeUpdate() == 1;
            }
        });
    }

    @Override
    public VaultStats stats() {
        return database.query("count albums, photos and blobs", c -> {
            try (Statement statement = c.createStatement();
                    ResultSet rs = statement.executeQuery("SELECT"
                            + " (SELECT COUNT(*) FROM albums WHERE deleted = FALSE),"
                            + " (SELECT COUNT(*) FROM photos p WHERE p.deleted = FALSE" + SERVABLE + "),"
                            + " (SELECT COUNT(*) FROM blobs),"
                            + " (SELECT COALESCE(SUM(cipher_size), 0) FROM blobs),"
                            + " (SELECT COUNT(*) FROM accounts WHERE deleted = FALSE)"
                            + " FROM SYSIBM.SYSDUMMY1")) {
                rs.next();
                return new VaultStats(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5));
            }
        });
    }

    @Override
    public int purgeIdempotencyKeys(Instant before) {
        return database.transaction("purge idempotency keys", c -> {
            try (PreparedStatement delete = c.prepareStatement(
                    "DELETE FROM idempotency_keys WHERE created_at < ?")) {
                delete.setLong(1, before.toEpochMilli());
                return delete.executeUpdate();
            }
        });
    }

    private static Optional<Album> album(Connection c, String id) throws SQLException {
        Contents contents = Contents.EMPTY;
        try (PreparedStatement select = c.prepareStatement(ONE_CONTENTS)) {
            select.setString(1, id);
            try (ResultSet rs = select.executeQuery()) {
                if (rs.next()) {
                    contents = new Contents(rs.getLong(2), rs.getString(3));
                }
            }
        }
        try (PreparedStatement select = c.prepareStatement(ALBUMS + " AND a.id = ?")) {
            select.setString(1, id);
            try (ResultSet rs = select.executeQuery()) {
                return rs.next() ? Optional.of(album(rs, contents)) : Optional.empty();
            }
        }
    }

    private static Optional<Photo> livePhoto(Connection c, String id) throws SQLException {
        try (PreparedStatement select = c.prepareStatement(
                "SELECT " + PHOTO_COLUMNS + " FROM photos p WHERE p.id = ? AND p.deleted = FALSE" + SERVABLE)) {
            select.setString(1, id);
            try (ResultSet rs = select.executeQuery()) {
                return rs.next() ? Optional.of(photo(rs)) : Optional.empty();
            }
        }
    }

    /**
     * Changes the live rows whose {@code column} equals {@code value}, stamps the
     * last-writer-wins clock {@code (rev + 1, updated_at, node_id)} and gives each row the next
     * place in the op log: the one place where a change that peers must see is written. The
     * transaction must have entered the log first ({@link DerbyMetadataLog#enterWriter}).
     *
     * @param assignments e.g. {@code "name = ?"}; its parameters are {@code assignmentValues}
     * @return the number of rows changed (0: no such live row)
     */
    private static int stampLive(Connection c, String table, String assignments, String column, String value, long now,
            String nodeId, Object... assignmentValues) throws SQLException {
        try (PreparedStatement update = c.prepareStatement("UPDATE " + table + " SET " + assignments
                + ", rev = rev + 1, updated_at = ?, node_id = ?, seq = " + DerbyMetadataLog.NEXT_SEQ
                + " WHERE " + column + " = ? AND deleted = FALSE")) {
            int i = 1;
            for (Object v : assignmentValues) {
                update.setObject(i++, v);
            }
            update.setLong(i++, now);
            update.setString(i++, nodeId);
            update.setString(i, value);
            return update.executeUpdate();
        }
    }

    /** The blob and thumbnail ids of the photos matching {@code where} (one parameter). */
    private static Set<String> blobsOfPhotos(Connection c, String where, String value) throws SQLException {
        Set<String> ids = new LinkedHashSet<>();
        try (PreparedStatement select = c.prepareStatement(
                "SELECT blob_id, thumb_blob_id FROM photos WHERE " + where)) {
            select.setString(1, value);
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                    if (rs.getString(2) != null) {
                        ids.add(rs.getString(2));
                    }
                }
            }
        }
        return ids;
    }

    /** The candidates no live photo uses as its blob or its thumbnail. */
    private static List<String> unreferenced(Connection c, Set<String> candidates) throws SQLException {
        List<String> unreferenced = new ArrayList<>();
        for (String blobId : candidates) {
            if (!isReferenced(c, blobId)) {
                unreferenced.add(blobId);
            }
        }
        return unreferenced;
    }

    private static boolean isReferenced(Connection c, String blobId) throws SQLException {
        try (PreparedStatement byBlob = c.prepareStatement(
                "SELECT 1 FROM photos WHERE blob_id = ? AND deleted = FALSE FETCH FIRST ROW ONLY");
                PreparedStatement byThumb = c.prepareStatement(
                        "SELECT 1 FROM photos WHERE thumb_blob_id = ? AND deleted = FALSE FETCH FIRST ROW ONLY")) {
            return exists(byBlob, blobId) || exists(byThumb, blobId);
        }
    }

    private static boolean exists(PreparedStatement select, String value) throws SQLException {
        select.setString(1, value);
        try (ResultSet rs = select.executeQuery()) {
            return rs.next();
        }
    }

    private static Album album(ResultSet rs, Contents contents) throws SQLException {
        return new Album(rs.getString(1), rs.getString(2), Instant.ofEpochMilli(rs.getLong(3)),
                Instant.ofEpochMilli(rs.getLong(4)), rs.getLong(5), rs.getString(6), contents.photoCount(),
                contents.coverPhotoId());
    }

    static Photo photo(ResultSet rs) throws SQLException {
        return new Photo(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                rs.getLong(6), nullableInt(rs, 7), nullableInt(rs, 8), Instant.ofEpochMilli(rs.getLong(9)),
                Instant.ofEpochMilli(rs.getLong(10)), Instant.ofEpochMilli(rs.getLong(11)), rs.getLong(12),
                rs.getString(13), rs.getString(14), rs.getString(15));
    }

    private static Integer nullableInt(ResultSet rs, int column) throws SQLException {
        int value = rs.getInt(column);
        return rs.wasNull() ? null : value;
    }

    private static void setNullableInt(PreparedStatement statement, int index, Integer value) throws SQLException {
        if (value == null) {
            statement.setNull(index, Types.INTEGER);
        } else {
            statement.setInt(index, value);
        }
    }

    /** Signals, inside the transaction, that a concurrent upload took the idempotency key first. */
    private static final class IdempotencyKeyTaken extends RuntimeException {
        private static final long serialVersionUID = 1L;

        IdempotencyKeyTaken() {
            super("idempotency key taken", null, false, false);
        }
    }
}
