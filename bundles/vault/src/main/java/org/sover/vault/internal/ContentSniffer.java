package org.sover.vault.internal;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Recognises photo and video formats from their first bytes, so a body that is not what its
 * Content-Type says is refused before anything is stored.
 */
final class ContentSniffer {
    static final int PREFIX_BYTES = 16;

    private ContentSniffer() {
    }

    /** The media type the bytes look like, or null when they are no format the vault knows. */
    static String detect(byte[] p, int n) {
        if (n >= 3 && (p[0] & 0xff) == 0xFF && (p[1] & 0xff) == 0xD8 && (p[2] & 0xff) == 0xFF) {
            return "image/jpeg";
        }
        if (n >= 8 && (p[0] & 0xff) == 0x89 && ascii(p, 1, "PNG") && p[4] == 0x0D && p[5] == 0x0A) {
            return "image/png";
        }
        if (n >= 6 && (ascii(p, 0, "GIF87a") || ascii(p, 0, "GIF89a"))) {
            return "image/gif";
        }
        if (n >= 12 && ascii(p, 0, "RIFF") && ascii(p, 8, "WEBP")) {
            return "image/webp";
        }
        if (n >= 12 && ascii(p, 0, "RIFF") && ascii(p, 8, "AVI ")) {
            return "video/x-msvideo";
        }
        if (n >= 12 && ascii(p, 4, "ftyp")) {
            String brand = new String(p, 8, 4, StandardCharsets.ISO_8859_1);
            switch (brand) {
                case "heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1":
                    return "image/heic";
                case "avif", "avis":
                    return "image/avif";
                case "qt  ":
                    return "video/quicktime";
                default:
                    return brand.startsWith("3g") ? "video/3gpp" : "video/mp4";
            }
        }
        if (n >= 4 && (p[0] & 0xff) == 0x1A && (p[1] & 0xff) == 0x45 && (p[2] & 0xff) == 0xDF
                && (p[3] & 0xff) == 0xA3) {
            return "video/webm";
        }
        if (n >= 4 && ((ascii(p, 0, "II") && p[2] == 42 && p[3] == 0) || (ascii(p, 0, "MM") && p[2] == 0 && p[3] == 42))) {
            return "image/tiff";
        }
        if (n >= 2 && ascii(p, 0, "BM")) {
            return "image/bmp";
        }
        return null;
    }

    /**
     * Whether the declared type fits the detected one. Declared types of the same family are
     * accepted loosely (phones label HEIF/MP4 variants inconsistently), a photo declared as
     * video or the other way round is not.
     */
    static boolean fits(String declared, String detected) {
        String d = declared.toLowerCase(Locale.ROOT);
        if (d.equals("application/octet-stream")) {
            return true;
        }
        if (d.equals(detected)) {
            return true;
        }
        if (detected.equals("image/jpeg")) {
            return d.equals("image/jpg") || d.equals("image/pjpeg");
        }
        if (detected.equals("image/heic") || detected.equals("image/avif")) {
            return d.startsWith("image/hei") || d.equals("image/avif");
        }
        if (detected.startsWith("video/")) {
            return d.startsWith("video/");
        }
        return false;
    }

    private static boolean ascii(byte[] p, int offset, String s) {
        for (int i = 0; i < s.length(); i++) {
            if (p[offset + i] != (byte) s.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
