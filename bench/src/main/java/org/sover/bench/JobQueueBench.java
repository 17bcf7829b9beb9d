package org.sover.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.sover.api.replication.Job;
import org.sover.storage.internal.DerbyDatabase;
import org.sover.storage.internal.DerbyJobQueue;

/**
 * Issue 6's queue row: one job's life in the embedded Derby queue, enqueue + lease + complete,
 * as the replication worker drives it (one job leased at a time), on a real database on disk.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(1)
public class JobQueueBench {
    private static final String PEER = "BENCHPE-ERBENCH-PEERBEN-CHPEERB-ENCHPEE-RBENCHP-EERBENC-HPEERBE";
    private Path dir;
    private DerbyDatabase database;
    private DerbyJobQueue queue;
    private long n;

    @Setup(Level.Trial)
    public void open() throws IOException {
        dir = Files.createTempDirectory("sover-bench-queue-");
        database = new DerbyDatabase(dir, 1000, 8);
        queue = new DerbyJobQueue(database);
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        queue.close();
        database.close();
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Benchmark
    public boolean enqueueLeaseComplete() {
        Instant now = Instant.now();
        String blob = String.format("%064x", ++n);
        queue.enqueue(blob, "photo" + n, List.of(PEER), now);
        List<Job> leased = queue.lease(null, 1, Duration.ofMinutes(30), now);
        return queue.complete(leased.get(0).id(), "http", "lan", now);
    }
}
