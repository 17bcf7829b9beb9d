package org.sover.replication.internal;

import java.time.Instant;

import org.sover.api.replication.Change;
import org.sover.api.vault.Account;
import org.sover.api.vault.Album;
import org.sover.api.vault.Photo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Op-log entries on the wire (docs/PROTOCOL.md). Only replicated state travels: no photo
 * counts, no local thumbnail ids, no sessions or API tokens. An account carries its password
 * hash, so that its owner can log in on any node: the log is served to full family nodes only.
 */
final class ChangeCodec {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ChangeCodec() {
    }

    static ObjectNode encode(Change c) {
        ObjectNode o = JSON.createObjectNode();
        o.put("deleted", c.deleted());
        if (c.album() != null) {
            Album a = c.album();
            o.put("kind", "album");
            o.put("id", a.id());
            o.put("name", a.name());
            o.put("createdAt", a.createdAt().toEpochMilli());
            clock(o, a.updatedAt(), a.rev(), a.nodeId());
        } else if (c.account() != null) {
            Account a = c.account();
            o.put("kind", "account");
            o.put("id", a.id());
            o.put("username", a.username());
            o.put("role", a.role());
            o.put("passwordHash", a.passwordHash());
            o.put("createdAt", a.createdAt().toEpochMilli());
            clock(o, a.updatedAt(), a.rev(), a.nodeId());
        } else {
            Photo p = c.photo();
            o.put("kind", "photo");
            o.put("id", p.id());
            o.put("albumId", p.albumId());
            o.put("blobId", p.blobId());
            o.put("filename", p.filename());
            o.put("contentType", p.contentType());
            o.put("size", p.size());
            if (p.width() != null) {
                o.put("width", p.width());
            }
            if (p.height() != null) {
                o.put("height", p.height());
            }
            o.put("takenAt", p.takenAt().toEpochMilli());
            o.put("uploadedAt", p.uploadedAt().toEpochMilli());
            o.put("uploadedBy", p.uploadedBy());
            clock(o, p.updatedAt(), p.rev(), p.nodeId());
        }
        return o;
    }

    private static void clock(ObjectNode o, Instant updatedAt, long rev, String nodeId) {
        o.put("updatedAt", updatedAt.toEpochMilli());
        o.put("rev", rev);
        o.put("nodeId", nodeId);
    }

    /** @throws IllegalArgumentException for an entry that is not a complete album, photo or account */
    static Change decode(JsonNode o) {
        String kind = o.path("kind").asText();
        String id = required(o, "id");
        boolean deleted = o.path("deleted").asBoolean(false);
        Instant updatedAt = Instant.ofEpochMilli(o.path("updatedAt").asLong());
        long rev = o.path("rev").asLong();
        String nodeId = required(o, "nodeId");
        if (kind.equals("album")) {
            return Change.of(new Album(id, required(o, "name"), Instant.ofEpochMilli(o.path("createdAt").asLong()),
                    updatedAt, rev, nodeId, 0, null), deleted);
        }
        if (kind.equals("photo")) {
            return Change.of(new Photo(id, required(o, "albumId"), required(o, "blobId"), required(o, "filename"),
                    required(o, "contentType"), o.path("size").asLong(), o.hasNonNull("width") ? o.get("width").asInt() : null,
                    o.hasNonNull("height") ? o.get("height").asInt() : null, Instant.ofEpochMilli(o.path("takenAt").asLong()),
                    Instant.ofEpochMilli(o.path("uploadedAt").asLong()), updatedAt, rev, nodeId, null,
                    o.path("uploadedBy").asText(null)), deleted);
        }
        if (kind.equals("account")) {
            return Change.of(new Account(id, required(o, "username"), required(o, "role"), required(o, "passwordHash"),
                    Instant.ofEpochMilli(o.path("createdAt").asLong()), updatedAt, rev, nodeId), deleted);
        }
        throw new IllegalArgumentException("unknown op-log entry kind \"" + kind + "\"");
    }

    private static String required(JsonNode o, String field) {
        String v = o.path(field).asText(null);
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException("op-log entry without \"" + field + "\"");
        }
        return v;
    }
}
