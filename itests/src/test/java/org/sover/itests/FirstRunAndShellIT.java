package org.sover.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.FixMethodOrder;
import org.junit.Test;
import org.junit.runners.MethodSorters;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A node started the way an admin starts it (bin/karaf with SOVER_* variables, no admin
 * password): first-run setup with the printed code, the admin shell over bin/client with
 * the same account, API tokens, file permissions, and no plaintext anywhere on disk.
 */
// First-run runs first (by name); the other tests only need the admin it creates.
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class FirstRunAndShellIT {
    private static NodeProcess node;
    private static String setupCode;

    @BeforeClass
    public static void startNode() throws Exception {
        node = NodeProcess.create("firstrun", Map.of()).start().awaitHealthy(Duration.ofSeconds(90));
        setupCode = Files.readString(node.data.resolve("setup-code")).strip();
    }

    @AfterClass
    public static void stopNode() throws Exception {
        if (node != null) {
            node.close();
        }
    }

    @Test
    public void firstRunNeedsThePrintedSetupCodeAndHappensOnce() throws Exception {
        assertTrue("the code is printed to the console", node.log().contains(setupCode));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(node.data.resolve("setup-code"))));
        Http http = node.http();
        assertTrue(Http.json(http.get("/v1/setup")).get("setupPending").asBoolean());
        assertEquals(401, http.get("/v1/albums").statusCode());

        HttpResponse<String> wrong = http.postJson("/v1/setup",
                "{\"setupCode\":\"AAAA-BBBB-CCCC\",\"username\":\"rose\",\"password\":\"rose-password\"}");
        assertEquals(401, wrong.statusCode());
        assertEquals("bad_setup_code", Http.json(wrong).get("error").asText());

        HttpResponse<String> ok = http.postJson("/v1/setup", "{\"setupCode\":\"" + setupCode.toLowerCase()
                + "\",\"username\":\"rose\",\"password\":\"rose-password\"}");
        assertEquals(ok.body(), 201, ok.statusCode());
        String cookie = ok.headers().firstValue("Set-Cookie").orElse("");
        assertTrue(cookie, cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        assertEquals(200, http.get("/v1/albums").statusCode());
        assertFalse(Files.exists(node.data.resolve("setup-code")));

        HttpResponse<String> again = new Http(node.httpPort).postJson("/v1/setup", "{\"setupCode\":\"" + setupCode
                + "\",\"username\":\"mallory\",\"password\":\"mallory-password\"}");
        assertEquals(409, again.statusCode());
        assertFalse(Http.json(http.get("/v1/setup")).get("setupPending").asBoolean());
    }

    @Test
    public void shellTakesTheAdminAccountAndTokensWorkForScripts() throws Exception {
        ensureAdmin();
        Http http = node.http();
        http.login("rose", "rose-password");
        String nodeId = Http.json(http.get("/v1/health")).get("nodeId").asText();
        http.postJson("/v1/albums", "{\"name\":\"Shell sees this\"}");

        NodeProcess.ClientResult status = node.client("rose", "rose-password", "sover:status");
        assertTrue(status.output(), status.output().contains(nodeId));
        assertTrue(status.output(), status.output().contains(node.data.toString()));
        NodeProcess.ClientResult albums = node.client("rose", "rose-password", "sover:albums");
        assertTrue(albums.output(), albums.output().contains("Shell sees this"));

        NodeProcess.ClientResult wrong = node.client("rose", "not-her-password", "sover:status");
        assertFalse(wrong.output(), wrong.output().contains(nodeId));

        NodeProcess.ClientResult token = node.client("rose", "rose-password", "sover:token --name itest");
        String secret = token.output().lines().map(String::strip).filter(l -> l.startsWith("sov_")).findFirst()
                .orElseThrow(() -> new AssertionError("no token in: " + token.output()));
        Http script = new Http(node.httpPort);
        assertEquals(200, script.send(script.request("/v1/albums").header("Authorization", "Bearer " + secret)
                .GET().build()).statusCode());
        assertEquals(401, script.send(script.request("/v1/albums").header("Authorization", "Bearer sov_forged")
                .GET().build()).statusCode());

        NodeProcess.ClientResult help = node.client("rose", "rose-password", "sover:token --help");
        assertTrue(help.output(), help.output().contains("--revoke"));
    }

    @Test
    public void memberCannotUseTheShellOrManageAccounts() throws Exception {
        ensureAdmin();
        Http admin = node.http();
        admin.login("rose", "rose-password");
        HttpResponse<String> created = admin.postJson("/v1/accounts",
                "{\"username\":\"tom\",\"password\":\"tom-password\",\"role\":\"member\"}");
        assertTrue(created.body(), created.statusCode() == 201 || created.statusCode() == 409);
        Http tom = new Http(node.httpPort);
        tom.login("tom", "tom-password");
        assertEquals(403, tom.get("/v1/accounts").statusCode());
        NodeProcess.ClientResult shell = node.client("tom", "tom-password", "sover:status");
        assertFalse(shell.output(), shell.output().contains("Node id"));
    }

    @Test
    public void keysAreOwnerOnlyAndNoPlaintextReachesTheDisk() throws Exception {
        ensureAdmin();
        Http http = node.http();
        http.login("rose", "rose-password");
        String album = Http.json(http.postJson("/v1/albums", "{\"name\":\"Secret\"}")).get("id").asText();
        // A real PNG whose text chunk carries a marker that must never be found on disk.
        byte[] marker = "SOVER-PLAINTEXT-MARKER-5f1c2e".getBytes(StandardCharsets.US_ASCII);
        byte[] png = TestImages.image("png", 64, 64, 3);
        byte[] body = new byte[png.length + marker.length * 200];
        System.arraycopy(png, 0, body, 0, png.length);
        for (int i = 0; i < 200; i++) {
            System.arraycopy(marker, 0, body, png.length + i * marker.length, marker.length);
        }
        HttpResponse<String> up = http.upload(album, "marker.png", "image/png", body, null);
        assertEquals(up.body(), 201, up.statusCode());
        String photo = Http.json(up).get("id").asText();
        HttpResponse<byte[]> back = http.sendBytes(http.request("/v1/photos/" + photo + "/original").GET().build());
        assertEquals(body.length, back.body().length);

        List<Path> leaks = new ArrayList<>();
        try (Stream<Path> files = Files.walk(node.data)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                if (contains(f, marker)) {
                    leaks.add(f);
                }
            }
        }
        assertTrue("plaintext found in " + leaks, leaks.isEmpty());

        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(node.data)));
        Path keys = node.data.resolve("keys");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keys)));
        try (Stream<Path> keyFiles = Files.list(keys)) {
            for (Path k : (Iterable<Path>) keyFiles::iterator) {
                assertEquals(k.toString(), "rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(k)));
            }
        }
        assertNotEquals("keys were written", 0, Files.list(keys).count());
    }

    private static boolean contains(Path file, byte[] needle) throws IOException {
        if (Files.size(file) > 512L * 1024 * 1024) {
            return false;
        }
        byte[] data = Files.readAllBytes(file);
        outer:
        for (int i = 0; i <= data.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (data[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /** Test methods may run in any order; the first one that needs the admin runs setup. */
    private static synchronized void ensureAdmin() throws Exception {
        Http http = node.http();
        JsonNode setup = Http.json(http.get("/v1/setup"));
        if (setup.get("setupPending").asBoolean()) {
            HttpResponse<String> ok = http.postJson("/v1/setup", "{\"setupCode\":\"" + setupCode
                    + "\",\"username\":\"rose\",\"password\":\"rose-password\"}");
            assertEquals(ok.body(), 201, ok.statusCode());
        }
    }
}
