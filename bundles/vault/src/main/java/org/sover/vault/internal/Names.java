package org.sover.vault.internal;

import java.util.regex.Pattern;

/** Validation of names people type, with messages that say what to change. */
final class Names {
    private static final Pattern USERNAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private Names() {
    }

    static String albumName(String raw) {
        if (raw == null) {
            throw ApiException.badRequest("invalid_name", "Give the album a name.");
        }
        String name = raw.strip();
        if (name.isEmpty()) {
            throw ApiException.badRequest("invalid_name", "The album name is empty; give it a name.");
        }
        if (name.codePointCount(0, name.length()) > 200) {
            throw ApiException.badRequest("invalid_name", "The album name is longer than 200 characters.");
        }
        if (hasControl(name)) {
            throw ApiException.badRequest("invalid_name", "The album name contains control characters.");
        }
        return name;
    }

    static String filename(String raw) {
        if (raw == null || raw.isBlank()) {
            throw ApiException.badRequest("invalid_filename", "The file has no name (send X-Filename).");
        }
        String name = raw.strip();
        if (name.length() > 255) {
            throw ApiException.badRequest("invalid_filename", "The file name is longer than 255 characters.");
        }
        if (name.equals(".") || name.equals("..") || name.indexOf('/') >= 0 || name.indexOf('\\') >= 0
                || hasControl(name)) {
            throw ApiException.badRequest("invalid_filename",
                    "The file name \"" + printable(name) + "\" contains path or control characters.");
        }
        return name;
    }

    static String username(String raw) {
        if (raw == null || !USERNAME.matcher(raw).matches()) {
            throw ApiException.badRequest("bad_request",
                    "A username has 1-64 letters, digits, '.', '_' or '-'.");
        }
        return raw;
    }

    static char[] password(String raw) {
        if (raw == null || raw.length() < 8) {
            throw ApiException.badRequest("bad_request", "A password needs at least 8 characters.");
        }
        if (raw.length() > 1024) {
            throw ApiException.badRequest("bad_request", "That password is longer than 1024 characters.");
        }
        return raw.toCharArray();
    }

    private static boolean hasControl(String s) {
        return s.codePoints().anyMatch(Character::isISOControl);
    }

    private static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        s.codePoints().limit(80).forEach(c -> sb.append(Character.isISOControl(c) ? '?' : (char) c));
        return sb.toString();
    }
}
