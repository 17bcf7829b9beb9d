package org.sover.retry.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Sover retry policy", description = "How replication jobs back off, give up and come back")
public @interface RetryConfig {
    @AttributeDefinition(description = "Delay before the second attempt, in seconds")
    long initialBackoffSeconds() default 10;

    @AttributeDefinition(description = "Each further delay is the previous one times this")
    double multiplier() default 2.0;

    @AttributeDefinition(description = "Upper bound of a single delay, in seconds")
    long maxBackoffSeconds() default 3600;

    @AttributeDefinition(description = "Random spread of each delay, 0 (none) to 1 (up to +/-100%)")
    double jitter() default 0.2;

    @AttributeDefinition(description = "Attempts after which a job counts as failed")
    int maxAttempts() default 8;

    @AttributeDefinition(description = "How long a failed job waits before it returns to pending by itself, in seconds; 0 = only by hand or when the peer returns")
    long coolDownSeconds() default 21600;
}
