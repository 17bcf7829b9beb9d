package org.sover.vault.internal;

import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.sover.api.replication.Job;
import org.sover.api.replication.Peer;
import org.sover.api.replication.PendingPeer;
import org.sover.api.vault.Account;
import org.sover.api.vault.Album;
import org.sover.api.vault.Photo;

/** The API's JSON shapes, in one place so docs/API.md has one thing to match. */
final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper();
    static final int MAX_BODY = 64 * 1024;

    private Json() {
    }

    static JsonNode read(InputStream in) {
        try {
            byte[] body = in.readNBytes(MAX_BODY + 1);
            if (body.length > MAX_BODY) {
                throw new ApiException(413, "too_large", "A JSON body may have at most " + MAX_BODY + " bytes.");
            }
            JsonNode node = MAPPER.readTree(body);
            if (node == null || !node.isObject()) {
                throw ApiException.badRequest("bad_json", "The body must be a JSON object.");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("bad_json", "The body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw ApiException.badRequest("bad_request", "The body could not be read: " + e.getMessage());
        }
    }

    /** A string field, or null when absent; a field of another type is a 400. */
    static String text(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw ApiException.badRequest("bad_request", "\"" + field + "\" must be a string.");
        }
        return v.asText();
    }

    static Map<String, Object> album(Album a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", a.id());
        m.put("name", a.name());
        m.put("createdAt", time(a.createdAt()));
        m.put("updatedAt", time(a.updatedAt()));
        m.put("photoCount", a.photoCount());
        m.put("coverPhotoId", a.coverPhotoId());
        return m;
    }

    /**
     * @param hasThumbnail whether {@code GET .../thumbnail} gives one (it may be made at that request)
     * @param replication  null when the replication parts are away: the field is left out then
     */
    static Map<String, Object> photo(Photo p, boolean hasThumbnail, Redundancy.Replication replication) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", p.id());
        m.put("albumId", p.albumId());
        m.put("filename", p.filename());
        m.put("contentType", p.contentType());
        m.put("size", p.size());
        m.put("width", p.width());
        m.put("height", p.height());
        m.put("takenAt", time(p.takenAt()));
        m.put("uploadedAt", time(p.uploadedAt()));
        m.put("updatedAt", time(p.updatedAt()));
        m.put("hasThumbnail", hasThumbnail);
        m.put("uploadedBy", p.uploadedBy());
        if (replication != null) {
            m.put("replication", replication(replication));
        }
        return m;
    }

    static Map<String, Object> replication(Redundancy.Replication r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("target", r.target());
        m.put("copies", r.copies());
        m.put("peers", r.peers().stream().map(c -> {
            Map<String, Object> peer = new LinkedHashMap<>();
            peer.put("nodeId", c.nodeId());
            peer.put("name", c.name());
            peer.put("state", c.state());
            peer.put("lastError", c.lastError());
            peer.put("nextAttemptAt", time(c.nextAttemptAt()));
            peer.put("transport", c.transport());
            return peer;
        }).toList());
        return m;
    }

    static Map<String, Object> account(Account a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", a.id());
        m.put("username", a.username());
        m.put("role", a.role());
        m.put("createdAt", time(a.createdAt()));
        return m;
    }

    static Map<String, Object> peer(Peer p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("nodeId", p.nodeId());
        m.put("name", p.name());
        m.put("role", p.role().wireName());
        m.put("addresses", p.addresses());
        m.put("blocked", p.blocked());
        m.put("pairedAt", time(p.pairedAt()));
        m.put("lastContactAt", time(p.lastContactAt()));
        m.put("lastError", p.lastError());
        m.put("lastErrorAt", time(p.lastErrorAt()));
        return m;
    }

    static Map<String, Object> job(Job j) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", j.id());
        m.put("photoId", j.photoId());
        m.put("peerId", j.peerId());
        m.put("state", j.state().wireName());
        m.put("attempts", j.attempts());
        m.put("nextAttemptAt", time(j.nextAttemptAt()));
        m.put("lastError", j.lastError());
        m.put("transport", j.transport());
        m.put("path", j.path());
        m.put("createdAt", time(j.createdAt()));
        m.put("updatedAt", time(j.updatedAt()));
        return m;
    }

    static Map<String, Object> pendingPeer(PendingPeer p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("nodeId", p.nodeId());
        m.put("name", p.name());
        m.put("role", p.role().wireName());
        m.put("addresses", p.addresses());
        m.put("requestedAt", time(p.requestedAt()));
        return m;
    }

    static Map<String, Object> diagnostic(org.sover.api.replication.ReplicationMonitor.Diagnostic d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seq", d.seq());
        m.put("at", time(d.at()));
        m.put("level", d.level());
        m.put("message", d.message());
        return m;
    }

    static Map<String, Object> error(String code, String message) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("error", code);
        m.put("message", message);
        return m;
    }

    static String time(Instant t) {
        return t == null ? null : t.toString();
    }
}
