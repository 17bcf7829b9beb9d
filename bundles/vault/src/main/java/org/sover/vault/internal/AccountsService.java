package org.sover.vault.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.sover.api.DataDirectory;
import org.sover.api.crypto.NodeIdentity;
import org.sover.api.crypto.PasswordHasher;
import org.sover.api.vault.Account;
import org.sover.api.vault.AccountStore;
import org.sover.api.vault.Accounts;
import org.sover.api.vault.ApiToken;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accounts, and the first run: with {@code SOVER_ADMIN_PASSWORD} set the account "admin" is
 * created at once; otherwise a one-time setup code is printed (and written, owner-readable,
 * to {@code $SOVER_DATA/setup-code}) and {@code POST /v1/setup} creates the first account.
 * No default password ever exists.
 */
// Immediate: a delayed component is re-created after its last user lets go, and a new
// instance would print a new setup code, silently invalidating the one the admin has.
@Component(service = {Accounts.class, AccountsService.class}, immediate = true)
public final class AccountsService implements Accounts {
    private static final Logger LOG = LoggerFactory.getLogger(AccountsService.class);
    private static final char[] CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789".toCharArray();
    // A fixed hash to check against when the user does not exist, so timing does not tell.
    private final String dummyHash;
    private final AccountStore store;
    private final PasswordHasher hasher;
    private final NodeIdentity identity;
    private final Path setupCodeFile;
    private volatile String setupCode;

    @Activate
    public AccountsService(@Reference AccountStore store, @Reference PasswordHasher hasher,
            @Reference NodeIdentity identity) {
        this(store, hasher, identity, DataDirectory.root(), System.getenv("SOVER_ADMIN_PASSWORD"));
    }

    AccountsService(AccountStore store, PasswordHasher hasher, NodeIdentity identity, Path dataDir,
            String adminPassword) {
        this.store = store;
        this.hasher = hasher;
        this.identity = identity;
        this.setupCodeFile = dataDir.resolve("setup-code");
        this.dummyHash = hasher.hash("not-a-real-password".toCharArray());
        firstRun(adminPassword);
    }

    private void firstRun(String adminPassword) {
        if (store.accountCount() > 0) {
            deleteSetupCodeFile();
            return;
        }
        if (adminPassword != null && !adminPassword.isEmpty()) {
            if (adminPassword.length() < 8) {
                LOG.error("SOVER_ADMIN_PASSWORD is shorter than 8 characters; ignoring it, use the setup code instead");
            } else {
                store.createFirstAccount("admin", hasher.hash(adminPassword.toCharArray()), Account.ADMIN,
                        identity.nodeId());
                LOG.info("Created the account \"admin\" from SOVER_ADMIN_PASSWORD");
                return;
            }
        }
        setupCode = newSetupCode();
        writeSetupCodeFile(setupCode);
        String msg = "Sover first run: open the web UI and enter the setup code " + setupCode
                + " to create the first account (the code is also in " + setupCodeFile + ")";
        LOG.warn(msg);
        System.out.println(msg);
    }

    @Override
    public boolean setupPending() {
        return setupCode != null && store.accountCount() == 0;
    }

    /** Creates the first (admin) account if the setup code is right; empty when setup is already done. */
    Optional<Account> completeSetup(String code, String username, char[] password) {
        String expected = setupCode;
        if (expected == null || store.accountCount() > 0) {
            return Optional.empty();
        }
        String given = code == null ? "" : code.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "");
        if (!MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8),
                expected.replace("-", "").getBytes(StandardCharsets.UTF_8))) {
            throw new ApiException(401, "bad_setup_code",
                    "That setup code is not right. It is printed in the node's console and log at first start.");
        }
        Optional<Account> created = store.createFirstAccount(username, hasher.hash(password), Account.ADMIN,
                identity.nodeId());
        created.ifPresent(a -> {
            setupCode = null;
            deleteSetupCodeFile();
            LOG.info("First-run setup done: created the admin account \"{}\"", a.username());
        });
        return created;
    }

    @Override
    public Optional<Account> authenticate(String username, char[] password) {
        Optional<Account> account = username == null ? Optional.empty() : store.accountByName(username);
        if (account.isEmpty()) {
            hasher.verify(password, dummyHash);
            return Optional.empty();
        }
        return hasher.verify(password, account.get().passwordHash()) ? account : Optional.empty();
    }

    @Override
    public Account create(String username, char[] password, String role) {
        if (!Account.ADMIN.equals(role) && !Account.MEMBER.equals(role)) {
            throw new IllegalArgumentException("role must be admin or member");
        }
        return store.createAccount(username, hasher.hash(password), role, identity.nodeId());
    }

    @Override
    public String createToken(String username, String tokenName) {
        Account account = store.accountByName(username)
                .orElseThrow(() -> new IllegalArgumentException("There is no account \"" + username + "\"."));
        String token = SecretTokens.newToken("sov_");
        store.createToken(account.id(), tokenName, SecretTokens.hash(token));
        return token;
    }

    @Override
    public List<ApiToken> tokens(String username) {
        return store.accountByName(username).map(a -> store.tokens(a.id())).orElse(List.of());
    }

    @Override
    public boolean revokeToken(String tokenId) {
        return store.revokeToken(tokenId);
    }

    @Override
    public List<Account> list() {
        return store.accounts();
    }

    private static String newSetupCode() {
        SecureRandom random = new SecureRandom();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 12; i++) {
            if (i > 0 && i % 4 == 0) {
                sb.append('-');
            }
            sb.append(CODE_ALPHABET[random.nextInt(CODE_ALPHABET.length)]);
        }
        return sb.toString();
    }

    private void writeSetupCodeFile(String code) {
        try {
            Files.createDirectories(setupCodeFile.getParent());
            Path tmp = setupCodeFile.resolveSibling("setup-code.tmp");
            Files.deleteIfExists(tmp);
            try {
                Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException e) {
                Files.createFile(tmp);
            }
            Files.writeString(tmp, code + System.lineSeparator());
            Files.move(tmp, setupCodeFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.warn("could not write {}: {}", setupCodeFile, e.toString());
        }
    }

    private void deleteSetupCodeFile() {
        try {
            Files.deleteIfExists(setupCodeFile);
        } catch (IOException e) {
            LOG.warn("could not delete {}: {}", setupCodeFile, e.toString());
        }
    }

}
