package org.sover.vault.internal;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

import org.sover.api.replication.Job;
import org.sover.api.replication.JobState;
import org.sover.api.replication.Peer;
import org.sover.api.vault.Photo;

/**
 * How many copies of a photo the family holds, as far as this node knows. The target is this
 * node plus every pinned peer that is not blocked; a peer holds a copy when this node's job of
 * the blob for it is done, or when it is the blob's origin (it made the photo). A peer this
 * node has no job for and that did not make the photo is "unknown": the photo came from a
 * third node, which sends it there itself.
 */
final class Redundancy {
    static final String UNKNOWN = "unknown";
    private static final String DONE = JobState.DONE.wireName();

    /** One peer's copy of a photo; the job fields are null when this node has no job for it. */
    record PeerCopy(String nodeId, String name, String state, String lastError, Instant nextAttemptAt,
            String transport) {
    }

    /** A photo's "replication" in the API. {@code copies} counts this node, which serves the photo. */
    record Replication(int target, int copies, List<PeerCopy> peers) {
    }

    private final List<Peer> peers;
    private final int wanted;
    private final Map<String, List<Job>> jobsByBlob;
    private final Function<String, String> originOf;
    private final Map<String, Optional<String>> origins = new HashMap<>();

    private Redundancy(List<Peer> peers, int wanted, Map<String, List<Job>> jobsByBlob,
            Function<String, String> originOf) {
        this.peers = peers;
        this.wanted = wanted;
        this.jobsByBlob = jobsByBlob;
        this.originOf = originOf;
    }

    /**
     * Reads what a page of photos needs: the jobs of all their blobs in one query (none when
     * there is no peer to count). A blob's origin is looked up only for a peer this node has no
     * job for, once per blob.
     *
     * @param jobsOfBlobs {@link org.sover.api.replication.JobQueue#jobsOfBlobs}
     * @param originOf    the node that made a blob, or null when the blob is not recorded
     */
    static Redundancy load(Collection<Photo> photos, List<Peer> pinned,
            Function<Collection<String>, Map<String, List<Job>>> jobsOfBlobs, Function<String, String> originOf) {
        return load(photos, pinned, 0, jobsOfBlobs, originOf);
    }

    /**
     * @param redundancyTarget copies that make a photo safe, this node included; 0 (or more than
     *                         there are nodes) means one on every node
     */
    static Redundancy load(Collection<Photo> photos, List<Peer> pinned, int redundancyTarget,
            Function<Collection<String>, Map<String, List<Job>>> jobsOfBlobs, Function<String, String> originOf) {
        List<Peer> counted = pinned.stream().filter(p -> !p.blocked()).toList();
        Map<String, List<Job>> jobs = counted.isEmpty() || photos.isEmpty() ? Map.of()
                : jobsOfBlobs.apply(photos.stream().map(Photo::blobId).distinct().toList());
        int nodes = 1 + counted.size();
        return new Redundancy(counted, redundancyTarget > 0 ? Math.min(redundancyTarget, nodes) : nodes, jobs,
                originOf);
    }

    Replication of(Photo photo) {
        List<Job> jobs = jobsByBlob.getOrDefault(photo.blobId(), List.of());
        List<PeerCopy> copies = new ArrayList<>(peers.size());
        int held = 1;
        for (Peer peer : peers) {
            PeerCopy copy = copyOn(peer, photo.blobId(), jobs);
            if (copy.state().equals(DONE)) {
                held++;
            }
            copies.add(copy);
        }
        return new Replication(wanted, held, List.copyOf(copies));
    }

    private PeerCopy copyOn(Peer peer, String blobId, List<Job> jobs) {
        for (Job job : jobs) {
            if (job.peerId().equals(peer.nodeId())) {
                return new PeerCopy(peer.nodeId(), peer.name(), job.state().wireName(), job.lastError(),
                        job.nextAttemptAt(), job.transport());
            }
        }
        String state = peer.nodeId().equals(origin(blobId)) ? DONE : UNKNOWN;
        return new PeerCopy(peer.nodeId(), peer.name(), state, null, null, null);
    }

    private String origin(String blobId) {
        return origins.computeIfAbsent(blobId, id -> Optional.ofNullable(originOf.apply(id))).orElse(null);
    }
}
