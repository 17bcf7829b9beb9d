package org.sover.shell.internal;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.sover.api.replication.PairingException;
import org.sover.api.replication.Peer;
import org.sover.api.replication.PeerDirectory;
import org.sover.api.replication.PeerRole;

@Command(scope = "sover", name = "pair", description = "Prints this node's pairing line, or pairs with another node's line",
        detailedDescription = "sover:pair              prints a one-time line (valid 15 minutes) to paste on the other node\n"
                + "sover:pair --storage    the same for a storage-only peer (it never receives the vault key)\n"
                + "sover:pair <line>       pairs with the node that printed <line>")
@Service
public class PairCommand implements Action {
    @Argument(index = 0, name = "line", description = "A pairing line (sover-pair:...) printed by the other node")
    String line;

    @Option(name = "--storage", description = "Issue a line for a storage-only peer")
    boolean storage;

    @Reference
    PeerDirectory directory;

    @Override
    public Object execute() {
        if (line == null) {
            System.out.println("Paste this line on the other node (web UI: Peers, or sover:pair <line>); it works once, "
                    + "within 15 minutes:");
            System.out.println(directory.createPairingPayload(storage ? PeerRole.STORAGE : PeerRole.FULL));
            return null;
        }
        try {
            Peer peer = directory.acceptPairingPayload(line);
            System.out.println("Paired with " + peer.name() + " (" + peer.nodeId() + ").");
        } catch (PairingException e) {
            System.err.println(e.getMessage());
        }
        return null;
    }
}
