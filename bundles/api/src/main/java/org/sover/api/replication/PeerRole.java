package org.sover.api.replication;

/** A full family node holds the vault key; a storage peer (a friend's box) holds ciphertext only. */
public enum PeerRole {
    FULL, STORAGE;

    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
