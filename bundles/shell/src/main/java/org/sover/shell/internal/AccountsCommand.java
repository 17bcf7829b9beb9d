package org.sover.shell.internal;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.table.ShellTable;
import org.sover.api.storage.ConflictException;
import org.sover.api.vault.Account;
import org.sover.api.vault.Accounts;

@Command(scope = "sover", name = "accounts", description = "Lists the family's accounts, or adds one",
        detailedDescription = "sover:accounts            lists accounts\n"
                + "sover:accounts --add NAME  adds a member account (asks for its password); --admin makes it an admin")
@Service
public class AccountsCommand implements Action {
    @Option(name = "--add", description = "Username of a new account")
    String add;

    @Option(name = "--admin", description = "With --add: the new account is an admin")
    boolean admin;

    @Argument(index = 0, name = "password", description = "With --add: the password (asked for when omitted)")
    String password;

    @Reference
    Accounts accounts;

    @Reference
    Session session;

    @Override
    public Object execute() throws Exception {
        if (add != null) {
            String pw = password != null ? password : session.readLine("Password for " + add + ": ", '*');
            if (pw == null || pw.length() < 8) {
                System.err.println("A password needs at least 8 characters; nothing was created.");
                return null;
            }
            if (!add.matches("[A-Za-z0-9._-]{1,64}")) {
                System.err.println("A username has 1-64 letters, digits, '.', '_' or '-'; nothing was created.");
                return null;
            }
            try {
                Account a = accounts.create(add, pw.toCharArray(), admin ? Account.ADMIN : Account.MEMBER);
                System.out.println("Created " + a.role() + " account " + a.username() + ".");
            } catch (ConflictException e) {
                System.err.println("The username " + add + " is taken.");
            }
            return null;
        }
        ShellTable table = new ShellTable();
        table.column("Username");
        table.column("Role");
        table.column("Created");
        for (Account a : accounts.list()) {
            table.addRow().addContent(a.username(), a.role(), a.createdAt());
        }
        table.print(System.out);
        return null;
    }
}
