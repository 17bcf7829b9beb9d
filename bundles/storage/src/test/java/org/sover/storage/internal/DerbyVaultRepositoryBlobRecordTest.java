package org.sover.storage.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.junit.Before;
import org.junit.Test;
import org.sover.api.Ids;
import org.sover.api.crypto.BlobManifest;
import org.sover.api.replication.Change;
import org.sover.api.vault.Album;
import org.sover.api.vault.BlobRecord;
import org.sover.api.vault.Photo;

/** Blob records as replication uses them: received, missing, checked page by page, dropped when damaged. */
public class DerbyVaultRepositoryBlobRecordTest extends DatabaseTestSupport {
    private static final Instant T0 = Instant.parse("2024-06-01T12:00:00Z");

    private DerbyVaultRepository repository;
    private DerbyMetadataLog log;
    private Album album;

    @Before
    public void createServices() {
        repository = new DerbyVaultRepository(database);
        log = new DerbyMetadataLog(database);
        album = repository.createAlbum("A", NODE);
    }

    @Test
    public void aPeersPhotoIsListedOnceItsBlobIsRecorded() {
        Photo local = repository.addPhoto(newPhoto(album.id(), "local.jpg", T0), blob("local"), "u", null).photo();
        Photo fromPeer = applyPeerPhoto(album.id(), "peer", T0.plusSeconds(60), T0);

        assertEquals(List.of(local), repository.photos(album.id(), 10, null).items());
        assertEquals(List.of(local), repository.timeline(10, null).items());
        assertEquals(Optional.empty(), repository.photo(fromPeer.id()));
        assertEquals(Optional.empty(), repository.blob(blobId("peer")));

        BlobRecord received = recordFrom(OTHER_NODE, "peer", new byte[] {9, 8, 7});
        assertTrue(repository.putBlobRecord(received));

        assertEquals(List.of(fromPeer, local), repository.photos(album.id(), 10, null).items());
        assertEquals(List.of(fromPeer, local), repository.timeline(10, null).items());
        assertEquals(Optional.of(fromPeer), repository.photo(fromPeer.id()));
        assertEquals(2, repository.album(album.id()).orElseThrow().photoCount());
        BlobRecord stored = repository.blob(blobId("peer")).orElseThrow();
        assertEquals(received.manifest(), stored.manifest());
        assertArrayEquals(received.signature(), stored.signature());

        // The record existed: nothing changes, whatever the second copy says.
        assertFalse(repository.putBlobRecord(recordFrom(OTHER_NODE, "peer", new byte[] {1})));
        assertFalse(repository.putBlobRecord(blob("local")));
        assertArrayEquals(received.signature(), repository.blob(blobId("peer")).orElseThrow().signature());
        assertEquals(2, repository.stats().blobs());
    }

    @Test
    public void missingBlobsListsEachBlobLivePhotosLackOnceOldestFirst() {
        Album other = repository.createAlbum("B", NODE);
        repository.addPhoto(newPhoto(album.id(), "here.jpg", T0), blob("here"), "u", null);
        applyPeerPhoto(album.id(), "old", T0, T0);
        applyPeerPhoto(album.id(), "new", T0, T0.plusSeconds(3600));
        applyPeerPhoto(other.id(), "old", T0, T0.plusSeconds(7200)); // a second photo of the same bytes
        Photo gone = new Photo(Ids.newId(), album.id(), blobId("gone"), "gone.jpg", "image/jpeg", 1000, null, null,
                T0, T0, T0.plusSeconds(10), 2, OTHER_NODE, null, "bob");
        assertTrue(log.apply(Change.of(gone, true)));

        assertEquals(List.of(blobId("old"), blobId("new")), repository.missingBlobs(10));
        assertEquals(List.of(blobId("old")), repository.missingBlobs(1));

        assertTrue(repository.putBlobRecord(recordFrom(OTHER_NODE, "old", new byte[] {1})));

        assertEquals(List.of(blobId("new")), repository.missingBlobs(10));
    }

