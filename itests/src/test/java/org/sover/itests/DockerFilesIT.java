package org.sover.itests;

import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Checks docker/ without Docker: both Dockerfiles and both compose files are read (a small
 * Dockerfile reader and a reader of the YAML subset the compose files are written in) and held
 * against the distributions this build made. Every problem is collected and reported with what
 * is wrong and where; the images themselves cannot be built here (no Docker daemon), the
 * distributions inside them are tested by the rest of this module.
 */
public class DockerFilesIT {
    private static final Path ROOT = findRepoRoot();
    private static final Path DOCKER = ROOT.resolve("docker");

    /** Images used as they are, not built from this repository: well known, pinned to a tag. */
    private static final Set<String> ALLOWED_IMAGES = Set.of(
            "coturn/coturn"); // the coturn project's own image (compose.operator.yml)
    /** Base images the Dockerfiles may start from. */
    private static final Set<String> ALLOWED_BASES = Set.of("debian", "eclipse-temurin");
    /** What the WebRTC transport's native library links against. */
    private static final List<String> NATIVE_LIBS = List.of(
            "libpulse0", "libudev1", "libx11-6", "libxfixes3", "libxrandr2", "libxcomposite1", "libdbus-1-3");
    /** coturn must refuse to relay into these (the operator's own networks). */
    private static final List<String> DENIED_PEER_RANGES = List.of(
            "10.0.0.0-10.255.255.255", "172.16.0.0-172.31.255.255", "192.168.0.0-192.168.255.255",
            "127.0.0.0-127.255.255.255", "169.254.0.0-169.254.255.255",
            "fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    private static final Pattern SECRET_NAME = Pattern.compile("(?i)secret|password|passwd|token|credential");
    private static final Pattern INTERPOLATION = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\\}");
    private static final String NODE_DIST = "assembly/target/assembly";
    private static final String SIGNAL_DIST = "signal-distribution/target/assembly";

    // ------------------------------------------------------------------------------------ images

    @Test
    public void applianceImage() throws IOException {
        Problems p = new Problems("docker/appliance/Dockerfile");
        Dockerfile d = Dockerfile.read(DOCKER.resolve("appliance/Dockerfile"));
        int port = nodeHttpPortDefault();
        checkImage(p, d, NODE_DIST, port, "SOVER_HTTP_PORT", "/v1/health");
        String installs = d.runText();
        for (String lib : NATIVE_LIBS) {
            p.check(installs.contains(lib), "does not install " + lib + " (needed by the WebRTC native library)");
        }
        String data = d.env().get("SOVER_DATA");
        p.check(data != null && !data.isEmpty(), "sets no ENV SOVER_DATA (the node's data directory)");
        p.check(data != null && d.finalStage().volumes.contains(data),
                "declares no VOLUME for SOVER_DATA=" + data + " (VOLUME " + d.finalStage().volumes + ")");
        p.done();
    }

    @Test
    public void signalImage() throws IOException {
        Problems p = new Problems("docker/signal/Dockerfile");
        Dockerfile d = Dockerfile.read(DOCKER.resolve("signal/Dockerfile"));
        Path dist = ROOT.resolve(SIGNAL_DIST);
        p.check(Files.isDirectory(dist), SIGNAL_DIST + " does not exist: the signal distribution has not been built "
                + "(mvn -B install -DskipTests -pl signal-distribution -am); the image copies it");
        checkImage(p, d, SIGNAL_DIST, signalHttpPortDefault(p), "SIGNAL_HTTP_PORT", "/health");
        p.check(!d.runText().contains("libpulse0"), "installs the WebRTC native libraries, which the signal server does not need");
        p.done();
    }

