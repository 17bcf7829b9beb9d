package org.sover.replication.internal;

/** A node-to-node request refused: 401 (who are you / prove it again) or 403 (blocked). */
final class NodeAuthException extends Exception {
    private static final long serialVersionUID = 1L;
    final int status;
    final String code;

    NodeAuthException(int status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }
}
