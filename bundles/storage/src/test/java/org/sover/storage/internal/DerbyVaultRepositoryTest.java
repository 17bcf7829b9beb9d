package org.sover.storage.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

import org.junit.Before;
import org.junit.Test;
import org.sover.api.replication.Job;
import org.sover.api.replication.JobState;
import org.sover.api.replication.PeerRole;
import org.sover.api.storage.ConflictException;
import org.sover.api.storage.Page;
import org.sover.api.vault.AddedPhoto;
import org.sover.api.vault.Album;
import org.sover.api.vault.BlobRecord;
import org.sover.api.vault.Photo;
import org.sover.api.vault.VaultStats;

public class DerbyVaultRepositoryTest extends DatabaseTestSupport {
    private static final Instant T0 = Instant.parse("2024-06-01T12:00:00Z");

    private DerbyVaultRepository repository;

    @Before
    public void createRepository() {
        repository = new DerbyVaultRepository(database);
    }

    @Test
    public void albumsAreCreatedReadRenamedAndListedNewestFirst() throws Exception {
        Album first = repository.createAlbum("Summer", NODE);
        Thread.sleep(2);
        Album second = repository.createAlbum("Winter", NODE);

        assertEquals(1, first.rev());
        assertEquals(0, first.photoCount());
        assertNull(first.coverPhotoId());
        assertEquals(Optional.of(first), repository.album(first.id()));
        assertEquals(List.of(second.id(), first.id()), repository.albums().stream().map(Album::id).toList());

        Album renamed = repository.renameAlbum(first.id(), "Summer 2024", OTHER_NODE).orElseThrow();
        assertEquals("Summer 2024", renamed.name());
        assertEquals(2, renamed.rev());
        assertEquals(OTHER_NODE, renamed.nodeId());
        assertEquals(first.createdAt(), renamed.createdAt());
        assertFalse(renamed.updatedAt().isBefore(first.updatedAt()));
        assertEquals(Optional.empty(), repository.renameAlbum("nosuchalbumnosuchalbum0000", "x", NODE));
    }

    @Test
    public void deletedAlbumsAreTombstonesHiddenFromReads() {
        Album album = repository.createAlbum("Gone", NODE);
        assertTrue(repository.albumExists(album.id()));
        assertFalse(repository.albumExists("no-such-album"));

        assertEquals(Optional.of(List.of()), repository.deleteAlbum(album.id(), OTHER_NODE));

        assertFalse(repository.albumExists(album.id()));
        assertEquals(Optional.empty(), repository.album(album.id()));
        assertTrue(repository.albums().isEmpty());
        assertEquals(Optional.empty(), repository.renameAlbum(album.id(), "Back", NODE));
        assertEquals(Optional.empty(), repository.deleteAlbum(album.id(), NODE));
        // The tombstone keeps the replication clock.
        long[] revAndDeleted = database.query("read tombstone", c -> {
            try (var s = c.prepareStatement("SELECT rev, deleted, node_id FROM albums WHERE id = ?")) {
                s.setString(1, album.id());
                try (var rs = s.executeQuery()) {
                    rs.next();
                    assertEquals(OTHER_NODE, rs.getString(3));
                    return new long[] {rs.getLong(1), rs.getBoolean(2) ? 1 : 0};
                }
            }
        });
        assertArrayEquals(new long[] {2, 1}, revAndDeleted);
    }

    @Test
    public void addPhotoCreatesThePhotoAndTheBlobRecord() {
        Album album = repository.createAlbum("A", NODE);
        BlobRecord blob = blob("one");

        AddedPhoto added = repository.addPhoto(newPhoto(album.id(), "IMG_1.jpg", T0), blob, "account-1", "key-1");

        assertTrue(added.created());
        Photo photo = added.photo();
        assertEquals(album.id(), photo.albumId());
        assertEquals(blob.id(), photo.blobId());
        assertEquals(T0, photo.takenAt());
        assertEquals(1, photo.rev());
        assertEquals(Integer.valueOf(640), photo.width());
        assertEquals(Optional.of(photo), repository.photo(photo.id()));
        BlobRecord stored = repository.blob(blob.id()).orElseThrow();
        assertEquals(blob.manifest(), stored.manifest());
        assertArrayEquals(blob.signature(), stored.signature());
        Album withPhoto = repository.album(album.id()).orElseThrow();
        assertEquals(1, withPhoto.photoCount());
        assertEquals(photo.id(), withPhoto.coverPhotoId());
    }