    /** What both images must get right. */
    private static void checkImage(Problems p, Dockerfile d, String distribution, int port, String portVar, String healthPath)
            throws IOException {
        Stage last = d.finalStage();
        p.check(ALLOWED_BASES.contains(imageName(last.from)), "the final stage starts FROM " + last.from
                + ", not one of " + ALLOWED_BASES);
        for (Stage s : d.stages) {
            for (Copy c : s.copies) {
                if (c.fromStage != null) {
                    p.check(d.stage(c.fromStage) != null && d.stages.indexOf(d.stage(c.fromStage)) < d.stages.indexOf(s),
                            "COPY --from=" + c.fromStage + " names no earlier stage");
                    continue;
                }
                for (String src : c.sources) {
                    p.check(!src.startsWith("/") && !src.contains("://") && !src.contains(".."),
                            c.instruction + " " + src + ": sources must be paths inside the repository (the build context)");
                    p.check(Files.exists(ROOT.resolve(src)), c.instruction + " " + src + ": " + ROOT.resolve(src)
                            + " does not exist (build it first: mvn -B install -DskipTests)");
                }
            }
        }
        p.check(d.contextSources().contains(distribution), "copies nothing from " + distribution
                + " (copies " + d.contextSources() + ")");

        // Only the distribution goes into the build context: never a node's data left by a run.
        Path ignore = d.file.resolveSibling(d.file.getFileName() + ".dockerignore");
        if (Files.isRegularFile(ignore)) {
            List<String> lines = Files.readAllLines(ignore).stream().map(String::trim).toList();
            p.check(lines.contains("*") && lines.contains("!" + distribution),
                    ignore.getFileName() + " should ignore everything (*) but !" + distribution);
            p.check(lines.contains(distribution + "/data"), ignore.getFileName() + " does not exclude " + distribution + "/data");
        } else {
            p.fail("has no " + ignore.getFileName() + " beside it: the whole repository (and any node data under target/) "
                    + "would be sent as build context");
        }

        String user = last.user;
        p.check(user != null && !user.isBlank(), "the final stage has no USER: the image would run as root");
        if (user != null) {
            String name = user.split(":")[0].trim();
            p.check(!name.equals("root") && !name.equals("0"), "USER " + user + " is root");
        }

        p.check(last.expose.contains(port), "EXPOSE " + last.expose + " does not include " + portVar + "'s default " + port);
        String envPort = d.env().get(portVar);
        p.check(envPort == null || envPort.equals(String.valueOf(port)),
                "ENV " + portVar + "=" + envPort + " differs from the distribution's default " + port);
        String opts = d.env().get("EXTRA_JAVA_OPTS");
        p.check(opts != null && opts.contains("-Xmx"), "ENV EXTRA_JAVA_OPTS sets no heap size for a small box (-Xmx), got " + opts);

        String health = last.healthcheck;
        if (health == null || health.toUpperCase(Locale.ROOT).startsWith("NONE")) {
            p.fail("has no HEALTHCHECK");
        } else {
            p.check(health.contains(healthPath), "HEALTHCHECK does not ask " + healthPath + ": " + health);
            p.check(health.contains(":" + port + "/") || health.contains(":${" + portVar + "}/") || health.contains(":$" + portVar + "/"),
                    "HEALTHCHECK does not use port " + port + " (or ${" + portVar + "}): " + health);
            if (health.contains("curl")) {
                p.check(Pattern.compile("\\bcurl\\b").matcher(d.runText()).find(), "HEALTHCHECK uses curl but no RUN installs it");
            }
        }

        // ENTRYPOINT + CMD: the script must be in the distribution, and the rest installed.
        List<String> command = new ArrayList<>(last.entrypoint);
        command.addAll(last.cmd);
        p.check(!command.isEmpty(), "has neither ENTRYPOINT nor CMD");
        Path script = null;
        for (String arg : command) {
            if (!arg.startsWith("/")) {
                continue;
            }
            Path inRepo = d.repoPathOf(arg);
            if (inRepo != null) {
                p.check(Files.isRegularFile(inRepo), "ENTRYPOINT/CMD runs " + arg + ", which would be " + inRepo
                        + ": no such file in the built distribution");
                p.check(!Files.isRegularFile(inRepo) || Files.isExecutable(inRepo), arg + " (" + inRepo + ") is not executable");
                if (script == null) {
                    script = inRepo;
                }
            } else {
                String tool = Paths.get(arg).getFileName().toString();
                p.check(Pattern.compile("\\b" + Pattern.quote(tool) + "\\b").matcher(d.runText()).find(),
                        "ENTRYPOINT/CMD runs " + arg + ", which neither the distribution nor any RUN install provides");
            }
        }
        p.check(script != null, "ENTRYPOINT/CMD " + command + " runs nothing from " + distribution);
        if (script != null && Files.isRegularFile(script) && script.getFileName().toString().equals("karaf")) {
            String text = Files.readString(script);
            int at = command.indexOf(d.imagePathOf(script));
            for (String arg : command.subList(at + 1, command.size())) {
                p.check(text.contains("'" + arg + "')"), "bin/karaf has no mode '" + arg + "' (ENTRYPOINT/CMD " + command + ")");
            }
        }
    }

    // ----------------------------------------------------------------------------------- compose

    @Test
    public void operatorCompose() throws IOException {
        Problems p = new Problems("docker/compose.operator.yml");
        Map<String, Object> compose = readCompose("compose.operator.yml");
        Map<String, Object> services = checkServices(p, compose);

        String signalName = builtFrom(services, "docker/signal/Dockerfile");
        p.check(signalName != null, "has no service built from docker/signal/Dockerfile");
        String secretVar = null;
        if (signalName != null) {
            Map<String, Object> signal = map(services.get(signalName));
            Map<String, String> env = environment(signal);
            String secret = env.get("SIGNAL_TURN_SECRET");
            secretVar = variableOf(secret);
            p.check(secretVar != null, "service " + signalName + ": SIGNAL_TURN_SECRET must come from a ${VARIABLE}, got " + secret);
            p.check(env.containsKey("SIGNAL_TURN_URLS"), "service " + signalName + " passes no SIGNAL_TURN_URLS");
        }

        String coturnName = null;
        for (Map.Entry<String, Object> e : services.entrySet()) {
            Object image = map(e.getValue()).get("image");
            if (image != null && imageName(image.toString()).equals("coturn/coturn")) {
                coturnName = e.getKey();
            }
        }
        p.check(coturnName != null, "has no coturn service (image coturn/coturn)");
        if (coturnName != null) {
            Map<String, Object> coturn = map(services.get(coturnName));
            List<String> args = strings(coturn.get("command"));
            Map<String, List<String>> opts = new LinkedHashMap<>();
            for (String a : args) {
                p.check(a.startsWith("--"), "coturn: command item '" + a + "' is not a --option");
                int eq = a.indexOf('=');
                String name = eq < 0 ? a : a.substring(0, eq);
                opts.computeIfAbsent(name, k -> new ArrayList<>()).add(eq < 0 ? "" : a.substring(eq + 1));
            }
            for (String flag : List.of("--use-auth-secret", "--no-cli", "--no-multicast-peers", "--fingerprint")) {
                p.check(opts.containsKey(flag), "coturn: " + flag + " is missing");
            }
            String static_ = first(opts.get("--static-auth-secret"));
            p.check(static_ != null && secretVar != null && secretVar.equals(variableOf(static_)),
                    "coturn: --static-auth-secret must be the same ${VARIABLE} as the signal server's SIGNAL_TURN_SECRET ("
                    + (secretVar == null ? "which has none" : "${" + secretVar + "}") + "); got " + static_);
            p.check(opts.containsKey("--realm"), "coturn: --realm is missing");
            Set<String> denied = new LinkedHashSet<>(opts.getOrDefault("--denied-peer-ip", List.of()));
            for (String range : DENIED_PEER_RANGES) {
                p.check(denied.contains(range), "coturn: --denied-peer-ip=" + range + " is missing (private ranges must not be relayed to)");
            }
            List<PortMapping> ports = ports(p, coturnName, coturn);
            int listening = Integer.parseInt(firstOr(opts.get("--listening-port"), "3478"));
            p.check(published(ports, listening, "udp") && published(ports, listening, "tcp"),
                    "coturn: port " + listening + " is not published for both udp and tcp: " + ports);
            if (opts.containsKey("--tls-listening-port")) {
                int tls = Integer.parseInt(first(opts.get("--tls-listening-port")));
                p.check(published(ports, tls, "tcp"), "coturn: the TLS port " + tls + " (turns:) is not published over tcp");
                p.check(opts.containsKey("--cert") && opts.containsKey("--pkey"), "coturn: a TLS port without --cert/--pkey");
            }
            String min = first(opts.get("--min-port"));
            String max = first(opts.get("--max-port"));
            p.check(min != null && max != null, "coturn: the relay range (--min-port/--max-port) is not set");
            if (min != null && max != null) {
                int lo = Integer.parseInt(min);
                int hi = Integer.parseInt(max);
                boolean found = false;
                for (PortMapping m : ports) {
                    if (m.proto.equals("udp") && m.containerLow == lo && m.containerHigh == hi && m.hostLow == lo && m.hostHigh == hi) {
                        found = true;
                    }
                }
                p.check(found, "coturn: the relay range " + lo + "-" + hi + "/udp is not published as " + lo + "-" + hi + ":"
                        + lo + "-" + hi + "/udp: " + ports);
            }
        }
        p.done();
    }

