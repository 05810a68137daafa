import Foundation
@testable import Ingest
import Storage
import TestSupport
import Testing

/// Deadlocks and lost connections while the pipeline writes.
///
/// Why indexer writers never deadlock one another: every indexer transaction takes the global
/// writer lock (`pg_advisory_xact_lock`) as its first statement and holds it to the end, so no two
/// of them ever hold row locks at the same time and no wait cycle can form between them. A
/// deadlock needs a writer that locks rows before that lock; these tests provoke one.
@Suite("writer conflicts", .serialized)
struct WriterConflictTests {
    static let carol = "did:plc:carolcarolcarolcarolcaro"

    @Test("a real deadlock with another writer is detected, retried and counted; the batch commits")
    func deadlockRetried() throws {
        let harness = try IngestHarness("pipeline_deadlock")
        // Carol's row comes from another indexer: the harness's own does not know carol yet (its
        // known-actor cache would skip her row), so its batch upserts, and row-locks, her actor row.
        try Indexer(pool: harness.pool).apply([try JetstreamEventDecoder.decode(
            EventLines.profile(Self.carol, time: BatchOrderingTests.base, displayName: "Carol")).get()])
        let post = EventLines.postURI(BatchOrderingTests.bob, "3dl")
        let like = EventLines.like(Self.carol, "3dlike", time: BatchOrderingTests.base + 10, subject: post)

        // The other writer locks carol's actor row first…
        let other = try PostgresConnection(conninfo: harness.database.url)
        defer { other.close() }
        try other.execute("BEGIN")
        try other.query("UPDATE actors SET display_name = display_name WHERE did = $1", [Self.carol])
        let done = DispatchSemaphore(value: 0)
        let failures = FailureLog()
        Thread.detachNewThread {
            // …the indexer takes the writer lock, then waits for carol's row…
            do { try harness.apply([like]) } catch { failures.record("\(error)") }
            done.signal()
        }
        Thread.sleep(forTimeInterval: 0.3)
        // …and the other writer now waits for the writer lock: a cycle. The indexer has waited
        // longer, so its deadlock_timeout (1 s) fires first and it is the victim.
        try other.query("SELECT pg_advisory_xact_lock($1::bigint)", [Indexer.writerLockKey])
        try other.execute("COMMIT")
        done.wait()
        #expect(failures.messages.isEmpty)
        #expect(harness.indexer.conflicts.deadlocks == 1)
        #expect(harness.pool.monitor.counters.transactionRetries >= 1)
        #expect(try harness.int("SELECT like_count FROM post_aggregates WHERE uri = $1", [post]) == 1)
    }

    @Test("four partitions writing at once never deadlock one another")
    func partitionsDoNotDeadlock() throws {
        let harness = try IngestHarness("pipeline_no_deadlock")
        let configuration = IngestPipelineConfiguration(partitions: 4, batchSize: 50, batchMaxDelayMilliseconds: 2,
                                                        queueCapacity: 100, maxConcurrentOperations: 3)
        let pipeline = IngestPipeline(indexer: harness.indexer, configuration: configuration, cursorSource: "test")
        let values = try pipeline.run(CountingSource(lines: PipelineTests.syntheticLines(4_000, actors: 50, seed: 5)))
        #expect(values.batches > 40)
        #expect(harness.indexer.conflicts == Indexer.ConflictCounts())
    }

    @Test("connections killed mid-stream: the writers retry, nothing is lost or applied twice")
    func connectionsKilled() throws {
        let harness = try IngestHarness("pipeline_connections_killed")
        let lines = PipelineTests.syntheticLines(5_000, seed: 21)
        let configuration = IngestPipelineConfiguration(partitions: 3, batchSize: 40, batchMaxDelayMilliseconds: 2,
                                                        queueCapacity: 80, maxConcurrentOperations: 2)
        let pipeline = IngestPipeline(indexer: harness.indexer, configuration: configuration, cursorSource: "test")
        let done = DispatchSemaphore(value: 0)
        let failures = FailureLog()
        Thread.detachNewThread {
            do { try pipeline.run(CountingSource(lines: lines)) } catch { failures.record("\(error)") }
            done.signal()
        }
        var killed = 0
        for _ in 0..<4 {
            Thread.sleep(forTimeInterval: 0.6)
            killed += try TestDatabase.admin { admin in
                try admin.query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                                [harness.database.name])[0].int(0) ?? 0
            }
        }
        done.wait()
        #expect(failures.messages.isEmpty)
        #expect(killed > 0)
        let values = pipeline.statistics()
        #expect(values.applied == lines.count - values.ignoredCount)
        let sequential = try IngestHarness("pipeline_connections_killed_seq")
        try sequential.applySequentially(lines, source: "test")
        #expect(IngestHarness.differences(try harness.dump(), try sequential.dump()) == [])
    }
}
