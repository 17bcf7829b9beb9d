package org.sover.vault.internal;

/** An error that reaches the client as {@code {"error": code, "message": message}} with {@code status}. */
final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int status;
    final String code;

    ApiException(int status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    static ApiException badRequest(String code, String message) {
        return new ApiException(400, code, message);
    }

    static ApiException notFound(String what) {
        return new ApiException(404, "not_found", what);
    }
}
