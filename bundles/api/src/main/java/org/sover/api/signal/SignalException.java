package org.sover.api.signal;

/** A signaling message that could not be sent; the message says why, for people. */
public class SignalException extends Exception {
    private static final long serialVersionUID = 1L;

    public SignalException(String message) {
        super(message);
    }

    public SignalException(String message, Throwable cause) {
        super(message, cause);
    }
}
