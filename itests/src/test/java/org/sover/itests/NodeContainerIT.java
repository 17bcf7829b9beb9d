package org.sover.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.CoreOptions.vmOptions;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.configureConsole;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.karafDistributionConfiguration;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.logLevel;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.UUID;

import javax.inject.Inject;

import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.karaf.options.LogLevelOption.LogLevel;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.ConfigurationAdmin;
import org.sover.api.vault.Account;
import org.sover.api.storage.BlobStore;
import org.sover.api.vault.Accounts;
import org.sover.api.vault.VaultRepository;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Boots the built node distribution once (Pax Exam, one container for the class) and checks
 * it from the inside (bundles, services) and through HTTP the way a client would.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class NodeContainerIT {
    private static final String PASSWORD = "container-test-password";
    private static final String[] SOVER_BUNDLES = {"org.sover.api", "org.sover.derby", "org.sover.crypto",
        "org.sover.storage", "org.sover.retry", "org.sover.replication", "org.sover.vault", "org.sover.shell", "org.sover.webconsole"};

    @Inject
    BundleContext context;

    @Inject
    Accounts accounts;

    @Inject
    ConfigurationAdmin configAdmin;

    @Inject
    VaultRepository repository;

    @Inject
    BlobStore blobs;

    @Configuration
    public Option[] config() throws IOException {
        String version = System.getProperty("sover.version");
        File archive = new File(System.getProperty("sover.assembly.archive"));
        File work = new File(System.getProperty("sover.test.work", "target/work"));
        File data = new File(work, "container-" + UUID.randomUUID()).getAbsoluteFile();
        String karafVersion = "4.4.8";
        return new Option[] {
            karafDistributionConfiguration().frameworkUrl(archive.toURI().toString()).karafVersion(karafVersion).name("Sover " + version).unpackDirectory(new File(work, "exam"))
                    .useDeployFolder(false),
            configureConsole().ignoreLocalConsole(),
            logLevel(LogLevel.INFO),
            // The options bin/karaf passes on JDK 17 (karaf-build.md, trap 7).
            vmOptions("--add-reads=java.xml=java.logging",
                    "--add-exports=java.base/org.apache.karaf.specs.locator=java.xml,ALL-UNNAMED",
                    "--patch-module", "java.base=lib/endorsed/org.apache.karaf.specs.locator-" + karafVersion + ".jar",
                    "--patch-module", "java.xml=lib/endorsed/org.apache.karaf.specs.java.xml-" + karafVersion + ".jar",
                    "--add-opens", "java.base/java.security=ALL-UNNAMED", "--add-opens", "java.base/java.net=ALL-UNNAMED",
                    "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--add-opens", "java.base/java.util=ALL-UNNAMED",
                    "--add-opens", "java.naming/javax.naming.spi=ALL-UNNAMED",
                    "--add-exports=java.base/sun.net.www.protocol.file=ALL-UNNAMED",
                    "--add-exports=java.base/sun.net.www.protocol.jar=ALL-UNNAMED",
                    "-Djava.awt.headless=true", "-Xmx512m"),
            // Pax Exam's own bundles come from this build's local repository (trap 8).
            editConfigurationFilePut("etc/org.ops4j.pax.url.mvn.cfg", "org.ops4j.pax.url.mvn.localRepository",
                    System.getProperty("maven.repo.local", System.getProperty("user.home") + "/.m2/repository")),
            systemProperty("sover.data").value(data.getPath()),
            systemProperty("sover.http.port").value(Integer.toString(freePort())),
            systemProperty("sover.http.host").value("127.0.0.1"),
            systemProperty("sover.ssh.port").value(Integer.toString(freePort())),
            systemProperty("derby.stream.error.file").value(new File(data, "derby.log").getPath()),
        };
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private Http http;

    @Before
    public void connect() throws Exception {
        http = new Http(Integer.getInteger("sover.http.port"));
        if (accounts.list().stream().noneMatch(a -> a.username().equals("admin"))) {
            accounts.create("admin", PASSWORD.toCharArray(), Account.ADMIN);
        }
        http.await("/v1/health", r -> r.statusCode() == 200, Duration.ofSeconds(60));
        http.login("admin", PASSWORD);
    }

    @Test
    public void everySoverBundleIsActive() {
        List<String> problems = new ArrayList<>();
        for (String name : SOVER_BUNDLES) {
            Bundle bundle = find(name);
            if (bundle == null) {
                problems.add(name + " is not installed");
            } else if (bundle.getState() != Bundle.ACTIVE) {
                problems.add(name + " is in state " + bundle.getState());
            }
        }
        assertTrue(String.join("; ", problems), problems.isEmpty());
        for (String service : new String[] {"org.sover.api.vault.VaultRepository", "org.sover.api.storage.BlobStore",
            "org.sover.api.crypto.VaultCipher", "org.sover.api.crypto.NodeIdentity", "org.sover.api.retry.RetryPolicy",
            "org.sover.api.replication.JobQueue", "org.sover.api.replication.PeerStore",
            "org.sover.api.replication.PeerDirectory",
            "javax.servlet.Servlet"}) {
            assertNotNull(service + " is registered", context.getServiceReference(service));
        }
    }

    @Test
    public void healthIsUpWithTheNodeId() throws Exception {
        JsonNode health = Http.json(http.get("/v1/health"));
        assertEquals("UP", health.get("status").asText());
        assertEquals(56 + 7, health.get("nodeId").asText().length());
        assertTrue(health.get("version").asText().startsWith("0.1.0"));
    }

    @Test
    public void albumUploadDownloadRoundTrip() throws Exception {
        HttpResponse<String> created = http.postJson("/v1/albums", "{\"name\":\"Round trip\"}");
        assertEquals(created.body(), 201, created.statusCode());
        String album = Http.json(created).get("id").asText();

        byte[] jpeg = TestImages.noisyJpeg(1600, 1200, 7);
        assertTrue("big enough to span several encrypted segments", jpeg.length > 3 * 65536);
        HttpResponse<String> up = http.upload(album, "Beach – 1.jpg", "image/jpeg", jpeg, "rt-" + UUID.randomUUID());
        assertEquals(up.body(), 201, up.statusCode());
        JsonNode photo = Http.json(up);
        assertEquals("Beach – 1.jpg", photo.get("filename").asText());
        assertEquals(1600, photo.get("width").asInt());
        assertEquals(1200, photo.get("height").asInt());
        assertTrue(photo.get("hasThumbnail").asBoolean());
        String id = photo.get("id").asText();

        HttpResponse<byte[]> original = http.sendBytes(http.request("/v1/photos/" + id + "/original").GET().build());
        assertEquals(200, original.statusCode());
        assertArrayEquals(jpeg, original.body());
        assertEquals("image/jpeg", original.headers().firstValue("Content-Type").orElse(""));

        int end = jpeg.length - 50; // crosses the 64 KiB segment boundary when the image is that large
        HttpResponse<byte[]> part = http.sendBytes(http.request("/v1/photos/" + id + "/original")
                .header("Range", "bytes=100-" + end).GET().build());
        assertEquals(206, part.statusCode());
        assertEquals("bytes 100-" + end + "/" + jpeg.length, part.headers().firstValue("Content-Range").orElse(""));
        assertArrayEquals(java.util.Arrays.copyOfRange(jpeg, 100, end + 1), part.body());

        HttpResponse<byte[]> thumb = http.sendBytes(http.request("/v1/photos/" + id + "/thumbnail").GET().build());
        assertEquals(200, thumb.statusCode());
        java.awt.image.BufferedImage t = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(thumb.body()));
        assertEquals(512, Math.max(t.getWidth(), t.getHeight()));
        String etag = thumb.headers().firstValue("ETag").orElseThrow();
        HttpResponse<byte[]> cached = http.sendBytes(http.request("/v1/photos/" + id + "/thumbnail")
                .header("If-None-Match", etag).GET().build());
        assertEquals(304, cached.statusCode());

        JsonNode page = Http.json(http.get("/v1/albums/" + album + "/photos?limit=10"));
        assertEquals(1, page.get("items").size());
        assertEquals(id, page.get("items").get(0).get("id").asText());
    }

    @Test
    public void storageBundleCanBeStoppedAndStartedAtRuntime() throws Exception {
        HttpResponse<String> created = http.postJson("/v1/albums", "{\"name\":\"Survives a restart\"}");
        assertEquals(201, created.statusCode());
        String album = Http.json(created).get("id").asText();
        byte[] png = TestImages.image("png", 300, 200, 11);
        assertEquals(201, http.upload(album, "kept.png", "image/png", png, null).statusCode());

        Bundle storage = find("org.sover.storage");
        storage.stop();
        try {
            HttpResponse<String> down = http.await("/v1/albums",
                    r -> r.statusCode() != 200, Duration.ofSeconds(30));
            assertEquals(down.body(), 503, down.statusCode());
            assertEquals("unavailable", Http.json(down).get("error").asText());
        } finally {
            storage.start();
        }
        http.await("/v1/health", r -> r.statusCode() == 200, Duration.ofSeconds(60));
        http.login("admin", PASSWORD); // sessions live in the database: the old cookie still works, but log in anyway
        JsonNode albums = Http.json(http.await("/v1/albums", r -> r.statusCode() == 200, Duration.ofSeconds(30)));
        boolean found = false;
        for (JsonNode a : albums) {
            found |= a.get("id").asText().equals(album) && a.get("photoCount").asInt() == 1;
        }
        assertTrue("the album and its photo survive: " + albums, found);
        JsonNode page = Http.json(http.get("/v1/albums/" + album + "/photos"));
        String photo = page.get("items").get(0).get("id").asText();
        HttpResponse<byte[]> original = http.sendBytes(http.request("/v1/photos/" + photo + "/original").GET().build());
        assertArrayEquals(png, original.body());
    }

    @Test
    public void badInputGetsAClearErrorAndChangesNothing() throws Exception {
        int before = Http.json(http.get("/v1/albums")).size();
        HttpResponse<String> r = http.send(http.request("/v1/albums").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\": ")).build());
        assertEquals(400, r.statusCode());
        assertEquals("bad_json", Http.json(r).get("error").asText());
        assertEquals("invalid_name", Http.json(http.postJson("/v1/albums", "{\"name\":\"   \"}")).get("error").asText());
        assertEquals(404, http.get("/v1/albums/aaaaaaaaaaaaaaaaaaaaaaaaaa").statusCode());
        assertEquals(before, Http.json(http.get("/v1/albums")).size());

        String album = Http.json(http.postJson("/v1/albums", "{\"name\":\"Bad input\"}")).get("id").asText();
        HttpResponse<String> notAJpeg = http.upload(album, "fake.jpg", "image/jpeg", "<html>".getBytes(), null);
        assertEquals(415, notAJpeg.statusCode());
        HttpResponse<String> traversal = http.upload(album, "../../etc/passwd", "image/png",
                TestImages.image("png", 10, 10, 1), null);
        assertEquals(400, traversal.statusCode());
        assertEquals("invalid_filename", Http.json(traversal).get("error").asText());
        assertEquals(0, Http.json(http.get("/v1/albums/" + album + "/photos")).get("items").size());
        assertEquals(401, new Http(Integer.getInteger("sover.http.port")).get("/v1/albums").statusCode());
    }

    @Test
    public void aFullDiskAnswers507AndStoresNothing() throws Exception {
        String album = Http.json(http.postJson("/v1/albums", "{\"name\":\"Full disk\"}")).get("id").asText();
        org.osgi.service.cm.Configuration storage = configAdmin.getConfiguration("org.sover.storage", "?");
        long before = blobStoreServiceId();
        Dictionary<String, Object> props = new Hashtable<>();
        props.put("minFreeBytes", Long.MAX_VALUE / 4); // more than any disk has free
        storage.update(props);
        try {
            awaitNewBlobStore(before);
            http.await("/v1/health", r -> r.statusCode() == 200, Duration.ofSeconds(60));
            HttpResponse<String> r = http.upload(album, "no-room.png", "image/png", TestImages.image("png", 50, 50, 5), null);
            assertEquals(r.body(), 507, r.statusCode());
            assertEquals("insufficient_storage", Http.json(r).get("error").asText());
            assertEquals(0, Http.json(http.get("/v1/albums/" + album + "/photos")).get("items").size());
        } finally {
            long full = blobStoreServiceId();
            storage.delete();
            awaitNewBlobStore(full);
        }
        http.await("/v1/health", r -> r.statusCode() == 200, Duration.ofSeconds(60));
        HttpResponse<String> ok = http.upload(album, "room-again.png", "image/png", TestImages.image("png", 50, 50, 6), null);
        assertEquals(ok.body(), 201, ok.statusCode());
    }

    @Test
    public void anUploadOverTheConfiguredLimitAnswers413() throws Exception {
        String album = Http.json(http.postJson("/v1/albums", "{\"name\":\"Limit\"}")).get("id").asText();
        org.osgi.service.cm.Configuration vault = configAdmin.getConfiguration("org.sover.vault", "?");
        Dictionary<String, Object> props = new Hashtable<>();
        props.put("maxUploadBytes", 4096L);
        vault.update(props);
        try {
            byte[] big = TestImages.noisyJpeg(200, 200, 9);
            assertTrue(big.length > 4096);
            // Configuration applies asynchronously: probe in another album until the limit is in force
            // (a probe that slips in before it may be stored there, which is no concern of this test).
            String probe = Http.json(http.postJson("/v1/albums", "{\"name\":\"Limit probe\"}")).get("id").asText();
            awaitStatus(() -> http.upload(probe, "probe.jpg", "image/jpeg", TestImages.noisyJpeg(200, 200, 8), null), 413);
            HttpResponse<String> r = http.upload(album, "big.jpg", "image/jpeg", big, null);
            assertEquals(r.body(), 413, r.statusCode());
            assertTrue(r.body(), Http.json(r).get("message").asText().contains("maxUploadBytes"));
            assertEquals(0, Http.json(http.get("/v1/albums/" + album + "/photos")).get("items").size());
        } finally {
            vault.delete();
        }
    }

    @Test
    public void changingTheConfigurationNeverInterruptsTheApi() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.atomic.AtomicInteger requests = new java.util.concurrent.atomic.AtomicInteger();
        Thread hammer = new Thread(() -> {
            Http client = new Http(Integer.getInteger("sover.http.port"));
            for (int i = 0; i < 20_000 && running.get(); i++) {
                try {
                    HttpResponse<String> r = client.get("/v1/health");
                    requests.incrementAndGet();
                    if (r.statusCode() != 200) {
                        failures.add(r.statusCode() + " " + r.body());
                    }
                } catch (Exception e) {
                    failures.add(e.toString());
                }
            }
        });
        hammer.start();
        awaitCount(requests, 5); // the API is being asked before the first change
        String album = Http.json(http.postJson("/v1/albums", "{\"name\":\"Config\"}")).get("id").asText();
        int before = requests.get();
        byte[] big = TestImages.noisyJpeg(200, 200, 13);
        org.osgi.service.cm.Configuration vault = configAdmin.getConfiguration("org.sover.vault", "?");
        Dictionary<String, Object> props = new Hashtable<>();
        props.put("maxUploadBytes", 4096L);
        vault.update(props);
        awaitStatus(() -> http.upload(album, "big.jpg", "image/jpeg", big, "cfg-1"), 413);
        vault.delete();
        // Other bytes: the probe above may have stored big.jpg before the limit took effect,
        // and the same bytes again would rightly answer 200 (already in the album).
        byte[] other = TestImages.noisyJpeg(200, 200, 14);
        awaitStatus(() -> http.upload(album, "other.jpg", "image/jpeg", other, "cfg-2"), 201);
        int during = requests.get() - before;
        // The changes may take only a fraction of a second: a few more requests after them, as
        // components may still be coming back.
        awaitCount(requests, requests.get() + 10);
        running.set(false);
        hammer.join(30_000);
        assertTrue("the API answered while the configuration changed: " + during, during > 0);
        assertTrue("requests failed while the configuration changed: " + failures, failures.isEmpty());
    }

    private static void awaitCount(java.util.concurrent.atomic.AtomicInteger count, int atLeast)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (count.get() < atLeast) {
            assertTrue("only " + count.get() + " requests of " + atLeast + " in 30 s", System.nanoTime() < deadline);
            Thread.sleep(5);
        }
    }

    /** Configuration is applied asynchronously: retry the call until it answers {@code status}. */
    private static HttpResponse<String> awaitStatus(java.util.concurrent.Callable<HttpResponse<String>> call, int status)
            throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        HttpResponse<String> last = null;
        while (System.nanoTime() < deadline) {
            last = call.call();
            if (last.statusCode() == status) {
                return last;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("expected " + status + ", last answer " + last.statusCode() + " " + last.body());
    }

    private long blobStoreServiceId() {
        ServiceReference<?> ref = context.getServiceReference("org.sover.api.storage.BlobStore");
        return ref == null ? -1 : (Long) ref.getProperty("service.id");
    }

    private void awaitNewBlobStore(long oldServiceId) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            long id = blobStoreServiceId();
            if (id != -1 && id != oldServiceId) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the storage bundle's BlobStore was not re-registered after the configuration change");
    }

    @Test
    public void exifCaptureTimeOrientationAndThumbnailsForEveryImageFormat() throws Exception {
        String album = Http.json(http.postJson("/v1/albums", "{\"name\":\"Formats\"}")).get("id").asText();
        byte[] turned = TestImages.withExif(TestImages.image("jpg", 1600, 1200, 21), "2019:07:14 18:30:05", 6);
        JsonNode photo = Http.json(http.upload(album, "turned.jpg", "image/jpeg", turned, null));
        assertEquals("2019-07-14T18:30:05Z", photo.get("takenAt").asText());
        assertEquals("shown the way the camera was held", 1200, photo.get("width").asInt());
        assertEquals(1600, photo.get("height").asInt());
        java.awt.image.BufferedImage thumb = thumbnail(photo.get("id").asText());
        assertEquals(512, thumb.getHeight());
        assertEquals(384, thumb.getWidth());

        Object[][] formats = {
            {"garden.png", "image/png", TestImages.image("png", 700, 300, 22), 700, 300},
            {"wave.gif", "image/gif", TestImages.image("gif", 120, 80, 23), 120, 80},
            {"phone.webp", "image/webp", TestImages.webp(), 96, 64},
        };
        for (Object[] f : formats) {
            HttpResponse<String> r = http.upload(album, (String) f[0], (String) f[1], (byte[]) f[2], null);
            assertEquals(f[0] + ": " + r.body(), 201, r.statusCode());
            JsonNode p = Http.json(r);
            assertTrue(f[0] + " has a thumbnail", p.get("hasThumbnail").asBoolean());
            assertEquals(f[0].toString(), f[3], p.get("width").asInt());
            assertEquals(f[0].toString(), f[4], p.get("height").asInt());
            java.awt.image.BufferedImage t = thumbnail(p.get("id").asText());
            assertEquals(f[0].toString(), Math.min(512, Math.max((int) f[3], (int) f[4])), Math.max(t.getWidth(), t.getHeight()));
        }
    }

    @Test
    public void heicIsStoredAndDownloadableWithoutAThumbnail() throws Exception {
        String album = Http.json(http.postJson("/v1/albums", "{\"name\":\"iPhone\"}")).get("id").asText();
        byte[] heic = new byte[40_000];
        new java.util.Random(5).nextBytes(heic);
        System.arraycopy("\0\0\0\u0018ftypheic".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), 0, heic, 0, 12);
        HttpResponse<String> r = http.upload(album, "IMG_4021.HEIC", "image/heic", heic, null);
        assertEquals(r.body(), 201, r.statusCode());
        JsonNode p = Http.json(r);
        assertFalse(p.get("hasThumbnail").asBoolean());
        HttpResponse<String> noThumb = http.get("/v1/photos/" + p.get("id").asText() + "/thumbnail");
        assertEquals(404, noThumb.statusCode());
        assertEquals("no_thumbnail", Http.json(noThumb).get("error").asText());
        assertArrayEquals(heic, http.sendBytes(http.request("/v1/photos/" + p.get("id").asText() + "/original")
                .GET().build()).body());
    }

    @Test
    public void theSameBytesAreStoredOnce() throws Exception {
        String a = Http.json(http.postJson("/v1/albums", "{\"name\":\"Dedup A\"}")).get("id").asText();
        String b = Http.json(http.postJson("/v1/albums", "{\"name\":\"Dedup B\"}")).get("id").asText();
        byte[] png = TestImages.image("png", 320, 240, 31);
        long blobsBefore = repository.stats().blobs();
        HttpResponse<String> first = http.upload(a, "one.png", "image/png", png, null);
        HttpResponse<String> again = http.upload(a, "one-again.png", "image/png", png, null);
        HttpResponse<String> elsewhere = http.upload(b, "one.png", "image/png", png, null);
        assertEquals(201, first.statusCode());
        assertEquals("the album already holds these bytes", 200, again.statusCode());
        assertEquals(Http.json(first).get("id"), Http.json(again).get("id"));
        assertEquals("another album gets its own photo record", 201, elsewhere.statusCode());
        assertEquals("but the bytes are stored once", blobsBefore + 1, repository.stats().blobs());
    }

    @Test
    public void albumsAndPhotosAreRenamedMovedAndDeletedAndUnusedBlobsLeaveTheDisk() throws Exception {
        String a = Http.json(http.postJson("/v1/albums", "{\"name\":\"Lifecycle\"}")).get("id").asText();
        String b = Http.json(http.postJson("/v1/albums", "{\"name\":\"Elsewhere\"}")).get("id").asText();
        HttpResponse<String> renamed = http.patchJson("/v1/albums/" + a, "{\"name\":\"Lifecycle 2026\"}");
        assertEquals("Lifecycle 2026", Http.json(renamed).get("name").asText());
        assertEquals(400, http.patchJson("/v1/albums/" + a, "{\"name\":\"" + "x".repeat(201) + "\"}").statusCode());

        String p1 = Http.json(http.upload(a, "p1.png", "image/png", TestImages.image("png", 90, 60, 41), null)).get("id").asText();
        String p2 = Http.json(http.upload(a, "p2.png", "image/png", TestImages.image("png", 90, 60, 42), null)).get("id").asText();
        HttpResponse<String> moved = http.patchJson("/v1/photos/" + p1, "{\"albumId\":\"" + b + "\"}");
        assertEquals(b, Http.json(moved).get("albumId").asText());
        assertEquals(1, Http.json(http.get("/v1/albums/" + b)).get("photoCount").asInt());

        String blob1 = repository.photo(p1).orElseThrow().blobId();
        assertTrue(blobs.exists(blob1));
        assertEquals(204, http.delete("/v1/photos/" + p1).statusCode());
        assertEquals(404, http.get("/v1/photos/" + p1).statusCode());
        assertFalse("a blob no photo uses is removed", blobs.exists(blob1));

        String blob2 = repository.photo(p2).orElseThrow().blobId();
        assertEquals(204, http.delete("/v1/albums/" + a).statusCode());
        assertEquals(404, http.get("/v1/albums/" + a).statusCode());
        assertEquals("deleting an album deletes its photos", 404, http.get("/v1/photos/" + p2).statusCode());
        assertFalse(blobs.exists(blob2));
        assertEquals(404, http.delete("/v1/albums/" + a).statusCode());
    }

    @Test
    public void otherSitesGetNoCorsAndCannotWriteWithTheCookie() throws Exception {
        HttpResponse<String> read = http.send(http.request("/v1/albums").header("Origin", "http://evil.example").GET().build());
        assertFalse(read.headers().firstValue("Access-Control-Allow-Origin").isPresent());
        HttpResponse<String> write = http.send(http.request("/v1/albums").header("Origin", "http://evil.example")
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"x\"}")).build());
        assertEquals(403, write.statusCode());
        assertEquals("forbidden", Http.json(write).get("error").asText());
        HttpResponse<String> sameOrigin = http.send(http.request("/v1/albums").header("Origin", http.base())
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"Same origin\"}")).build());
        assertEquals(201, sameOrigin.statusCode());
    }

    @Test
    public void guessingPasswordsIsThrottledAndLogoutEndsTheSession() throws Exception {
        Http guesser = new Http(Integer.getInteger("sover.http.port"));
        String body = "{\"username\":\"throttled-" + UUID.randomUUID() + "\",\"password\":\"guess\"}";
        for (int i = 0; i < 5; i++) {
            assertEquals(401, guesser.postJson("/v1/session", body).statusCode());
        }
        HttpResponse<String> blocked = guesser.postJson("/v1/session", body);
        assertEquals(429, blocked.statusCode());
        assertTrue(Long.parseLong(blocked.headers().firstValue("Retry-After").orElse("0")) > 0);

        Http me = new Http(Integer.getInteger("sover.http.port"));
        me.login("admin", PASSWORD);
        assertTrue(Http.json(me.get("/v1/session")).get("authenticated").asBoolean());
        assertEquals(204, me.delete("/v1/session").statusCode());
        assertEquals(401, me.get("/v1/albums").statusCode());
        assertFalse(Http.json(me.get("/v1/session")).get("authenticated").asBoolean());
    }

    private java.awt.image.BufferedImage thumbnail(String photoId) throws Exception {
        HttpResponse<byte[]> r = http.sendBytes(http.request("/v1/photos/" + photoId + "/thumbnail").GET().build());
        assertEquals(200, r.statusCode());
        return javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(r.body()));
    }

    private Bundle find(String symbolicName) {
        for (Bundle b : context.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName())) {
                return b;
            }
        }
        return null;
    }
}
