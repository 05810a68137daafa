import Foundation
import JSON
import Storage

/// The JSON the ingest publishes to `ingest_metrics` and the API serves at
/// `GET /api/metrics/event-processor`, with the names operators of the replaced system know.
public struct IngestMetricsSnapshot {
    public var instance: String
    public var role: String
    public var source: String
    public var leader: String?
    public var startedAt: Date
    public var counters: IngestCounterValues
    /// Events committed per second over the last publishing interval.
    public var eventsPerSecond: Double
    public var committedCursor: Int64
    public var queueDepths: [Int]
    public var queueCapacity: Int
    public var operationsInFlight: Int
    public var maxConcurrentOperations: Int
    public var batchSizeLimit: Int
    public var conflicts: Indexer.ConflictCounts
    public var poolCounters: PoolMonitor.Counters
    public var maxConcurrentUserCreations: Int
    /// The live source's connection and buffer state (nil for a file source): published as `jetstream`.
    public var sourceStatistics: JetstreamSourceStatistics? = nil
    /// The relay source's connection, frame and buffer state (nil for other sources): published as `relay`.
    public var relayStatistics: RelaySourceStatistics? = nil
    /// Nil when the user-creation workers do not run in this process.
    public var userCreation: UserCreationStatistics? = nil

    /// Cursors above this are microseconds since the epoch (Jetstream `time_us`); relay `seq` numbers are far smaller.
    static let smallestTimeMicroseconds: Int64 = 1_000_000_000_000_000

