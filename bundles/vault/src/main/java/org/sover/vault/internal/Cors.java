package org.sover.vault.internal;

import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/** CORS for the origins set in {@code allowedOrigins}; none at all otherwise (same origin only). */
final class Cors {
    private Cors() {
    }

    static boolean isAllowed(String origin, String[] allowedOrigins) {
        for (String allowed : allowedOrigins) {
            if (allowed.strip().equalsIgnoreCase(origin)) {
                return true;
            }
        }
        return false;
    }

    /** Adds the CORS headers for an allowed origin; true when the request was a preflight and is answered. */
    static boolean apply(HttpServletRequest req, HttpServletResponse resp, String[] allowedOrigins) {
        String origin = req.getHeader("Origin");
        if (origin == null || !isAllowed(origin, allowedOrigins)) {
            return false;
        }
        resp.setHeader("Access-Control-Allow-Origin", origin);
        resp.setHeader("Access-Control-Allow-Credentials", "true");
        resp.addHeader("Vary", "Origin");
        if (req.getMethod().equals("OPTIONS")) {
            resp.setHeader("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE");
            resp.setHeader("Access-Control-Allow-Headers",
                    "Content-Type, Authorization, X-Filename, Idempotency-Key, Range, If-None-Match");
            resp.setHeader("Access-Control-Max-Age", "600");
            resp.setStatus(204);
            return true;
        }
        return false;
    }
}
