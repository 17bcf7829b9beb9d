package org.sover.shell.internal;

import java.util.HashMap;
import java.util.Map;

import javax.security.auth.login.AppConfigurationEntry;

import org.apache.karaf.jaas.boot.ProxyLoginModule;
import org.apache.karaf.jaas.config.JaasRealm;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.sover.api.vault.Accounts;

/**
 * Replaces Karaf's "karaf" login realm (ranked above it), so the admin shell and
 * {@code bin/client} accept exactly the family's admin accounts: no users.properties, no
 * default password.
 */
@Component(service = JaasRealm.class, immediate = true)
public final class SoverLoginRealm implements JaasRealm {
    static final String REALM = "karaf";
    static final String ACCOUNTS_OPTION = "org.sover.accounts";
    private final AppConfigurationEntry[] entries;

    @Activate
    public SoverLoginRealm(@Reference Accounts accounts, BundleContext context) {
        Map<String, Object> options = new HashMap<>();
        // Karaf's proxy loads the module class from this bundle and hands it these options.
        options.put(ProxyLoginModule.PROPERTY_MODULE, SoverLoginModule.class.getName());
        options.put(ProxyLoginModule.PROPERTY_BUNDLE, Long.toString(context.getBundle().getBundleId()));
        options.put(ACCOUNTS_OPTION, accounts);
        entries = new AppConfigurationEntry[] {new AppConfigurationEntry(ProxyLoginModule.class.getName(),
                AppConfigurationEntry.LoginModuleControlFlag.REQUIRED, options)};
    }

    @Override
    public String getName() {
        return REALM;
    }

    @Override
    public int getRank() {
        return 100;
    }

    @Override
    public AppConfigurationEntry[] getEntries() {
        return entries.clone();
    }
}
