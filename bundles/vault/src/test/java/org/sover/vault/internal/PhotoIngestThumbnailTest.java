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
import java.util.ArrayList;
import java.util.HashMap;
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
import org.sover.api.vault.Photo;
import org.sover.api.vault.VaultRepository;

/** Thumbnails of photos that came from another node: made at the first request, or ahead from the blob alone. */
public class PhotoIngestThumbnailTest {
    private static final Instant T = Instant.parse("2026-11-21T14:02:00Z");
    private final Map<String, byte[]> store = new HashMap<>();
    private final Map<String, BlobRecord> records = new HashMap<>();
    private final List<String> thumbnailsSet = new ArrayList<>();
    private long maxSource = 1 << 20;
    private final PhotoIngest ingest = new PhotoIngest(repository(), blobStore(), plainCipher(),
            (NodeIdentity) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {NodeIdentity.class},
                    (proxy, method, args) -> {
                        throw new UnsupportedOperationException(method.getName());
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
    private static VaultCipher plainCipher() {
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
                                return new EncryptionResult("x", n, n, 1, "00");
                            }
                        };
                    }
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }
}
