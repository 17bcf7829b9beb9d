package org.sover.shell.internal;

import java.util.Locale;
import java.util.Map;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.sover.api.replication.Job;
import org.sover.api.replication.JobQueue;
import org.sover.api.replication.JobState;
import org.sover.api.storage.Page;

@Command(scope = "sover", name = "jobs", description = "Lists replication jobs (one per photo and peer), newest first")
@Service
public class JobsCommand implements Action {
    @Option(name = "--state", aliases = "-s", description = "pending, in_flight, done or failed")
    String state;

    @Option(name = "--peer", aliases = "-p", description = "Only the jobs of this node id")
    String peer;

    @Option(name = "--limit", aliases = "-n", description = "How many to show (1-500)")
    int limit = 50;

    @Reference
    JobQueue queue;

    @Override
    public Object execute() {
        JobState filter = null;
        if (state != null) {
            try {
                filter = JobState.valueOf(state.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                System.err.println("--state is pending, in_flight, done or failed.");
                return null;
            }
        }
        String peerId = peer == null ? null : peer.toUpperCase(Locale.ROOT);
        Page<Job> page = queue.jobs(filter, peerId, Math.max(1, Math.min(500, limit)), null);
        ShellTable table = new ShellTable();
        table.column("Id");
        table.column("Photo");
        table.column("Peer");
        table.column("State");
        table.column("Attempts").alignRight();
        table.column("Next attempt");
        table.column("Last error");
        for (Job j : page.items()) {
            table.addRow().addContent(j.id(), j.photoId(), shortId(j.peerId()), j.state().wireName(), j.attempts(),
                    j.nextAttemptAt() == null ? "-" : j.nextAttemptAt(), j.lastError() == null ? "" : j.lastError());
        }
        table.emptyTableText("No jobs" + (filter == null ? "" : " in state " + filter.wireName()) + ".");
        table.print(System.out);
        StringBuilder summary = new StringBuilder();
        for (Map.Entry<JobState, Long> e : queue.counts(peerId).entrySet()) {
            summary.append(summary.length() == 0 ? "" : ", ").append(e.getValue()).append(' ').append(e.getKey().wireName());
        }
        System.out.println(summary + (page.next() != null ? "  (more: --limit)" : ""));
        return null;
    }

    /** The first group of a node id is what people recognise in a table. */
    static String shortId(String nodeId) {
        return nodeId == null || nodeId.length() < 7 ? String.valueOf(nodeId) : nodeId.substring(0, 7);
    }
}
