package org.sover.api.vault;

import java.time.Instant;

/** A bearer token for scripts; only its hash is stored. */
public record ApiToken(String id, String accountId, String name, Instant createdAt, Instant lastUsedAt) {
}
