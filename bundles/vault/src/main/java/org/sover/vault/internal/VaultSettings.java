package org.sover.vault.internal;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.Designate;

/**
 * Holds {@code org.sover.vault} for the API servlet. The servlet must not carry the
 * configuration itself: a configuration change alters a component's service properties, and
 * Pax Web answers that by unregistering and re-registering the servlet, which cuts off
 * requests in flight (at every start, when the .cfg file arrives, too).
 */
@Component(service = VaultSettings.class, configurationPid = "org.sover.vault", immediate = true)
@Designate(ocd = VaultConfig.class)
public final class VaultSettings {
    private volatile VaultConfig config;

    @Activate
    public VaultSettings(VaultConfig config) {
        this.config = config;
    }

    @Modified
    void modified(VaultConfig newConfig) {
        this.config = newConfig;
    }

    VaultConfig config() {
        return config;
    }
}