    @Test
    public void familyCompose() throws IOException {
        Problems p = new Problems("docker/compose.family.yml");
        Map<String, Object> compose = readCompose("compose.family.yml");
        Map<String, Object> services = checkServices(p, compose);
        Dockerfile appliance = Dockerfile.read(DOCKER.resolve("appliance/Dockerfile"));
        String dataDir = appliance.env().get("SOVER_DATA");
        Set<String> volumes = new TreeSet<>();
        Set<Integer> hostPorts = new TreeSet<>();
        int nodes = 0;
        Map<String, Object> declaredVolumes = compose.get("volumes") == null ? Map.of() : map(compose.get("volumes"));
        for (Map.Entry<String, Object> e : services.entrySet()) {
            Map<String, Object> s = map(e.getValue());
            if (!"docker/appliance/Dockerfile".equals(dockerfileOf(s))) {
                continue;
            }
            nodes++;
            String name = e.getKey();
            String url = environment(s).get("SOVER_SIGNAL_URL");
            p.check(url != null && variableOf(url) != null,
                    "service " + name + ": SOVER_SIGNAL_URL must come from a ${VARIABLE} (the operator's URL in .env), got " + url);
            for (PortMapping m : ports(p, name, s)) {
                p.check(hostPorts.add(m.hostLow), "service " + name + ": host port " + m.hostLow + " is used by another node");
            }
            String volume = null;
            for (String v : strings(s.get("volumes"))) {
                String[] parts = v.split(":");
                if (parts.length >= 2 && parts[1].equals(dataDir)) {
                    volume = parts[0];
                }
            }
            p.check(volume != null, "service " + name + " mounts no volume at SOVER_DATA=" + dataDir);
            if (volume != null) {
                p.check(volumes.add(volume), "service " + name + ": the volume " + volume + " is shared with another node");
                p.check(volume.startsWith(".") || volume.startsWith("/") || volume.startsWith("$") || declaredVolumes.containsKey(volume),
                        "service " + name + ": the named volume " + volume + " is not declared under volumes:");
            }
        }
        p.check(nodes >= 2, "has " + nodes + " node service(s) built from docker/appliance/Dockerfile, expected two");
        p.done();
    }

