package org.sover.shell.internal;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.sover.api.vault.Album;
import org.sover.api.vault.VaultRepository;

@Command(scope = "sover", name = "albums", description = "Lists the vault's albums")
@Service
public class AlbumsCommand implements Action {
    @Reference
    VaultRepository repository;

    @Override
    public Object execute() {
        ShellTable table = new ShellTable();
        table.column("Id");
        table.column("Name");
        table.column("Photos").alignRight();
        table.column("Updated");
        for (Album a : repository.albums()) {
            table.addRow().addContent(a.id(), a.name(), a.photoCount(), a.updatedAt().toString());
        }
        table.emptyTableText("No albums yet. Create one in the web UI.");
        table.print(System.out);
        return null;
    }
}