    @Test
    public void addPhotoWithoutCaptureTimeUsesTheUploadTime() {
        Album album = repository.createAlbum("A", NODE);

        Photo photo = repository.addPhoto(newPhoto(album.id(), "x.png", null), blob("x"), "account-1", null).photo();

        assertEquals(photo.uploadedAt(), photo.takenAt());
        assertEquals(Optional.of(photo), repository.photo(photo.id()));
    }

    @Test
    public void aRepeatedIdempotencyKeyReturnsTheSamePhotoAndWritesNothing() {
        Album album = repository.createAlbum("A", NODE);
        Photo first = repository.addPhoto(newPhoto(album.id(), "a.jpg", T0), blob("a"), "account-1", "key").photo();

        AddedPhoto again = repository.addPhoto(newPhoto(album.id(), "b.jpg", T0), blob("b"), "account-1", "key");

        assertFalse(again.created());
        assertEquals(first, again.photo());
        assertEquals(Optional.empty(), repository.blob(blobId("b")));
        assertEquals(Optional.of(first), repository.findByIdempotencyKey("account-1", "key"));
        assertEquals(Optional.empty(), repository.findByIdempotencyKey("account-2", "key"));
        // Keys are per account.
        assertTrue(repository.addPhoto(newPhoto(album.id(), "b.jpg", T0), blob("b"), "account-2", "key").created());
    }

    @Test
    public void concurrentRetriesWithOneIdempotencyKeyCreateOnePhoto() throws Exception {
        Album a = repository.createAlbum("A", NODE);
        Album b = repository.createAlbum("B", NODE);
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<AddedPhoto>> results = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                // Different albums and blobs, so only the key can stop the duplicates.
                String albumId = i % 2 == 0 ? a.id() : b.id();
                String seed = "blob-" + i;
                results.add(pool.submit(() -> {
                    start.await();
                    return repository.addPhoto(newPhoto(albumId, seed, T0), blob(seed), "account-1", "same-key");
                }));
            }
            start.countDown();
            Set<String> photoIds = new HashSet<>();
            int created = 0;
            for (Future<AddedPhoto> result : results) {
                photoIds.add(result.get().photo().id());
                created += result.get().created() ? 1 : 0;
            }
            assertEquals(1, created);
            assertEquals(1, photoIds.size());
            assertEquals(1, repository.stats().photos());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    public void theSameBlobInTheSameAlbumReturnsTheExistingPhoto() {
        Album album = repository.createAlbum("A", NODE);
        Photo first = repository.addPhoto(newPhoto(album.id(), "a.jpg", T0), blob("a"), "account-1", null).photo();

        AddedPhoto duplicate = repository.addPhoto(newPhoto(album.id(), "copy of a.jpg", T0), blob("a"), "account-1",
                "key-2");

        assertFalse(duplicate.created());
        assertEquals(first, duplicate.photo());
        assertEquals(1, repository.album(album.id()).orElseThrow().photoCount());
        // The key now answers with that photo too.
        assertEquals(Optional.of(first), repository.findByIdempotencyKey("account-1", "key-2"));
    }