    @Test
    public void noSecretInComposeFilesAndEnvExample() throws IOException {
        Problems p = new Problems("docker/");
        Set<String> used = new TreeSet<>();
        for (String file : List.of("compose.operator.yml", "compose.family.yml")) {
            String text = Files.readString(DOCKER.resolve(file));
            Matcher hex = Pattern.compile("(?<![A-Za-z0-9])[0-9a-fA-F]{32,}(?![A-Za-z0-9])").matcher(text);
            while (hex.find()) {
                p.fail(file + ": " + hex.group() + " looks like a secret written into the file");
            }
            Matcher vars = INTERPOLATION.matcher(text);
            while (vars.find()) {
                used.add(vars.group(1));
            }
            Map<String, Object> services = map(readCompose(file).get("services"));
            for (Map.Entry<String, Object> e : services.entrySet()) {
                Map<String, Object> s = map(e.getValue());
                for (Map.Entry<String, String> env : environment(s).entrySet()) {
                    checkNotLiteralSecret(p, file + " " + e.getKey() + " environment " + env.getKey(), env.getKey(), env.getValue());
                }
                for (String arg : strings(s.get("command"))) {
                    int eq = arg.indexOf('=');
                    if (eq > 0) {
                        checkNotLiteralSecret(p, file + " " + e.getKey() + " command " + arg.substring(0, eq), arg.substring(0, eq),
                                arg.substring(eq + 1));
                    }
                }
            }
        }
        Path example = DOCKER.resolve(".env.example");
        p.check(Files.isRegularFile(example), "docker/.env.example is missing");
        if (Files.isRegularFile(example)) {
            Map<String, String> defined = new LinkedHashMap<>();
            for (String line : Files.readAllLines(example)) {
                String t = line.trim();
                if (t.isEmpty() || t.startsWith("#")) {
                    continue;
                }
                int eq = t.indexOf('=');
                p.check(eq > 0, ".env.example: '" + t + "' is not NAME=value");
                if (eq > 0) {
                    defined.put(t.substring(0, eq).trim(), t.substring(eq + 1).trim());
                }
            }
            for (String var : used) {
                p.check(defined.containsKey(var), ".env.example does not define " + var + ", which the compose files use");
            }
            for (Map.Entry<String, String> e : defined.entrySet()) {
                if (SECRET_NAME.matcher(e.getKey()).find()) {
                    p.check(e.getValue().isEmpty(), ".env.example gives " + e.getKey() + " a value: a secret's placeholder stays empty");
                }
            }
        }
        p.done();
    }

    private static void checkNotLiteralSecret(Problems p, String where, String name, String value) {
        if (!SECRET_NAME.matcher(name).find() || value == null || value.isEmpty()) {
            return;
        }
        Matcher m = INTERPOLATION.matcher(value);
        boolean onlyVariable = m.matches();
        p.check(onlyVariable, where + " holds a literal; it must be only ${VARIABLE} from .env, got " + value);
        if (onlyVariable && m.group(2) != null && m.group(2).endsWith("-")) {
            p.check(m.group(3).isEmpty(), where + " has a default value, a secret written into the file: " + value);
        }
    }

    /** Services, their build: sections and the images that are not built here. */
    private static Map<String, Object> checkServices(Problems p, Map<String, Object> compose) {
        Object services = compose.get("services");
        if (!(services instanceof Map)) {
            p.fail("has no services:");
            p.done();
        }
        Map<String, Object> all = map(services);
        for (Map.Entry<String, Object> e : all.entrySet()) {
            String name = e.getKey();
            Map<String, Object> s = map(e.getValue());
            Object build = s.get("build");
            Object image = s.get("image");
            if (build != null) {
                Map<String, Object> b = build instanceof Map ? map(build) : Map.of("context", build);
                Path context = DOCKER.resolve(String.valueOf(b.get("context"))).normalize();
                p.check(Files.isDirectory(context), "service " + name + ": build context " + context + " is not a directory");
                Path dockerfile = context.resolve(String.valueOf(b.getOrDefault("dockerfile", "Dockerfile"))).normalize();
                p.check(Files.isRegularFile(dockerfile), "service " + name + ": build dockerfile " + dockerfile + " does not exist");
                p.check("never".equals(s.get("pull_policy")) || image == null, "service " + name
                        + ": an image built here (" + image + ") must say pull_policy: never, or compose may pull a stranger's image of that name");
                if (Files.isRegularFile(dockerfile)) {
                    try {
                        Stage last = Dockerfile.read(dockerfile).finalStage();
                        for (PortMapping m : ports(p, name, s)) {
                            for (int port = m.containerLow; port <= m.containerHigh; port++) {
                                p.check(last.expose.contains(port), "service " + name + ": container port " + port
                                        + " is not EXPOSEd by " + ROOT.relativize(dockerfile) + " (EXPOSE " + last.expose + ")");
                            }
                        }
                        for (String portVar : List.of("SOVER_HTTP_PORT", "SIGNAL_HTTP_PORT")) {
                            String v = environment(s).get(portVar);
                            if (v != null) {
                                p.check(last.expose.contains(Integer.parseInt(interpolateDefaults(v))), "service " + name + ": "
                                        + portVar + "=" + v + " is not the port the image EXPOSEs (" + last.expose + ")");
                            }
                        }
                    } catch (IOException | RuntimeException ex) {
                        p.fail("service " + name + ": cannot read " + dockerfile + ": " + ex);
                    }
                }
            } else {
                p.check(image != null, "service " + name + " has neither build: nor image:");
                if (image != null) {
                    String ref = image.toString();
                    p.check(ALLOWED_IMAGES.contains(imageName(ref)), "service " + name + ": image " + ref
                            + " is not built here and not one of the allowed well-known images " + ALLOWED_IMAGES);
                    String tag = ref.contains(":") ? ref.substring(ref.lastIndexOf(':') + 1) : "";
                    p.check(!tag.isEmpty() && !tag.equals("latest") && !tag.contains("$"),
                            "service " + name + ": image " + ref + " must be pinned to a version tag");
                }
            }
        }
        return all;
    }

    private static String builtFrom(Map<String, Object> services, String dockerfile) {
        for (Map.Entry<String, Object> e : services.entrySet()) {
            if (dockerfile.equals(dockerfileOf(map(e.getValue())))) {
                return e.getKey();
            }
        }
        return null;
    }

    /** The Dockerfile a service is built from, relative to the repository root; null if none. */
    private static String dockerfileOf(Map<String, Object> service) {
        Object build = service.get("build");
        if (build == null) {
            return null;
        }
        Map<String, Object> b = build instanceof Map ? map(build) : Map.of("context", build);
        Path context = DOCKER.resolve(String.valueOf(b.get("context"))).normalize();
        Path file = context.resolve(String.valueOf(b.getOrDefault("dockerfile", "Dockerfile"))).normalize();
        return ROOT.relativize(file).toString().replace('\\', '/');
    }

