package org.sover.replication.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.NoSuchFileException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventAdmin;
import org.sover.api.crypto.BlobManifest;
import org.sover.api.crypto.NodeIdentity;
import org.sover.api.replication.BlobReceiver.BlobRejectedException;
import org.sover.api.replication.Delivery;
import org.sover.api.replication.Peer;
import org.sover.api.replication.PeerRole;
import org.sover.api.replication.PeerStore;
import org.sover.api.replication.ReplicationEvents;
import org.sover.api.storage.BlobStore;
import org.sover.api.storage.PendingBlob;
import org.sover.api.vault.BlobRecord;
import org.sover.api.vault.VaultRepository;
import org.sover.crypto.internal.Ed25519NodeIdentity;
import org.sover.crypto.internal.Ed25519SignatureVerifier;

/**
 * The receiving end with real Ed25519 identities and signatures, an in-memory blob store that
 * keeps the BlobStore contract (a blob appears under its id only on commit, and a commit does
 * not replace an existing blob), and the two repository methods the receiver uses.
 */
public class BlobReceiverServiceTest {
    /** More than one 256 KiB read of the receiver, and not a multiple of it. */
    private static final int CIPHER_SIZE = 600_001;

    @Rule
    public TemporaryFolder temp = new TemporaryFolder();

    private Ed25519NodeIdentity self;
    private Ed25519NodeIdentity origin;
    private Ed25519NodeIdentity stranger;
    private MemoryBlobStore store;
    private Map<String, BlobRecord> records;
    private Map<String, Peer> pinned;
    private List<Event> events;
    private BlobReceiverService receiver;
    private Monitor monitor;
    private byte[] ciphertext;
    private BlobRecord record;

    @Before
    public void createReceiver() throws Exception {
        self = new Ed25519NodeIdentity(temp.getRoot().toPath().resolve("self"));
        origin = new Ed25519NodeIdentity(temp.getRoot().toPath().resolve("origin"));
        stranger = new Ed25519NodeIdentity(temp.getRoot().toPath().resolve("stranger"));
        store = new MemoryBlobStore();
        records = new ConcurrentHashMap<>();
        pinned = new ConcurrentHashMap<>();
        pin(origin);
        events = new CopyOnWriteArrayList<>();
        monitor = new Monitor(java.time.Clock.systemUTC(), false);
        receiver = receiver(Map.of());
        monitor.bindEvents(recorder(events));
        ciphertext = new byte[CIPHER_SIZE];
        new Random(42).nextBytes(ciphertext);
        record = signedRecord(origin, origin.nodeId(), ciphertext);
    }

    @Test
    public void goodBytesAreCommittedAndRecorded() throws Exception {
        Delivery delivery = receiver.receive(origin.nodeId(), record, new ByteArrayInputStream(ciphertext));

        assertEquals(record.id(), delivery.blobId());
        assertEquals(CIPHER_SIZE, delivery.size());
        assertEquals(sha256(ciphertext), delivery.cipherSha256());
        assertArrayEquals(ciphertext, store.committed.get(record.id()));
        assertEquals(record, records.get(record.id()));
        assertTrue(receiver.has(record.id()));
        assertTrue(store.allPendingEnded());
        assertEquals(1, events.size());
        assertEquals(ReplicationEvents.BLOB, events.get(0).getTopic());
        assertEquals(record.id(), events.get(0).getProperty(ReplicationEvents.BLOB_ID));
        assertEquals(origin.nodeId(), events.get(0).getProperty(ReplicationEvents.PEER_ID));
    }

    @Test
    public void aBlobOfThisNodeComingBackFromAPeerIsCheckedAgainstThisNodesKey() throws Exception {
        BlobRecord own = signedRecord(self, self.nodeId(), ciphertext);

        Delivery delivery = receiver.receive(origin.nodeId(), own, new ByteArrayInputStream(ciphertext));

        assertEquals(CIPHER_SIZE, delivery.size());
        assertArrayEquals(ciphertext, store.committed.get(own.id()));
    }

    @Test
    public void alteredBytesOfTheRightLengthAreRejectedAndNotStored() {
        byte[] altered = ciphertext.clone();
        altered[CIPHER_SIZE / 2] ^= 1;

        assertRejected("hash_mismatch", new ByteArrayInputStream(altered));
    }

    @Test
    public void tooManyBytesAreRejectedAndNotStored() {
        byte[] longer = Arrays.copyOf(ciphertext, CIPHER_SIZE + 1);

        assertRejected("hash_mismatch", new ByteArrayInputStream(longer));
    }

    @Test
    public void tooFewBytesAreRejectedAndNotStored() {
        assertRejected("hash_mismatch", new ByteArrayInputStream(ciphertext, 0, CIPHER_SIZE - 1));
    }

