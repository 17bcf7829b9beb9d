package org.sover.shell.internal;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.sover.api.replication.PairingException;
import org.sover.api.replication.Peer;
import org.sover.api.replication.PeerDirectory;
import org.sover.api.replication.PeerSync;
import org.sover.api.replication.PendingPeer;

@Command(scope = "sover", name = "peers", description = "Lists paired nodes, or the nodes waiting for approval",
        detailedDescription = "sover:peers                     paired nodes\n"
                + "sover:peers --pending           nodes that asked to pair without a valid line\n"
                + "sover:peers --approve <nodeId>  pair with a waiting node\n"
                + "sover:peers --deny <nodeId>     drop its request\n"
                + "sover:peers --sync <nodeId>     pull its changes now and send what it misses")
@Service
public class PeersCommand implements Action {
    @Option(name = "--pending", description = "List the approval queue")
    boolean pending;

    @Option(name = "--approve", description = "Approve the waiting node with this id")
    String approve;

    @Option(name = "--deny", description = "Deny the waiting node with this id")
    String deny;

    @Option(name = "--sync", description = "Sync now with the paired node with this id")
    String sync;

    @Reference
    PeerDirectory directory;

    @Override
    public Object execute() {
        if (sync != null) {
            try {
                PeerSync done = directory.sync(sync.toUpperCase(java.util.Locale.ROOT));
                System.out.println((done.reached() ? done.applied() + " changes pulled" : "Not reached (" + done.error()
                        + "); its jobs wait") + "; " + done.requeued() + " jobs due now, " + done.queued() + " added.");
            } catch (PairingException e) {
                System.err.println(e.getMessage());
            }
            return null;
        }
        if (approve != null) {
            try {
                Peer p = directory.approve(approve.toUpperCase(java.util.Locale.ROOT));
                System.out.println("Approved " + p.name() + " (" + p.nodeId() + "). It completes pairing when it next pastes its line.");
            } catch (PairingException e) {
                System.err.println(e.getMessage());
            }
            return null;
        }
        if (deny != null) {
            System.out.println(directory.deny(deny.toUpperCase(java.util.Locale.ROOT)) ? "Denied." : "No such request is waiting.");
            return null;
        }
        ShellTable table = new ShellTable();
        if (pending) {
            table.column("Node id");
            table.column("Name");
            table.column("Role");
            table.column("Asked at");
            for (PendingPeer p : directory.pending()) {
                table.addRow().addContent(p.nodeId(), p.name(), p.role().wireName(), p.requestedAt());
            }
            table.emptyTableText("No node is waiting for approval.");
        } else {
            table.column("Node id");
            table.column("Name");
            table.column("Role");
            table.column("State");
            table.column("Last contact");
            table.column("Last error");
            for (Peer p : directory.peers()) {
                table.addRow().addContent(p.nodeId(), p.name(), p.role().wireName(), p.blocked() ? "blocked" : "paired",
                        p.lastContactAt() == null ? "never" : p.lastContactAt(), p.lastError() == null ? "" : p.lastError());
            }
            table.emptyTableText("No paired nodes yet. Run sover:pair here and paste the line on the other node.");
        }
        table.print(System.out);
        return null;
    }
}
