package org.sover.api.vault;

import java.util.List;
import java.util.Optional;

/**
 * Account logic the vault offers to the shell and to the Karaf login realm: password
 * checks, first-run setup and API tokens.
 */
public interface Accounts {
    /** The account when the password is right; empty otherwise (no hint which part was wrong). */
    Optional<Account> authenticate(String username, char[] password);

    /** Creates an account; the caller has checked the caller's rights. */
    Account create(String username, char[] password, String role);

    /** Creates an API token and returns its secret, which is shown once and stored only hashed. */
    String createToken(String username, String tokenName);

    List<ApiToken> tokens(String username);

    boolean revokeToken(String tokenId);

    List<Account> list();

    /** True until the first account exists. */
    boolean setupPending();
}