    @Test
    public void concurrentUploadsOfTheSameBytesIntoOneAlbumCreateOnePhoto() throws Exception {
        Album album = repository.createAlbum("A", NODE);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<AddedPhoto>> results = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Callable<AddedPhoto> upload = () -> {
                    start.await();
                    return repository.addPhoto(newPhoto(album.id(), "a.jpg", T0), blob("a"), "account-1", null);
                };
                results.add(pool.submit(upload));
            }
            start.countDown();
            int created = 0;
            for (Future<AddedPhoto> result : results) {
                created += result.get().created() ? 1 : 0;
            }
            assertEquals(1, created);
            assertEquals(1, repository.album(album.id()).orElseThrow().photoCount());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    public void theSameBlobInAnotherAlbumIsASecondPhotoSharingTheBlob() {
        Album a = repository.createAlbum("A", NODE);
        Album b = repository.createAlbum("B", NODE);
        Photo inA = repository.addPhoto(newPhoto(a.id(), "a.jpg", T0), blob("shared"), "account-1", null).photo();

        AddedPhoto inB = repository.addPhoto(newPhoto(b.id(), "a.jpg", T0), blob("shared"), "account-1", null);

        assertTrue(inB.created());
        assertNotEquals(inA.id(), inB.photo().id());
        assertEquals(inA.blobId(), inB.photo().blobId());
        VaultStats stats = repository.stats();
        assertEquals(2, stats.photos());
        assertEquals(1, stats.blobs());
    }

    @Test
    public void addingToAMissingOrDeletedAlbumIsAConflict() {
        assertThrows(ConflictException.class, () -> repository.addPhoto(
                newPhoto("nosuchalbumnosuchalbum0000", "a.jpg", T0), blob("a"), "account-1", null));
        Album album = repository.createAlbum("A", NODE);
        repository.deleteAlbum(album.id(), NODE);
        assertThrows(ConflictException.class,
                () -> repository.addPhoto(newPhoto(album.id(), "a.jpg", T0), blob("a"), "account-1", "k"));
        // Nothing of the failed transaction remains.
        assertEquals(Optional.empty(), repository.blob(blobId("a")));
        assertEquals(Optional.empty(), repository.findByIdempotencyKey("account-1", "k"));
    }

    @Test
    public void aRetryAfterThePhotoWasDeletedIsAConflict() {
        Album album = repository.createAlbum("A", NODE);
        Photo photo = repository.addPhoto(newPhoto(album.id(), "a.jpg", T0), blob("a"), "account-1", "key").photo();
        repository.deletePhoto(photo.id(), NODE);

        assertThrows(ConflictException.class,
                () -> repository.addPhoto(newPhoto(album.id(), "a.jpg", T0), blob("a"), "account-1", "key"));
        assertEquals(Optional.empty(), repository.findByIdempotencyKey("account-1", "key"));
    }

    @Test
    public void pagingThroughTenThousandPhotosReturnsEachOnceInOrder() {
        Album album = repository.createAlbum("Big", NODE);
        Album other = repository.createAlbum("Other", NODE);
        insertPhotos(album.id(), 10_000, T0.toEpochMilli(), 1000);
        insertPhotos(other.id(), 50, T0.toEpochMilli(), 1000);

        long started = System.nanoTime();
        Page<Photo> page = repository.photos(album.id(), 500, null);
        System.out.printf("first page of 500 from 10,000 photos: %.1f ms%n", (System.nanoTime() - started) / 1e6);

        List<Photo> all = new ArrayList<>();
        int pages = 0;
        started = System.nanoTime();
        while (true) {
            pages++;
            all.addAll(page.items());
            if (page.next() == null) {
                break;
            }
            assertEquals(500, page.items().size());
            page = repository.photos(album.id(), 500, page.next());
        }
        System.out.printf("all %d pages: %.1f ms%n", pages, (System.nanoTime() - started) / 1e6);

        assertEquals(20, pages);
        assertEquals(10_000, all.size());
        assertEquals(10_000, all.stream().map(Photo::id).distinct().count());
        for (int i = 1; i < all.size(); i++) {
            Photo before = all.get(i - 1);
            Photo after = all.get(i);
            assertEquals(album.id(), after.albumId());
            int order = after.takenAt().compareTo(before.takenAt());
            assertTrue("order at " + i, order < 0 || (order == 0 && after.id().compareTo(before.id()) < 0));
        }
        assertEquals(10_000, repository.album(album.id()).orElseThrow().photoCount());
        assertEquals(all.get(0).id(), repository.album(album.id()).orElseThrow().coverPhotoId());

        started = System.nanoTime();
        Page<Photo> timeline = repository.timeline(500, null);
        System.out.printf("first timeline page of 500 from 10,050 photos: %.1f ms%n",
                (System.nanoTime() - started) / 1e6);
        assertEquals(500, timeline.items().size());
    }

