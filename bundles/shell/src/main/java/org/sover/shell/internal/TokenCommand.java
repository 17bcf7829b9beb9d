package org.sover.shell.internal;

import java.security.AccessController;
import java.security.Principal;
import java.util.List;

import javax.security.auth.Subject;

import org.apache.karaf.jaas.boot.principal.UserPrincipal;
import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.sover.api.vault.Accounts;
import org.sover.api.vault.ApiToken;

@Command(scope = "sover", name = "token", description = "Creates an API token for scripts (Authorization: Bearer), lists or revokes tokens",
        detailedDescription = "Without options, creates a token for the logged-in account and prints it once.\n"
                + "The token acts with that account's rights; keep it like a password.")
@Service
public class TokenCommand implements Action {
    @Option(name = "--user", aliases = "-u", description = "Account the token belongs to (default: you)")
    String user;

    @Option(name = "--name", aliases = "-n", description = "A label to recognise the token by, e.g. backup-script")
    String name = "token";

    @Option(name = "--list", aliases = "-l", description = "List the account's tokens instead of creating one")
    boolean list;

    @Option(name = "--revoke", aliases = "-r", description = "Revoke the token with this id")
    String revoke;

    @Reference
    Accounts accounts;

    @Override
    public Object execute() {
        if (revoke != null) {
            System.out.println(accounts.revokeToken(revoke) ? "Token " + revoke + " revoked."
                    : "There is no token " + revoke + "; see sover:token --list.");
            return null;
        }
        String username = user != null ? user : currentUser();
        if (username == null) {
            System.err.println("Cannot tell who is logged in; name the account with --user.");
            return null;
        }
        if (list) {
            List<ApiToken> tokens = accounts.tokens(username);
            ShellTable table = new ShellTable();
            table.column("Id");
            table.column("Name");
            table.column("Created");
            table.column("Last used");
            for (ApiToken t : tokens) {
                table.addRow().addContent(t.id(), t.name(), t.createdAt(), t.lastUsedAt() == null ? "never" : t.lastUsedAt());
            }
            table.emptyTableText("No tokens for " + username + ".");
            table.print(System.out);
            return null;
        }
        try {
            String token = accounts.createToken(username, name);
            System.out.println("API token for " + username + " (shown once, store it safely):");
            System.out.println(token);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
        }
        return null;
    }

    @SuppressWarnings("removal")
    private static String currentUser() {
        Subject subject = Subject.getSubject(AccessController.getContext());
        if (subject == null) {
            return null;
        }
        for (Principal p : subject.getPrincipals()) {
            if (p instanceof UserPrincipal) {
                return p.getName();
            }
        }
        return null;
    }
}
