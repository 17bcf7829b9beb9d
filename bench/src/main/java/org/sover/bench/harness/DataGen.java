package org.sover.bench.harness;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Seeded test photos: JPEGs of noise written by ImageIO at quality 0.95 (large for their pixel
 * count, like real photos), each with an APP1 Exif segment written here (a minimal TIFF: Make,
 * Model, Orientation, DateTime and an Exif IFD with DateTimeOriginal). Cached under
 * {@code <dir>/<name>}; a finished set has a {@code MANIFEST} file and is reused as it is.
 */
final class DataGen {
    private static final String[][] CAMERAS = {{"Canon", "Canon EOS 80D"}, {"NIKON CORPORATION", "NIKON D7500"},
            {"FUJIFILM", "X-T30"}, {"Apple", "iPhone 12"}, {"SONY", "ILCE-6400"}, {"samsung", "SM-G991B"}};

    private DataGen() {
    }

    /** A finished set: the files in order and their total size. */
    record DataSet(Path dir, List<Path> files, long bytes) {
    }

    /**
     * {@code count} files of {@code minBytes}..{@code maxBytes} each (uniform, seeded; sizes
     * land within a few per cent of the aim, as JPEG sizes do).
     */
    static DataSet ensure(Path root, String name, long seed, int count, long minBytes, long maxBytes, int threads)
            throws Exception {
        Path dir = root.resolve(name);
        Path manifest = dir.resolve("MANIFEST");
        if (Files.exists(manifest)) {
            return read(dir);
        }
        Procs.deleteTree(dir);
        Files.createDirectories(dir);
        double bytesPerPixel = calibrate();
        long t0 = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<Long>> futures = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int index = i;
            futures.add(pool.submit(() -> {
                // neighbouring seeds give nearly the same first values from java.util.Random: mix them
                Random r = new Random(Long.rotateLeft((seed * 1_000_003L + index) * 0x9E3779B97F4A7C15L, 29));
                long aim = minBytes + (long) (r.nextDouble() * (maxBytes - minBytes));
                long pixels = (long) (aim / bytesPerPixel);
                int w = Math.max(16, (int) Math.sqrt(pixels * 4.0 / 3.0)) & ~7;
                int h = Math.max(16, (int) (pixels / Math.max(1, w))) & ~7;
                byte[] jpeg = withExif(noisyJpeg(w, h, r), dateFor(r), CAMERAS[r.nextInt(CAMERAS.length)]);
                Path f = dir.resolve(String.format("IMG_%05d.jpg", index));
                Files.write(f, jpeg);
                return (long) jpeg.length;
            }));
        }
        long total = 0;
        try {
            for (Future<Long> f : futures) {
                total += f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        StringBuilder m = new StringBuilder();
        for (int i = 0; i < count; i++) {
            Path f = dir.resolve(String.format("IMG_%05d.jpg", i));
            m.append(f.getFileName()).append(' ').append(Files.size(f)).append('\n');
        }
        Files.writeString(manifest, m);
        System.out.printf("generated %s: %d files, %,d bytes in %.1f s%n", dir, count, total,
                (System.nanoTime() - t0) / 1e9);
        return read(dir);
    }

    private static DataSet read(Path dir) throws IOException {
        List<Path> files = new ArrayList<>();
        long total = 0;
        for (String line : Files.readAllLines(dir.resolve("MANIFEST"))) {
            if (line.isBlank()) {
                continue;
            }
            String[] parts = line.split(" ");
            Path f = dir.resolve(parts[0]);
            if (!Files.exists(f) || Files.size(f) != Long.parseLong(parts[1])) {
                throw new IOException("cached data set " + dir + " is damaged; delete it");
            }
            files.add(f);
            total += Long.parseLong(parts[1]);
        }
        return new DataSet(dir, files, total);
    }

    private static double calibrate() throws IOException {
        byte[] probe = noisyJpeg(256, 256, new Random(1));
        return probe.length / (256.0 * 256.0);
    }

    private static String dateFor(Random r) {
        int year = 2005 + r.nextInt(20);
        return String.format("%04d:%02d:%02d %02d:%02d:%02d", year, 1 + r.nextInt(12), 1 + r.nextInt(28),
                r.nextInt(24), r.nextInt(60), r.nextInt(60));
    }

    static byte[] noisyJpeg(int w, int h, Random r) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] px = ((DataBufferInt) img.getRaster().getDataBuffer()).getData();
        for (int i = 0; i < px.length; i++) {
            px[i] = r.nextInt() & 0xFFFFFF;
        }
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream out = new ByteArrayOutputStream(w * h * 3);
        try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
            writer.setOutput(ios);
            ImageWriteParam p = writer.getDefaultWriteParam();
            p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            p.setCompressionQuality(0.95f);
            writer.write(null, new IIOImage(img, null, null), p);
        } finally {
            writer.dispose();
        }
        return out.toByteArray();
    }

    /** The JPEG with an APP1 Exif segment right after SOI (big-endian TIFF, two IFDs). */
    static byte[] withExif(byte[] jpeg, String dateTime, String[] camera) {
        byte[] make = ascii(camera[0]);
        byte[] model = ascii(camera[1]);
        byte[] date = ascii(dateTime); // 19 chars + NUL = 20
        int ifd0 = 8;
        int ifd0Entries = 5;
        int exifIfd = ifd0 + 2 + ifd0Entries * 12 + 4;
        int exifEntries = 2;
        int dataStart = exifIfd + 2 + exifEntries * 12 + 4;
        int makeAt = dataStart;
        int modelAt = makeAt + make.length;
        int dateAt = modelAt + model.length;
        int end = dateAt + date.length;
        ByteBuffer t = ByteBuffer.allocate(end);
        t.put((byte) 'M').put((byte) 'M').putShort((short) 42).putInt(ifd0);
        t.putShort((short) ifd0Entries);
        entry(t, 0x010F, 2, make.length, makeAt); // Make
        entry(t, 0x0110, 2, model.length, modelAt); // Model
        t.putShort((short) 0x0112).putShort((short) 3).putInt(1).putShort((short) 1).putShort((short) 0); // Orientation
        entry(t, 0x0132, 2, date.length, dateAt); // DateTime
        entry(t, 0x8769, 4, 1, exifIfd); // Exif IFD pointer
        t.putInt(0);
        t.putShort((short) exifEntries);
        entry(t, 0x9003, 2, date.length, dateAt); // DateTimeOriginal
        entry(t, 0x9004, 2, date.length, dateAt); // DateTimeDigitized
        t.putInt(0);
        t.put(make).put(model).put(date);
        byte[] header = "Exif\0\0".getBytes(StandardCharsets.US_ASCII);
        int length = 2 + header.length + end;
        ByteArrayOutputStream out = new ByteArrayOutputStream(jpeg.length + length + 2);
        out.write(0xFF);
        out.write(0xD8);
        out.write(0xFF);
        out.write(0xE1);
        out.write(length >> 8);
        out.write(length & 0xFF);
        out.writeBytes(header);
        out.writeBytes(t.array());
        out.write(jpeg, 2, jpeg.length - 2);
        return out.toByteArray();
    }

    private static void entry(ByteBuffer t, int tag, int type, int count, int valueOrOffset) {
        t.putShort((short) tag).putShort((short) type).putInt(count).putInt(valueOrOffset);
    }

    private static byte[] ascii(String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        byte[] z = new byte[b.length + 1];
        System.arraycopy(b, 0, z, 0, b.length);
        return z;
    }
}
