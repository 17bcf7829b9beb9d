package org.sover.vault.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

import javax.servlet.Servlet;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Version;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.sover.api.Ids;
import org.sover.api.crypto.NodeIdentity;
import org.sover.api.crypto.VaultCipher;
import org.sover.api.replication.Job;
import org.sover.api.replication.JobQueue;
import org.sover.api.replication.JobState;
import org.sover.api.replication.PairingException;
import org.sover.api.replication.PeerDirectory;
import org.sover.api.replication.PeerRole;
import org.sover.api.replication.PeerSync;
import org.sover.api.replication.ReplicationMonitor;
import org.sover.api.replication.PeerLinks;
import org.sover.api.replication.Transport;
import org.sover.api.signal.Signaling;
import org.sover.api.storage.BlobStore;
import org.sover.api.storage.ConflictException;
import org.sover.api.storage.InsufficientStorageException;
import org.sover.api.storage.Page;
import org.sover.api.storage.StorageException;
import org.sover.api.vault.Account;
import org.sover.api.vault.AccountStore;
import org.sover.api.vault.AddedPhoto;
import org.sover.api.vault.Album;
import org.sover.api.vault.Photo;
import org.sover.api.vault.VaultRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The vault's REST API under {@code /v1} (see docs/API.md). Routing, authentication and
 * error mapping live here; uploads go through {@link PhotoIngest}. Immediate, so the login
 * throttle's counts are not lost when Pax Web briefly lets go of the servlet.
 */
@Component(service = Servlet.class, immediate = true, property = {
    "osgi.http.whiteboard.servlet.pattern=/v1/*", "osgi.http.whiteboard.servlet.name=sover-vault-api",
    "osgi.http.whiteboard.servlet.asyncSupported=false"})
