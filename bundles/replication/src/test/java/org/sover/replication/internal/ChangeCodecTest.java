package org.sover.replication.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;

import java.time.Instant;

import org.junit.Test;
import org.sover.api.replication.Change;
import org.sover.api.vault.Account;
import org.sover.api.vault.Album;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

public class ChangeCodecTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant CREATED = Instant.parse("2024-06-01T12:00:00Z");
    private static final Account ADMIN = new Account("abcdefghijklmnopqrstuvwxyz", "Grandma", Account.ADMIN,
            "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA", CREATED, CREATED.plusSeconds(30), 3, "node-b");

    @Test
    public void anAccountChangeRoundTripsThroughTheWireWithItsPasswordHash() throws Exception {
        for (boolean deleted : new boolean[] {false, true}) {
            ObjectNode encoded = ChangeCodec.encode(Change.of(ADMIN, deleted));
            // As NodeApiServlet sends it and MetadataPuller reads it.
            Change decoded = ChangeCodec.decode(JSON.readTree(JSON.writeValueAsBytes(encoded)));

            assertEquals("account", encoded.path("kind").asText());
            assertEquals(ADMIN.passwordHash(), encoded.path("passwordHash").asText());
            assertEquals(Change.of(ADMIN, deleted), decoded);
        }
    }

    @Test
    public void albumsStillRoundTripAndCarryNoAccountFields() throws Exception {
        Album album = new Album("album1", "Holidays", CREATED, CREATED.plusSeconds(5), 2, "node-a", 0, null);
        ObjectNode encoded = ChangeCodec.encode(Change.of(album, false));

        assertFalse(encoded.has("passwordHash"));
        assertEquals(Change.of(album, false), ChangeCodec.decode(JSON.readTree(JSON.writeValueAsBytes(encoded))));
    }

    @Test
    public void anAccountEntryWithoutUsernameRoleOrPasswordHashIsRejected() {
        for (String field : new String[] {"username", "role", "passwordHash"}) {
            ObjectNode entry = ChangeCodec.encode(Change.of(ADMIN, false));
            entry.remove(field);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ChangeCodec.decode(entry));
            assertEquals("op-log entry without \"" + field + "\"", e.getMessage());
        }
    }
}
