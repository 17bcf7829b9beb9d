package org.sover.signal.client.internal;

import java.util.ArrayList;
import java.util.List;

import org.sover.api.signal.Signaling.IceServer;

import com.fasterxml.jackson.databind.JsonNode;

/** The ICE servers a node uses: what the signal server announced plus the node's own settings. */
final class IceServers {
    private IceServers() {
    }

    /**
     * @param announced the server's {@code iceServers} array (may be null)
     * @param stunUrls configured STUN URLs, added without credentials
     * @param turnUrls configured TURN URLs: they get the server's TURN credentials, and are left out
     *        when the server gave none (a TURN server without credentials only fails)
     */
    static List<IceServer> merge(JsonNode announced, List<String> stunUrls, List<String> turnUrls) {
        List<IceServer> out = new ArrayList<>();
        String username = null;
        String credential = null;
        if (announced != null && announced.isArray()) {
            for (JsonNode server : announced) {
                List<String> urls = new ArrayList<>();
                JsonNode u = server.path("urls");
                if (u.isArray()) {
                    u.forEach(x -> urls.add(x.asText()));
                } else if (u.isTextual()) {
                    urls.add(u.asText());
                }
                if (urls.isEmpty()) {
                    continue;
                }
                String user = server.path("username").textValue();
                String cred = server.path("credential").textValue();
                if (user != null && cred != null && username == null) {
                    username = user;
                    credential = cred;
                }
                out.add(new IceServer(List.copyOf(urls), user, cred));
            }
        }
        List<String> stun = new ArrayList<>(stunUrls);
        out.forEach(s -> stun.removeAll(s.urls()));
        if (!stun.isEmpty()) {
            out.add(new IceServer(List.copyOf(stun), null, null));
        }
        if (username != null) {
            List<String> turn = new ArrayList<>(turnUrls);
            out.forEach(s -> turn.removeAll(s.urls()));
            if (!turn.isEmpty()) {
                out.add(new IceServer(List.copyOf(turn), username, credential));
            }
        }
        return List.copyOf(out);
    }
}
