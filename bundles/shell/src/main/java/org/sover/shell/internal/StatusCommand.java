package org.sover.shell.internal;

import java.io.IOException;
import java.util.Dictionary;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.osgi.service.cm.ConfigurationAdmin;
import org.sover.api.DataDirectory;
import org.sover.api.crypto.NodeIdentity;
import org.sover.api.crypto.VaultCipher;
import org.sover.api.storage.BlobStore;
import org.sover.api.vault.VaultRepository;
import org.sover.api.vault.VaultStats;

@Command(scope = "sover", name = "status", description = "Shows this node's identity, data directory and what it holds")
@Service
public class StatusCommand implements Action {
    @Reference
    NodeIdentity identity;

    @Reference
    VaultRepository repository;

    @Reference
    BlobStore blobs;

    @Reference
    VaultCipher cipher;

    @Reference
    ConfigurationAdmin configs;

    /** A switch as ConfigAdmin holds it: a Boolean, or text from the .cfg file. */
    private static boolean switchOf(Dictionary<String, Object> config, String key) {
        Object v = config == null ? null : config.get(key);
        return v instanceof Boolean b ? b : v != null && Boolean.parseBoolean(v.toString().trim());
    }

    @Override
    public Object execute() throws IOException {
        VaultStats stats = repository.stats();
        ShellTable table = new ShellTable();
        table.column("Property");
        table.column("Value");
        table.addRow().addContent("Node id", identity.nodeId());
        table.addRow().addContent("Fingerprint", identity.fingerprint());
        table.addRow().addContent("Vault key", cipher.hasVaultKey() ? "present" : "none (storage-only node)");
        table.addRow().addContent("Data directory", DataDirectory.root().toString());
        table.addRow().addContent("Free disk", ByteSizes.human(blobs.usableSpace()));
        table.addRow().addContent("Albums", Long.toString(stats.albums()));
        table.addRow().addContent("Photos", Long.toString(stats.photos()));
        table.addRow().addContent("Stored blobs", stats.blobs() + " (" + ByteSizes.human(stats.blobBytes()) + ")");
        table.addRow().addContent("Accounts", Long.toString(stats.accounts()));
        Dictionary<String, Object> replication = configs.getConfiguration("org.sover.replication", "?").getProperties();
        table.addRow().addContent("Outgoing transfers", switchOf(replication, "pauseOutgoing") ? "paused" : "on");
        table.addRow().addContent("Incoming transfers", switchOf(replication, "pauseIncoming") ? "paused" : "on");
        table.print(System.out);
        return null;
    }
}
