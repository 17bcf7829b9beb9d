package org.sover.vault.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import javax.imageio.ImageIO;

import org.junit.Test;

/** Thumbnails are decoded from memory: the decrypted photo never lands in a temporary file. */
public class MediaInspectorTest {
    @Test
    public void decodingNeverWritesThePhotoToATemporaryFile() throws Exception {
        byte[] jpeg = image("jpeg", 900, 600);
        byte[] png = image("png", 900, 600); // written before watching: ImageIO.write caches in a file too
        Path cache = Files.createTempDirectory("imageio-cache-");
        boolean useCache = ImageIO.getUseCache();
        try (WatchService watch = FileSystems.getDefault().newWatchService()) {
            cache.register(watch, StandardWatchEventKinds.ENTRY_CREATE);
            ImageIO.setUseCache(true);
            ImageIO.setCacheDirectory(cache.toFile());
            // What the JDK does by default: the stream goes to a file in the cache directory.
            ImageIO.createImageInputStream(new ByteArrayInputStream(jpeg)).close();
            WatchKey control = watch.poll(10, TimeUnit.SECONDS);
            assertNotNull("the watch sees ImageIO's own cache file", control);
            control.pollEvents();
            control.reset();

            MediaInspector media = new MediaInspector();
            assertNotNull(media.thumbnail(new ByteArrayInputStream(jpeg), 1));
            assertNotNull(media.thumbnail(new ByteArrayInputStream(png), 1));
            WatchKey key = watch.poll(500, TimeUnit.MILLISECONDS);
            assertNull("a file appeared: " + (key == null ? "" : key.pollEvents().get(0).context()), key);
        } finally {
            ImageIO.setCacheDirectory(null);
            ImageIO.setUseCache(useCache);
            try (var files = Files.list(cache)) {
                files.forEach(f -> f.toFile().delete());
            }
            Files.delete(cache);
        }
    }

    @Test
    public void aJpegLongerThanTheWindowKeptInMemoryStillDecodes() throws IOException {
        byte[] jpeg = image("jpeg", 1600, 1200);
        assertTrue(jpeg.length > 16 * 64 * 1024);
        BufferedImage thumb = ImageIO.read(new ByteArrayInputStream(
                new MediaInspector(64 * 1024).thumbnail(new ByteArrayInputStream(jpeg), 1)));
        assertEquals(512, thumb.getWidth());
        assertEquals(384, thumb.getHeight());
    }

    /** Noise, so the file is about as large as a photo of that size. */
    private static byte[] image(String format, int w, int h) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Random r = new Random(3);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, r.nextInt(0xFFFFFF));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, format, out);
        return out.toByteArray();
    }
}
