package org.sover.shell.internal;

import java.time.Instant;
import java.util.List;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.sover.api.replication.JobQueue;

@Command(scope = "sover", name = "requeue", description = "Sends failed or waiting replication jobs again, now",
        detailedDescription = "sover:requeue <id> [<id>...]   the given jobs\n"
                + "sover:requeue --peer <nodeId>   every failed or waiting job of that node\n"
                + "sover:requeue --all-failed      every failed job")
@Service
public class RequeueCommand implements Action {
    @Argument(index = 0, name = "ids", multiValued = true, description = "Job ids (see sover:jobs)")
    List<String> ids;

    @Option(name = "--peer", aliases = "-p", description = "Requeue the jobs of this node id")
    String peer;

    @Option(name = "--all-failed", description = "Requeue every failed job")
    boolean allFailed;

    @Reference
    JobQueue queue;

    @Override
    public Object execute() {
        Instant now = Instant.now();
        int n;
        if (allFailed) {
            n = queue.requeueAllFailed(now);
        } else if (peer != null) {
            n = queue.requeuePeer(peer.toUpperCase(java.util.Locale.ROOT), now);
        } else if (ids != null && !ids.isEmpty()) {
            n = queue.requeue(ids, now);
        } else {
            System.err.println("Name job ids, or use --peer <nodeId> or --all-failed (see sover:requeue --help).");
            return null;
        }
        System.out.println(n == 1 ? "1 job requeued." : n + " jobs requeued.");
        return null;
    }
}
