package org.sover.signal.internal;

/**
 * Configuration PID {@code org.sover.signal} of the signal server; every key is optional.
 * {@code SIGNAL_TURN_SECRET}, {@code SIGNAL_TURN_URLS} and {@code SIGNAL_STUN_URLS} in the
 * environment override the TURN/STUN keys (see {@link SignalLimits#from}).
 */
public @interface SignalConfig {
    String PID = "org.sover.signal";

    /** False: no endpoint at all (the bundle may stay installed). */
    boolean enabled() default true;

    /** The operator's assembly: also answer {@code /health} and {@code /metrics}. */
    boolean standalone() default false;

    /** coturn {@code static-auth-secret}; empty: no TURN credentials are handed out. */
    String turnSecret() default "";

    /** TURN URLs, comma-separated or several values (turn:host:3478, turns:host:5349). */
    String[] turnUrls() default {};

    /** STUN URLs announced without credentials. */
    String[] stunUrls() default {};

    long turnTtlSeconds() default 600;

    long presenceTtlSeconds() default 120;

    int maxMessageBytes() default 65536;

    int maxConnectionsPerIp() default 20;

    int messagesPerSecond() default 50;

    long idleTimeoutSeconds() default 60;

    /**
     * Addresses of reverse proxies in front of this server (e.g. 127.0.0.1 for nginx on the same
     * host): for connections from them the client address comes from {@code X-Forwarded-For}, so
     * the per-address limits apply per client, not to everyone behind the proxy.
     */
    String[] trustedProxies() default {};
}