    private static Map<String, String> environment(Map<String, Object> service) {
        Map<String, String> env = new LinkedHashMap<>();
        Object e = service.get("environment");
        if (e instanceof Map) {
            map(e).forEach((k, v) -> env.put(k, v == null ? null : v.toString()));
        } else if (e instanceof List) {
            for (String item : strings(e)) {
                int eq = item.indexOf('=');
                env.put(eq < 0 ? item : item.substring(0, eq), eq < 0 ? null : item.substring(eq + 1));
            }
        }
        return env;
    }

    static final class PortMapping {
        int hostLow;
        int hostHigh;
        int containerLow;
        int containerHigh;
        String proto;

        @Override
        public String toString() {
            return hostLow + "-" + hostHigh + ":" + containerLow + "-" + containerHigh + "/" + proto;
        }
    }

    private static List<PortMapping> ports(Problems p, String service, Map<String, Object> s) {
        List<PortMapping> out = new ArrayList<>();
        for (String spec : strings(s.get("ports"))) {
            String resolved = interpolateDefaults(spec);
            String proto = "tcp";
            int slash = resolved.indexOf('/');
            if (slash >= 0) {
                proto = resolved.substring(slash + 1);
                resolved = resolved.substring(0, slash);
            }
            String[] parts = resolved.split(":");
            try {
                PortMapping m = new PortMapping();
                m.proto = proto;
                int[] container = range(parts[parts.length - 1]);
                int[] host = parts.length >= 2 ? range(parts[parts.length - 2]) : container;
                m.containerLow = container[0];
                m.containerHigh = container[1];
                m.hostLow = host[0];
                m.hostHigh = host[1];
                p.check(m.hostHigh - m.hostLow == m.containerHigh - m.containerLow,
                        "service " + service + ": port range " + spec + " maps ranges of different sizes");
                out.add(m);
            } catch (RuntimeException e) {
                p.fail("service " + service + ": cannot read port " + spec + " (every variable in a port needs a :-default): " + e);
            }
        }
        return out;
    }

    private static int[] range(String s) {
        int dash = s.indexOf('-');
        return dash < 0 ? new int[] {Integer.parseInt(s), Integer.parseInt(s)}
                : new int[] {Integer.parseInt(s.substring(0, dash)), Integer.parseInt(s.substring(dash + 1))};
    }

    private static boolean published(List<PortMapping> ports, int port, String proto) {
        return ports.stream().anyMatch(m -> m.proto.equals(proto) && m.containerLow <= port && port <= m.containerHigh);
    }

