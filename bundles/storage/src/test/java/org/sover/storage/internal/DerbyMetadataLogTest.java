package org.sover.storage.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.apache.derby.jdbc.EmbeddedDriver;
import org.junit.Before;
import org.junit.Test;
import org.sover.api.Ids;
import org.sover.api.replication.Change;
import org.sover.api.replication.PeerRole;
import org.sover.api.storage.Page;
import org.sover.api.vault.AddedPhoto;
import org.sover.api.vault.Album;
import org.sover.api.vault.Photo;

public class DerbyMetadataLogTest extends DatabaseTestSupport {
    private static final Instant T0 = Instant.parse("2024-06-01T12:00:00Z");

    private DerbyVaultRepository repository;
    private DerbyMetadataLog log;

    @Before
    public void createServices() {
        repository = new DerbyVaultRepository(database);
        log = new DerbyMetadataLog(database);
    }

    @Test
    public void everyLocalWriteTakesTheNextSeqButSetThumbnailDoesNot() {
        Album album = repository.createAlbum("A", NODE);
        long created = seqOf("albums", album.id());
        repository.renameAlbum(album.id(), "B", NODE);
        long renamed = seqOf("albums", album.id());
        Album other = repository.createAlbum("Other", NODE);
        Photo photo = repository.addPhoto(newPhoto(album.id(), "1.jpg", T0), blob("1"), "u", null).photo();
        long added = seqOf("photos", photo.id());
        repository.setThumbnail(photo.id(), blobId("thumb"));
        long thumbnailed = seqOf("photos", photo.id());
        repository.movePhoto(photo.id(), other.id(), NODE);
        long moved = seqOf("photos", photo.id());
        repository.deletePhoto(photo.id(), NODE);
        long deleted = seqOf("photos", photo.id());

        assertTrue(created < renamed);
        assertTrue(renamed < seqOf("albums", other.id()));
        assertTrue(seqOf("albums", other.id()) < added);
        assertEquals(added, thumbnailed);
        assertTrue(added < moved);
        assertTrue(moved < deleted);
    }

    @Test
    public void deleteAlbumGivesTheAlbumAndEachOfItsPhotosANewSeq() {
        Album album = repository.createAlbum("A", NODE);
        insertPhotos(album.id(), 3, T0.toEpochMilli(), 1000);
        List<Change> before = log.changesSince(null, 10).items();
        String cursor = log.changesSince(null, 10).next();

        repository.deleteAlbum(album.id(), NODE);

        List<Change> after = log.changesSince(cursor, 10).items();
        assertEquals(4, before.size());
        assertEquals(4, after.size());
        assertTrue(after.stream().allMatch(Change::deleted));
        assertEquals(album.id(), after.get(0).album().id());
        assertEquals(4, after.stream().map(DerbyMetadataLogTest::idOf).distinct().count());
    }

    @Test
    public void changesSincePagesThroughAlbumsAndPhotosInSeqOrderWithTombstones() {
        Album a = repository.createAlbum("A", NODE);
        Photo p1 = repository.addPhoto(newPhoto(a.id(), "1.jpg", T0), blob("1"), "u", null).photo();
        Album b = repository.createAlbum("B", NODE);
        repository.renameAlbum(a.id(), "A2", OTHER_NODE);
        repository.deletePhoto(p1.id(), NODE);
        Photo p2 = repository.addPhoto(newPhoto(b.id(), "2.jpg", T0), blob("2"), "u", null).photo();
        repository.setThumbnail(p2.id(), blobId("thumb-2"));

        Page<Change> first = log.changesSince(null, 2);
        Page<Change> second = log.changesSince(first.next(), 2);
        Page<Change> end = log.changesSince(second.next(), 2);

        // Each record once, at the place of its last write.
        assertEquals(List.of("B", "A2"), first.items().stream().map(c -> c.album().name()).toList());
        assertEquals(List.of(p1.id(), p2.id()), second.items().stream().map(c -> c.photo().id()).toList());
        assertEquals(List.of(true, false), second.items().stream().map(Change::deleted).toList());
        assertNotNull(second.next());
        assertEquals(new Page<>(List.of(), null), end);
        // What replicates: the clock and the record; count, cover and thumbnail are this node's.
        Album renamed = first.items().get(1).album();
        assertEquals(2, renamed.rev());
        assertEquals(OTHER_NODE, renamed.nodeId());
        assertEquals(0, renamed.photoCount());
        assertNull(renamed.coverPhotoId());
        assertEquals(p2, second.items().get(1).photo()); // without the thumbnail set since

        // The last cursor picks up exactly what is written next.
        repository.renameAlbum(b.id(), "B2", NODE);
        Page<Change> more = log.changesSince(second.next(), 2);
        assertEquals(List.of("B2"), more.items().stream().map(c -> c.album().name()).toList());
    }