    @Test
    public void pagesSkipDeletedPhotosAndEndWithoutCursor() {
        Album album = repository.createAlbum("A", NODE);
        List<Photo> photos = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            photos.add(repository.addPhoto(newPhoto(album.id(), i + ".jpg", T0.plusSeconds(i)), blob("p" + i),
                    "account-1", null).photo());
        }
        repository.deletePhoto(photos.get(3).id(), NODE);

        Page<Photo> first = repository.photos(album.id(), 2, null);
        Page<Photo> second = repository.photos(album.id(), 2, first.next());

        assertEquals(List.of(photos.get(4).id(), photos.get(2).id()), first.items().stream().map(Photo::id).toList());
        assertEquals(List.of(photos.get(1).id(), photos.get(0).id()), second.items().stream().map(Photo::id).toList());
        assertNull(second.next());
        assertEquals(new Page<>(List.of(), null), repository.photos("nosuchalbumnosuchalbum0000", 10, null));
    }

    @Test
    public void badCursorsAndLimitsAreRejected() {
        Album album = repository.createAlbum("A", NODE);
        for (String cursor : new String[] {"", "!!!", "bm90LWEtY3Vyc29y", "OmFiYw", "MTIzOg", "eHl6OmFiYw"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> repository.photos(album.id(), 10, cursor));
            assertEquals("bad cursor", e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> repository.timeline(0, null));
        assertThrows(IllegalArgumentException.class, () -> repository.timeline(501, null));
    }

    @Test
    public void theTimelineMergesAlbumsByCaptureTime() {
        Album a = repository.createAlbum("A", NODE);
        Album b = repository.createAlbum("B", NODE);
        Photo oldest = repository.addPhoto(newPhoto(a.id(), "1.jpg", T0), blob("1"), "u", null).photo();
        Photo middle = repository.addPhoto(newPhoto(b.id(), "2.jpg", T0.plusSeconds(60)), blob("2"), "u", null)
                .photo();
        Photo newest = repository.addPhoto(newPhoto(a.id(), "3.jpg", T0.plusSeconds(120)), blob("3"), "u", null)
                .photo();
        Photo gone = repository.addPhoto(newPhoto(b.id(), "4.jpg", T0.plusSeconds(180)), blob("4"), "u", null)
                .photo();
        repository.deletePhoto(gone.id(), NODE);

        Page<Photo> first = repository.timeline(2, null);
        Page<Photo> rest = repository.timeline(2, first.next());

        assertEquals(List.of(newest.id(), middle.id()), first.items().stream().map(Photo::id).toList());
        assertEquals(List.of(oldest.id()), rest.items().stream().map(Photo::id).toList());
        assertNull(rest.next());
    }

    @Test
    public void movePhotoChangesTheAlbumAndBumpsTheClock() {
        Album a = repository.createAlbum("A", NODE);
        Album b = repository.createAlbum("B", NODE);
        Photo photo = repository.addPhoto(newPhoto(a.id(), "1.jpg", T0), blob("1"), "u", null).photo();

        Photo moved = repository.movePhoto(photo.id(), b.id(), OTHER_NODE).orElseThrow();

        assertEquals(b.id(), moved.albumId());
        assertEquals(2, moved.rev());
        assertEquals(OTHER_NODE, moved.nodeId());
        assertEquals(0, repository.album(a.id()).orElseThrow().photoCount());
        assertEquals(1, repository.album(b.id()).orElseThrow().photoCount());

        repository.deleteAlbum(a.id(), NODE);
        assertEquals(Optional.empty(), repository.movePhoto(photo.id(), a.id(), NODE));
        assertEquals(Optional.empty(), repository.movePhoto("nosuchphotonosuchphoto0000", b.id(), NODE));
    }

    @Test
    public void deletePhotoReturnsOnlyBlobsNoLivePhotoUses() {
        Album a = repository.createAlbum("A", NODE);
        Album b = repository.createAlbum("B", NODE);
        Photo sharedInA = repository.addPhoto(newPhoto(a.id(), "s.jpg", T0), blob("shared"), "u", null).photo();
        Photo sharedInB = repository.addPhoto(newPhoto(b.id(), "s.jpg", T0), blob("shared"), "u", null).photo();
        Photo single = repository.addPhoto(newPhoto(a.id(), "x.jpg", T0), blob("single"), "u", null).photo();
        repository.setThumbnail(single.id(), blobId("thumb-single"));

        assertEquals(Optional.of(List.of()), repository.deletePhoto(sharedInA.id(), NODE));
        assertEquals(Optional.of(List.of(blobId("shared"))), repository.deletePhoto(sharedInB.id(), NODE));
        assertEquals(Optional.of(List.of(blobId("single"), blobId("thumb-single"))),
                repository.deletePhoto(single.id(), NODE));
        assertEquals(Optional.empty(), repository.deletePhoto(single.id(), NODE));
        assertEquals(Optional.empty(), repository.photo(single.id()));
        // Blob records stay until the caller removes them.
        assertTrue(repository.blob(blobId("shared")).isPresent());
    }

    @Test
    public void deleteAlbumTombstonesItsPhotosAndReturnsTheirUnreferencedBlobs() {
        Album a = repository.createAlbum("A", NODE);
        Album b = repository.createAlbum("B", NODE);
        Photo shared = repository.addPhoto(newPhoto(a.id(), "s.jpg", T0), blob("shared"), "u", null).photo();
        repository.addPhoto(newPhoto(b.id(), "s.jpg", T0), blob("shared"), "u", null);
        Photo only = repository.addPhoto(newPhoto(a.id(), "o.jpg", T0), blob("only"), "u", null).photo();

        List<String> unreferenced = repository.deleteAlbum(a.id(), OTHER_NODE).orElseThrow();

        assertEquals(List.of(blobId("only")), unreferenced);
        assertEquals(Optional.empty(), repository.photo(shared.id()));
        assertEquals(Optional.empty(), repository.photo(only.id()));
        assertEquals(1, repository.stats().photos());
        long photoRev = database.query("read photo rev", c -> {
            try (var s = c.prepareStatement("SELECT rev FROM photos WHERE id = ?")) {
                s.setString(1, only.id());
                try (var rs = s.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
        assertEquals(2, photoRev);
    }

    @Test
    public void blobRecordsGoOnlyWhenUnreferenced() {
        Album a = repository.createAlbum("A", NODE);
        Photo photo = repository.addPhoto(newPhoto(a.id(), "s.jpg", T0), blob("b"), "u", null).photo();

        assertFalse(repository.deleteBlobRecordIfUnreferenced(blobId("b")));
        assertTrue(repository.blob(blobId("b")).isPresent());

        repository.deletePhoto(photo.id(), NODE);
        assertTrue(repository.deleteBlobRecordIfUnreferenced(blobId("b")));
        assertEquals(Optional.empty(), repository.blob(blobId("b")));
        assertEquals(0, repository.stats().blobs());
    }

    @Test
    public void addPhotoWritesAPendingJobForEachPinnedPeerThatIsNotBlocked() {
        DerbyPeerStore peers = new DerbyPeerStore(database);
        DerbyJobQueue queue = newQueue();
        pin(peers, "peer-b");
        pin(peers, "peer-c");
        pin(peers, "peer-d");
        peers.setBlocked("peer-d", true, T0);
        Album album = repository.createAlbum("A", NODE);

        Photo photo = repository.addPhoto(newPhoto(album.id(), "a.jpg", T0), blob("a"), "u", "key").photo();

        List<Job> jobs = queue.jobs(null, null, 10, null).items();
        assertEquals(Set.of("peer-b", "peer-c"), jobs.stream().map(Job::peerId).collect(Collectors.toSet()));
        for (Job job : jobs) {
            assertEquals(JobState.PENDING, job.state());
            assertEquals(blobId("a"), job.blobId());
            assertEquals(photo.id(), job.photoId());
            assertEquals(0, job.attempts());
            assertEquals(photo.uploadedAt(), job.nextAttemptAt());
        }

        // An idempotent repeat and a duplicate in the same album write nothing.
        assertFalse(repository.addPhoto(newPhoto(album.id(), "b.jpg", T0), blob("b"), "u", "key").created());
        assertFalse(repository.addPhoto(newPhoto(album.id(), "copy.jpg", T0), blob("a"), "u", null).created());
        assertEquals(2, jobCount(queue));
        // The same bytes in another album are a new photo, but the peers have jobs of the blob already.
        Album other = repository.createAlbum("B", NODE);
        assertTrue(repository.addPhoto(newPhoto(other.id(), "a.jpg", T0), blob("a"), "u", null).created());
        assertEquals(2, jobCount(queue));
        // A peer paired since gets the blob with its next photo.
        pin(peers, "peer-e");
        Album third = repository.createAlbum("C", NODE);
        Photo inThird = repository.addPhoto(newPhoto(third.id(), "a.jpg", T0), blob("a"), "u", null).photo();
        List<Job> ofE = queue.jobs(null, "peer-e", 10, null).items();
        assertEquals(List.of(inThird.id()), ofE.stream().map(Job::photoId).toList());
        assertEquals(3, jobCount(queue));
    }

    @Test
    public void withoutPeersAddPhotoWritesNoJobs() {
        Album album = repository.createAlbum("A", NODE);

        assertTrue(repository.addPhoto(newPhoto(album.id(), "a.jpg", T0), blob("a"), "u", null).created());

        assertEquals(0, jobCount(newQueue()));
    }

    @Test
    public void removingTheLastRecordOfABlobDropsItsUnfinishedJobs() {
        DerbyPeerStore peers = new DerbyPeerStore(database);
        DerbyJobQueue queue = newQueue();
        pin(peers, "peer-b");
        pin(peers, "peer-c");
        Album a = repository.createAlbum("A", NODE);
        Album b = repository.createAlbum("B", NODE);
        Photo inA = repository.addPhoto(newPhoto(a.id(), "s.jpg", T0), blob("shared"), "u", null).photo();
        Photo inB = repository.addPhoto(newPhoto(b.id(), "s.jpg", T0), blob("shared"), "u", null).photo();
        repository.addPhoto(newPhoto(a.id(), "o.jpg", T0), blob("other"), "u", null);
        Instant now = Instant.now().plusSeconds(1);
        Job sent = queue.lease("peer-b", 10, Duration.ofSeconds(30), now).stream()
                .filter(job -> job.blobId().equals(blobId("shared"))).findFirst().orElseThrow();
        queue.complete(sent.id(), "http", "host", now);

        repository.deletePhoto(inA.id(), NODE);
        assertFalse(repository.deleteBlobRecordIfUnreferenced(blobId("shared")));
        assertEquals(4, jobCount(queue));

        repository.deletePhoto(inB.id(), NODE);
        assertTrue(repository.deleteBlobRecordIfUnreferenced(blobId("shared")));
        List<Job> left = queue.jobs(null, null, 10, null).items();
        assertEquals(3, left.size());
        assertEquals(List.of(sent.id()), left.stream().filter(job -> job.blobId().equals(blobId("shared")))
                .map(Job::id).toList());

        // The same bytes uploaded again go to every peer again: they may have dropped theirs.
        Photo back = repository.addPhoto(newPhoto(a.id(), "s.jpg", T0), blob("shared"), "u", null).photo();
        List<Job> resent = queue.jobs(null, null, 10, null).items().stream()
                .filter(job -> job.blobId().equals(blobId("shared"))).toList();
        assertEquals(2, resent.size());
        assertTrue(resent.stream().allMatch(job -> job.state() == JobState.PENDING && job.photoId().equals(back.id())));
    }

    @Test
    public void setThumbnailDoesNotTouchTheReplicationClock() {
        Album a = repository.createAlbum("A", NODE);
        Photo photo = repository.addPhoto(newPhoto(a.id(), "s.jpg", T0), blob("b"), "u", null).photo();

        repository.setThumbnail(photo.id(), blobId("thumb"));

        Photo after = repository.photo(photo.id()).orElseThrow();
        assertEquals(blobId("thumb"), after.thumbBlobId());
        assertEquals(photo.rev(), after.rev());
        assertEquals(photo.updatedAt(), after.updatedAt());
    }

    @Test
    public void statsCountLiveRecords() {
        Album a = repository.createAlbum("A", NODE);
        Album gone = repository.createAlbum("Gone", NODE);
        repository.addPhoto(newPhoto(a.id(), "1.jpg", T0), blob("1"), "u", null);
        repository.addPhoto(newPhoto(gone.id(), "2.jpg", T0), blob("2"), "u", null);
        repository.deleteAlbum(gone.id(), NODE);
        new DerbyAccountStore(database).createAccount("alice", "hash", "admin", NODE);

        assertEquals(new VaultStats(1, 1, 2, 2200, 1), repository.stats());
    }

    @Test
    public void oldIdempotencyKeysArePurged() {
        Album a = repository.createAlbum("A", NODE);
        repository.addPhoto(newPhoto(a.id(), "1.jpg", T0), blob("1"), "u", "key");

        assertEquals(0, repository.purgeIdempotencyKeys(Instant.now().minusSeconds(3600)));
        assertEquals(1, repository.purgeIdempotencyKeys(Instant.now().plusSeconds(1)));
        assertEquals(Optional.empty(), repository.findByIdempotencyKey("u", "key"));
    }

    @Test
    public void albumsStaysFastForAThousandAlbums() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            ids.add(repository.createAlbum("Album " + i, NODE).id());
        }
        for (int i = 0; i < ids.size(); i++) {
            insertPhotos(ids.get(i), 20, T0.toEpochMilli() + i, 1000);
        }
        repository.albums(); // compiles the statement

        long started = System.nanoTime();
        List<Album> albums = repository.albums();
        System.out.printf("albums() with 1,000 albums and 20,000 photos: %.1f ms%n",
                (System.nanoTime() - started) / 1e6);

        assertEquals(1000, albums.size());
        assertTrue(albums.stream().allMatch(album -> album.photoCount() == 20 && album.coverPhotoId() != null));
    }

    private static void pin(DerbyPeerStore peers, String nodeId) {
        peers.pin(nodeId, nodeId.getBytes(StandardCharsets.UTF_8), nodeId, PeerRole.FULL, List.of(),
                T0);
    }

    private static long jobCount(DerbyJobQueue queue) {
        return queue.counts(null).values().stream().mapToLong(Long::longValue).sum();
    }

    @Test
    public void addPhotoThroughput() {
        Album a = repository.createAlbum("A", NODE);
        int count = 500;
        long started = System.nanoTime();
        for (int i = 0; i < count; i++) {
            repository.addPhoto(newPhoto(a.id(), i + ".jpg", T0.plusSeconds(i)), blob("t" + i), "u", "k" + i);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf("addPhoto: %d in %.2f s = %.0f/s (one committed transaction each)%n", count, seconds,
                count / seconds);
        assertEquals(count, repository.album(a.id()).orElseThrow().photoCount());
    }
}