    /** ${VAR:-default} and ${VAR-default} become the default; other forms become "". */
    static String interpolateDefaults(String s) {
        Matcher m = INTERPOLATION.matcher(s);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String op = m.group(2);
            String replacement = op != null && op.endsWith("-") ? m.group(3) : "";
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** The variable a value is taken from when it is exactly one ${VAR...}; else null. */
    private static String variableOf(String value) {
        if (value == null) {
            return null;
        }
        Matcher m = INTERPOLATION.matcher(value);
        return m.matches() ? m.group(1) : null;
    }

    // -------------------------------------------------------------------------------- defaults

    /** SOVER_HTTP_PORT's default in the built distribution's bin/setenv. */
    private static int nodeHttpPortDefault() throws IOException {
        Path setenv = ROOT.resolve(NODE_DIST).resolve("bin/setenv");
        if (!Files.isRegularFile(setenv)) {
            setenv = ROOT.resolve("assembly/src/main/resources/assembly/bin/setenv");
        }
        Matcher m = Pattern.compile("SOVER_HTTP_PORT=\"?\\$\\{SOVER_HTTP_PORT:-(\\d+)\\}").matcher(Files.readString(setenv));
        if (!m.find()) {
            fail(setenv + " no longer gives SOVER_HTTP_PORT a default (SOVER_HTTP_PORT=\"${SOVER_HTTP_PORT:-NNNN}\")");
        }
        return Integer.parseInt(m.group(1));
    }

    /** SIGNAL_HTTP_PORT's default: what the built signal distribution says, else the documented 7070. */
    private static int signalHttpPortDefault(Problems p) throws IOException {
        int documented = 7070;
        Path dist = ROOT.resolve(SIGNAL_DIST);
        Path setenv = dist.resolve("bin/setenv");
        if (Files.isRegularFile(setenv)) {
            Matcher m = Pattern.compile("SIGNAL_HTTP_PORT:-(\\d+)").matcher(Files.readString(setenv));
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
        }
        Path cfg = dist.resolve("etc/org.sover.signal.cfg");
        if (Files.isRegularFile(cfg)) {
            for (String line : Files.readAllLines(cfg)) {
                Matcher m = Pattern.compile("^\\s*#?\\s*(?:http\\.?)?port\\s*=\\s*(\\d+)\\s*$", Pattern.CASE_INSENSITIVE).matcher(line);
                if (m.find()) {
                    return Integer.parseInt(m.group(1));
                }
            }
        }
        return documented;
    }

    // ------------------------------------------------------------------------------- Dockerfile

    static final class Copy {
        String instruction;
        String fromStage;
        List<String> sources = new ArrayList<>();
        String dest;
    }

    static final class Stage {
        String from;
        String name;
        List<Copy> copies = new ArrayList<>();
        Set<Integer> expose = new TreeSet<>();
        Map<String, String> env = new LinkedHashMap<>();
        List<String> volumes = new ArrayList<>();
        List<String> runs = new ArrayList<>();
        List<String> entrypoint = new ArrayList<>();
        List<String> cmd = new ArrayList<>();
        String healthcheck;
        String user;
    }

    /** A Dockerfile read instruction by instruction (continuations joined, comments dropped). */
    static final class Dockerfile {
        final Path file;
        final List<Stage> stages = new ArrayList<>();

        private Dockerfile(Path file) {
            this.file = file;
        }

        static Dockerfile read(Path file) throws IOException {
            if (!Files.isRegularFile(file)) {
                fail(file + " does not exist");
            }
            Dockerfile d = new Dockerfile(file);
            for (String line : logicalLines(Files.readAllLines(file, StandardCharsets.UTF_8))) {
                String[] kv = line.trim().split("\\s+", 2);
                String instruction = kv[0].toUpperCase(Locale.ROOT);
                String args = kv.length > 1 ? kv[1].trim() : "";
                if (instruction.equals("FROM")) {
                    Stage s = new Stage();
                    List<String> t = new ArrayList<>(Arrays.asList(args.split("\\s+")));
                    t.removeIf(x -> x.startsWith("--"));
                    s.from = t.get(0);
                    if (t.size() >= 3 && t.get(1).equalsIgnoreCase("AS")) {
                        s.name = t.get(2);
                    }
                    d.stages.add(s);
                    continue;
                }
                if (d.stages.isEmpty()) {
                    if (instruction.equals("ARG")) {
                        continue;
                    }
                    fail(file + ": " + instruction + " before the first FROM");
                }
                Stage s = d.stages.get(d.stages.size() - 1);
                switch (instruction) {
                    case "COPY", "ADD" -> {
                        Copy c = new Copy();
                        c.instruction = instruction;
                        List<String> tokens = args.startsWith("[") ? json(args) : new ArrayList<>(Arrays.asList(args.split("\\s+")));
                        List<String> rest = new ArrayList<>();
                        for (String t : tokens) {
                            if (t.startsWith("--from=")) {
                                c.fromStage = t.substring("--from=".length());
                            } else if (!t.startsWith("--")) {
                                rest.add(t);
                            }
                        }
                        if (rest.size() < 2) {
                            fail(file + ": " + line + " has no source or no destination");
                        }
                        c.dest = rest.remove(rest.size() - 1);
                        c.sources.addAll(rest);
                        s.copies.add(c);
                    }
                    case "EXPOSE" -> {
                        for (String t : args.split("\\s+")) {
                            s.expose.add(Integer.parseInt(t.replaceAll("/.*", "")));
                        }
                    }
                    case "ENV" -> s.env.putAll(envPairs(args));
                    case "VOLUME" -> s.volumes.addAll(args.startsWith("[") ? json(args) : Arrays.asList(args.split("\\s+")));
                    case "RUN" -> s.runs.add(args);
                    case "USER" -> s.user = args;
                    case "HEALTHCHECK" -> {
                        Matcher m = Pattern.compile("^(?:--\\S+\\s+)*(CMD\\s+.*|NONE)$", Pattern.DOTALL).matcher(args);
                        s.healthcheck = m.matches() ? m.group(1).replaceFirst("^CMD\\s+", "") : args;
                    }
                    case "ENTRYPOINT" -> s.entrypoint = args.startsWith("[") ? json(args) : List.of("/bin/sh", "-c", args);
                    case "CMD" -> s.cmd = args.startsWith("[") ? json(args) : List.of("/bin/sh", "-c", args);
                    default -> { }
                }
            }
            if (d.stages.isEmpty()) {
                fail(file + " has no FROM");
            }
            return d;
        }

        Stage finalStage() {
            return stages.get(stages.size() - 1);
        }

        Stage stage(String name) {
            return stages.stream().filter(s -> name.equals(s.name)).findFirst().orElse(null);
        }

        /** ENV as the final stage sees it (a stage FROM an earlier one inherits its ENV). */
        Map<String, String> env() {
            Map<String, String> env = new LinkedHashMap<>();
            Stage s = finalStage();
            Stage parent = stage(s.from);
            if (parent != null) {
                env.putAll(parent.env);
            }
            env.putAll(s.env);
            return env;
        }

        String runText() {
            StringBuilder b = new StringBuilder();
            for (Stage s : stages) {
                s.runs.forEach(r -> b.append(r).append('\n'));
            }
            return b.toString();
        }

        /** Every source copied from the build context (the repository). */
        List<String> contextSources() {
            List<String> out = new ArrayList<>();
            for (Stage s : stages) {
                for (Copy c : s.copies) {
                    if (c.fromStage == null) {
                        out.addAll(c.sources);
                    }
                }
            }
            return out;
        }

        /** The repository file that ends up at this path in the image, or null if none does. */
        Path repoPathOf(String imagePath) {
            String best = null;
            String src = null;
            for (Stage s : stages) {
                for (Copy c : s.copies) {
                    if (c.fromStage != null || c.sources.size() != 1) {
                        continue;
                    }
                    String dest = c.dest.endsWith("/") ? c.dest.substring(0, c.dest.length() - 1) : c.dest;
                    if ((imagePath.equals(dest) || imagePath.startsWith(dest + "/")) && (best == null || dest.length() > best.length())) {
                        best = dest;
                        src = c.sources.get(0);
                    }
                }
            }
            return best == null ? null : ROOT.resolve(src).resolve(imagePath.substring(best.length()).replaceFirst("^/", ""));
        }

        /** The image path of a repository file (the inverse of repoPathOf). */
        String imagePathOf(Path repoFile) {
            for (Stage s : stages) {
                for (Copy c : s.copies) {
                    if (c.fromStage == null && c.sources.size() == 1) {
                        Path src = ROOT.resolve(c.sources.get(0));
                        if (repoFile.startsWith(src)) {
                            String dest = c.dest.endsWith("/") ? c.dest.substring(0, c.dest.length() - 1) : c.dest;
                            String rel = src.relativize(repoFile).toString().replace('\\', '/');
                            return rel.isEmpty() ? dest : dest + "/" + rel;
                        }
                    }
                }
            }
            return null;
        }

        private static List<String> logicalLines(List<String> lines) {
            List<String> out = new ArrayList<>();
            StringBuilder current = null;
            for (String raw : lines) {
                String t = raw.trim();
                if (t.startsWith("#") || (t.isEmpty() && current == null)) {
                    continue; // comments (also inside continuations) and blank lines
                }
                String body = raw.stripTrailing();
                boolean continues = body.endsWith("\\");
                if (continues) {
                    body = body.substring(0, body.length() - 1);
                }
                current = current == null ? new StringBuilder(body) : current.append(' ').append(body.trim());
                if (!continues) {
                    out.add(current.toString());
                    current = null;
                }
            }
            if (current != null) {
                out.add(current.toString());
            }
            return out;
        }

        private static List<String> json(String args) {
            try {
                List<String> out = new ArrayList<>();
                for (JsonNode n : new ObjectMapper().readTree(args)) {
                    out.add(n.asText());
                }
                return out;
            } catch (IOException e) {
                throw new AssertionError("not a JSON array: " + args, e);
            }
        }

        /** ENV KEY=VALUE KEY2="VALUE 2" ... or the old form ENV KEY VALUE. */
        private static Map<String, String> envPairs(String args) {
            Map<String, String> out = new LinkedHashMap<>();
            if (!args.matches("^[A-Za-z_][A-Za-z0-9_]*=.*")) {
                String[] kv = args.split("\\s+", 2);
                out.put(kv[0], kv.length > 1 ? kv[1] : "");
                return out;
            }
            Matcher m = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"(?:[^\"\\\\]|\\\\.)*\"|\\S*)").matcher(args);
            while (m.find()) {
                String v = m.group(2);
                if (v.startsWith("\"")) {
                    v = v.substring(1, v.length() - 1).replaceAll("\\\\(.)", "$1");
                }
                out.put(m.group(1), v);
            }
            return out;
        }
    }

