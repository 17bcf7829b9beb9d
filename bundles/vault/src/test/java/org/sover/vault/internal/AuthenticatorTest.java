package org.sover.vault.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.fail;

import java.lang.reflect.Proxy;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;

import javax.servlet.http.HttpServletRequest;

import org.junit.Test;
import org.sover.api.vault.Account;
import org.sover.api.vault.AccountStore;

public class AuthenticatorTest {
    private static final Account ROSE = new Account("a1", "rose", Account.MEMBER, "x", null, null, 1, "N");

    @Test
    public void aBearerTokenWinsOverTheCookie() {
        Authenticator.Credential c = Authenticator.credentialOf(request(Map.of(
                "Authorization", "bearer  tok-1 ", "Cookie", "sover_session=s1")));
        assertEquals(new Authenticator.Credential(true, "tok-1"), c);
    }

    @Test
    public void theSessionCookieIsFoundAmongOthersAndMayBeQuoted() {
        assertEquals(new Authenticator.Credential(false, "s1"), Authenticator.credentialOf(request(Map.of(
                "Authorization", "Basic abc", "Cookie", "theme=dark; sover_session=\"s1\"; lang=de"))));
        assertNull(Authenticator.credentialOf(request(Map.of("Cookie", "sover_session="))));
        assertNull(Authenticator.credentialOf(request(Map.of())));
    }

    @Test
    public void eachMissingOrInvalidCredentialSaysWhatToDo() {
        Authenticator auth = new Authenticator(store(), Clock.systemUTC());
        assertEquals(ROSE, auth.account(new Authenticator.Credential(false, "good")));
        assertEquals(ROSE, auth.account(new Authenticator.Credential(true, "good")));
        assertUnauthenticated(auth, null, "Log in first.");
        assertUnauthenticated(auth, new Authenticator.Credential(false, "old"), "Your session has ended; log in again.");
        assertUnauthenticated(auth, new Authenticator.Credential(true, "old"), "That API token is not valid (any more).");
    }

    private static void assertUnauthenticated(Authenticator auth, Authenticator.Credential c, String message) {
        try {
            auth.account(c);
            fail("accepted " + c);
        } catch (ApiException e) {
            assertEquals(401, e.status);
            assertEquals("unauthenticated", e.code);
            assertEquals(message, e.getMessage());
        }
    }

    private static AccountStore store() {
        String good = SecretTokens.hash("good");
        return (AccountStore) Proxy.newProxyInstance(AuthenticatorTest.class.getClassLoader(),
                new Class<?>[] {AccountStore.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "sessionAccount", "tokenAccount" -> good.equals(args[0]) ? Optional.of(ROSE) : Optional.empty();
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    private static HttpServletRequest request(Map<String, String> headers) {
        return (HttpServletRequest) Proxy.newProxyInstance(AuthenticatorTest.class.getClassLoader(),
                new Class<?>[] {HttpServletRequest.class}, (proxy, method, args) -> {
                    if (method.getName().equals("getHeader")) {
                        return headers.get((String) args[0]);
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }
}
