package org.sover.vault.internal;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.Date;
import java.util.Iterator;
import java.util.Locale;
import java.util.Set;
import java.util.TimeZone;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.spi.IIORegistry;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.drew.imaging.ImageMetadataReader;
import com.drew.metadata.Directory;
import com.drew.metadata.Metadata;
import com.drew.metadata.exif.ExifIFD0Directory;
import com.drew.metadata.exif.ExifSubIFDDirectory;
import com.drew.metadata.gif.GifHeaderDirectory;
import com.drew.metadata.jpeg.JpegDirectory;
import com.drew.metadata.png.PngDirectory;
import com.drew.metadata.webp.WebpDirectory;
import com.twelvemonkeys.imageio.plugins.webp.WebPImageReaderSpi;

/**
 * Reads what a photo says about itself (capture time, size, orientation) and makes
 * thumbnails. Big images are decoded subsampled, so a 50-megapixel photo never needs its
 * full raster in memory; the decoder reads the decrypted bytes from memory only (never from a
 * temporary file), keeping a bounded window of them for a JPEG and at most
 * {@link #MAX_IN_MEMORY_BYTES} of the other formats, whose decoders may seek anywhere.
 */
final class MediaInspector {
    private static final Logger LOG = LoggerFactory.getLogger(MediaInspector.class);
    static final int THUMB_EDGE = 512;
    /** Bytes of a JPEG kept behind the decoder's position: past its header it only reads forward. */
    static final int JPEG_WINDOW_BYTES = 16 << 20;
    /** Larger PNG, GIF, WebP, TIFF or BMP files get no thumbnail. */
    static final long MAX_IN_MEMORY_BYTES = 64L << 20;
    private final int jpegWindow;

    MediaInspector() {
        this(JPEG_WINDOW_BYTES);
    }

    MediaInspector(int jpegWindow) {
        this.jpegWindow = jpegWindow;
    }

    static {
        // ImageIO finds plugins through the context class loader, which OSGi does not set up.
        IIORegistry.getDefaultInstance().registerServiceProvider(new WebPImageReaderSpi());
    }

    /** Formats {@link #thumbnail} decodes: ImageIO's own, and WebP through TwelveMonkeys (no HEIC, AVIF or video). */
    private static final Set<String> DECODABLE = Set.of("image/jpeg", "image/png", "image/gif", "image/webp",
            "image/tiff", "image/bmp");

    /** Whether a thumbnail can be made of this media type. */
    static boolean canDecode(String contentType) {
        return contentType != null && DECODABLE.contains(contentType.toLowerCase(Locale.ROOT));
    }

    /** What an image file says about itself; fields are null when unknown. */
    record Facts(Instant takenAt, Integer width, Integer height, int orientation) {
        static final Facts NONE = new Facts(null, null, null, 1);
    }

    Facts facts(InputStream in) {
        try {
            Metadata metadata = ImageMetadataReader.readMetadata(in);
            Instant taken = null;
            ExifSubIFDDirectory exif = metadata.getFirstDirectoryOfType(ExifSubIFDDirectory.class);
            if (exif != null) {
                Date d = exif.getDateOriginal(TimeZone.getTimeZone("UTC"));
                if (d == null) {
                    d = exif.getDateDigitized(TimeZone.getTimeZone("UTC"));
                }
                taken = d == null ? null : d.toInstant();
            }
            int orientation = 1;
            ExifIFD0Directory ifd0 = metadata.getFirstDirectoryOfType(ExifIFD0Directory.class);
            if (ifd0 != null && ifd0.containsTag(ExifIFD0Directory.TAG_ORIENTATION)) {
                orientation = ifd0.getInt(ExifIFD0Directory.TAG_ORIENTATION);
            }
            Integer w = null;
            Integer h = null;
            int[][] sizeTags = {
                {JpegDirectory.TAG_IMAGE_WIDTH, JpegDirectory.TAG_IMAGE_HEIGHT},
                {PngDirectory.TAG_IMAGE_WIDTH, PngDirectory.TAG_IMAGE_HEIGHT},
                {GifHeaderDirectory.TAG_IMAGE_WIDTH, GifHeaderDirectory.TAG_IMAGE_HEIGHT},
                {WebpDirectory.TAG_IMAGE_WIDTH, WebpDirectory.TAG_IMAGE_HEIGHT},
                {ExifSubIFDDirectory.TAG_EXIF_IMAGE_WIDTH, ExifSubIFDDirectory.TAG_EXIF_IMAGE_HEIGHT},
            };
            Class<?>[] dirs = {JpegDirectory.class, PngDirectory.class, GifHeaderDirectory.class, WebpDirectory.class,
                ExifSubIFDDirectory.class};
            for (int i = 0; i < dirs.length && w == null; i++) {
                @SuppressWarnings("unchecked")
                Directory dir = metadata.getFirstDirectoryOfType((Class<Directory>) dirs[i]);
                if (dir != null && dir.containsTag(sizeTags[i][0]) && dir.containsTag(sizeTags[i][1])) {
                    w = dir.getInt(sizeTags[i][0]);
                    h = dir.getInt(sizeTags[i][1]);
                }
            }
            // Orientations 5-8 turn the picture a quarter: people see it the other way round.
            if (w != null && orientation >= 5 && orientation <= 8) {
                Integer t = w;
                w = h;
                h = t;
            }
            return new Facts(taken, w, h, orientation);
        } catch (Exception e) {
            LOG.debug("no readable metadata: {}", e.toString());
            return Facts.NONE;
        }
    }