    private static String imageName(String ref) {
        String r = ref.contains("@") ? ref.substring(0, ref.indexOf('@')) : ref;
        int slash = r.lastIndexOf('/');
        int colon = r.lastIndexOf(':');
        return colon > slash ? r.substring(0, colon) : r;
    }

    // ---------------------------------------------------------------------------------- YAML

    private static Map<String, Object> readCompose(String name) throws IOException {
        Path file = DOCKER.resolve(name);
        if (!Files.isRegularFile(file)) {
            fail("docker/" + name + " does not exist");
        }
        return map(new MiniYaml(file, Files.readAllLines(file, StandardCharsets.UTF_8)).document());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        if (o == null) {
            return new LinkedHashMap<>();
        }
        if (!(o instanceof Map)) {
            throw new AssertionError("expected a mapping, got " + o);
        }
        return (Map<String, Object>) o;
    }

    private static List<String> strings(Object o) {
        List<String> out = new ArrayList<>();
        if (o instanceof List<?> list) {
            list.forEach(x -> out.add(String.valueOf(x)));
        } else if (o != null) {
            out.add(o.toString());
        }
        return out;
    }

    private static String first(List<String> l) {
        return l == null || l.isEmpty() ? null : l.get(0);
    }

    private static String firstOr(List<String> l, String otherwise) {
        String f = first(l);
        return f == null ? otherwise : f;
    }

    /**
     * The YAML subset docker/compose.*.yml are written in: block mappings, block sequences of
     * scalars, plain and quoted scalars, comments. Anything else (flow collections, anchors,
     * block scalars, mappings inside sequences, tabs) is refused with the line, so that an
     * edit outside the subset is noticed here rather than misread.
     */
    static final class MiniYaml {
        private record Line(int number, int indent, String text) { }

        private final Path file;
        private final List<Line> lines = new ArrayList<>();
        private int pos;

        MiniYaml(Path file, List<String> raw) {
            this.file = file;
            for (int i = 0; i < raw.size(); i++) {
                String r = raw.get(i);
                if (r.indexOf('\t') >= 0) {
                    throw error(i + 1, "a tab character");
                }
                String text = stripComment(r).stripTrailing();
                if (text.isBlank() || text.trim().equals("---")) {
                    continue;
                }
                int indent = 0;
                while (text.charAt(indent) == ' ') {
                    indent++;
                }
                lines.add(new Line(i + 1, indent, text.substring(indent)));
            }
        }

        Object document() {
            if (lines.isEmpty()) {
                return new LinkedHashMap<>();
            }
            Object doc = block(lines.get(0).indent);
            if (pos < lines.size()) {
                throw error(lines.get(pos).number, "unexpected indentation");
            }
            return doc;
        }

        private Object block(int indent) {
            Line l = lines.get(pos);
            return isItem(l.text) ? sequence(indent) : mapping(indent);
        }

