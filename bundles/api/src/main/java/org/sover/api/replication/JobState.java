package org.sover.api.replication;

/** {@code pending → in_flight → done | failed}; failed jobs return to pending (cool-down, a returning peer, or by hand). */
public enum JobState {
    PENDING, IN_FLIGHT, DONE, FAILED;

    /** The lowercase name used in the REST API and the shell. */
    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
