package org.sover.api.storage;

import java.io.IOException;

/** The disk is full (or below the configured reserve); nothing was stored. */
public class InsufficientStorageException extends IOException {
    public InsufficientStorageException(String message) {
        super(message);
    }

    public InsufficientStorageException(String message, Throwable cause) {
        super(message, cause);
    }
}
