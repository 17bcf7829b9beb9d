package org.sover.vault.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Proxy;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.NoSuchFileException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import javax.imageio.ImageIO;

import org.junit.Test;
import org.sover.api.crypto.BlobManifest;
import org.sover.api.crypto.EncryptingStream;
import org.sover.api.crypto.EncryptionResult;
import org.sover.api.crypto.NodeIdentity;
import org.sover.api.crypto.VaultCipher;
import org.sover.api.storage.BlobStore;
import org.sover.api.storage.PendingBlob;
import org.sover.api.vault.BlobRecord;
import org.sover.api.vault.NewPhoto;
import org.sover.api.vault.Photo;
import org.sover.api.vault.VaultRepository;

/**
 * Thumbnails: made at the first request, or ahead from the blob alone (photos from another
 * node, and uploads, whose answer does not wait for them); capture facts of an upload come
 * from the plaintext kept while it streamed.
 */
public class PhotoIngestThumbnailTest {
    private static final Instant T = Instant.parse("2026-11-21T14:02:00Z");
    private final Map<String, byte[]> store = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, Integer> opens = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<NewPhoto> drafts = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile java.util.concurrent.CountDownLatch openGate = new java.util.concurrent.CountDownLatch(0);
    private final Map<String, BlobRecord> records = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<String> thumbnailsSet = new java.util.concurrent.CopyOnWriteArrayList<>();
    private long maxSource = 1 << 20;
    /** The fake cipher names every blob "x", except those of a size listed here, and then those listed here in turn. */
    private final Map<Long, String> contentIdBySize = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.Queue<String> contentIds = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final PhotoIngest ingest = new PhotoIngest(repository(), blobStore(), plainCipher(),
            (NodeIdentity) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {NodeIdentity.class},
                    (proxy, method, args) -> switch (method.getName()) {
                        case "nodeId" -> "NODE";
                        case "sign" -> new byte[64];
                        default -> throw new UnsupportedOperationException(method.getName());
                    }),
            Clock.systemUTC(), () -> maxSource);

    @Test
    public void aPhotoFromAnotherNodeGetsItsThumbnailAtTheFirstRequest() throws IOException {
        Photo photo = stored("p1", "b1", "image/jpeg", jpeg(800, 600));
        assertTrue(ingest.hasThumbnail(photo));
        assertEquals(Optional.of("b1t"), ingest.thumbnailFor(photo));
        assertEquals(List.of("p1=b1t"), thumbnailsSet);
        BufferedImage thumb = ImageIO.read(new ByteArrayInputStream(store.get("b1t")));
        assertEquals(512, thumb.getWidth());
        assertEquals(384, thumb.getHeight());
    }

    @Test
    public void aThumbnailMadeAheadIsOnlyRecordedAtTheRequest() throws IOException {
        Photo photo = stored("p1", "b1", "image/jpeg", jpeg(300, 200));
        records.put("b1", record("b1", store.get("b1").length));
        ingest.prepareThumbnail("b1");
        assertTrue(store.containsKey("b1t"));
        assertEquals(List.of(), thumbnailsSet);
        byte[] made = store.get("b1t");
        assertEquals(Optional.of("b1t"), ingest.thumbnailFor(photo));
        assertEquals(List.of("p1=b1t"), thumbnailsSet);
        assertTrue("not made twice", made == store.get("b1t"));
    }

    @Test
    public void noThumbnailForFormatsWithoutDecoderOrImagesTooLarge() throws IOException {
        byte[] heic = new byte[64];
        System.arraycopy("\0\0\0\u0018ftypheic".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), 0, heic, 0, 12);
        Photo iphone = stored("p1", "b1", "image/heic", heic);
        assertFalse(ingest.hasThumbnail(iphone));
        assertEquals(Optional.empty(), ingest.thumbnailFor(iphone));

        Photo big = stored("p2", "b2", "image/jpeg", jpeg(100, 100));
        maxSource = 10;
        assertFalse(ingest.hasThumbnail(big));
        assertEquals(Optional.empty(), ingest.thumbnailFor(big));
        assertFalse(store.containsKey("b2t"));
        assertEquals(List.of(), thumbnailsSet);
    }

    @Test
    public void anImageThatCannotBeDecodedIsNotPromisedAgain() {
        byte[] broken = new byte[2000];
        broken[0] = (byte) 0xFF;
        broken[1] = (byte) 0xD8;
        broken[2] = (byte) 0xFF;
        Photo photo = stored("p1", "b1", "image/jpeg", broken);
        assertTrue(ingest.hasThumbnail(photo));
        assertEquals(Optional.empty(), ingest.thumbnailFor(photo));
        assertFalse(ingest.hasThumbnail(photo));
    }

    @Test
    public void theBytesNotTheRecordSayWhetherItIsAnImage() {
        byte[] video = new byte[64];
        System.arraycopy("\0\0\0\u0018ftypisom".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), 0, video, 0, 12);
        Photo photo = stored("p1", "b1", "image/jpeg", video);
        assertEquals(Optional.empty(), ingest.thumbnailFor(photo));
        records.put("b1", record("b1", video.length));
        ingest.prepareThumbnail("b1");
        assertFalse(store.containsKey("b1t"));
    }

    @Test
    public void aBlobRemovedMeanwhileGetsNoThumbnail() {
        Photo photo = stored("p1", "b1", "image/jpeg", new byte[] {1});
        store.remove("b1");
        assertEquals(Optional.empty(), ingest.thumbnailFor(photo));
        ingest.prepareThumbnail("b9"); // no record: nothing to do
        assertFalse(store.containsKey("b1t"));
    }

    @Test
    public void anUploadReadsItsExifFromTheBytesKeptWhileStreamingAndGetsItsThumbnailInTheBackground() throws Exception {
        byte[] photo = withExif(noisyJpeg(900, 700), "2019:07:14 18:30:05", 6);
        assertTrue("bigger than the kept prefix", photo.length > PhotoIngest.FACTS_PREFIX_BYTES);
        maxSource = photo.length;
        org.sover.api.vault.AddedPhoto added = upload("turned.jpg", photo);
        assertEquals(Instant.parse("2019-07-14T18:30:05Z"), drafts.get(0).takenAt());
        assertEquals("shown the way the camera was held", Integer.valueOf(700), drafts.get(0).width());
        assertEquals(Integer.valueOf(900), drafts.get(0).height());
        assertTrue(added.photo().thumbBlobId() == null && ingest.hasThumbnail(added.photo()));
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!store.containsKey("xt") && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        BufferedImage thumb = ImageIO.read(new ByteArrayInputStream(store.get("xt")));
        assertEquals("made in the background, turned", 512, thumb.getHeight());
        assertEquals(398, thumb.getWidth());
        // facts: no decryption of the stored blob; thumbnail: one for the orientation, one to decode
        assertEquals(Integer.valueOf(2), opens.get("x"));
        assertEquals(Optional.of("xt"), ingest.thumbnailFor(added.photo()));
        assertEquals(List.of("p-x=xt"), thumbnailsSet);
    }

    @Test
    public void anUploadWhoseFirstBytesDoNotSayItAllIsReadAgain() throws Exception {
        byte[] photo = noisyJpeg(900, 700); // no Exif: no capture time in the first bytes
        maxSource = 10; // no thumbnail, so only the facts open the stored blob
        upload("plain.jpg", photo);
        assertEquals(Integer.valueOf(1), opens.get("x"));
        assertEquals(Integer.valueOf(900), drafts.get(0).width());
    }

    @Test
    public void aReplicatedPhotosThumbnailWaitsUntilBlobsStopArrivingUnlessAskedFor() throws Exception {
        Photo first = stored("p1", "b1", "image/jpeg", jpeg(300, 200));
        records.put("b1", record("b1", store.get("b1").length));
        Photo second = stored("p2", "b2", "image/jpeg", jpeg(300, 200));
        records.put("b2", record("b2", store.get("b2").length));
        long queued = System.nanoTime();
        ingest.makeThumbnailWhenQuiet("b1");
        ingest.makeThumbnailWhenQuiet("b2");
        // Asked for meanwhile: made at once, not after the quiet period.
        assertEquals(Optional.of("b2t"), ingest.thumbnailFor(second));
        assertTrue(System.nanoTime() - queued < PhotoIngest.QUIET_MILLIS * 1_000_000);
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!store.containsKey("b1t") && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        long tookMillis = (System.nanoTime() - queued) / 1_000_000;
        assertTrue("made after a quiet period: " + tookMillis + " ms", tookMillis >= PhotoIngest.QUIET_MILLIS);
        assertEquals(Optional.of("b1t"), ingest.thumbnailFor(first));
    }

    /** Uploads keep the CPU: an upload's thumbnail waits while another still streams, then comes by itself. */
    @Test
    public void anUploadsThumbnailWaitsUntilUploadsHaveStopped() throws Exception {
        byte[] slow = noisyJpeg(320, 240);
        contentIdBySize.put((long) slow.length, "slow");
        java.util.concurrent.CountDownLatch rest = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch waiting = new java.util.concurrent.CountDownLatch(1);
        InputStream body = new java.io.FilterInputStream(new ByteArrayInputStream(slow)) {
            private int sent;

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (sent >= 1000) {
                    waiting.countDown();
                    try {
                        rest.await();
                    } catch (InterruptedException e) {
                        throw new java.io.InterruptedIOException();
                    }
                }
                int n = super.read(b, off, sent < 1000 ? Math.min(len, 1000 - sent) : len);
                sent += Math.max(n, 0);
                return n;
            }
        };
        Thread streaming = new Thread(() -> {
            try {
                ingest.ingest(new PhotoIngest.Upload("album", "slow.jpg", "image/jpeg", body, 1L << 30, "acc", "rose",
                        null));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        streaming.start();
        try {
            assertTrue(waiting.await(20, java.util.concurrent.TimeUnit.SECONDS));
            upload("quick.jpg", noisyJpeg(300, 200)); // stored while "slow.jpg" still streams
            long until = System.nanoTime() + PhotoIngest.QUIET_MILLIS * 1_000_000;
            while (System.nanoTime() < until) {
                assertFalse("no thumbnail while an upload streams", store.containsKey("xt"));
                Thread.sleep(20);
            }
        } finally {
            rest.countDown();
        }
        long released = System.nanoTime();
        streaming.join(20_000);
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!(store.containsKey("xt") && store.containsKey("slowt")) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        long tookMillis = (System.nanoTime() - released) / 1_000_000;
        assertTrue("both made once uploads stopped", store.containsKey("xt") && store.containsKey("slowt"));
        assertTrue("after a quiet period: " + tookMillis + " ms", tookMillis >= PhotoIngest.QUIET_MILLIS);
    }

    /** A burst of uploads longer than half the queue is worked off as it comes, so the queue does not overflow. */
    @Test
    public void aBacklogOfUploadsIsWorkedOffWithoutWaitingForAPause() throws Exception {
        byte[] small = jpeg(64, 48);
        int n = PhotoIngest.BACKLOG + 10;
        for (int i = 0; i < n; i++) {
            contentIds.add("u" + i);
        }
        for (int i = 0; i < n; i++) {
            upload("u" + i + ".jpg", small);
        }
        long took = firstThumbnailMillis("u0t");
        assertTrue("the first made while the uploads went on, or within the pause after: " + took + " ms",
                took < PhotoIngest.QUIET_MILLIS);
        awaitStored("u" + (n - 1) + "t");
    }

    /** However many blobs a sync brings, their thumbnails wait for the pause: the sync keeps the CPU. */
    @Test
    public void aSyncsBacklogStillWaitsForThePause() throws Exception {
        byte[] small = jpeg(64, 48);
        int n = PhotoIngest.BACKLOG + 10;
        for (int i = 0; i < n; i++) {
            stored("p" + i, "b" + i, "image/jpeg", small);
            records.put("b" + i, record("b" + i, small.length));
        }
        long before = System.nanoTime();
        for (int i = 0; i < n; i++) {
            ingest.makeThumbnailWhenQuiet("b" + i);
        }
        awaitStored("b0t");
        long took = (System.nanoTime() - before) / 1_000_000;
        assertTrue("made after the pause: " + took + " ms", took >= PhotoIngest.QUIET_MILLIS);
        awaitStored("b" + (n - 1) + "t");
    }

    /** Milliseconds from now until the blob is stored (polled; 20 s at most). */
    private long firstThumbnailMillis(String blobId) throws InterruptedException {
        long start = System.nanoTime();
        awaitStored(blobId);
        return (System.nanoTime() - start) / 1_000_000;
    }

    private void awaitStored(String blobId) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!store.containsKey(blobId) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(blobId + " stored", store.containsKey(blobId));
    }

    @Test
    public void aRequestAndTheBackgroundNeverDecodeTheSameImageTwice() throws Exception {
        Photo photo = stored("p1", "b1", "image/jpeg", jpeg(800, 600));
        records.put("b1", record("b1", store.get("b1").length));
        openGate = new java.util.concurrent.CountDownLatch(1);
        ingest.makeThumbnailWhenQuiet("b1"); // the background thread takes it after the pause
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!opens.containsKey("b1") && System.nanoTime() < deadline) {
            Thread.sleep(5); // until the background thread holds the blob open, waiting at the gate
        }
        java.util.concurrent.atomic.AtomicReference<Optional<String>> answer = new java.util.concurrent.atomic.AtomicReference<>();
        Thread request = new Thread(() -> answer.set(ingest.thumbnailFor(photo)));
        request.start();
        // The request blocks either way: on the background thread's result (right) or at the gate
        // after opening the blob itself (a second decode). Which one, the count of opens tells.
        while (request.getState() != Thread.State.TIMED_WAITING && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(Integer.valueOf(1), opens.get("b1"));
        openGate.countDown();
        request.join(20_000);
        assertEquals(Optional.of("b1t"), answer.get());
        assertEquals("one decode: the request waited for the background thread", Integer.valueOf(2), opens.get("b1"));
    }

    private org.sover.api.vault.AddedPhoto upload(String name, byte[] bytes) throws IOException {
        return ingest.ingest(new PhotoIngest.Upload("album", name, "image/jpeg", new ByteArrayInputStream(bytes),
                1L << 30, "acc", "rose", null));
    }

    /** A JPEG with an Exif APP1: IFD0 orientation, Exif IFD DateTimeOriginal (big-endian TIFF). */
    private static byte[] withExif(byte[] jpeg, String taken, int orientation) {
        java.nio.ByteBuffer tiff = java.nio.ByteBuffer.allocate(76);
        tiff.put((byte) 'M').put((byte) 'M').putShort((short) 42).putInt(8).putShort((short) 2);
        tiff.putShort((short) 0x0112).putShort((short) 3).putInt(1).putShort((short) orientation).putShort((short) 0);
        tiff.putShort((short) 0x8769).putShort((short) 4).putInt(1).putInt(38).putInt(0);
        tiff.putShort((short) 1).putShort((short) 0x9003).putShort((short) 2).putInt(20).putInt(56).putInt(0);
        tiff.put(taken.getBytes(java.nio.charset.StandardCharsets.US_ASCII)).put((byte) 0);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int length = 2 + 6 + tiff.capacity();
        out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xE1, (byte) (length >> 8),
            (byte) length, 'E', 'x', 'i', 'f', 0, 0});
        out.writeBytes(tiff.array());
        out.write(jpeg, 2, jpeg.length - 2);
        return out.toByteArray();
    }

    private static byte[] noisyJpeg(int w, int h) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        java.util.Random r = new java.util.Random(7);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, r.nextInt(0xFFFFFF));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "jpeg", out);
        return out.toByteArray();
    }

    private Photo stored(String id, String blobId, String type, byte[] bytes) {
        store.put(blobId, bytes);
        return new Photo(id, "album", blobId, id + ".jpg", type, bytes.length, null, null, T, T, T, 1, "OTHER", null,
                "rose");
    }

    private static BlobRecord record(String blobId, long size) {
        return new BlobRecord(new BlobManifest(blobId, size, size, 1, "00", "OTHER", T), new byte[64]);
    }

    private static byte[] jpeg(int w, int h) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        img.setRGB(w / 2, h / 2, 0xff0000);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "jpeg", out);
        return out.toByteArray();
    }

    private VaultRepository repository() {
        return (VaultRepository) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {VaultRepository.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "blob" -> Optional.ofNullable(records.get((String) args[0]));
                    case "addPhoto" -> {
                        NewPhoto d = (NewPhoto) args[0];
                        BlobRecord r = (BlobRecord) args[1];
                        records.put(r.id(), r);
                        drafts.add(d);
                        yield new org.sover.api.vault.AddedPhoto(new Photo("p-" + r.id(), d.albumId(), r.id(), d.filename(),
                                d.contentType(), d.size(), d.width(), d.height(), d.takenAt(), T, T, 1, d.nodeId(), null,
                                d.uploadedBy()), true);
                    }
                    case "setThumbnail" -> {
                        thumbnailsSet.add(args[0] + "=" + args[1]);
                        yield null;
                    }
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    private BlobStore blobStore() {
        return new BlobStore() {
            @Override
            public PendingBlob create() {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                return new PendingBlob() {
                    @Override
                    public OutputStream output() {
                        return bytes;
                    }

                    @Override
                    public boolean commit(String blobId) {
                        return store.putIfAbsent(blobId, bytes.toByteArray()) == null;
                    }

                    @Override
                    public void abort() {
                    }

                    @Override
                    public void close() {
                    }
                };
            }

            @Override
            public boolean exists(String blobId) {
                return store.containsKey(blobId);
            }

            @Override
            public long size(String blobId) {
                return exists(blobId) ? store.get(blobId).length : -1;
            }

            @Override
            public InputStream open(String blobId) throws IOException {
                if (!exists(blobId)) {
                    throw new NoSuchFileException(blobId);
                }
                opens.merge(blobId, 1, Integer::sum);
                try {
                    if (!openGate.await(20, java.util.concurrent.TimeUnit.SECONDS)) {
                        throw new IOException("gate never opened");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException(e);
                }
                return new ByteArrayInputStream(store.get(blobId));
            }

            @Override
            public SeekableByteChannel openChannel(String blobId) {
                throw new UnsupportedOperationException();
            }

            @Override
            public boolean delete(String blobId) {
                return store.remove(blobId) != null;
            }

            private final java.util.concurrent.locks.Lock lock = new java.util.concurrent.locks.ReentrantLock();

            @Override
            public java.util.concurrent.locks.Lock lockOf(String blobId) {
                return lock;
            }

            @Override
            public long usableSpace() {
                return Long.MAX_VALUE;
            }
        };
    }

    /** No encryption: these tests are about which thumbnails are made, not how blobs are sealed. */
    private VaultCipher plainCipher() {
        return (VaultCipher) Proxy.newProxyInstance(PhotoIngestThumbnailTest.class.getClassLoader(),
                new Class<?>[] {VaultCipher.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "hasVaultKey" -> true;
                    case "decrypt" -> args[0];
                    case "encrypt" -> {
                        OutputStream sink = (OutputStream) args[0];
                        yield new EncryptingStream() {
                            private long n;

                            @Override
                            public void write(int b) throws IOException {
                                sink.write(b);
                                n++;
                            }

                            @Override
                            public void write(byte[] b, int off, int len) throws IOException {
                                sink.write(b, off, len);
                                n += len;
                            }

                            @Override
                            public EncryptionResult result() {
                                String id = contentIdBySize.get(n);
                                if (id == null) {
                                    id = contentIds.poll();
                                }
                                return new EncryptionResult(id == null ? "x" : id, n, n, 1, "00");
                            }
                        };
                    }
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }
}