    @Test
    public void missingBlobsDoesNotDependOnTheWritersClocks() {
        // node-b's clock runs a day ahead; the other photo was last edited long ago.
        applyPeerPhoto(album.id(), "ahead", T0, Instant.now().plus(Duration.ofDays(1)));
        applyPeerPhoto(album.id(), "long-ago", T0, T0);

        assertEquals(2, repository.missingBlobs(10).size());
        assertEquals(1, repository.missingBlobs(1).size());
    }

    @Test
    public void blobRecordsPageThroughEveryRecordInIdOrder() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            BlobRecord record = recordFrom(i % 2 == 0 ? NODE : OTHER_NODE, "r" + i, new byte[] {(byte) i});
            assertTrue(repository.putBlobRecord(record));
            ids.add(record.id());
        }
        ids.sort(null);

        List<BlobRecord> all = new ArrayList<>();
        String after = null;
        for (List<BlobRecord> page = repository.blobRecords(null, 10); !page.isEmpty();
                page = repository.blobRecords(after, 10)) {
            assertTrue(page.size() <= 10);
            all.addAll(page);
            after = page.get(page.size() - 1).id();
        }

        assertEquals(ids, all.stream().map(BlobRecord::id).toList());
        for (BlobRecord record : all) {
            BlobRecord direct = repository.blob(record.id()).orElseThrow();
            assertEquals(direct.manifest(), record.manifest());
            assertArrayEquals(direct.signature(), record.signature());
        }
        assertEquals(List.of(), repository.blobRecords(ids.get(24), 10));
        // A cursor need not be an existing id: paging resumes after wherever it falls.
        String between = ids.get(11) + "0";
        assertEquals(ids.subList(12, 15), repository.blobRecords(between, 3).stream().map(BlobRecord::id).toList());
    }

    @Test
    public void aDroppedBlobRecordHidesItsPhotosUntilTheBlobIsRecordedAgain() {
        Photo photo = repository.addPhoto(newPhoto(album.id(), "a.jpg", T0), blob("a"), "u", null).photo();
        BlobRecord record = repository.blob(blobId("a")).orElseThrow();

        assertTrue(repository.dropBlobRecord(blobId("a")));

        assertEquals(Optional.empty(), repository.blob(blobId("a")));
        assertEquals(Optional.empty(), repository.photo(photo.id()));
        assertEquals(List.of(), repository.photos(album.id(), 10, null).items());
        assertEquals(List.of(), repository.timeline(10, null).items());
        assertEquals(0, repository.album(album.id()).orElseThrow().photoCount());
        // The photo record stays, so repair knows to fetch the bytes.
        assertEquals(List.of(blobId("a")), repository.missingBlobs(10));
        assertFalse(repository.dropBlobRecord(blobId("a")));
        assertFalse(repository.dropBlobRecord(blobId("never-recorded")));

        assertTrue(repository.putBlobRecord(record));

        assertEquals(Optional.of(photo), repository.photo(photo.id()));
        assertEquals(List.of(photo), repository.timeline(10, null).items());
    }

    @Test
    public void aBlobRecordNoPhotoReferencesCanBeDroppedToo() {
        assertTrue(repository.putBlobRecord(recordFrom(OTHER_NODE, "loose", new byte[] {1})));

        assertTrue(repository.dropBlobRecord(blobId("loose")));

        assertEquals(Optional.empty(), repository.blob(blobId("loose")));
        assertEquals(0, repository.stats().blobs());
    }

    private Photo applyPeerPhoto(String albumId, String blobSeed, Instant takenAt, Instant updatedAt) {
        Photo photo = new Photo(Ids.newId(), albumId, blobId(blobSeed), blobSeed + ".jpg", "image/jpeg", 1000, 640,
                480, takenAt, takenAt, updatedAt, 1, OTHER_NODE, null, "bob");
        assertTrue(log.apply(Change.of(photo, false)));
        return photo;
    }

    private static BlobRecord recordFrom(String origin, String seed, byte[] signature) {
        return new BlobRecord(new BlobManifest(blobId(seed), 1000, 1100, 1, blobId("cipher-" + seed), origin,
                Instant.ofEpochMilli(1_700_000_000_000L)), signature);
    }
}
