package org.sover.api.vault;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Accounts, login sessions and API tokens in the metadata store. Secrets are stored hashed only. */
public interface AccountStore {
    /** @throws org.sover.api.storage.ConflictException when the username is taken */
    Account createAccount(String username, String passwordHash, String role, String nodeId);

    /**
     * Creates the account only if no account exists yet (first-run setup), atomically.
     *
     * @return empty when an account already existed
     */
    Optional<Account> createFirstAccount(String username, String passwordHash, String role, String nodeId);

    /** Case-insensitive lookup. */
    Optional<Account> accountByName(String username);

    Optional<Account> accountById(String id);

    List<Account> accounts();

    long accountCount();

    void createSession(String sessionHash, String accountId, Instant expiresAt);

    /** The account of a session that has not expired at {@code now}. */
    Optional<Account> sessionAccount(String sessionHash, Instant now);

    void deleteSession(String sessionHash);

    int purgeExpiredSessions(Instant now);

    ApiToken createToken(String accountId, String name, String tokenHash);

    /** The account of a token, marking it used. */
    Optional<Account> tokenAccount(String tokenHash);

    List<ApiToken> tokens(String accountId);

    boolean revokeToken(String tokenId);
}
