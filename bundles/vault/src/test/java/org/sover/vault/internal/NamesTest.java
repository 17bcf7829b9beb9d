package org.sover.vault.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import org.junit.Test;

public class NamesTest {
    @Test
    public void albumNamesAreTrimmedAndBounded() {
        assertEquals("Summer 2026", Names.albumName("  Summer 2026 "));
        assertEquals("invalid_name", assertThrows(ApiException.class, () -> Names.albumName("   ")).code);
        assertEquals("invalid_name", assertThrows(ApiException.class, () -> Names.albumName("x".repeat(201))).code);
        assertEquals("invalid_name", assertThrows(ApiException.class, () -> Names.albumName("a\u0000b")).code);
    }

    @Test
    public void filenamesHaveNoPathCharacters() {
        assertEquals("IMG_0001.JPG", Names.filename("IMG_0001.JPG"));
        for (String bad : new String[] {"../etc/passwd", "a/b.jpg", "a\\b.jpg", "..", ".", "a\nb.jpg", ""}) {
            assertEquals(bad, "invalid_filename", assertThrows(ApiException.class, () -> Names.filename(bad)).code);
        }
    }

    @Test
    public void usernamesAndPasswords() {
        assertEquals("grandma.rose", Names.username("grandma.rose"));
        assertThrows(ApiException.class, () -> Names.username("rose smith"));
        assertThrows(ApiException.class, () -> Names.password("short"));
        assertEquals(8, Names.password("12345678").length);
    }
}
