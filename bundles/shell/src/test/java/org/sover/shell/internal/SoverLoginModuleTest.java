package org.sover.shell.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import javax.security.auth.Subject;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.login.FailedLoginException;

import org.apache.karaf.jaas.boot.principal.RolePrincipal;
import org.apache.karaf.jaas.boot.principal.UserPrincipal;
import org.junit.Test;
import org.sover.api.vault.Account;
import org.sover.api.vault.Accounts;
import org.sover.api.vault.ApiToken;

public class SoverLoginModuleTest {
    private static final Accounts ACCOUNTS = new Accounts() {
        public Optional<Account> authenticate(String username, char[] password) {
            String pw = new String(password);
            if (username.equals("rose") && pw.equals("correct horse")) {
                return Optional.of(account("rose", Account.ADMIN));
            }
            if (username.equals("tom") && pw.equals("tom's password")) {
                return Optional.of(account("tom", Account.MEMBER));
            }
            return Optional.empty();
        }
        public Account create(String u, char[] p, String r) { throw new UnsupportedOperationException(); }
        public String createToken(String u, String n) { throw new UnsupportedOperationException(); }
        public List<ApiToken> tokens(String u) { return List.of(); }
        public boolean revokeToken(String id) { return false; }
        public List<Account> list() { return List.of(); }
        public boolean setupPending() { return false; }
    };

    private static Account account(String name, String role) {
        return new Account("id-" + name, name, role, "hash", Instant.EPOCH, Instant.EPOCH, 1, "node");
    }

    private static SoverLoginModule module(Subject subject, String user, String password) {
        SoverLoginModule m = new SoverLoginModule();
        m.initialize(subject, callbacks -> {
            for (Callback c : callbacks) {
                if (c instanceof NameCallback n) {
                    n.setName(user);
                } else if (c instanceof PasswordCallback p) {
                    p.setPassword(password.toCharArray());
                }
            }
        }, Map.of(), Map.of(SoverLoginRealm.ACCOUNTS_OPTION, ACCOUNTS));
        return m;
    }

    @Test
    public void anAdminGetsTheConsoleRoles() throws Exception {
        Subject subject = new Subject();
        SoverLoginModule m = module(subject, "rose", "correct horse");
        assertTrue(m.login());
        assertTrue(m.commit());
        assertEquals(Set.of("rose"), subject.getPrincipals(UserPrincipal.class).stream().map(UserPrincipal::getName)
                .collect(Collectors.toSet()));
        assertEquals(Set.copyOf(SoverLoginModule.ADMIN_ROLES), subject.getPrincipals(RolePrincipal.class).stream()
                .map(RolePrincipal::getName).collect(Collectors.toSet()));
        m.logout();
        assertTrue(subject.getPrincipals().isEmpty());
    }

    @Test
    public void aWrongPasswordOrAMemberIsRefused() {
        assertThrows(FailedLoginException.class, () -> module(new Subject(), "rose", "guess").login());
        assertThrows(FailedLoginException.class, () -> module(new Subject(), "nobody", "x").login());
        FailedLoginException e = assertThrows(FailedLoginException.class,
                () -> module(new Subject(), "tom", "tom's password").login());
        assertTrue(e.getMessage().contains("only admin"));
    }
}
