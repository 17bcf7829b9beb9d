package org.sover.vault.internal;

import java.time.Clock;
import java.util.Optional;

import javax.servlet.http.HttpServletRequest;

import org.sover.api.vault.Account;
import org.sover.api.vault.AccountStore;

/**
 * Who a request comes from: the account behind its bearer token or its session cookie. Shared
 * by the API servlet and the event stream, so both accept exactly the same credentials.
 */
final class Authenticator {
    static final String SESSION_COOKIE = "sover_session";

    private final AccountStore accountStore;
    private final Clock clock;

    Authenticator(AccountStore accountStore, Clock clock) {
        this.accountStore = accountStore;
        this.clock = clock;
    }

    /** What a request presents: an API token ({@code bearer}) or a session cookie. */
    record Credential(boolean bearer, String secret) {
    }

    /**
     * The request's credential, or null when it has none. A bearer token wins over a cookie,
     * even when the token turns out not to be valid.
     */
    static Credential credentialOf(HttpServletRequest req) {
        String auth = req.getHeader("Authorization");
        if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return new Credential(true, auth.substring(7).strip());
        }
        String token = sessionCookie(req);
        return token == null ? null : new Credential(false, token);
    }

    /** The value of the session cookie, or null when the request carries none. */
    static String sessionCookie(HttpServletRequest req) {
        String header = req.getHeader("Cookie");
        if (header == null) {
            return null;
        }
        for (String part : header.split(";")) {
            String p = part.strip();
            if (p.startsWith(SESSION_COOKIE + "=")) {
                String v = p.substring(SESSION_COOKIE.length() + 1);
                // RFC 6265 allows a quoted cookie-value; RFC 2965 clients always quote.
                if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
                    v = v.substring(1, v.length() - 1);
                }
                return v.isEmpty() ? null : v;
            }
        }
        return null;
    }

    /** The account behind a credential; 401 {@code unauthenticated} when there is none or it is not valid. */
    Account account(Credential credential) {
        if (credential == null) {
            throw new ApiException(401, "unauthenticated", "Log in first.");
        }
        return find(credential).orElseThrow(() -> new ApiException(401, "unauthenticated", credential.bearer()
                ? "That API token is not valid (any more)." : "Your session has ended; log in again."));
    }

    /** The account behind a credential, if it is (still) valid; a token lookup marks the token used. */
    Optional<Account> find(Credential credential) {
        String hash = SecretTokens.hash(credential.secret());
        return credential.bearer() ? accountStore.tokenAccount(hash)
                : accountStore.sessionAccount(hash, clock.instant());
    }
}
