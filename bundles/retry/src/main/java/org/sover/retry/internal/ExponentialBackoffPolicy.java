package org.sover.retry.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.Designate;
import org.sover.api.retry.RetryDecision;
import org.sover.api.retry.RetryPolicy;
import org.sover.api.retry.RetryState;

/**
 * The default retry policy: exponential backoff with jitter up to a cap, failed after
 * {@code maxAttempts}, back to pending after a cool-down. Settings follow
 * {@code etc/org.sover.retry.cfg} without a restart.
 */
@Component(service = RetryPolicy.class, configurationPid = "org.sover.retry", property = "service.ranking:Integer=0")
@Designate(ocd = RetryConfig.class)
public final class ExponentialBackoffPolicy implements RetryPolicy {
    private final DoubleSupplier random;
    private volatile Settings settings;

    private static final System.Logger LOG = System.getLogger(ExponentialBackoffPolicy.class.getName());

    @Activate
    public ExponentialBackoffPolicy(RetryConfig config) {
        this(settingsOrDefaults(config), () -> ThreadLocalRandom.current().nextDouble());
    }

    /** A bad .cfg at boot must not leave the queue without any policy: log it and use the defaults. */
    private static Settings settingsOrDefaults(RetryConfig config) {
        try {
            return Settings.of(config);
        } catch (IllegalArgumentException e) {
            LOG.log(System.Logger.Level.ERROR, e.getMessage() + "; using the default retry policy until it is fixed");
            return Settings.DEFAULTS;
        }
    }

    ExponentialBackoffPolicy(Settings settings, DoubleSupplier random) {
        this.settings = settings;
        this.random = random;
    }

    @Modified
    void modified(RetryConfig config) {
        settings = Settings.of(config);
    }

    @Override
    public RetryDecision nextAttempt(RetryState job, Instant now) {
        Settings s = settings;
        if (job.attempts() >= s.maxAttempts()) {
            return RetryDecision.fail(s.coolDown().isZero() ? null : now.plus(s.coolDown()));
        }
        return RetryDecision.retryAt(now.plus(delayAfter(s, job.attempts())));
    }

    /** The delay after the given number of failed attempts (1 = after the first failure). */
    Duration delayAfter(Settings s, int attempts) {
        double base = s.initialBackoff().toMillis() * Math.pow(s.multiplier(), Math.max(0, attempts - 1));
        double capped = Math.min(base, s.maxBackoff().toMillis());
        // Jitter spreads peers' retries so a returning node is not hit by every job at once.
        double factor = 1.0 + s.jitter() * (2.0 * random.getAsDouble() - 1.0);
        long millis = Math.round(Math.min(capped * factor, s.maxBackoff().toMillis()));
        return Duration.ofMillis(Math.max(0, millis));
    }

    @Override
    public String describe() {
        Settings s = settings;
        return String.format(Locale.ROOT,
                "exponential backoff from %ds x%.2f up to %ds (jitter %.0f%%), failed after %d attempts, %s",
                s.initialBackoff().toSeconds(), s.multiplier(), s.maxBackoff().toSeconds(), s.jitter() * 100,
                s.maxAttempts(), s.coolDown().isZero() ? "no automatic requeue"
                        : "requeued after " + s.coolDown().toSeconds() + "s");
    }

    /** Validated settings: a bad value in the .cfg file must not turn into a retry storm. */
    record Settings(Duration initialBackoff, double multiplier, Duration maxBackoff, double jitter, int maxAttempts,
            Duration coolDown) {
        Settings {
            if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0) {
                throw new IllegalArgumentException(
                        "org.sover.retry: need 0 <= initialBackoffSeconds <= maxBackoffSeconds");
            }
            if (multiplier < 1.0) {
                throw new IllegalArgumentException("org.sover.retry: multiplier must be at least 1.0");
            }
            if (jitter < 0 || jitter > 1) {
                throw new IllegalArgumentException("org.sover.retry: jitter must be between 0 and 1");
            }
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("org.sover.retry: maxAttempts must be at least 1");
            }
            if (coolDown.isNegative()) {
                throw new IllegalArgumentException("org.sover.retry: coolDownSeconds must not be negative");
            }
        }

        static final Settings DEFAULTS = new Settings(Duration.ofSeconds(10), 2.0, Duration.ofSeconds(3600), 0.2, 8,
                Duration.ofSeconds(21600));

        static Settings of(RetryConfig c) {
            return new Settings(Duration.ofSeconds(c.initialBackoffSeconds()), c.multiplier(),
                    Duration.ofSeconds(c.maxBackoffSeconds()), c.jitter(), c.maxAttempts(),
                    Duration.ofSeconds(c.coolDownSeconds()));
        }
    }
}
