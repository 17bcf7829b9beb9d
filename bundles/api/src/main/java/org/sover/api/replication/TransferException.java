package org.sover.api.replication;

/** A blob transfer that did not complete; the message is shown to people (job last error). */
public class TransferException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String path;
    private final boolean unreachable;

    /** The peer answered and refused, or the bytes did not check out. */
    public TransferException(String message, String path, Throwable cause) {
        this(message, path, cause, false);
    }

    public TransferException(String message) {
        this(message, null, null, false);
    }

    private TransferException(String message, String path, Throwable cause, boolean unreachable) {
        super(message, cause);
        this.path = path;
        this.unreachable = unreachable;
    }

    /** The peer could not be reached at all (it counts as down until it answers again). */
    public static TransferException unreachable(String message, Throwable cause) {
        return new TransferException(message, null, cause, true);
    }

    public boolean isUnreachable() {
        return unreachable;
    }

    /** The network path the failed attempt took, when known. */
    public String path() {
        return path;
    }
}
