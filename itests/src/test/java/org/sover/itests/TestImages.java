package org.sover.itests;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Random;

import javax.imageio.ImageIO;

/** Real, decodable images made on the spot, so tests need no binary fixtures. */
public final class TestImages {
    private TestImages() {
    }

    /** A 96x64 lossy WebP (made once with ImageMagick; the JDK has no WebP writer). */
    public static byte[] webp() {
        return java.util.Base64.getDecoder().decode("UklGRt4AAABXRUJQVlA4INIAAABQCQCdASpgAEAAPm0slEWkIqIStvxABsSxAGOwRD2D8gKnj//UHHz9Sgg+EuwnTttffZbo839wyaSW633xyAgNDQb4g/AYISSQzkf0q1nDU19CgAD+/SwsLZ4W//29U9eqeUgfYn//ziHpUovIxkcQ4mEhdD/tUMuUH+BIBgWlg4HgmbS9WFBBQOSPLgZ2NyTY7LoiLy08JC44lE5XZXTCuc3fS08WEIvCXB4UPsz+sXYO0zCZ0oyAlI/bklA15Mmdtamjtr8UEgz4V7S6gNc1AAA=");
    }

    /**
     * The JPEG with an EXIF block in front: DateTimeOriginal "yyyy:MM:dd HH:mm:ss" and an
     * orientation (6 = the camera was turned a quarter clockwise).
     */
    public static byte[] withExif(byte[] jpeg, String dateTimeOriginal, int orientation) {
        java.nio.ByteBuffer tiff = java.nio.ByteBuffer.allocate(76); // big-endian, "MM"
        tiff.put((byte) 'M').put((byte) 'M').putShort((short) 42).putInt(8);
        tiff.putShort((short) 2); // IFD0: orientation, pointer to the Exif IFD
        tiff.putShort((short) 0x0112).putShort((short) 3).putInt(1).putShort((short) orientation).putShort((short) 0);
        tiff.putShort((short) 0x8769).putShort((short) 4).putInt(1).putInt(38);
        tiff.putInt(0);
        tiff.putShort((short) 1); // Exif IFD at 38: DateTimeOriginal, 20 ASCII bytes at 56
        tiff.putShort((short) 0x9003).putShort((short) 2).putInt(20).putInt(56);
        tiff.putInt(0);
        tiff.put(dateTimeOriginal.getBytes(java.nio.charset.StandardCharsets.US_ASCII)).put((byte) 0);
        byte[] header = "Exif\0\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        int length = 2 + header.length + tiff.capacity();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0xFF);
        out.write(0xD8);
        out.write(0xFF);
        out.write(0xE1);
        out.write(length >> 8);
        out.write(length & 0xFF);
        out.writeBytes(header);
        out.writeBytes(tiff.array());
        out.write(jpeg, 2, jpeg.length - 2); // the original without its SOI marker
        return out.toByteArray();
    }

    /** A JPEG full of noise: large for its size in pixels, like a real photo. */
    public static byte[] noisyJpeg(int width, int height, long seed) throws IOException {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Random r = new Random(seed);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                img.setRGB(x, y, r.nextInt(0xFFFFFF));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "jpg", out);
        return out.toByteArray();
    }

    /** A seeded landscape (sky, sun, hills): decodable and pleasant in screenshots. */
    public static byte[] image(String format, int width, int height, long seed) throws IOException {
        // Neighbouring seeds give nearly the same first values from java.util.Random: mix them.
        Random r = new Random(Long.rotateLeft(seed * 0x9E3779B97F4A7C15L, 29));
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(java.awt.RenderingHints.KEY_ANTIALIASING, java.awt.RenderingHints.VALUE_ANTIALIAS_ON);
        float hue = r.nextFloat();
        g.setPaint(new java.awt.GradientPaint(0, 0, Color.getHSBColor(hue, 0.55f, 0.95f), 0, height * 0.7f,
                Color.getHSBColor((hue + 0.08f) % 1f, 0.35f, 1f)));
        g.fillRect(0, 0, width, height);
        int sun = Math.max(8, Math.min(width, height) / 6);
        g.setColor(new Color(255, 244, 214));
        g.fillOval(r.nextInt(Math.max(1, width - sun)), height / 8 + r.nextInt(Math.max(1, height / 4)), sun, sun);
        for (int layer = 0; layer < 3; layer++) {
            float shade = 0.55f - layer * 0.15f;
            g.setColor(Color.getHSBColor((hue + 0.35f + layer * 0.03f) % 1f, 0.45f, shade));
            java.awt.geom.Path2D hill = new java.awt.geom.Path2D.Double();
            double base = height * (0.55 + layer * 0.13);
            hill.moveTo(0, height);
            for (int x = 0; x <= width; x += Math.max(1, width / 16)) {
                hill.lineTo(x, base - Math.sin(x * (0.004 + r.nextDouble() * 0.002) + layer) * height * 0.08
                        - r.nextDouble() * height * 0.02);
            }
            hill.lineTo(width, height);
            hill.closePath();
            g.fill(hill);
        }
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(img, format, out)) {
            throw new IOException("no writer for " + format);
        }
        return out.toByteArray();
    }
}