    @Test
    public void anEmptyLogHasNoChangesAndNoCursor() {
        assertEquals(new Page<>(List.of(), null), log.changesSince(null, 500));
    }

    @Test
    public void badCursorsAndLimitsAreRejected() {
        // "", "!!!", "abc", "-1", "1:x", ".5" (no epoch), "x.-1", "X.1", "e."
        for (String cursor : new String[] {"", "!!!", "YWJj", "LTE", "MTp4", "LjU", "eC4tMQ", "WC4x", "ZS4"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> log.changesSince(cursor, 10));
            assertEquals("bad cursor", e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> log.changesSince(null, 0));
        assertThrows(IllegalArgumentException.class, () -> log.changesSince(null, 501));
        assertEquals(new ChangeCursor("e1", 42), ChangeCursor.decode(new ChangeCursor("e1", 42).encode()));
    }

    /** A restored database hands out seqs again: a cursor of an earlier start reads from the beginning. */
    @Test
    public void aCursorFromAnotherStartOfTheLogReadsFromTheBeginning() {
        Album album = repository.createAlbum("Kept", NODE);
        String cursor = endOfLog();
        assertEquals(List.of(), log.changesSince(cursor, 10).items());

        DerbyMetadataLog restarted = new DerbyMetadataLog(database);
        List<Change> again = restarted.changesSince(cursor, 10).items();
        assertEquals(1, again.size());
        assertEquals(album.id(), again.get(0).album().id());
    }

    @Test
    public void applyInsertsAnAbsentRecordOnceAndPassesItOn() {
        String cursor = endOfLog();
        Album album = new Album(Ids.newId(), "From B", T0, T0.plusSeconds(5), 3, OTHER_NODE, 7, "ignored");

        assertTrue(log.apply(Change.of(album, false)));
        assertFalse(log.apply(Change.of(album, false)));

        Album stored = repository.album(album.id()).orElseThrow();
        assertEquals(new Album(album.id(), "From B", T0, T0.plusSeconds(5), 3, OTHER_NODE, 0, null), stored);
        // Applied rows take this node's next seq, so a node pulling from here sees them.
        assertEquals(List.of(Change.of(stored, false)), log.changesSince(cursor, 10).items());
    }

    @Test
    public void theHigherClockWinsByRevThenUpdatedAtThenNodeId() {
        String id = Ids.newId();
        assertTrue(log.apply(albumChange(id, "start", 2, T0, "node-m")));

        assertFalse(log.apply(albumChange(id, "lower rev", 1, T0.plusSeconds(60), "node-z")));
        assertFalse(log.apply(albumChange(id, "earlier", 2, T0.minusMillis(1), "node-z")));
        assertFalse(log.apply(albumChange(id, "lower node", 2, T0, "node-a")));
        assertFalse(log.apply(albumChange(id, "same clock", 2, T0, "node-m")));
        assertEquals("start", repository.album(id).orElseThrow().name());

        assertTrue(log.apply(albumChange(id, "higher node", 2, T0, "node-z")));
        assertEquals("higher node", repository.album(id).orElseThrow().name());
        assertTrue(log.apply(albumChange(id, "later", 2, T0.plusMillis(1), "node-b")));
        assertEquals("later", repository.album(id).orElseThrow().name());
        assertTrue(log.apply(albumChange(id, "higher rev", 3, T0.minusSeconds(60), "node-a")));
        Album stored = repository.album(id).orElseThrow();
        assertEquals("higher rev", stored.name());
        assertEquals(3, stored.rev());
        assertEquals("node-a", stored.nodeId());

        // A tombstone with a higher clock deletes; an older live version does not bring it back.
        Album gone = new Album(id, "higher rev", T0, T0, 4, "node-a", 0, null);
        assertTrue(log.apply(Change.of(gone, true)));
        assertEquals(Optional.empty(), repository.album(id));
        assertFalse(log.apply(albumChange(id, "back", 3, T0.plusSeconds(600), "node-z")));
        assertEquals(Optional.empty(), repository.album(id));
    }

    @Test
    public void anAppliedPhotoOverwritesTheReplicatedColumnsButKeepsTheLocalThumbnail() {
        Album a = repository.createAlbum("A", NODE);
        Album b = repository.createAlbum("B", NODE);
        Photo local = repository.addPhoto(newPhoto(a.id(), "1.jpg", T0), blob("1"), "u", null).photo();
        repository.setThumbnail(local.id(), blobId("thumb"));
        long seqBefore = seqOf("photos", local.id());
        Photo edited = new Photo(local.id(), b.id(), local.blobId(), "renamed.jpg", local.contentType(), local.size(),
                null, null, T0.plusSeconds(1), local.uploadedAt(), local.updatedAt().plusSeconds(1), 2, OTHER_NODE,
                blobId("their-thumb"), "bob");

        assertTrue(log.apply(Change.of(edited, false)));
        assertFalse(log.apply(Change.of(edited, false)));

        Photo stored = repository.photo(local.id()).orElseThrow();
        assertEquals(new Photo(local.id(), b.id(), local.blobId(), "renamed.jpg", local.contentType(), local.size(),
                null, null, T0.plusSeconds(1), local.uploadedAt(), local.updatedAt().plusSeconds(1), 2, OTHER_NODE,
                blobId("thumb"), "bob"), stored);
        assertTrue(seqOf("photos", local.id()) > seqBefore);
        assertEquals(1, repository.album(b.id()).orElseThrow().photoCount());
        // A local edit after that continues the clock from the applied one.
        assertEquals(3, repository.movePhoto(local.id(), a.id(), NODE).orElseThrow().rev());

        Photo tombstone = new Photo(local.id(), a.id(), local.blobId(), "renamed.jpg", local.contentType(),
                local.size(), null, null, T0, local.uploadedAt(), local.updatedAt().plusSeconds(9), 4, OTHER_NODE,
                null, "bob");
        assertTrue(log.apply(Change.of(tombstone, true)));
        assertEquals(Optional.empty(), repository.photo(local.id()));
    }

    @Test
    public void malformedChangesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> log.apply(new Change(null, null, null, false)));
        Album album = new Album(Ids.newId(), "x", T0, T0, 1, NODE, 0, null);
        Photo photo = peerPhoto(Ids.newId(), album.id(), blobId("x"));
        assertThrows(IllegalArgumentException.class, () -> log.apply(new Change(album, photo, null, false)));
        assertThrows(IllegalArgumentException.class,
                () -> log.apply(Change.of(new Album(Ids.newId(), "x", T0, null, 1, NODE, 0, null), false)));
        assertThrows(IllegalArgumentException.class,
                () -> log.apply(Change.of(new Album(Ids.newId(), null, T0, T0, 1, NODE, 0, null), false)));
    }

    @Test
    public void twoNodesThatRenameOneAlbumConcurrentlyConvergeAfterExchangingLogs() throws Exception {
        DerbyDatabase otherDatabase = new DerbyDatabase(temp.newFolder("node-b").toPath(), 1000, 4);
        try {
            DerbyVaultRepository repositoryB = new DerbyVaultRepository(otherDatabase);
            DerbyMetadataLog logB = new DerbyMetadataLog(otherDatabase);
            Album album = repository.createAlbum("Holidays", NODE);
            pull(log, NODE, logB);
            assertEquals(Optional.of(album), repositoryB.album(album.id()));

            Album renamedA = repository.renameAlbum(album.id(), "Beach", NODE).orElseThrow();
            Album renamedB = repositoryB.renameAlbum(album.id(), "Mountains", OTHER_NODE).orElseThrow();
            pull(logB, OTHER_NODE, log);
            pull(log, NODE, logB);
            // A winner that arrived from B is now a change on A as well; B finds it is no news.
            assertEquals(0, pull(logB, OTHER_NODE, log));
            assertEquals(0, pull(log, NODE, logB));

            Album onA = repository.album(album.id()).orElseThrow();
            Album onB = repositoryB.album(album.id()).orElseThrow();
            assertEquals(onA, onB);
            // Both rev 2: the later write wins, and on a tie the higher node id (node-b).
            Album winner = renamedA.updatedAt().isAfter(renamedB.updatedAt()) ? renamedA : renamedB;
            assertEquals(winner.name(), onA.name());
            assertEquals(winner.updatedAt(), onA.updatedAt());
            assertEquals(winner.nodeId(), onA.nodeId());
        } finally {
            otherDatabase.close();
        }
    }

    @Test
    public void aPhotoWithoutItsBlobIsNotListedUntilTheBlobRecordArrives() {
        Album album = repository.createAlbum("A", NODE);
        Album other = repository.createAlbum("B", NODE);
        Photo fromPeer = peerPhoto(Ids.newId(), album.id(), blobId("peer"));
        String cursor = endOfLog();

        assertTrue(log.apply(Change.of(fromPeer, false)));

        assertEquals(List.of(), repository.photos(album.id(), 10, null).items());
        assertEquals(List.of(), repository.timeline(10, null).items());
        assertEquals(Optional.empty(), repository.photo(fromPeer.id()));
        assertEquals(0, repository.album(album.id()).orElseThrow().photoCount());
        assertNull(repository.album(album.id()).orElseThrow().coverPhotoId());
        assertTrue(repository.albums().stream().allMatch(listed -> listed.photoCount() == 0));
        assertEquals(0, repository.stats().photos());
        assertEquals(Optional.empty(), repository.movePhoto(fromPeer.id(), other.id(), NODE));
        // The record itself is in the log, so a third node learns of it from here.
        assertEquals(List.of(fromPeer.id()), log.changesSince(cursor, 10).items().stream()
                .map(DerbyMetadataLogTest::idOf).toList());

        insertBlobRecord(fromPeer.blobId());

        assertEquals(List.of(fromPeer), repository.photos(album.id(), 10, null).items());
        assertEquals(List.of(fromPeer), repository.timeline(10, null).items());
        assertEquals(Optional.of(fromPeer), repository.photo(fromPeer.id()));
        assertEquals(1, repository.album(album.id()).orElseThrow().photoCount());
        assertEquals(fromPeer.id(), repository.album(album.id()).orElseThrow().coverPhotoId());
        assertEquals(1, repository.stats().photos());
    }

    @Test
    public void uploadingTheSameBytesHereMakesAPeersPhotoServable() {
        Album album = repository.createAlbum("A", NODE);
        Photo fromPeer = peerPhoto(Ids.newId(), album.id(), blobId("same"));
        log.apply(Change.of(fromPeer, false));

        AddedPhoto added = repository.addPhoto(newPhoto(album.id(), "again.jpg", T0), blob("same"), "u", null);

        assertFalse(added.created());
        assertEquals(fromPeer, added.photo());
        assertEquals(Optional.of(fromPeer), repository.photo(fromPeer.id()));
    }

    @Test
    public void peerCursorsAreSavedReadBackAndForgottenWithThePeer() {
        assertEquals(Optional.empty(), log.cursorOf("peer-b"));

        log.saveCursor("peer-b", "abc");
        log.saveCursor("peer-c", "xyz");
        log.saveCursor("peer-b", "abd");

        assertEquals(Optional.of("abd"), log.cursorOf("peer-b"));
        assertEquals(Optional.of("xyz"), log.cursorOf("peer-c"));
        assertThrows(IllegalArgumentException.class, () -> log.saveCursor("peer-b", ""));
        assertThrows(IllegalArgumentException.class, () -> log.saveCursor("peer-b", "x".repeat(201)));

        DerbyPeerStore peers = new DerbyPeerStore(database);
        peers.pin("peer-b", "peer-b".getBytes(StandardCharsets.UTF_8), "B", PeerRole.FULL, List.of(), T0);
        peers.remove("peer-b");
        assertEquals(Optional.empty(), log.cursorOf("peer-b"));
        assertEquals(Optional.of("xyz"), log.cursorOf("peer-c"));
    }

    /**
     * A writer that took its seq first but commits last must not be skipped: the reader waits
     * for it instead of returning the later change alone.
     */
    @Test
    public void aReaderWaitsForAWriterThatHoldsAnEarlierSeq() throws Exception {
        Album slow = repository.createAlbum("Slow", NODE);
        Album fast = repository.createAlbum("Fast", NODE);
        String cursor = endOfLog();
        CountDownLatch written = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<?> writer = pool.submit(() -> database.transaction("slow rename", c -> {
                DerbyMetadataLog.enterWriter(c);
                try (PreparedStatement update = c.prepareStatement(
                        "UPDATE albums SET name = 'Slow 2', seq = NEXT VALUE FOR change_seq WHERE id = ?")) {
                    update.setString(1, slow.id());
                    update.executeUpdate();
                }
                written.countDown();
                await(release);
                return null;
            }));
            assertTrue(written.await(10, TimeUnit.SECONDS));
            repository.renameAlbum(fast.id(), "Fast 2", NODE);

            Future<Page<Change>> reader = pool.submit(() -> log.changesSince(cursor, 10));
            Thread.sleep(300);
            assertFalse("the reader must wait for the writer in flight", reader.isDone());
            release.countDown();
            writer.get(10, TimeUnit.SECONDS);

            assertEquals(List.of("Slow 2", "Fast 2"), reader.get(10, TimeUnit.SECONDS).items().stream()
                    .map(c -> c.album().name()).toList());
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
    }

    @Test
    public void migrationV3BackfillsTheSeqOfExistingRows() throws Exception {
        Path dataDir = temp.newFolder("v2").toPath();
        String url = "jdbc:derby:" + dataDir.resolve("db");
        EmbeddedDriver driver = new EmbeddedDriver();
        try (Connection c = driver.connect(url + ";create=true", new Properties())) {
            new SchemaMigrations(List.of("V1__init.sql", "V2__replication.sql")).apply(c);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO albums (id, name, created_at, updated_at, rev, node_id) VALUES"
                        + " ('album1', 'One', 1, 1, 1, 'node-a'), ('album2', 'Two', 2, 2, 1, 'node-a')");
                s.executeUpdate("INSERT INTO photos (id, album_id, blob_id, filename, content_type, size,"
                        + " taken_at, uploaded_at, updated_at, rev, node_id, deleted) VALUES"
                        + " ('photo1', 'album1', 'blob1', 'a.jpg', 'image/jpeg', 1, 1, 1, 1, 1, 'node-a', FALSE),"
                        + " ('photo2', 'album1', 'blob2', 'b.jpg', 'image/jpeg', 1, 1, 1, 1, 2, 'node-a', TRUE)");
            }
        }
        shutdown(driver, url);

        DerbyDatabase migrated = new DerbyDatabase(dataDir, 1000, 4);
        try {
            Set<Long> seqs = new HashSet<>(migrated.query("read seqs", c -> {
                List<Long> values = new ArrayList<>();
                try (Statement s = c.createStatement();
                        ResultSet rs = s.executeQuery("SELECT seq FROM albums UNION ALL SELECT seq FROM photos")) {
                    while (rs.next()) {
                        values.add(rs.getLong(1));
                    }
                }
                return values;
            }));
            assertEquals(4, seqs.size());
            List<Change> changes = new DerbyMetadataLog(migrated).changesSince(null, 10).items();
            assertEquals(Set.of("album1", "album2", "photo1", "photo2"),
                    changes.stream().map(DerbyMetadataLogTest::idOf).collect(Collectors.toSet()));
            assertEquals(1, changes.stream().filter(Change::deleted).count());
            // New writes continue after the backfilled values.
            new DerbyVaultRepository(migrated).renameAlbum("album1", "One again", NODE);
            long renamed = migrated.query("read seq", c -> seqOf(c, "albums", "album1"));
            assertTrue(seqs.stream().allMatch(seq -> seq < renamed));
        } finally {
            migrated.close();
        }
    }

    /** Pulls everything {@code into} has not seen from {@code from}, as the replication puller does. */
    static int pull(DerbyMetadataLog from, String fromNode, DerbyMetadataLog into) {
        int applied = 0;
        while (true) {
            Page<Change> page = from.changesSince(into.cursorOf(fromNode).orElse(null), 2);
            for (Change change : page.items()) {
                if (into.apply(change)) {
                    applied++;
                }
            }
            if (page.next() == null) {
                return applied;
            }
            into.saveCursor(fromNode, page.next());
        }
    }

    private String endOfLog() {
        String cursor = null;
        for (Page<Change> page = log.changesSince(null, 500); page.next() != null;
                page = log.changesSince(page.next(), 500)) {
            cursor = page.next();
        }
        return cursor;
    }

    private static Change albumChange(String id, String name, long rev, Instant updatedAt, String nodeId) {
        return Change.of(new Album(id, name, T0, updatedAt, rev, nodeId, 0, null), false);
    }

    private static Photo peerPhoto(String id, String albumId, String blobId) {
        return new Photo(id, albumId, blobId, "peer.jpg", "image/jpeg", 1000, 640, 480, T0, T0, T0, 1, OTHER_NODE,
                null, "bob");
    }

    static String idOf(Change change) {
        return change.album() != null ? change.album().id()
                : change.photo() != null ? change.photo().id() : change.account().id();
    }

    /** What the blob's arrival will do on a receiving node: its record appears. */
    private void insertBlobRecord(String blobId) {
        database.transaction("insert a blob record", c -> {
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO blobs (id, size, cipher_size, segments,"
                    + " cipher_sha256, origin_node_id, created_at, signature) VALUES (?, 1000, 1100, 1, ?, ?, 0, ?)")) {
                insert.setString(1, blobId);
                insert.setString(2, blobId("cipher-" + blobId));
                insert.setString(3, OTHER_NODE);
                insert.setBytes(4, new byte[] {1});
                return insert.executeUpdate();
            }
        });
    }

    private long seqOf(String table, String id) {
        return database.query("read the seq of " + id, c -> seqOf(c, table, id));
    }

    private static long seqOf(Connection c, String table, String id) throws SQLException {
        try (PreparedStatement select = c.prepareStatement("SELECT seq FROM " + table + " WHERE id = ?")) {
            select.setString(1, id);
            try (ResultSet rs = select.executeQuery()) {
                assertTrue(rs.next());
                return rs.getLong(1);
            }
        }
    }

    static void shutdown(EmbeddedDriver driver, String url) {
        try {
            driver.connect(url + ";shutdown=true", new Properties()).close();
        } catch (SQLException e) {
            assertEquals("08006", e.getSQLState());
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
