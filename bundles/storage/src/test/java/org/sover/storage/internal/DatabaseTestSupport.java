package org.sover.storage.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.rules.TemporaryFolder;
import org.sover.api.Ids;
import org.sover.api.crypto.BlobManifest;
import org.sover.api.vault.BlobRecord;
import org.sover.api.vault.NewPhoto;

/** A fresh database in a temporary directory for each test. */
public abstract class DatabaseTestSupport {
    static final String NODE = "node-a";
    static final String OTHER_NODE = "node-b";

    @Rule
    public TemporaryFolder temp = new TemporaryFolder();

    DerbyDatabase database;
    private final List<DerbyJobQueue> queues = new ArrayList<>();

    @Before
    public void openDatabase() throws Exception {
        database = new DerbyDatabase(temp.getRoot().toPath(), 1000, 8);
    }

    /** A job queue on the test's database, deactivated before the database closes. */
    DerbyJobQueue newQueue() {
        DerbyJobQueue queue = new DerbyJobQueue(database);
        queues.add(queue);
        return queue;
    }

    @After
    public void closeDatabase() {
        queues.forEach(DerbyJobQueue::close);
        if (database != null) {
            database.close();
        }
    }

    /** A blob id as the crypto bundle makes them: 64 hex characters. */
    static String blobId(String seed) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(seed.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    static BlobRecord blob(String seed) {
        String id = blobId(seed);
        return new BlobRecord(new BlobManifest(id, 1000, 1100, 1, blobId("cipher-" + seed), NODE,
                Instant.ofEpochMilli(1_700_000_000_000L)), new byte[] {1, 2, 3, 4});
    }

    static NewPhoto newPhoto(String albumId, String filename, Instant takenAt) {
        return new NewPhoto(albumId, filename, "image/jpeg", 1000, 640, 480, takenAt, "account-1", NODE);
    }

    /**
     * Inserts photo rows directly, each with the blob record that makes it servable, in batches,
     * for tests that need many of them quickly.
     */
    void insertPhotos(String albumId, int count, long firstTakenAt, long step) {
        database.transaction("insert test photos", c -> {
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO photos (id, album_id, blob_id, filename,"
                    + " content_type, size, width, height, taken_at, uploaded_at, updated_at, rev, node_id,"
                    + " thumb_blob_id, uploaded_by, deleted, seq) VALUES (?, ?, ?, ?, 'image/jpeg', 1000, NULL, NULL,"
                    + " ?, ?, ?, 1, ?, NULL, NULL, FALSE, NEXT VALUE FOR change_seq)");
                    PreparedStatement insertBlob = c.prepareStatement("INSERT INTO blobs (id, size, cipher_size,"
                            + " segments, cipher_sha256, origin_node_id, created_at, signature)"
                            + " VALUES (?, 1000, 1100, 1, ?, ?, ?, X'01')")) {
                for (int i = 0; i < count; i++) {
                    String id = Ids.newId();
                    insert.setString(1, id);
                    insert.setString(2, albumId);
                    insert.setString(3, blobId(id));
                    insert.setString(4, "IMG_" + i + ".jpg");
                    insert.setLong(5, firstTakenAt + (i / 3) * step); // groups of three share a capture time
                    insert.setLong(6, firstTakenAt);
                    insert.setLong(7, firstTakenAt);
                    insert.setString(8, NODE);
                    insert.addBatch();
                    insertBlob.setString(1, blobId(id));
                    insertBlob.setString(2, blobId("cipher-" + id));
                    insertBlob.setString(3, NODE);
                    insertBlob.setLong(4, firstTakenAt);
                    insertBlob.addBatch();
                    if (i % 1000 == 999) {
                        insert.executeBatch();
                        insertBlob.executeBatch();
                    }
                }
                insert.executeBatch();
                insertBlob.executeBatch();
            }
            return null;
        });
    }
}
