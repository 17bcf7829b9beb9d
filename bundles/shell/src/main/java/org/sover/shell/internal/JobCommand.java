package org.sover.shell.internal;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.sover.api.replication.Job;
import org.sover.api.replication.JobQueue;

@Command(scope = "sover", name = "job", description = "Shows one replication job in full")
@Service
public class JobCommand implements Action {
    @Argument(index = 0, name = "id", required = true, description = "The job id (see sover:jobs)")
    String id;

    @Reference
    JobQueue queue;

    @Override
    public Object execute() {
        Job j = queue.job(id).orElse(null);
        if (j == null) {
            System.err.println("There is no job " + id + "; see sover:jobs.");
            return null;
        }
        ShellTable table = new ShellTable();
        table.column("Property");
        table.column("Value");
        Object[][] rows = {{"Id", j.id()}, {"Photo", j.photoId()}, {"Blob", j.blobId()}, {"Peer", j.peerId()},
            {"State", j.state().wireName()}, {"Attempts", j.attempts()}, {"Next attempt", j.nextAttemptAt()},
            {"Last error", j.lastError()}, {"Transport", j.transport()}, {"Path", j.path()},
            {"Created", j.createdAt()}, {"Updated", j.updatedAt()}, {"First attempt", j.firstAttemptAt()},
            {"Lease until", j.leaseUntil()}};
        for (Object[] r : rows) {
            table.addRow().addContent(r[0], r[1] == null ? "-" : r[1]);
        }
        table.print(System.out);
        return null;
    }
}
