package org.sover.api.vault;

/** The photo an upload resulted in, and whether this call created it (false: idempotent repeat or duplicate). */
public record AddedPhoto(Photo photo, boolean created) {
}
