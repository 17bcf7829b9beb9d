package org.sover.api.replication;

/** Pairing could not be done; the message says why and what to do. {@code status} is the HTTP status to answer with. */
public class PairingException extends Exception {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final String code;

    public PairingException(int status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    public PairingException(int status, String code, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.code = code;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }
}
