package org.sover.replication.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Proxy;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

import javax.servlet.ReadListener;
import javax.servlet.ServletInputStream;
import javax.servlet.ServletOutputStream;
import javax.servlet.WriteListener;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.sover.api.replication.NodeTunnel;

/**
 * A tunnelled node request as the servlet API sees it, so the node API serves it in process
 * with exactly the code (and checks) of an HTTP request. Only what {@link NodeApiServlet} uses
 * is implemented; anything else fails loudly.
 */
final class InProcessExchange {
    private final NodeTunnel.Request request;
    private final String remote;
    private final Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    private final Map<String, String> responseHeaders = new LinkedHashMap<>();
    private final ByteArrayOutputStream responseBody = new ByteArrayOutputStream();
    private int status = 200;

    InProcessExchange(NodeTunnel.Request request, String remote) {
        this.request = request;
        this.remote = remote;
        if (request.headers() != null) {
            headers.putAll(request.headers());
        }
    }

    NodeTunnel.Response response() {
        return new NodeTunnel.Response(status, Collections.unmodifiableMap(responseHeaders), responseBody.toByteArray());
    }

    HttpServletRequest request() {
        byte[] body = request.body() == null ? new byte[0] : request.body();
        ByteArrayInputStream in = new ByteArrayInputStream(body);
        ServletInputStream stream = new ServletInputStream() {
            @Override
            public int read() {
                return in.read();
            }

            @Override
            public int read(byte[] b, int off, int len) {
                return in.read(b, off, len);
            }

            @Override
            public boolean isFinished() {
                return in.available() == 0;
            }

            @Override
            public boolean isReady() {
                return true;
            }

            @Override
            public void setReadListener(ReadListener listener) {
                throw new UnsupportedOperationException("no async I/O in process");
            }
        };
        String query = request.query() == null || request.query().isEmpty() ? null : request.query();
        return (HttpServletRequest) Proxy.newProxyInstance(HttpServletRequest.class.getClassLoader(),
                new Class<?>[] {HttpServletRequest.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "getMethod" -> request.method();
                    case "getRequestURI" -> request.path();
                    case "getQueryString" -> query;
                    case "getHeader" -> headers.get((String) args[0]);
                    case "getParameter" -> parameter(query, (String) args[0]);
                    case "getInputStream" -> stream;
                    case "getContentLengthLong" -> (long) body.length;
                    case "getContentLength" -> body.length;
                    case "getRemoteAddr" -> remote;
                    case "toString" -> "tunnelled " + request.method() + " " + request.path();
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> throw new UnsupportedOperationException("HttpServletRequest." + method.getName()
                            + " is not available to a tunnelled request");
                });
    }

    HttpServletResponse response(int maxBody) {
        ServletOutputStream stream = new ServletOutputStream() {
            @Override
            public void write(int b) {
                check(1);
                responseBody.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                check(len);
                responseBody.write(b, off, len);
            }

            private void check(int more) {
                if (responseBody.size() + (long) more > maxBody) {
                    throw new IllegalStateException("a tunnelled answer has at most " + maxBody + " bytes");
                }
            }

            @Override
            public boolean isReady() {
                return true;
            }

            @Override
            public void setWriteListener(WriteListener listener) {
                throw new UnsupportedOperationException("no async I/O in process");
            }
        };
        return (HttpServletResponse) Proxy.newProxyInstance(HttpServletResponse.class.getClassLoader(),
                new Class<?>[] {HttpServletResponse.class}, (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "setStatus" -> status = (Integer) args[0];
                        case "setHeader", "addHeader" -> responseHeaders.put((String) args[0], (String) args[1]);
                        case "setContentType" -> responseHeaders.put("Content-Type", (String) args[0]);
                        case "setContentLength", "setContentLengthLong" -> {
                            // the tunnel sends the body's own length
                        }
                        case "getOutputStream" -> {
                            return stream;
                        }
                        case "isCommitted" -> {
                            return false;
                        }
                        case "toString" -> {
                            return "tunnelled answer";
                        }
                        case "hashCode" -> {
                            return System.identityHashCode(proxy);
                        }
                        case "equals" -> {
                            return proxy == args[0];
                        }
                        default -> throw new UnsupportedOperationException("HttpServletResponse." + method.getName()
                                + " is not available to a tunnelled request");
                    }
                    return null;
                });
    }

    /** The first value of {@code name} in the query string, decoded; null when absent. */
    static String parameter(String query, String name) {
        if (query == null) {
            return null;
        }
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            if (key.equals(name)) {
                return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }
}