    @Test(timeout = 60_000)
    public void anEndlessStreamIsCutOffSoonAfterTheManifestsSize() {
        long[] read = {0};
        InputStream endless = new InputStream() {
            @Override
            public int read() {
                read[0]++;
                return 7;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                Arrays.fill(b, off, off + len, (byte) 7);
                read[0] += len;
                return len;
            }
        };

        assertRejected("hash_mismatch", endless);
        assertTrue("read " + read[0] + " bytes", read[0] <= CIPHER_SIZE + 256 * 1024);
    }

    @Test
    public void aManifestSignedByAnotherKeyIsABadManifest() {
        BlobManifest m = record.manifest();
        BlobRecord forged = new BlobRecord(m, stranger.sign(m.canonicalBytes()));

        assertRejected(forged, "bad_manifest", untouchable());
    }

    @Test
    public void aManifestChangedAfterSigningIsABadManifest() {
        BlobManifest m = record.manifest();
        BlobManifest bigger = new BlobManifest(m.blobId(), m.size() + 1, m.cipherSize(), m.segments(),
                m.cipherSha256(), m.originNodeId(), m.createdAt());

        assertRejected(new BlobRecord(bigger, record.signature()), "bad_manifest", untouchable());
        assertRejected(new BlobRecord(m, null), "bad_manifest", untouchable());
    }

    @Test
    public void aBlobFromAnOriginThatIsNotPinnedIsRefused() {
        BlobRecord fromStranger = signedRecord(stranger, stranger.nodeId(), ciphertext);

        assertRejected(fromStranger, "unknown_origin", untouchable());
        // Signed by the stranger while naming a pinned origin: the pinned key decides.
        assertRejected(signedRecord(stranger, origin.nodeId(), ciphertext), "bad_manifest", untouchable());
    }

    @Test
    public void aBlobHeldAlreadyIsAcknowledgedWithoutReadingTheStream() throws Exception {
        receiver.receive(origin.nodeId(), record, new ByteArrayInputStream(ciphertext));
        int pendingBefore = store.pending.size();

        Delivery again = receiver.receive(origin.nodeId(), record, untouchable());

        assertEquals(new Delivery(record.id(), CIPHER_SIZE, sha256(ciphertext), null), again);
        assertEquals(pendingBefore, store.pending.size());
        assertArrayEquals(ciphertext, store.committed.get(record.id()));
    }

    @Test
    public void aBlobThatDoesNotFitIsRefusedBeforeReading() {
        store.usableSpace = CIPHER_SIZE - 1;

        BlobRejectedException e = assertRejected(record, "insufficient_storage", untouchable());

        assertEquals(507, e.status());
    }

    @Test
    public void hasNeedsTheRecordAndTheWholeBlob() {
        assertFalse(receiver.has(record.id()));
        records.put(record.id(), record);
        assertFalse("record without bytes", receiver.has(record.id()));
        store.committed.put(record.id(), Arrays.copyOf(ciphertext, CIPHER_SIZE - 1));
        assertFalse("truncated bytes", receiver.has(record.id()));
        store.committed.put(record.id(), ciphertext);
        assertTrue(receiver.has(record.id()));
    }

    /**
     * The worker drops the record of a blob whose bytes are damaged here, and repair receives
     * the blob again. Under the id there is still the damaged copy, and the store's commit does
     * not replace it.
     */
    @Test
    public void goodBytesReplaceADamagedCopyLeftUnderTheId() throws Exception {
        store.committed.put(record.id(), Arrays.copyOf(ciphertext, 1000));

        receiver.receive(origin.nodeId(), record, new ByteArrayInputStream(ciphertext));

        assertTrue(receiver.has(record.id()));
        assertArrayEquals(ciphertext, store.committed.get(record.id()));
    }

    private BlobRejectedException assertRejected(String code, InputStream bytes) {
        BlobRejectedException e = assertRejected(record, code, bytes);
        assertEquals(422, e.status());
        assertTrue(e.getMessage(), e.getMessage().contains(record.id()));
        return e;
    }

    /** The receive is refused with {@code code}, and nothing is stored, recorded or announced. */
    private BlobRejectedException assertRejected(BlobRecord sent, String code, InputStream bytes) {
        BlobRejectedException e = assertThrows(BlobRejectedException.class,
                () -> receiver.receive(origin.nodeId(), sent, bytes));
        assertEquals(e.getMessage(), code, e.code());
        assertFalse(store.committed.containsKey(sent.id()));
        assertFalse(records.containsKey(sent.id()));
        assertFalse(receiver.has(sent.id()));
        assertTrue(store.allPendingEnded());
        assertEquals(List.of(), events);
        return e;
    }

    /** A stream the receiver must not read. */
    private static InputStream untouchable() {
        return new InputStream() {
            @Override
            public int read() {
                throw new AssertionError("the stream was read");
            }

            @Override
            public int read(byte[] b, int off, int len) {
                throw new AssertionError("the stream was read");
            }
        };
    }