        private Map<String, Object> mapping(int indent) {
            Map<String, Object> out = new LinkedHashMap<>();
            while (pos < lines.size()) {
                Line l = lines.get(pos);
                if (l.indent < indent) {
                    break;
                }
                if (l.indent > indent || isItem(l.text)) {
                    throw error(l.number, "unexpected indentation or list item");
                }
                int colon = keyEnd(l.text);
                if (colon < 0) {
                    throw error(l.number, "not 'key: value'");
                }
                String key = scalar(l.number, l.text.substring(0, colon).trim());
                String rest = l.text.substring(colon + 1).trim();
                pos++;
                Object value;
                if (!rest.isEmpty()) {
                    value = scalar(l.number, rest);
                } else if (pos < lines.size() && lines.get(pos).indent > indent) {
                    value = block(lines.get(pos).indent);
                } else if (pos < lines.size() && lines.get(pos).indent == indent && isItem(lines.get(pos).text)) {
                    value = sequence(indent);
                } else {
                    value = null;
                }
                if (out.containsKey(key)) {
                    throw error(l.number, "the key '" + key + "' twice");
                }
                out.put(key, value);
            }
            return out;
        }

        private List<Object> sequence(int indent) {
            List<Object> out = new ArrayList<>();
            while (pos < lines.size()) {
                Line l = lines.get(pos);
                if (l.indent < indent || (l.indent == indent && !isItem(l.text))) {
                    break;
                }
                if (l.indent > indent) {
                    throw error(l.number, "unexpected indentation in a list");
                }
                String item = l.text.equals("-") ? "" : l.text.substring(2).trim();
                if (keyEnd(item) >= 0) {
                    throw error(l.number, "a mapping inside a list (not in the subset this test reads)");
                }
                if (item.isEmpty()) {
                    throw error(l.number, "an empty or nested list item (not in the subset this test reads)");
                }
                out.add(scalar(l.number, item));
                pos++;
            }
            return out;
        }

        private static boolean isItem(String text) {
            return text.equals("-") || text.startsWith("- ");
        }

        /** Index of the colon that ends a plain or quoted key ("key: v" or "key:"); -1 if none. */
        private static int keyEnd(String text) {
            if (text.startsWith("\"") || text.startsWith("'")) {
                int close = text.indexOf(text.charAt(0), 1);
                return close > 0 && close + 1 < text.length() && text.charAt(close + 1) == ':'
                        && (close + 2 == text.length() || text.charAt(close + 2) == ' ') ? close + 1 : -1;
            }
            for (int i = 0; i < text.length(); i++) {
                if (text.charAt(i) == ':' && (i + 1 == text.length() || text.charAt(i + 1) == ' ')) {
                    return i;
                }
                if (text.charAt(i) == ' ' || text.charAt(i) == '$') {
                    return -1; // keys have no spaces; a value like ${X:-y} is not a key
                }
            }
            return -1;
        }

        private String scalar(int number, String s) {
            if (s.startsWith("\"")) {
                if (s.length() < 2 || !s.endsWith("\"")) {
                    throw error(number, "an unterminated double-quoted string");
                }
                return s.substring(1, s.length() - 1).replace("\\\"", "\"").replace("\\\\", "\\");
            }
            if (s.startsWith("'")) {
                if (s.length() < 2 || !s.endsWith("'")) {
                    throw error(number, "an unterminated single-quoted string");
                }
                return s.substring(1, s.length() - 1).replace("''", "'");
            }
            char c = s.charAt(0);
            if ("[{&*|>!%@`".indexOf(c) >= 0) {
                throw error(number, "'" + c + "' (flow collections, anchors, tags and block scalars are not in the subset this test reads)");
            }
            return s;
        }

        /** Drops a comment: '#' at the start or after a space, outside quotes. */
        private static String stripComment(String line) {
            char quote = 0;
            for (int i = 0; i < line.length(); i++) {
                char c = line.charAt(i);
                if (quote != 0) {
                    if (c == quote) {
                        quote = 0;
                    }
                } else if (c == '"' || c == '\'') {
                    if (i == 0 || line.charAt(i - 1) == ' ') {
                        quote = c;
                    }
                } else if (c == '#' && (i == 0 || line.charAt(i - 1) == ' ')) {
                    return line.substring(0, i);
                }
            }
            return line;
        }

        private AssertionError error(int line, String what) {
            return new AssertionError(file + " line " + line + ": " + what);
        }
    }

    // ------------------------------------------------------------------------------- plumbing

    /** Collects every problem of one file so that one run reports all of them. */
    static final class Problems {
        private final String subject;
        private final List<String> problems = new ArrayList<>();

        Problems(String subject) {
            this.subject = subject;
        }

        void check(boolean ok, String problem) {
            if (!ok) {
                problems.add(problem);
            }
        }

        void fail(String problem) {
            problems.add(problem);
        }

        void done() {
            assertTrue(subject + ":\n  - " + String.join("\n  - ", problems), problems.isEmpty());
        }
    }

    /** The directory holding docker/ and the root pom.xml, found upwards from the working directory. */
    private static Path findRepoRoot() {
        String assembly = System.getProperty("sover.assembly.dir");
        List<Path> starts = new ArrayList<>();
        starts.add(Paths.get("").toAbsolutePath());
        if (assembly != null) {
            starts.add(Paths.get(assembly).toAbsolutePath());
        }
        for (Path start : starts) {
            for (Path p = start.normalize(); p != null; p = p.getParent()) {
                if (Files.isDirectory(p.resolve("docker")) && Files.isRegularFile(p.resolve("pom.xml"))) {
                    return p;
                }
            }
        }
        throw new AssertionError("no directory with docker/ and pom.xml above " + starts);
    }
}
