package org.sover.api.storage;

import java.util.List;

/** One page of a listing; {@code next} is an opaque cursor for the following page, or null at the end. */
public record Page<T>(List<T> items, String next) {
}
