package org.sover.api.storage;

/** The metadata store failed (Derby error, closed database); the operation did not happen. */
public class StorageException extends RuntimeException {
    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }

    public StorageException(String message) {
        super(message);
    }
}
