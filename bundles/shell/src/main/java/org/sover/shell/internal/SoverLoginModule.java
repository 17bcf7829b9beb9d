package org.sover.shell.internal;

import java.io.IOException;
import java.security.Principal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import javax.security.auth.Subject;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.CallbackHandler;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.FailedLoginException;
import javax.security.auth.login.LoginException;
import javax.security.auth.spi.LoginModule;

import org.apache.karaf.jaas.boot.principal.RolePrincipal;
import org.apache.karaf.jaas.boot.principal.UserPrincipal;
import org.sover.api.vault.Account;
import org.sover.api.vault.Accounts;

/**
 * Checks a shell login against Sover's accounts. Only admins get in: they receive Karaf's
 * roles for the console (ssh, admin, manager, viewer); members are refused.
 */
public final class SoverLoginModule implements LoginModule {
    static final List<String> ADMIN_ROLES = List.of("ssh", "admin", "manager", "viewer", "systembundles");
    private Subject subject;
    private CallbackHandler handler;
    private Accounts accounts;
    private final List<Principal> principals = new ArrayList<>();

    @Override
    public void initialize(Subject subject, CallbackHandler handler, Map<String, ?> sharedState, Map<String, ?> options) {
        this.subject = subject;
        this.handler = handler;
        this.accounts = (Accounts) options.get(SoverLoginRealm.ACCOUNTS_OPTION);
    }

    @Override
    public boolean login() throws LoginException {
        if (accounts == null) {
            throw new LoginException("Sover accounts are not available right now");
        }
        NameCallback name = new NameCallback("Username: ");
        PasswordCallback password = new PasswordCallback("Password: ", false);
        try {
            handler.handle(new Callback[] {name, password});
        } catch (IOException | UnsupportedCallbackException e) {
            throw new LoginException("cannot read the credentials: " + e.getMessage());
        }
        char[] pw = password.getPassword();
        if (name.getName() == null || pw == null) {
            throw new FailedLoginException("username and password are required");
        }
        Optional<Account> account = accounts.authenticate(name.getName(), pw);
        password.clearPassword();
        if (account.isEmpty()) {
            throw new FailedLoginException("wrong username or password");
        }
        if (!account.get().isAdmin()) {
            throw new FailedLoginException("only admin accounts can use the Sover shell");
        }
        principals.clear();
        principals.add(new UserPrincipal(account.get().username()));
        ADMIN_ROLES.forEach(r -> principals.add(new RolePrincipal(r)));
        return true;
    }

    @Override
    public boolean commit() {
        subject.getPrincipals().addAll(principals);
        return !principals.isEmpty();
    }

    @Override
    public boolean abort() {
        principals.clear();
        return true;
    }

    @Override
    public boolean logout() {
        subject.getPrincipals().removeAll(principals);
        principals.clear();
        return true;
    }
}
