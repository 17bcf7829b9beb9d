package org.sover.vault.internal;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;

/**
 * Counts failed logins per username and per client address in a sliding window, so
 * guessing passwords is slow whichever of the two an attacker varies.
 */
final class LoginThrottle {
    static final Duration WINDOW = Duration.ofMinutes(5);
    private final Map<String, Deque<Instant>> failures = new ConcurrentHashMap<>();
    private final Clock clock;
    private final IntSupplier maxPerUser;
    private final IntSupplier maxPerAddress;

    /** The limits are read at each check, so a configuration change applies at once. */
    LoginThrottle(Clock clock, IntSupplier maxPerUser, IntSupplier maxPerAddress) {
        this.clock = clock;
        this.maxPerUser = maxPerUser;
        this.maxPerAddress = maxPerAddress;
    }

    /** Seconds to wait before the next try, or 0 when a try is allowed now. */
    long retryAfterSeconds(String username, String address) {
        return Math.max(wait(userKey(username), maxPerUser.getAsInt()), wait("a:" + address, maxPerAddress.getAsInt()));
    }

    void failed(String username, String address) {
        Instant now = clock.instant();
        record(userKey(username), now);
        record("a:" + address, now);
        if (failures.size() > 100_000) {
            failures.entrySet().removeIf(e -> expired(e.getValue(), now));
        }
    }

    void succeeded(String username) {
        failures.remove(userKey(username));
    }

    private static String userKey(String username) {
        return "u:" + (username == null ? "" : username.toLowerCase(Locale.ROOT));
    }

    private void record(String key, Instant now) {
        Deque<Instant> q = failures.computeIfAbsent(key, k -> new ArrayDeque<>());
        synchronized (q) {
            q.addLast(now);
            while (q.size() > 1000) {
                q.removeFirst();
            }
        }
    }

    private long wait(String key, int max) {
        Deque<Instant> q = failures.get(key);
        if (q == null) {
            return 0;
        }
        Instant now = clock.instant();
        synchronized (q) {
            while (!q.isEmpty() && q.peekFirst().plus(WINDOW).isBefore(now)) {
                q.removeFirst();
            }
            if (q.size() < max) {
                return 0;
            }
            // Allowed again when enough of the window's failures have aged out.
            Instant oldestThatCounts = q.stream().skip(q.size() - max).findFirst().orElse(now);
            return Math.max(1, Duration.between(now, oldestThatCounts.plus(WINDOW)).toSeconds());
        }
    }

    private static boolean expired(Deque<Instant> q, Instant now) {
        synchronized (q) {
            return q.isEmpty() || q.peekLast().plus(WINDOW).isBefore(now);
        }
    }
}
