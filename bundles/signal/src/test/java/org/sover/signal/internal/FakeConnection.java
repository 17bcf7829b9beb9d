package org.sover.signal.internal;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** A connection that records what the hub sends and whether it closed it. */
final class FakeConnection implements SignalConnection {
    private static final ObjectMapper JSON = new ObjectMapper();
    final String ip;
    final List<String> frames = new ArrayList<>();
    Integer closeCode;
    String closeReason;

    FakeConnection(String ip) {
        this.ip = ip;
    }

    @Override
    public String remoteAddress() {
        return ip;
    }

    @Override
    public synchronized void send(String text) {
        frames.add(text);
    }

    @Override
    public synchronized void close(int code, String reason) {
        if (closeCode == null) {
            closeCode = code;
            closeReason = reason;
        }
    }

    synchronized JsonNode last() throws Exception {
        return JSON.readTree(frames.get(frames.size() - 1));
    }

    synchronized List<JsonNode> all() throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String f : frames) {
            out.add(JSON.readTree(f));
        }
        return out;
    }

    synchronized long count(String type, String code) throws Exception {
        return all().stream().filter(f -> type.equals(f.path("type").asText())
                && (code == null || code.equals(f.path("code").asText()))).count();
    }
}