    private static BlobRecord signedRecord(NodeIdentity signer, String originNodeId, byte[] bytes) {
        String hash = sha256(bytes);
        BlobManifest manifest = new BlobManifest(sha256(hash.getBytes()), bytes.length - 40L, bytes.length, 1, hash,
                originNodeId, Instant.ofEpochMilli(1_700_000_000_000L));
        return new BlobRecord(manifest, signer.sign(manifest.canonicalBytes()));
    }

    private void pin(NodeIdentity peer) {
        pinned.put(peer.nodeId(), new Peer(peer.nodeId(), peer.publicKey(), "peer", PeerRole.FULL, List.of(), false,
                Instant.EPOCH, null, null, null));
    }

    private static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(BlobReceiverService.sha256().digest(bytes));
    }

    /** Only blob() and putBlobRecord() are used by the receiver. */
    private static VaultRepository repository(Map<String, BlobRecord> records) {
        return Fakes.of(VaultRepository.class, (name, args) -> switch (name) {
            case "blob" -> Optional.ofNullable(records.get((String) args[0]));
            case "putBlobRecord" -> records.putIfAbsent(((BlobRecord) args[0]).id(), (BlobRecord) args[0]) == null;
            default -> throw new UnsupportedOperationException(name);
        });
    }

    /** Only peer() is used by the receiver. */
    private static PeerStore peerStore(Map<String, Peer> pinned) {
        return Fakes.of(PeerStore.class, (name, args) -> switch (name) {
            case "peer" -> Optional.ofNullable(pinned.get((String) args[0]));
            default -> throw new UnsupportedOperationException(name);
        });
    }

    private static EventAdmin recorder(List<Event> events) {
        return new EventAdmin() {
            @Override
            public void postEvent(Event event) {
                events.add(event);
            }

            @Override
            public void sendEvent(Event event) {
                events.add(event);
            }
        };
    }

    /** Keeps the BlobStore contract in memory: visible on commit only, never replaced by a second commit. */
    private static final class MemoryBlobStore implements BlobStore {
        final Map<String, byte[]> committed = new ConcurrentHashMap<>();
        final List<MemoryPending> pending = new ArrayList<>();
        volatile long usableSpace = Long.MAX_VALUE;

        @Override
        public synchronized PendingBlob create() {
            MemoryPending p = new MemoryPending();
            pending.add(p);
            return p;
        }

        synchronized boolean allPendingEnded() {
            return pending.stream().allMatch(p -> p.ended);
        }

        @Override
        public boolean exists(String blobId) {
            return committed.containsKey(blobId);
        }

        @Override
        public long size(String blobId) {
            byte[] bytes = committed.get(blobId);
            return bytes == null ? -1 : bytes.length;
        }

        @Override
        public InputStream open(String blobId) throws IOException {
            byte[] bytes = committed.get(blobId);
            if (bytes == null) {
                throw new NoSuchFileException(blobId);
            }
            return new ByteArrayInputStream(bytes);
        }

        @Override
        public SeekableByteChannel openChannel(String blobId) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean delete(String blobId) {
            return committed.remove(blobId) != null;
        }

        private final java.util.concurrent.locks.Lock lock = new java.util.concurrent.locks.ReentrantLock();

        @Override
        public java.util.concurrent.locks.Lock lockOf(String blobId) {
            return lock;
        }

        @Override
        public long usableSpace() {
            return usableSpace;
        }

        private final class MemoryPending implements PendingBlob {
            private final ByteArrayOutputStream data = new ByteArrayOutputStream();
            boolean ended;

            @Override
            public OutputStream output() {
                return data;
            }

            @Override
            public boolean commit(String blobId) {
                if (ended) {
                    throw new IllegalStateException("already committed or aborted");
                }
                ended = true;
                return committed.putIfAbsent(blobId, data.toByteArray()) == null;
            }

            @Override
            public void abort() {
                ended = true;
            }

            @Override
            public void close() {
                abort();
            }
        }
    }

    private BlobReceiverService receiver(Map<String, Object> config) {
        return new BlobReceiverService(store, repository(records), self, peerStore(pinned),
                new Ed25519SignatureVerifier(), monitor, TestConfigs.of(ReplicationConfig.class, config));
    }

    @Test
    public void whileIncomingIsPausedNothingIsTakenAndTheSenderIsToldWhy() throws Exception {
        BlobReceiverService paused = receiver(Map.of("pauseIncoming", true));

        BlobRejectedException e = assertThrows(BlobRejectedException.class,
                () -> paused.receive(origin.nodeId(), record, new ByteArrayInputStream(ciphertext)));

        assertEquals(503, e.status());
        assertEquals("paused", e.code());
        assertFalse(paused.has(record.id()));
    }

    @Test
    public void receivedBytesAreCountedForTheSender() throws Exception {
        receiver.receive(origin.nodeId(), record, new ByteArrayInputStream(ciphertext));

        assertEquals(ciphertext.length, monitor.bytesReceived());
        assertEquals(ciphertext.length, monitor.link(origin.nodeId()).orElseThrow().bytesReceived());
    }
}
