package org.sover.vault.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Sover vault API")
public @interface VaultConfig {
    @AttributeDefinition(description = "Largest single upload in bytes")
    long maxUploadBytes() default 8L * 1024 * 1024 * 1024;

    @AttributeDefinition(description = "Origins allowed to call the API from another site (CORS); empty: same origin only")
    String[] allowedOrigins() default {};

    @AttributeDefinition(description = "Days a login session stays valid")
    int sessionDays() default 30;

    @AttributeDefinition(description = "Images larger than this many bytes get no thumbnail")
    long thumbnailMaxSourceBytes() default 256L * 1024 * 1024;

    @AttributeDefinition(description = "Failed logins per username within 5 minutes before 429")
    int maxFailuresPerUser() default 5;

    @AttributeDefinition(description = "Failed logins per client address within 5 minutes before 429")
    int maxFailuresPerAddress() default 20;

    @AttributeDefinition(description = "How many copies (this node included) make a photo safe; 0: one on every family node")
    int redundancyTarget() default 0;
}