public final class ApiServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ApiServlet.class);
    private static final Set<String> WRITE_METHODS = Set.of("POST", "PUT", "PATCH", "DELETE");

    private final transient VaultRepository repository;
    private final transient AccountStore accountStore;
    private final transient Authenticator authenticator;
    private final transient BlobStore blobs;
    private final transient VaultCipher cipher;
    private final transient NodeIdentity identity;
    private final transient AccountsService accounts;
    private final transient PhotoIngest ingest;
    private final transient LoginThrottle throttle;
    private final transient Clock clock;
    private final String version;
    private final transient VaultSettings settings;

    /** Optional: without the replication bundle the vault still serves photos; /v1/peers answers 503. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile PeerDirectory peerDirectory;

    /** Optional like the peers: the API keeps serving photos while storage restarts the queue. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile JobQueue jobQueue;

    /** Optional: traffic, round trips and diagnostics for the dashboard. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile ReplicationMonitor monitor;

    /** Optional: the transports registered now, for the dashboard. */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile List<Transport> transports;

    /** Optional: this node's signaling (the signal bundle), for the dashboard and {@code /v1/nodes}. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile Signaling signaling;

    /** Optional: live peer connections of transports that keep them (WebRTC). */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile List<PeerLinks> peerLinks;

    private transient volatile SettingsStore settingsStore;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindSettingsStore")
    void bindSettingsStore(SettingsStore store) {
        this.settingsStore = store;
    }

    void unbindSettingsStore(SettingsStore store) {
        if (this.settingsStore == store) {
            this.settingsStore = null;
        }
    }

    @Activate
    public ApiServlet(@Reference VaultRepository repository, @Reference AccountStore accountStore,
            @Reference BlobStore blobs, @Reference VaultCipher cipher, @Reference NodeIdentity identity,
            @Reference AccountsService accounts, @Reference VaultSettings settings, @Reference PhotoIngest ingest,
            BundleContext context) {
        this(repository, accountStore, blobs, cipher, identity, accounts, settings, ingest, Clock.systemUTC(),
                versionOf(context.getBundle().getVersion()));
        announce();
    }

    ApiServlet(VaultRepository repository, AccountStore accountStore, BlobStore blobs, VaultCipher cipher,
            NodeIdentity identity, AccountsService accounts, VaultSettings settings, PhotoIngest ingest, Clock clock,
            String version) {
        this.repository = repository;
        this.accountStore = accountStore;
        this.authenticator = new Authenticator(accountStore, clock);
        this.blobs = blobs;
        this.cipher = cipher;
        this.identity = identity;
        this.accounts = accounts;
        this.settings = settings;
        this.clock = clock;
        this.version = version;
        this.ingest = ingest;
        this.throttle = new LoginThrottle(clock, () -> settings.config().maxFailuresPerUser(),
                () -> settings.config().maxFailuresPerAddress());
    }

    private static String versionOf(Version v) {
        String base = v.getMajor() + "." + v.getMinor() + "." + v.getMicro();
        return v.getQualifier().isEmpty() ? base : base + "-" + v.getQualifier();
    }

    /** Which optional parts run now: the WebRTC transport ("p2p") and the signal client. */
    private SettingsStore.Installed installed() {
        List<Transport> ts = transports;
        boolean p2p = ts != null && ts.stream().anyMatch(t -> "webrtc".equals(t.name()));
        return new SettingsStore.Installed(p2p, signaling != null);
    }

    private void announce() {
        String port = System.getProperty("sover.http.port", "8181");
        String msg = "Sover node " + identity.nodeId() + " is serving the web UI at http://127.0.0.1:" + port + "/";
        LOG.info(msg);
        System.out.println(msg);
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        resp.setHeader("X-Content-Type-Options", "nosniff");
        resp.setHeader("Referrer-Policy", "no-referrer");
        resp.setHeader("Cache-Control", "no-store");
        try {
            if (applyCors(req, resp)) {
                return;
            }
            route(req, resp, segments(req));
        } catch (ApiException e) {
            if (e.field != null && !resp.isCommitted()) {
                Map<String, Object> body = new LinkedHashMap<>(Json.error(e.code, e.getMessage()));
                body.put("field", e.field);
                resp.resetBuffer();
                send(resp, e.status, body);
            } else {
                sendError(resp, e.status, e.code, e.getMessage());
            }
        } catch (InsufficientStorageException e) {
            LOG.warn("disk full: {}", e.getMessage());
            sendError(resp, 507, "insufficient_storage",
                    "The node's disk is full; nothing was stored. Free some space or add a disk, then try again.");
        } catch (ConflictException e) {
            sendError(resp, 409, "conflict", e.getMessage());
        } catch (StorageException e) {
            LOG.error("storage failed", e);
            sendError(resp, 503, "unavailable", "The node's database is not available right now; try again shortly.");
        } catch (NoSuchFileException e) {
            LOG.error("a photo's data is missing on disk: {}", e.getFile());
            sendError(resp, 404, "not_found", "This photo's data is not on this node.");
        } catch (IOException e) {
            // Mostly a client that went away mid-transfer; nothing to answer then.
            LOG.debug("I/O during {} {}: {}", req.getMethod(), req.getRequestURI(), e.toString());
            sendError(resp, 400, "bad_request", "The request could not be read completely: " + e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("unexpected failure in {} {}", req.getMethod(), req.getRequestURI(), e);
            sendError(resp, 500, "internal", "Something went wrong on the node; the log has the details.");
        }
    }

    private static List<String> segments(HttpServletRequest req) {
        String path = req.getPathInfo();
        List<String> out = new ArrayList<>();
        if (path != null) {
            for (String s : path.split("/")) {
                if (!s.isEmpty()) {
                    out.add(s);
                }
            }
        }
        return out;
    }

    private void route(HttpServletRequest req, HttpServletResponse resp, List<String> seg) throws IOException {
        String method = req.getMethod();
        String first = seg.isEmpty() ? "" : seg.get(0);
        int n = seg.size();
        switch (first) {
            case "health" -> {
                only(n == 1, method, "GET");
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("status", "UP");
                m.put("nodeId", identity.nodeId());
                m.put("version", version);
                send(resp, 200, m);
            }
            case "setup" -> {
                only(n == 1, method, "GET", "POST");
                if (method.equals("GET")) {
                    send(resp, 200, Map.of("setupPending", accounts.setupPending()));
                } else {
                    setup(req, resp);
                }
            }
            case "session" -> {
                only(n == 1, method, "GET", "POST", "DELETE");
                switch (method) {
                    case "POST" -> login(req, resp);
                    case "GET" -> currentSession(req, resp);
                    default -> logout(req, resp);
                }
            }
            case "accounts" -> {
                only(n == 1, method, "GET", "POST");
                Account me = authenticate(req);
                if (!me.isAdmin()) {
                    throw new ApiException(403, "forbidden", "Only an admin can manage accounts.");
                }
                if (method.equals("GET")) {
                    send(resp, 200, accounts.list().stream().map(Json::account).toList());
                } else {
                    createAccount(req, resp);
                }
            }
            case "albums" -> albums(req, resp, seg, authenticate(req));
            case "timeline" -> {
                only(n == 1, method, "GET");
                authenticate(req);
                int limit = limit(req);
                sendPage(resp, () -> repository.timeline(limit, cursor(req)));
            }
            case "photos" -> photos(req, resp, seg, authenticate(req));
            case "replication" -> {
                only(n == 2 && seg.get(1).equals("status"), method, "GET");
                authenticate(req);
                replicationStatus(resp);
            }
            case "node" -> {
                Account me = authenticate(req);
                if (n == 1) {
                    only(true, method, "GET");
                    send(resp, 200, NodeDashboard.body(identity, version, peerDirectory, jobQueue, monitor,
                            transports, repository.stats(), blobs, settingsStore, installed(), signaling));
                } else {
                    only(n == 2 && seg.get(1).equals("switches"), method, "GET", "PUT");
                    SettingsStore store = settings();
                    if (method.equals("GET")) {
                        send(resp, 200, store.switches(installed()));
                    } else {
                        requireAdmin(me, "Only an admin can switch transfers on and off.");
                        Map<String, Object> now = store.setSwitches(jsonBody(req), installed());
                        note("Switches changed by " + me.username() + ": " + now);
                        send(resp, 200, now);
                    }
                }
            }
            case "nodes" -> {
                only(n == 1, method, "GET");
                authenticate(req);
                send(resp, 200, NodeDashboard.nodes(identity, peerDirectory, signaling));
            }
            case "settings" -> {
                only(n == 1, method, "GET", "PUT");
                Account me = authenticate(req);
                requireAdmin(me, "Only an admin can see and change the node's settings.");
                SettingsStore store = settings();
                if (method.equals("GET")) {
                    send(resp, 200, store.read());
                } else {
                    Map<String, Object> now = store.update(jsonBody(req));
                    note("Settings changed by " + me.username() + ".");
                    send(resp, 200, now);
                }
            }
            case "diagnostics" -> {
                only(n == 1, method, "GET");
                requireAdmin(authenticate(req), "Only an admin can read the node's diagnostics.");
                ReplicationMonitor m = monitor;
                if (m == null) {
                    resp.setHeader("Retry-After", "5");
                    throw new ApiException(503, "unavailable", "Diagnostics are not available right now (the replication bundle is not running).");
                }
                long after = longParam(req, "after", 0);
                List<ReplicationMonitor.Diagnostic> items = m.diagnostics(after, limit(req));
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("items", items.stream().map(Json::diagnostic).toList());
                body.put("next", items.isEmpty() ? after : items.get(items.size() - 1).seq());
                send(resp, 200, body);
            }
            case "jobs" -> {
                if (!authenticate(req).isAdmin()) {
                    throw new ApiException(403, "forbidden", "Only an admin can see and requeue replication jobs.");
                }
                jobs(req, resp, seg);
            }
            case "peers" -> {
                Account me = authenticate(req);
                if (!me.isAdmin()) {
                    throw new ApiException(403, "forbidden", "Only an admin can pair and manage nodes.");
                }
                peers(req, resp, seg);
            }
            default -> throw ApiException.notFound("There is no API route " + req.getRequestURI() + ".");
        }
    }

    /** Throws 404 when the route shape is wrong and 405 when the method is not one of {@code allowed}. */
    private static void only(boolean shapeMatches, String method, String... allowed) {
        if (!shapeMatches) {
            throw ApiException.notFound("There is no such API route.");
        }
        for (String a : allowed) {
            if (a.equals(method)) {
                return;
            }
        }
        throw new ApiException(405, "method_not_allowed", method + " is not allowed here; use " + String.join(", ", allowed) + ".");
    }

    // ---- setup, sessions, accounts -------------------------------------------------------

    private void setup(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        JsonNode body = jsonBody(req);
        String address = req.getRemoteAddr();
        long wait = throttle.retryAfterSeconds("", address);
        if (wait > 0) {
            throw rateLimited(resp, wait);
        }
        if (!accounts.setupPending()) {
            throw new ApiException(409, "setup_done", "This node is already set up; log in instead.");
        }
        String username = Names.username(Json.text(body, "username"));
        char[] password = Names.password(Json.text(body, "password"));
        Optional<Account> created;
        try {
            created = accounts.completeSetup(Json.text(body, "setupCode"), username, password);
        } catch (ApiException e) {
            throttle.failed("", address);
            throw e;
        }
        Account account = created.orElseThrow(
                () -> new ApiException(409, "setup_done", "This node is already set up; log in instead."));
        startSession(req, resp, account);
        send(resp, 201, Json.account(account));
    }

    private void login(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        JsonNode body = jsonBody(req);
        String username = Json.text(body, "username");
        String password = Json.text(body, "password");
        if (username == null || password == null) {
            throw ApiException.badRequest("bad_request", "Send {\"username\": ..., \"password\": ...}.");
        }
        String address = req.getRemoteAddr();
        long wait = throttle.retryAfterSeconds(username, address);
        if (wait > 0) {
            throw rateLimited(resp, wait);
        }
        Optional<Account> account = accounts.authenticate(username, password.toCharArray());
        if (account.isEmpty()) {
            throttle.failed(username, address);
            throw new ApiException(401, "bad_credentials", "The username or password is not right.");
        }
        throttle.succeeded(username);
        startSession(req, resp, account.get());
        send(resp, 200, Json.account(account.get()));
    }

    /**
     * Who is logged in. Answers 200 either way: a browser's first look at a node is not an
     * error (a 401 here would mark every cold start red in the console).
     */
    private void currentSession(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        Map<String, Object> body;
        try {
            body = new LinkedHashMap<>(Json.account(authenticate(req)));
            body.put("authenticated", true);
        } catch (ApiException e) {
            if (e.status != 401) {
                throw e;
            }
            body = Map.of("authenticated", false);
        }
        send(resp, 200, body);
    }

    private static ApiException rateLimited(HttpServletResponse resp, long seconds) {
        resp.setHeader("Retry-After", Long.toString(seconds));
        return new ApiException(429, "rate_limited",
                "Too many failed attempts; try again in " + seconds + " seconds.");
    }

    private void startSession(HttpServletRequest req, HttpServletResponse resp, Account account) {
        String token = SecretTokens.newToken("");
        Duration validity = Duration.ofDays(settings.config().sessionDays());
        accountStore.createSession(SecretTokens.hash(token), account.id(), clock.instant().plus(validity));
        String expires = DateTimeFormatter.RFC_1123_DATE_TIME.format(clock.instant().plus(validity).atOffset(ZoneOffset.UTC));
        resp.addHeader("Set-Cookie", Authenticator.SESSION_COOKIE + "=" + token + "; Path=/; Max-Age=" + validity.toSeconds()
                + "; Expires=" + expires + "; HttpOnly; SameSite=Strict" + (req.isSecure() ? "; Secure" : ""));
    }

    private void logout(HttpServletRequest req, HttpServletResponse resp) {
        String token = Authenticator.sessionCookie(req);
        if (token != null) {
            checkOrigin(req);
            accountStore.deleteSession(SecretTokens.hash(token));
        }
        resp.addHeader("Set-Cookie", Authenticator.SESSION_COOKIE + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"
                + (req.isSecure() ? "; Secure" : ""));
        resp.setStatus(204);
    }

    private void createAccount(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        JsonNode body = jsonBody(req);
        String username = Names.username(Json.text(body, "username"));
        char[] password = Names.password(Json.text(body, "password"));
        String role = Optional.ofNullable(Json.text(body, "role")).orElse(Account.MEMBER);
        if (!role.equals(Account.ADMIN) && !role.equals(Account.MEMBER)) {
            throw ApiException.badRequest("bad_request", "\"role\" is \"admin\" or \"member\".");
        }
        try {
            send(resp, 201, Json.account(accounts.create(username, password, role)));
        } catch (ConflictException e) {
            throw new ApiException(409, "username_taken", "The username \"" + username + "\" is taken.");
        }
    }

    /** The account behind the request's bearer token or session cookie; 401 when there is none. */
    private Account authenticate(HttpServletRequest req) {
        Authenticator.Credential credential = Authenticator.credentialOf(req);
        Account account = authenticator.account(credential);
        if (!credential.bearer() && WRITE_METHODS.contains(req.getMethod())) {
            checkOrigin(req);
        }
        return account;
    }

    /**
     * Cookie-authenticated writes must come from this node's own pages: SameSite=Strict keeps
     * the cookie off other sites' requests, and this check also covers older browsers.
     */
    private void checkOrigin(HttpServletRequest req) {
        String origin = req.getHeader("Origin");
        if (origin == null || isAllowedOrigin(origin)) {
            return;
        }
        try {
            URI o = URI.create(origin);
            String host = req.getHeader("Host");
            if (host != null && host.equalsIgnoreCase(o.getRawAuthority())) {
                return;
            }
        } catch (IllegalArgumentException e) {
            // fall through: an unparseable origin is not ours
        }
        throw new ApiException(403, "forbidden", "Requests from " + origin + " may not change this vault.");
    }

    private boolean isAllowedOrigin(String origin) {
        return Cors.isAllowed(origin, settings.config().allowedOrigins());
    }

    /** CORS only for configured origins; true when the request was a preflight and is answered. */
    private boolean applyCors(HttpServletRequest req, HttpServletResponse resp) {
        return Cors.apply(req, resp, settings.config().allowedOrigins());
    }

    // ---- albums -----------------------------------------------------------------------------

    private void albums(HttpServletRequest req, HttpServletResponse resp, List<String> seg, Account me)
            throws IOException {
        String method = req.getMethod();
        if (seg.size() == 1) {
            only(true, method, "GET", "POST");
            if (method.equals("GET")) {
                send(resp, 200, repository.albums().stream().map(Json::album).toList());
            } else {
                String name = Names.albumName(Json.text(jsonBody(req), "name"));
                send(resp, 201, Json.album(repository.createAlbum(name, identity.nodeId())));
            }
            return;
        }
        String id = id(seg.get(1), "album");
        if (seg.size() == 2) {
            only(true, method, "GET", "PATCH", "DELETE");
            switch (method) {
                case "GET" -> send(resp, 200, albumWithReplication(album(id)));
                case "PATCH" -> {
                    String name = Names.albumName(Json.text(jsonBody(req), "name"));
                    Album renamed = repository.renameAlbum(id, name, identity.nodeId())
                            .orElseThrow(() -> ApiException.notFound("There is no album " + id + "."));
                    send(resp, 200, Json.album(renamed));
                }
                default -> {
                    List<String> unreferenced = repository.deleteAlbum(id, identity.nodeId())
                            .orElseThrow(() -> ApiException.notFound("There is no album " + id + "."));
                    unreferenced.forEach(ingest::collect);
                    resp.setStatus(204);
                }
            }
            return;
        }
        only(seg.size() == 3 && seg.get(2).equals("photos"), method, "GET", "POST");
        if (method.equals("GET")) {
            requireAlbum(id);
            int limit = limit(req);
            sendPage(resp, () -> repository.photos(id, limit, cursor(req)));
        } else {
            requireAlbum(id);
            upload(req, resp, id, me);
        }
    }

    private Album album(String id) {
        return repository.album(id).orElseThrow(() -> ApiException.notFound("There is no album " + id + "."));
    }

    /**
     * 404 unless the album exists. Uploads and photo pages only need that: {@link #album} counts
     * the album's photos, which made each upload into a 10,000-photo album cost a scan of it.
     */
    private void requireAlbum(String id) {
        if (!repository.albumExists(id)) {
            throw ApiException.notFound("There is no album " + id + ".");
        }
    }

    // ---- peers (pairing lives in the replication bundle) -------------------------------------

    private void peers(HttpServletRequest req, HttpServletResponse resp, List<String> seg) throws IOException {
        PeerDirectory directory = peerDirectory;
        if (directory == null) {
            resp.setHeader("Retry-After", "5");
            throw new ApiException(503, "unavailable", "Pairing is not available right now (the replication bundle is not running).");
        }
        String method = req.getMethod();
        try {
            if (seg.size() == 1) {
                only(true, method, "GET", "POST");
                if (method.equals("GET")) {
                    send(resp, 200, directory.peers().stream().map(Json::peer).toList());
                } else {
                    String payload = Json.text(jsonBody(req), "payload");
                    if (payload == null) {
                        throw ApiException.badRequest("bad_request", "Send {\"payload\": \"sover-pair:...\"} from the other node.");
                    }
                    send(resp, 201, Json.peer(directory.acceptPairingPayload(payload)));
                }
                return;
            }
            String second = seg.get(1);
            if (second.equals("pairing")) {
                only(seg.size() == 2, method, "POST");
                String role = Optional.ofNullable(Json.text(jsonBody(req), "role")).orElse("full");
                if (!role.equals("full") && !role.equals("storage")) {
                    throw ApiException.badRequest("bad_request", "\"role\" is \"full\" (a family node) or \"storage\" (ciphertext only).");
                }
                send(resp, 201, Map.of("payload", directory.createPairingPayload(
                        role.equals("full") ? PeerRole.FULL : PeerRole.STORAGE)));
                return;
            }
            if (second.equals("pending")) {
                if (seg.size() == 2) {
                    only(true, method, "GET");
                    send(resp, 200, directory.pending().stream().map(Json::pendingPeer).toList());
                    return;
                }
                only(seg.size() == 4 && (seg.get(3).equals("approve") || seg.get(3).equals("deny")), method, "POST");
                String nodeId = nodeId(seg.get(2));
                if (seg.get(3).equals("approve")) {
                    send(resp, 200, Json.peer(directory.approve(nodeId)));
                } else if (directory.deny(nodeId)) {
                    resp.setStatus(204);
                } else {
                    throw ApiException.notFound("No pairing request from node " + nodeId + " is waiting.");
                }
                return;
            }
            String nodeId = nodeId(second);
            if (seg.size() == 2) {
                only(true, method, "GET", "PATCH", "DELETE");
                switch (method) {
                    case "GET" -> send(resp, 200, Json.peer(directory.peer(nodeId)
                            .orElseThrow(() -> ApiException.notFound("Node " + nodeId + " is not paired."))));
                    case "PATCH" -> send(resp, 200, Json.peer(directory.rename(nodeId, Names.albumName(
                            Json.text(jsonBody(req), "name"))).orElseThrow(() -> ApiException.notFound("Node " + nodeId + " is not paired."))));
                    default -> {
                        if (!directory.remove(nodeId)) {
                            throw ApiException.notFound("Node " + nodeId + " is not paired.");
                        }
                        resp.setStatus(204);
                    }
                }
                return;
            }
            only(seg.size() == 3 && (seg.get(2).equals("block") || seg.get(2).equals("unblock")
                    || seg.get(2).equals("sync")), method, "POST");
            if (seg.get(2).equals("sync")) {
                PeerSync done = directory.sync(nodeId);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("reached", done.reached());
                m.put("error", done.error());
                m.put("applied", done.applied());
                m.put("requeued", done.requeued());
                m.put("queued", done.queued());
                send(resp, 200, m);
                return;
            }
            if (seg.get(2).equals("block")) {
                directory.block(nodeId);
            } else {
                directory.unblock(nodeId);
            }
            resp.setStatus(204);
        } catch (PairingException e) {
            if (e.status() == 202) {
                send(resp, 202, Map.of("status", "pending", "message", e.getMessage()));
            } else {
                throw new ApiException(e.status(), e.code(), e.getMessage());
            }
        }
    }

    // ---- replication jobs ---------------------------------------------------------------------

    private void jobs(HttpServletRequest req, HttpServletResponse resp, List<String> seg) throws IOException {
        JobQueue queue = jobQueue;
        if (queue == null) {
            resp.setHeader("Retry-After", "5");
            throw new ApiException(503, "unavailable", "The job queue is not available right now (storage is restarting).");
        }
        String method = req.getMethod();
        if (seg.size() == 1) {
            only(true, method, "GET");
            String stateParam = req.getParameter("state");
            JobState state = null;
            if (stateParam != null && !stateParam.isEmpty()) {
                try {
                    state = JobState.valueOf(stateParam.toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    throw ApiException.badRequest("bad_request", "state is pending, in_flight, done or failed.");
                }
            }
            String peer = req.getParameter("peer");
            String peerId = peer == null || peer.isEmpty() ? null : nodeId(peer);
            int limit = limit(req);
            Page<Job> page;
            try {
                page = queue.jobs(state, peerId, limit, cursor(req));
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("bad_cursor", "That cursor is not valid; start again without one.");
            }
            Map<String, Object> m = new LinkedHashMap<>();
            // People recognise a photo by its name: each job says it (null once the photo is gone).
            m.put("items", page.items().stream().map(j -> {
                Map<String, Object> job = Json.job(j);
                job.put("filename", j.photoId() == null ? null
                        : repository.photo(j.photoId()).map(Photo::filename).orElse(null));
                return job;
            }).toList());
            m.put("next", page.next());
            Map<String, Long> counts = new LinkedHashMap<>();
            queue.counts(peerId).forEach((s, n) -> counts.put(s.wireName(), n));
            m.put("counts", counts);
            send(resp, 200, m);
            return;
        }
        if (seg.size() == 2 && seg.get(1).equals("requeue")) {
            only(true, method, "POST");
            JsonNode body = jsonBody(req);
            int requeued;
            if (body.has("ids")) {
                List<String> ids = new ArrayList<>();
                body.get("ids").forEach(id -> ids.add(id.asText()));
                requeued = queue.requeue(ids, clock.instant());
            } else if (body.hasNonNull("peer")) {
                requeued = queue.requeuePeer(nodeId(body.get("peer").asText()), clock.instant());
            } else if (body.path("allFailed").asBoolean(false)) {
                requeued = queue.requeueAllFailed(clock.instant());
            } else {
                throw ApiException.badRequest("bad_request",
                        "Send {\"ids\": [...]}, {\"peer\": \"<node id>\"} or {\"allFailed\": true}.");
            }
            send(resp, 200, Map.of("requeued", requeued));
            return;
        }
        only(seg.size() == 2, method, "GET");
        Job job = queue.job(seg.get(1)).orElseThrow(() -> ApiException.notFound("There is no job " + seg.get(1) + "."));
        send(resp, 200, Json.job(job));
    }

    // ---- replication status -------------------------------------------------------------------

    private void replicationStatus(HttpServletResponse resp) throws IOException {
        JobQueue queue = jobQueue;
        PeerDirectory directory = peerDirectory;
        if (queue == null || directory == null) {
            resp.setHeader("Retry-After", "5");
            throw new ApiException(503, "unavailable", queue == null
                    ? "The replication status is not available right now (the job queue is away while storage restarts)."
                    : "The replication status is not available right now (the replication bundle is not running).");
        }
        ReplicationMonitor m = monitor;
        send(resp, 200, ReplicationStatus.body(directory.peers(), queue::counts, queue.counts(null), queue.coverage(),
                id -> m == null ? java.util.Optional.empty() : m.link(id), this::connectionsOf));
    }

    private List<PeerLinks.Link> connectionsOf(String nodeId) {
        List<PeerLinks> all = peerLinks;
        if (all == null) {
            return List.of();
        }
        List<PeerLinks.Link> out = new ArrayList<>();
        for (PeerLinks links : all) {
            try {
                links.links().stream().filter(l -> nodeId.equals(l.nodeId())).forEach(out::add);
            } catch (RuntimeException e) {
                LOG.debug("peer links unavailable: {}", e.toString());
            }
        }
        return out;
    }

    /** One album, with how many of its photos every node holds (left out while the queue is away). */
    private Map<String, Object> albumWithReplication(Album album) {
        Map<String, Object> m = new LinkedHashMap<>(Json.album(album));
        JobQueue queue = jobQueue;
        if (queue != null) {
            try {
                org.sover.api.replication.Coverage c = queue.coverage(album.id());
                m.put("replication", Map.of("photos", c.photos(), "fullyReplicated", c.fullyReplicated()));
            } catch (RuntimeException e) {
                LOG.warn("album {} is shown without its replication: {}", album.id(), e.toString());
            }
        }
        return m;
    }

    private SettingsStore settings() {
        SettingsStore store = settingsStore;
        if (store == null) {
            throw new ApiException(503, "unavailable", "Settings are not available right now (configuration admin is not running).");
        }
        return store;
    }

    private static void requireAdmin(Account me, String message) {
        if (!me.isAdmin()) {
            throw new ApiException(403, "forbidden", message);
        }
    }

    private void note(String message) {
        ReplicationMonitor m = monitor;
        if (m != null) {
            m.note(ReplicationMonitor.INFO, message);
        }
        LOG.info(message);
    }

    private static long longParam(HttpServletRequest req, String name, long fallback) {
        String raw = req.getParameter(name);
        if (raw == null || raw.isEmpty()) {
            return fallback;
        }
        try {
            return Long.parseLong(raw);
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("bad_request", name + " is a whole number.");
        }
    }

    private static String nodeId(String raw) {
        String id = raw.toUpperCase(Locale.ROOT);
        if (!id.matches("[A-Z2-7]{7}(-[A-Z2-7]{7}){7}")) {
            throw ApiException.notFound("\"" + raw + "\" is not a node id.");
        }
        return id;
    }

    // ---- photos -------------------------------------------------------------------------------

    private void upload(HttpServletRequest req, HttpServletResponse resp, String albumId, Account me)
            throws IOException {
        long max = settings.config().maxUploadBytes();
        long declared = req.getContentLengthLong();
        if (declared > max && !isMultipart(req)) {
            throw new ApiException(413, "too_large",
                    "The upload has " + declared + " bytes; the limit is " + max + " (maxUploadBytes in etc/org.sover.vault.cfg).");
        }
        String key = idempotencyKey(req);
        String contentType = Optional.ofNullable(req.getContentType()).orElse("").strip();
        if (isMultipart(req)) {
            uploadMultipart(req, resp, albumId, me, key, contentType, max);
            return;
        }
        String mediaType = contentType.split(";")[0].strip().toLowerCase(Locale.ROOT);
        if (!(mediaType.startsWith("image/") || mediaType.startsWith("video/")
                || mediaType.equals("application/octet-stream"))) {
            throw new ApiException(415, "unsupported_media_type", mediaType.isEmpty()
                    ? "Send the photo with its Content-Type (e.g. image/jpeg), or as multipart/form-data."
                    : "Content-Type " + mediaType + " is not a photo or video.");
        }
        if (key != null) {
            Optional<Photo> earlier = repository.findByIdempotencyKey(me.id(), key);
            if (earlier.isPresent()) {
                send(resp, 200, photoJson(earlier.get()));
                return;
            }
        }
        String filename = Names.filename(decodeFilename(req.getHeader("X-Filename")));
        AddedPhoto added = ingest.ingest(new PhotoIngest.Upload(albumId, filename, mediaType, req.getInputStream(),
                max, me.id(), me.username(), key));
        send(resp, added.created() ? 201 : 200, photoJson(added.photo()));
    }

    private void uploadMultipart(HttpServletRequest req, HttpServletResponse resp, String albumId, Account me,
            String key, String contentType, long max) throws IOException {
        MultipartReader reader = new MultipartReader(req.getInputStream(), MultipartReader.boundaryOf(contentType));
        List<Photo> out = new ArrayList<>();
        boolean anyCreated = false;
        int index = 0;
        for (MultipartReader.Part part = reader.next(); part != null; part = reader.next()) {
            if (part.filename() == null) {
                continue; // a plain form field
            }
            String partKey = key == null ? null : key + "#" + index;
            index++;
            Optional<Photo> earlier = partKey == null ? Optional.empty()
                    : repository.findByIdempotencyKey(me.id(), partKey);
            if (earlier.isPresent()) {
                out.add(earlier.get());
                continue;
            }
            String filename = Names.filename(part.filename());
            String type = part.contentType().split(";")[0].strip().toLowerCase(Locale.ROOT);
            AddedPhoto added = ingest.ingest(new PhotoIngest.Upload(albumId, filename, type, part.body(), max,
                    me.id(), me.username(), partKey));
            anyCreated |= added.created();
            out.add(added.photo());
        }
        if (index == 0) {
            throw ApiException.badRequest("bad_request", "The multipart body has no file parts.");
        }
        send(resp, anyCreated ? 201 : 200, photosJson(out));
    }

    private static boolean isMultipart(HttpServletRequest req) {
        String ct = req.getContentType();
        return ct != null && ct.toLowerCase(Locale.ROOT).startsWith("multipart/form-data");
    }

    private static String idempotencyKey(HttpServletRequest req) {
        String key = req.getHeader("Idempotency-Key");
        if (key == null) {
            return null;
        }
        key = key.strip();
        if (key.isEmpty() || key.length() > 128 || !key.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw ApiException.badRequest("bad_request", "Idempotency-Key must be 1-128 printable ASCII characters.");
        }
        return key;
    }

    private static String decodeFilename(String header) {
        if (header == null) {
            return null;
        }
        try {
            return URLDecoder.decode(header.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("invalid_filename", "X-Filename must be percent-encoded UTF-8.");
        }
    }

    private void photos(HttpServletRequest req, HttpServletResponse resp, List<String> seg, Account me)
            throws IOException {
        String method = req.getMethod();
        if (seg.size() < 2) {
            throw ApiException.notFound("There is no such API route.");
        }
        String id = id(seg.get(1), "photo");
        if (seg.size() == 2) {
            only(true, method, "GET", "PATCH", "DELETE");
            switch (method) {
                case "GET" -> send(resp, 200, photoJson(photo(id)));
                case "PATCH" -> {
                    photo(id);
                    String target = Json.text(jsonBody(req), "albumId");
                    if (target == null) {
                        throw ApiException.badRequest("bad_request", "Send {\"albumId\": ...} to move the photo.");
                    }
                    String albumId = id(target, "album");
                    requireAlbum(albumId);
                    Photo moved = repository.movePhoto(id, albumId, identity.nodeId())
                            .orElseThrow(() -> ApiException.notFound("The photo or the album is gone."));
                    send(resp, 200, photoJson(moved));
                }
                default -> {
                    List<String> unreferenced = repository.deletePhoto(id, identity.nodeId())
                            .orElseThrow(() -> ApiException.notFound("There is no photo " + id + "."));
                    unreferenced.forEach(ingest::collect);
                    resp.setStatus(204);
                }
            }
            return;
        }
        only(seg.size() == 3 && (seg.get(2).equals("original") || seg.get(2).equals("thumbnail")), method,
                "GET", "HEAD");
        Photo photo = photo(id);
        if (seg.get(2).equals("original")) {
            sendOriginal(req, resp, photo);
        } else {
            sendThumbnail(req, resp, photo);
        }
    }

    private Photo photo(String id) {
        return repository.photo(id).orElseThrow(() -> ApiException.notFound("There is no photo " + id + "."));
    }

    private void sendOriginal(HttpServletRequest req, HttpServletResponse resp, Photo photo) throws IOException {
        String etag = "\"" + photo.blobId().substring(0, Math.min(32, photo.blobId().length())) + "\"";
        resp.setHeader("ETag", etag);
        resp.setHeader("Accept-Ranges", "bytes");
        resp.setHeader("Cache-Control", "private, max-age=31536000, immutable");
        if (etag.equals(req.getHeader("If-None-Match"))) {
            resp.setStatus(304);
            return;
        }
        long size = photo.size();
        Range range = size == 0 ? null : parseRange(req, resp, size);
        resp.setContentType(photo.contentType());
        resp.setHeader("Content-Disposition", "attachment; filename*=UTF-8''"
                + URLEncoder.encode(photo.filename(), StandardCharsets.UTF_8).replace("+", "%20"));
        long start = 0;
        long length = size;
        if (range != null) {
            start = range.start();
            length = range.length();
            resp.setStatus(206);
            resp.setHeader("Content-Range", "bytes " + range.start() + "-" + range.end() + "/" + size);
        } else {
            resp.setStatus(200);
        }
        resp.setContentLengthLong(length);
        if (req.getMethod().equals("HEAD")) {
            return;
        }
        try (InputStream in = cipher.decrypt(blobs.openChannel(photo.blobId()), start)) {
            copy(in, resp.getOutputStream(), length);
        }
    }

    private static Range parseRange(HttpServletRequest req, HttpServletResponse resp, long size) {
        try {
            return Range.parse(req.getHeader("Range"), size);
        } catch (ApiException e) {
            resp.setHeader("Content-Range", "bytes */" + size);
            throw e;
        }
    }

    private void sendThumbnail(HttpServletRequest req, HttpServletResponse resp, Photo photo) throws IOException {
        // A photo from another node has none until this node makes its own, here at the first request.
        String thumbId = ingest.thumbnailFor(photo).orElseThrow(() -> new ApiException(404, "no_thumbnail",
                "There is no thumbnail for \"" + photo.filename() + "\" (videos, formats like HEIC and very large images get none)."));
        String etag = "\"t-" + thumbId.substring(0, Math.min(32, thumbId.length())) + "\"";
        resp.setHeader("ETag", etag);
        resp.setHeader("Cache-Control", "private, max-age=31536000, immutable");
        if (etag.equals(req.getHeader("If-None-Match"))) {
            resp.setStatus(304);
            return;
        }
        resp.setContentType("image/jpeg");
        if (req.getMethod().equals("HEAD")) {
            return;
        }
        byte[] jpeg;
        try (InputStream in = cipher.decrypt(blobs.open(thumbId))) {
            jpeg = in.readAllBytes();
        }
        resp.setContentLength(jpeg.length);
        resp.getOutputStream().write(jpeg);
    }

    private static void copy(InputStream in, OutputStream out, long length) throws IOException {
        byte[] buf = new byte[256 * 1024];
        long left = length;
        while (left > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) {
                throw new IOException("the stored photo ended early");
            }
            out.write(buf, 0, n);
            left -= n;
        }
    }

    // ---- small helpers -------------------------------------------------------------------

    private static String id(String raw, String what) {
        if (!Ids.isWellFormed(raw)) {
            throw ApiException.notFound("There is no " + what + " " + raw + ".");
        }
        return raw;
    }

    private static JsonNode jsonBody(HttpServletRequest req) throws IOException {
        String ct = Optional.ofNullable(req.getContentType()).orElse("").toLowerCase(Locale.ROOT);
        if (!ct.startsWith("application/json")) {
            throw new ApiException(415, "unsupported_media_type", "Send the body as application/json.");
        }
        return Json.read(req.getInputStream());
    }

    private static int limit(HttpServletRequest req) {
        String raw = req.getParameter("limit");
        if (raw == null || raw.isEmpty()) {
            return 100;
        }
        try {
            int limit = Integer.parseInt(raw);
            if (limit >= 1 && limit <= 500) {
                return limit;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw ApiException.badRequest("bad_request", "limit is a number from 1 to 500.");
    }

    private static String cursor(HttpServletRequest req) {
        String c = req.getParameter("cursor");
        return c == null || c.isEmpty() ? null : c;
    }

    private void sendPage(HttpServletResponse resp, Supplier<Page<Photo>> query) throws IOException {
        Page<Photo> page;
        try {
            page = query.get();
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("bad_cursor", "That cursor is not valid; start again without one.");
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("items", photosJson(page.items()));
        m.put("next", page.next());
        send(resp, 200, m);
    }

    private Map<String, Object> photoJson(Photo photo) {
        return photosJson(List.of(photo)).get(0);
    }

    /** Photo records with their replication, read for all of them at once. */
    private List<Map<String, Object>> photosJson(List<Photo> photos) {
        Map<String, Redundancy.Replication> replication = replicationOf(photos);
        return photos.stream()
                .map(p -> Json.photo(p, ingest.hasThumbnail(p), replication.get(p.id())))
                .toList();
    }

    /**
     * Each photo's replication, with one query for the jobs of all of them; empty (the field
     * is left out) while the replication parts are away or cannot be read, so photos are
     * served regardless.
     */
    private Map<String, Redundancy.Replication> replicationOf(List<Photo> photos) {
        JobQueue queue = jobQueue;
        PeerDirectory directory = peerDirectory;
        if (queue == null || directory == null || photos.isEmpty()) {
            return Map.of();
        }
        try {
            Redundancy redundancy = Redundancy.load(photos, directory.peers(), settings.config().redundancyTarget(),
                    queue::jobsOfBlobs,
                    blobId -> repository.blob(blobId).map(b -> b.manifest().originNodeId()).orElse(null));
            Map<String, Redundancy.Replication> out = new HashMap<>();
            for (Photo photo : photos) {
                out.put(photo.id(), redundancy.of(photo));
            }
            return out;
        } catch (RuntimeException e) {
            LOG.warn("photos are listed without their replication: {}", e.toString());
            return Map.of();
        }
    }

    private static void send(HttpServletResponse resp, int status, Object body) throws IOException {
        resp.setStatus(status);
        resp.setContentType("application/json");
        resp.setCharacterEncoding("UTF-8");
        Json.MAPPER.writeValue(resp.getOutputStream(), body);
    }

    private static void sendError(HttpServletResponse resp, int status, String code, String message)
            throws IOException {
        if (resp.isCommitted()) {
            return;
        }
        resp.resetBuffer();
        send(resp, status, Json.error(code, message));
    }
}
