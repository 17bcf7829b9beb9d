package org.sover.bench.harness;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * One Syncthing instance configured as in shared/notes/performance-references.md: loopback
 * only, no discovery, relays, NAT, usage or crash reports, GUI on 127.0.0.1 without TLS and
 * with a known API key, the peer at an explicit tcp://127.0.0.1 address, the folder without
 * a file-system watcher.
 */
final class Syncthing implements AutoCloseable {
    static final String FOLDER = "bench";
    final Path home;
    final Path log;
    final int listenPort;
    final int guiPort;
    final String apiKey;
    String deviceId;
    private Process process;
    long startedNanos;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    Syncthing(Path home) throws IOException {
        this.home = home;
        this.log = home.resolveSibling(home.getFileName() + ".out");
        this.listenPort = Procs.freePort();
        this.guiPort = Procs.freePort();
        this.apiKey = "bench" + Long.toHexString(System.nanoTime());
    }

    void generate() throws Exception {
        Procs.deleteTree(home);
        Files.deleteIfExists(log);
        ProcessBuilder pb = new ProcessBuilder("syncthing", "generate", "--home=" + home, "--no-default-folder",
                "--skip-port-probing");
        pb.environment().put("STNODEFAULTFOLDER", "1");
        pb.environment().put("STNOUPGRADE", "1");
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Process p = Procs.start(pb);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            Procs.killTree(p, 1);
            throw new IllegalStateException("syncthing generate failed; see " + log);
        }
        Document doc = load();
        deviceId = ((Element) doc.getDocumentElement().getElementsByTagName("device").item(0)).getAttribute("id");
    }

    /** Sets the options, the GUI, the peer device and the folder ({@code sendonly} or {@code receiveonly}). */
    void configure(Syncthing peer, Path folder, String type) throws Exception {
        Document doc = load();
        Element root = doc.getDocumentElement();
        Element options = child(root, "options");
        set(options, "listenAddress", "tcp://127.0.0.1:" + listenPort);
        set(options, "globalAnnounceEnabled", "false");
        set(options, "localAnnounceEnabled", "false");
        set(options, "relaysEnabled", "false");
        set(options, "natEnabled", "false");
        set(options, "crashReportingEnabled", "false");
        set(options, "startBrowser", "false");
        set(options, "urAccepted", "-1");
        set(options, "autoUpgradeIntervalH", "0");
        Element gui = child(root, "gui");
        gui.setAttribute("enabled", "true");
        gui.setAttribute("tls", "false");
        set(gui, "address", "127.0.0.1:" + guiPort);
        set(gui, "apikey", apiKey);
        // the peer, cloned from our own device entry
        Element own = null;
        for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals("device")) {
                own = e;
                break;
            }
        }
        Element other = (Element) own.cloneNode(true);
        other.setAttribute("id", peer.deviceId);
        other.setAttribute("name", "peer");
        set(other, "address", "tcp://127.0.0.1:" + peer.listenPort);
        root.insertBefore(other, own.getNextSibling());
        // the folder, cloned from the defaults
        Element defaults = child(root, "defaults");
        Element folderEl = (Element) child(defaults, "folder").cloneNode(true);
        folderEl.setAttribute("id", FOLDER);
        folderEl.setAttribute("label", FOLDER);
        folderEl.setAttribute("path", folder.toString());
        folderEl.setAttribute("type", type);
        folderEl.setAttribute("fsWatcherEnabled", "false");
        Element dev = child(folderEl, "device");
        Element peerDev = (Element) dev.cloneNode(true);
        peerDev.setAttribute("id", peer.deviceId);
        folderEl.insertBefore(peerDev, dev.getNextSibling());
        root.insertBefore(folderEl, own);
        TransformerFactory.newInstance().newTransformer().transform(new DOMSource(doc),
                new StreamResult(home.resolve("config.xml").toFile()));
    }

    void start() throws IOException {
        ProcessBuilder pb = new ProcessBuilder("syncthing", "serve", "--home=" + home, "--no-browser", "--no-restart",
                "--no-upgrade");
        pb.environment().put("STNODEFAULTFOLDER", "1");
        pb.environment().put("STNOUPGRADE", "1");
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        startedNanos = System.nanoTime();
        process = Procs.start(pb);
    }

    /** The folder's status JSON, or null while the GUI is not answering. */
    String folderStatus() throws InterruptedException {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + guiPort
                    + "/rest/db/status?folder=" + FOLDER)).header("X-API-Key", apiKey).timeout(Duration.ofSeconds(10))
                    .GET().build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** True when the folder is idle, needs nothing and holds {@code files} files of {@code bytes} bytes. */
    boolean complete(long files, long bytes) throws InterruptedException {
        String s = folderStatus();
        return s != null && "idle".equals(Api.str(s, "state")) && Api.num(s, "needBytes") == 0
                && Api.num(s, "needFiles") == 0 && Api.num(s, "localBytes") == bytes
                && Api.num(s, "localFiles") == files;
    }

    boolean alive() {
        return process != null && process.isAlive();
    }

    /** CPU seconds of the monitor process and the Syncthing it runs (1.19 keeps a monitor despite --no-restart). */
    double cpuSeconds() {
        if (process == null) {
            return -1;
        }
        double sum = Math.max(0, Procs.cpuSeconds(process.pid()));
        for (ProcessHandle h : process.toHandle().descendants().toList()) {
            sum += Math.max(0, Procs.cpuSeconds(h.pid()));
        }
        return sum;
    }

    @Override
    public void close() {
        Procs.killTree(process, 10);
        process = null;
    }

    private Document load() throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        return f.newDocumentBuilder().parse(home.resolve("config.xml").toFile());
    }

    private static Element child(Element parent, String tag) {
        NodeList l = parent.getChildNodes();
        for (int i = 0; i < l.getLength(); i++) {
            if (l.item(i) instanceof Element e && e.getTagName().equals(tag)) {
                return e;
            }
        }
        Element e = parent.getOwnerDocument().createElement(tag);
        parent.appendChild(e);
        return e;
    }

    private static void set(Element parent, String tag, String value) {
        child(parent, tag).setTextContent(value);
    }

    static String readLog(Path log) throws IOException {
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    }
}
