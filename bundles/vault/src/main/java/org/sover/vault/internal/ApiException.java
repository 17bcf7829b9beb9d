package org.sover.vault.internal;

/** An error that reaches the client as {@code {"error": code, "message": message}} with {@code status}. */
final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int status;
    final String code;
    /** The request field the error is about (settings validation), or null. */
    final String field;

    ApiException(int status, String code, String message) {
        this(status, code, message, null);
    }

    private ApiException(int status, String code, String message, String field) {
        super(message);
        this.status = status;
        this.code = code;
        this.field = field;
    }

    /** A 400 {@code invalid_setting} that names the setting, e.g. {@code retry.maxAttempts}. */
    static ApiException invalidSetting(String field, String message) {
        return new ApiException(400, "invalid_setting", message, field);
    }

    static ApiException badRequest(String code, String message) {
        return new ApiException(400, code, message);
    }

    static ApiException notFound(String what) {
        return new ApiException(404, "not_found", what);
    }
}
