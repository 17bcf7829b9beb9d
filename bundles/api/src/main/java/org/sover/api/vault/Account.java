package org.sover.api.vault;

import java.time.Instant;

/** A family member's account. {@code role} is {@link #ADMIN} or {@link #MEMBER}. */
public record Account(String id, String username, String role, String passwordHash, Instant createdAt,
        Instant updatedAt, long rev, String nodeId) {
    public static final String ADMIN = "admin";
    public static final String MEMBER = "member";

    public boolean isAdmin() {
        return ADMIN.equals(role);
    }
}
