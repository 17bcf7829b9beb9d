package org.sover.vault.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import org.junit.Test;
import org.sover.api.replication.Job;
import org.sover.api.replication.JobState;
import org.sover.api.replication.Peer;
import org.sover.api.replication.PeerRole;
import org.sover.api.vault.Photo;

public class RedundancyTest {
    private static final Instant T = Instant.parse("2026-11-21T14:02:00Z");
    private final Peer home = peer("HOME", "Home box", false);
    private final Peer grandma = peer("GRAN", "Grandma", false);
    private final Peer blocked = peer("GONE", "Old laptop", true);
    private final List<Collection<String>> jobQueries = new ArrayList<>();
    private final List<String> originQueries = new ArrayList<>();

    @Test
    public void targetCountsThisNodeAndEveryUnblockedPeer() {
        Redundancy r = load(List.of(photo("p1", "b1")), List.of(home, grandma, blocked), Map.of(), Map.of());
        Redundancy.Replication rep = r.of(photo("p1", "b1"));
        assertEquals(3, rep.target());
        assertEquals(List.of("HOME", "GRAN"), rep.peers().stream().map(Redundancy.PeerCopy::nodeId).toList());
    }

    @Test
    public void aJobTellsThePeersStateAndOnlyDoneJobsCountAsCopies() {
        Map<String, List<Job>> jobs = Map.of("b1", List.of(
                job("b1", "HOME", JobState.DONE, null, null, "http"),
                job("b1", "GRAN", JobState.FAILED, "Grandma's node is unreachable", T.plusSeconds(600), "webrtc")));
        Redundancy.Replication rep = load(List.of(photo("p1", "b1")), List.of(home, grandma), jobs, Map.of())
                .of(photo("p1", "b1"));
        assertEquals(3, rep.target());
        assertEquals(2, rep.copies());
        Redundancy.PeerCopy done = rep.peers().get(0);
        assertEquals("done", done.state());
        assertEquals("Home box", done.name());
        assertEquals("http", done.transport());
        Redundancy.PeerCopy failed = rep.peers().get(1);
        assertEquals("failed", failed.state());
        assertEquals("Grandma's node is unreachable", failed.lastError());
        assertEquals(T.plusSeconds(600), failed.nextAttemptAt());
        assertEquals("webrtc", failed.transport());
    }

    @Test
    public void theOriginHoldsACopyAndAPeerWithoutJobIsUnknown() {
        // b1 was made by HOME and arrived here; GRAN gets it from HOME, not from this node.
        Redundancy.Replication rep = load(List.of(photo("p1", "b1")), List.of(home, grandma), Map.of(),
                Map.of("b1", "HOME")).of(photo("p1", "b1"));
        assertEquals(2, rep.copies());
        assertEquals("done", rep.peers().get(0).state());
        assertNull(rep.peers().get(0).transport());
        assertEquals(Redundancy.UNKNOWN, rep.peers().get(1).state());
        assertNull(rep.peers().get(1).lastError());
    }

    @Test
    public void aJobWinsOverTheOrigin() {
        Map<String, List<Job>> jobs = Map.of("b1", List.of(job("b1", "HOME", JobState.PENDING, null, T, null)));
        Redundancy.Replication rep = load(List.of(photo("p1", "b1")), List.of(home), jobs, Map.of("b1", "HOME"))
                .of(photo("p1", "b1"));
        assertEquals("pending", rep.peers().get(0).state());
        assertEquals(1, rep.copies());
        assertEquals("an origin is looked up only for a peer without a job", List.of(), originQueries);
    }

    @Test
    public void aPageReadsTheJobsOnceAndEachOriginAtMostOnce() {
        List<Photo> page = List.of(photo("p1", "b1"), photo("p2", "b2"), photo("p3", "b1"));
        Redundancy r = load(page, List.of(home, grandma), Map.of(), Map.of("b1", "HOME"));
        page.forEach(r::of);
        assertEquals(1, jobQueries.size());
        assertEquals(List.of("b1", "b2"), List.copyOf(jobQueries.get(0)));
        assertEquals(List.of("b1", "b2"), originQueries);
    }

    @Test
    public void withoutPeersNothingIsQueried() {
        Redundancy.Replication rep = load(List.of(photo("p1", "b1")), List.of(blocked), Map.of(), Map.of())
                .of(photo("p1", "b1"));
        assertEquals(1, rep.target());
        assertEquals(1, rep.copies());
        assertEquals(List.of(), rep.peers());
        assertEquals(List.of(), jobQueries);
    }

    private Redundancy load(List<Photo> photos, List<Peer> peers, Map<String, List<Job>> jobs,
            Map<String, String> origins) {
        return Redundancy.load(photos, peers, ids -> {
            jobQueries.add(ids);
            return jobs;
        }, id -> {
            originQueries.add(id);
            return origins.get(id);
        });
    }

    private static Peer peer(String id, String name, boolean blocked) {
        return new Peer(id, new byte[32], name, PeerRole.FULL, List.of(), blocked, T, null, null, null);
    }

    private static Photo photo(String id, String blobId) {
        return new Photo(id, "album", blobId, id + ".jpg", "image/jpeg", 1000, 10, 10, T, T, T, 1, "HERE", null, "rose");
    }

    private static Job job(String blobId, String peerId, JobState state, String error, Instant next, String transport) {
        return new Job("j-" + blobId + peerId, blobId, "p1", peerId, state, 1, next, error, transport, null, T, T, T,
                null);
    }
}
