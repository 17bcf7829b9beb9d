package org.sover.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.After;
import org.junit.Test;

/**
 * Two nodes from the ONE unpacked distribution, started with bin/start and stopped with
 * bin/stop, each chosen by its SOVER_* variables: separate identities, data and shells;
 * stopping one leaves the other serving.
 */
public class TwoNodesSideBySideIT {
    private NodeProcess a;
    private NodeProcess b;

    @After
    public void stopBoth() throws Exception {
        for (NodeProcess n : new NodeProcess[] {a, b}) {
            if (n != null) {
                script(n, "stop");
                n.close();
            }
        }
    }

    @Test
    public void twoNodesRunAndStopIndependently() throws Exception {
        a = NodeProcess.create("side-a", Map.of("SOVER_ADMIN_PASSWORD", "node-a-password"));
        b = NodeProcess.create("side-b", Map.of("SOVER_ADMIN_PASSWORD", "node-b-password"));
        assertEquals(0, script(a, "start"));
        assertEquals(0, script(b, "start"));
        a.awaitHealthy(Duration.ofSeconds(120));
        b.awaitHealthy(Duration.ofSeconds(120));

        String idA = Http.json(a.http().get("/v1/health")).get("nodeId").asText();
        String idB = Http.json(b.http().get("/v1/health")).get("nodeId").asText();
        assertNotEquals("each node has its own identity", idA, idB);
        Http httpA = a.http();
        httpA.login("admin", "node-a-password");
        httpA.postJson("/v1/albums", "{\"name\":\"Only on A\"}");
        Http httpB = b.http();
        httpB.login("admin", "node-b-password");
        assertEquals("and its own data", 0, Http.json(httpB.get("/v1/albums")).size());

        NodeProcess.ClientResult shellB = b.client("admin", "node-b-password", "sover:status");
        assertTrue(shellB.output(), shellB.output().contains(idB) && shellB.output().contains(b.data.toString()));

        assertEquals(0, script(a, "stop"));
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        boolean aDown = false;
        while (!aDown && System.nanoTime() < deadline) {
            try {
                a.http().get("/v1/health");
                Thread.sleep(200);
            } catch (IOException e) {
                aDown = true;
            }
        }
        assertTrue("bin/stop stopped node A", aDown);
        assertEquals("node B still serves", 200, b.http().get("/v1/health").statusCode());
    }

    /** bin/start or bin/stop with the node's variables, as an admin types it. */
    private static int script(NodeProcess node, String name) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(NodeProcess.ASSEMBLY.resolve("bin/" + name).toString());
        pb.environment().putAll(node.environment());
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("bin/" + name + " did not return: " + out);
        }
        return p.exitValue();
    }
}
