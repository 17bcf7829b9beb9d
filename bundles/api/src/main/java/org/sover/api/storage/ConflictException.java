package org.sover.api.storage;

/** A uniqueness rule would be broken (an account name already taken, ...). */
public class ConflictException extends StorageException {
    public ConflictException(String message) {
        super(message);
    }
}
