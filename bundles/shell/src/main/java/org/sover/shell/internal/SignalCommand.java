package org.sover.shell.internal;

import java.io.IOException;
import java.time.Instant;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Locale;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.apache.karaf.shell.support.table.ShellTable;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.sover.api.replication.PeerLinks;
import org.sover.api.signal.Signaling;

@Command(scope = "sover", name = "signal", description = "Shows this node's signaling (state, server, ICE servers, "
        + "WebRTC connections), or stops and starts it. Stopping signaling keeps replication working over HTTP.")
@Service
public class SignalCommand implements Action {
    static final String PID = "org.sover.signal.client";

    @Argument(index = 0, name = "action", description = "status (default), stop or start", required = false)
    @Completion(value = StringsCompleter.class, values = { "status", "stop", "start" })
    String action = "status";

    @Reference(optional = true)
    Signaling signaling;

    @Reference(optional = true)
    PeerLinks links;

    @Reference
    ConfigurationAdmin configs;

    @Override
    public Object execute() throws IOException {
        switch (action.toLowerCase(Locale.ROOT)) {
            case "status" -> status();
            case "stop" -> enable(false);
            case "start" -> enable(true);
            default -> System.out.println("Unknown action \"" + action + "\": use sover:signal status, stop or start.");
        }
        return null;
    }

    private void enable(boolean on) throws IOException {
        if (signaling == null) {
            System.out.println("This node has no signaling client running (bundle sover-signal); nothing to "
                    + (on ? "start" : "stop") + ". Check it with bundle:list | grep -i signal.");
            return;
        }
        Configuration c = configs.getConfiguration(PID, "?");
        Dictionary<String, Object> props = c.getProperties() == null ? new Hashtable<>() : c.getProperties();
        props.put("enabled", on);
        c.update(props);
        System.out.println(on ? "Signaling is starting; sover:signal shows when it is connected."
                : "Signaling stopped: WebRTC transfers end and replication continues over HTTP. "
                        + "Start it again with sover:signal start.");
    }

    private void status() {
        if (signaling == null) {
            System.out.println("This node has no signaling client running (bundle sover-signal): replication uses HTTP only.");
            return;
        }
        Signaling.Status s = signaling.status();
        ShellTable table = new ShellTable();
        table.column("Property");
        table.column("Value");
        table.addRow().addContent("State", s.state());
        table.addRow().addContent("Server", (s.url() == null ? "-" : s.url())
                + (s.embedded() ? " (embedded: no operator configured)" : ""));
        table.addRow().addContent("Connected since", time(s.connectedSince()));
        table.addRow().addContent("Messages sent / received", s.messagesSent() + " / " + s.messagesReceived());
        table.addRow().addContent("Last error", s.lastError() == null ? "-" : s.lastError() + " (" + time(s.lastErrorAt()) + ")");
        table.addRow().addContent("TURN credentials expire", time(s.credentialsExpireAt()));
        var ice = signaling.iceServers();
        table.addRow().addContent("ICE servers", ice.isEmpty() ? "none (host candidates only)"
                : String.join(", ", ice.stream().flatMap(i -> i.urls().stream()).toList()));
        table.print(System.out);
        if (links != null && !links.links().isEmpty()) {
            ShellTable t = new ShellTable();
            t.column("Peer");
            t.column("Transport");
            t.column("State");
            t.column("Path");
            t.column("RTT");
            t.column("Sent");
            t.column("Received");
            t.column("Last error");
            for (PeerLinks.Link l : links.links()) {
                t.addRow().addContent(l.nodeId(), l.transport(), l.state(), l.path() == null ? "-" : l.path(),
                        l.rttMillis() == null ? "-" : l.rttMillis() + " ms", ByteSizes.human(l.bytesSent()),
                        ByteSizes.human(l.bytesReceived()), l.lastError() == null ? "-" : l.lastError());
            }
            t.print(System.out);
        }
    }

    private static String time(Instant t) {
        return t == null ? "-" : t.toString();
    }
}