    /** A JPEG of at most {@link #THUMB_EDGE} pixels on the long side, or null when the format cannot be decoded. */
    byte[] thumbnail(InputStream in, int orientation) throws IOException {
        // Never ImageIO.createImageInputStream: with ImageIO's default cache setting it copies the
        // stream into a temporary file, i.e. the decrypted photo onto disk.
        InputStream buffered = new java.io.BufferedInputStream(in, 64 * 1024);
        buffered.mark(3);
        byte[] magic = buffered.readNBytes(3);
        buffered.reset();
        boolean jpeg = magic.length == 3 && (magic[0] & 0xff) == 0xFF && (magic[1] & 0xff) == 0xD8 && (magic[2] & 0xff) == 0xFF;
        try (ImageInputStream iis = jpeg ? new ForwardWindow(buffered, jpegWindow)
                : new MemoryCacheImageInputStream(new Capped(buffered, MAX_IN_MEMORY_BYTES))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(iis);
            if (!readers.hasNext()) {
                return null;
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(iis, true, true);
                int w = reader.getWidth(0);
                int h = reader.getHeight(0);
                ImageReadParam param = reader.getDefaultReadParam();
                int step = Math.max(1, Math.min(w, h) > 0 ? Math.max(w, h) / (THUMB_EDGE * 2) : 1);
                param.setSourceSubsampling(step, step, 0, 0);
                BufferedImage decoded = reader.read(0, param);
                return encodeJpeg(orient(scale(decoded), orientation));
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            LOG.info("no thumbnail: the image could not be decoded ({})", e.toString());
            return null;
        }
    }

    /** An in-memory stream that forgets what lies more than {@code window} bytes behind the position. */
    static final class ForwardWindow extends MemoryCacheImageInputStream {
        private final int window;

        ForwardWindow(InputStream in, int window) {
            super(in);
            this.window = window;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            forget();
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            forget();
            return n;
        }

        private void forget() throws IOException {
            long before = getStreamPosition() - window;
            if (before > getFlushedPosition()) {
                flushBefore(before);
            }
        }
    }

    /** Fails a read past {@code max} bytes, so a huge non-JPEG file is not held in memory whole. */
    private static final class Capped extends java.io.FilterInputStream {
        private final long max;
        private long read;

        Capped(InputStream in, long max) {
            super(in);
            this.max = max;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            count(b < 0 ? -1 : 1);
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            count(n);
            return n;
        }

        private void count(int n) throws IOException {
            if (n > 0 && (read += n) > max) {
                throw new IOException("larger than " + max + " bytes, too large to decode in memory");
            }
        }
    }

    private static BufferedImage scale(BufferedImage src) {
        int w = src.getWidth();
        int h = src.getHeight();
        double f = Math.min(1.0, (double) THUMB_EDGE / Math.max(w, h));
        int tw = Math.max(1, (int) Math.round(w * f));
        int th = Math.max(1, (int) Math.round(h * f));
        BufferedImage out = new BufferedImage(tw, th, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.setColor(java.awt.Color.WHITE); // transparent PNG/GIF areas become white, not black
            g.fillRect(0, 0, tw, th);
            g.drawImage(src, 0, 0, tw, th, null);
        } finally {
            g.dispose();
        }
        return out;
    }

    /** Applies the EXIF orientation so the thumbnail stands the way the camera was held. */
    private static BufferedImage orient(BufferedImage img, int orientation) {
        if (orientation <= 1 || orientation > 8) {
            return img;
        }
        int w = img.getWidth();
        int h = img.getHeight();
        boolean swap = orientation >= 5;
        AffineTransform t = new AffineTransform();
        switch (orientation) {
            case 2 -> { t.translate(w, 0); t.scale(-1, 1); }
            case 3 -> { t.translate(w, h); t.rotate(Math.PI); }
            case 4 -> { t.translate(0, h); t.scale(1, -1); }
            case 5 -> { t.rotate(-Math.PI / 2); t.scale(-1, 1); }
            case 6 -> { t.translate(h, 0); t.rotate(Math.PI / 2); }
            case 7 -> { t.scale(-1, 1); t.translate(-h, 0); t.translate(0, w); t.rotate(3 * Math.PI / 2); }
            case 8 -> { t.translate(0, w); t.rotate(3 * Math.PI / 2); }
            default -> { }
        }
        BufferedImage out = new BufferedImage(swap ? h : w, swap ? w : h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.drawImage(img, t, null);
        } finally {
            g.dispose();
        }
        return out;
    }

    private static byte[] encodeJpeg(BufferedImage img) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 * 1024);
        try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(out);
            ImageWriteParam p = writer.getDefaultWriteParam();
            p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            p.setCompressionQuality(0.82f);
            writer.write(null, new IIOImage(img, null, null), p);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }
}
