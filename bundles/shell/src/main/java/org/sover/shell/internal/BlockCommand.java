package org.sover.shell.internal;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.sover.api.replication.PeerDirectory;

@Command(scope = "sover", name = "block", description = "Blocks a node by id on every path (or unblocks it)")
@Service
public class BlockCommand implements Action {
    @Argument(index = 0, name = "nodeId", required = true, description = "The node id to block")
    String nodeId;

    @Option(name = "--unblock", description = "Lift the block")
    boolean unblock;

    @Reference
    PeerDirectory directory;

    @Override
    public Object execute() {
        String id = nodeId.toUpperCase(java.util.Locale.ROOT);
        if (unblock) {
            directory.unblock(id);
            System.out.println("Node " + id + " is no longer blocked.");
        } else {
            directory.block(id);
            System.out.println("Node " + id + " is blocked: every request from it is refused.");
        }
        return null;
    }
}