    /// Microseconds since the epoch, now.
    static func nowMicroseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000) }

    public var json: String {
        var writer = JSONWriter(capacity: 2048)
        writer.beginObject()
        writer.field("instance", instance)
        writer.field("role", role)
        writer.field("source", source)
        writer.nullableField("leader", leader)
        writer.key("startedAt")
        writer.datetime(epochMilliseconds: Int64(startedAt.timeIntervalSince1970 * 1000))
        writer.field("eventsPerSecond", eventsPerSecond, fractionDigits: 1)
        writer.field("eventsReceived", counters.received)
        writer.field("eventsApplied", counters.applied)
        writer.field("eventsSkippedAlreadyApplied", counters.skippedApplied)
        writer.field("batches", counters.batches)
        writer.nullableField("cursor", committedCursor > 0 ? Int(committedCursor) : nil)
        // A relay cursor is a sequence number, not a time: no lag from it (the API's /health does the same).
        let lag = committedCursor >= Self.smallestTimeMicroseconds ? Double(Self.nowMicroseconds() - committedCursor) / 1_000_000 : nil
        writer.nullableField("lagSeconds", lag, fractionDigits: 3)
        writer.key("queueDepths")
        writer.beginArray()
        for depth in queueDepths { writer.int(depth) }
        writer.endArray()
        writer.field("queueDepth", queueDepths.reduce(0, +))
        writer.field("queueCapacity", queueCapacity * queueDepths.count)
        writer.field("operationsInFlight", operationsInFlight)
        writer.field("maxConcurrentOps", maxConcurrentOperations)
        writer.key("batchSize")
        writer.beginObject()
        writer.field("last", counters.lastBatchSize)
        writer.field("max", counters.maxBatchSize)
        writer.field("mean", counters.meanBatchSize, fractionDigits: 1)
        writer.field("limit", batchSizeLimit)
        writer.endObject()
        writer.key("eventToCommitMs")
        writer.beginObject()
        writer.nullableField("p50", counters.latencyMilliseconds(0.5), fractionDigits: 1)
        writer.nullableField("p99", counters.latencyMilliseconds(0.99), fractionDigits: 1)
        writer.endObject()
        writer.field("transactionRetries", poolCounters.transactionRetries)
        writer.field("transactionTimeouts", poolCounters.transactionTimeouts)
        writer.field("deadlocks", conflicts.deadlocks)
        writer.field("serializationFailures", conflicts.serializationFailures)
        writer.field("writeOutages", counters.writeOutages)
        // The partition queues block instead of evicting (backpressure): only user creation evicts.
        writer.field("evictions", userCreation?.evicted ?? 0)
        writer.key("errors")
        Self.writeCounts(counters.errors, to: &writer)
        writer.key("ignored")
        Self.writeCounts(counters.ignored, to: &writer)
        let creation = userCreation ?? UserCreationStatistics()
        writer.field("activeUserCreations", creation.active)
        writer.field("maxConcurrentUserCreations", maxConcurrentUserCreations)
        writer.field("userCreationUtilization", userCreation == nil ? "0%" : creation.utilization)
        writer.field("pendingUserCreationOpsCount", creation.pending)
        writer.field("pendingUserCreationDeduplication", creation.deduplicated)
        writer.key("userCreation")
        writer.beginObject()
        writer.field("running", userCreation != nil)
        writer.field("evictions", creation.evicted)
        writer.field("deferrals", creation.deferred)
        writer.field("failures", creation.failed)
        writer.field("completed", creation.completed)
        writer.field("requeuedBySweep", creation.requeuedBySweep)
        writer.field("writeErrors", creation.writeErrors)
        writer.field("handlesVerifiedByDNS", creation.handlesVerifiedByDNS)
        writer.field("handlesVerifiedByHTTPS", creation.handlesVerifiedByHTTPS)
        writer.field("handlesNamingAnotherDID", creation.handlesNamingAnotherDID)
        writer.field("refusedAddresses", creation.refusedAddresses)
        writer.endObject()
        if let sourceStatistics {
            writer.key("jetstream")
            Self.write(sourceStatistics, to: &writer)
        }
        if let relayStatistics {
            writer.key("relay")
            Self.write(relayStatistics, to: &writer)
        }
        writer.endObject()
        return writer.text
    }

    /// The live source's counters, with its own lag: how far the newest message received is behind
    /// now (the top-level `lagSeconds` is the committed cursor's).
    static func write(_ statistics: JetstreamSourceStatistics, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("connected", statistics.connected)
        writer.field("connects", statistics.connects)
        writer.field("reconnects", statistics.reconnects)
        writer.field("connectFailures", statistics.connectFailures)
        writer.field("stalls", statistics.stalls)
        writer.field("messages", statistics.messages)
        writer.field("bytes", statistics.bytes)
        writer.field("oversizedMessages", statistics.oversizedMessages)
        writer.field("invalidMessages", statistics.invalidMessages)
        writer.field("bufferDepth", statistics.bufferDepth)
        writer.field("bufferBytes", statistics.bufferBytes)
        writer.field("bufferMaximumDepth", statistics.bufferMaximumDepth)
        writer.field("backpressured", statistics.backpressured)
        writer.nullableField("lastEventTimeUs", statistics.lastEventTimeMicroseconds.map { Int($0) })
        let lag = statistics.lastEventTimeMicroseconds.map { Double(nowMicroseconds() - $0) / 1_000_000 }
        writer.nullableField("lagSeconds", lag, fractionDigits: 3)
        writer.nullableField("lastConnectCursor", statistics.lastConnectCursor.map { Int($0) })
        writer.endObject()
    }

    /// The relay source's counters; `secondsSinceLastMessage` tells a quiet or stuck connection.
    static func write(_ statistics: RelaySourceStatistics, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("connected", statistics.connected)
        writer.field("connects", statistics.connects)
        writer.field("reconnects", statistics.reconnects)
        writer.field("connectFailures", statistics.connectFailures)
        writer.field("stalls", statistics.stalls)
        writer.field("messages", statistics.messages)
        writer.field("bytes", statistics.bytes)
        writer.field("oversizedMessages", statistics.oversizedMessages)
        writer.field("invalidMessages", statistics.invalidMessages)
        writer.key("frames")
        writeCounts(statistics.frames, to: &writer)
        writer.key("malformedFrames")
        writeCounts(statistics.malformedFrames, to: &writer)
        writer.key("errorFrames")
        writeCounts(statistics.errorFrames, to: &writer)
        writer.key("infoFrames")
        writeCounts(statistics.infoFrames, to: &writer)
        writer.field("tooBigCommits", statistics.tooBigCommits)
        writer.field("syncFrames", statistics.syncFrames)
        writer.field("skippedOperations", statistics.skippedOperations)
        writer.field("outOfOrderFrames", statistics.outOfOrderFrames)
        writer.field("replayedFrames", statistics.replayedFrames)
        writer.field("events", statistics.events)
        writer.nullableField("lastSeq", statistics.lastSeq.map { Int($0) })
        writer.nullableField("lastConnectCursor", statistics.lastConnectCursor.map { Int($0) })
        writer.nullableField("secondsSinceLastMessage", statistics.lastMessageReceivedAt.map { Date().timeIntervalSince($0) }, fractionDigits: 3)
        writer.field("bufferDepth", statistics.bufferDepth)
        writer.field("bufferBytes", statistics.bufferBytes)
        writer.field("bufferMaximumDepth", statistics.bufferMaximumDepth)
        writer.field("backpressured", statistics.backpressured)
        writer.endObject()
    }

    /// The snapshot of a process that is not consuming (standing by, or stopped before leading).
    public static func waiting(instance: String, role: String, source: String, maxConcurrentUserCreations: Int) -> String {
        var writer = JSONWriter(capacity: 256)
        writer.beginObject()
        writer.field("instance", instance)
        writer.field("role", role)
        writer.field("source", source)
        writer.field("maxConcurrentUserCreations", maxConcurrentUserCreations)
        writer.endObject()
        return writer.text
    }

    static func writeCounts(_ counts: [String: Int], to writer: inout JSONWriter) {
        writer.beginObject()
        for (key, value) in counts.sorted(by: { $0.key < $1.key }) {
            writer.dynamicKey(key)
            writer.int(value)
        }
        writer.endObject()
    }
}
