import Storage

/// The pipeline's knobs (environment variables, validated at start). Defaults suit a small server:
/// 2 cores, PostgreSQL beside the ingest, `DB_POOL_SIZE` 8.
public struct IngestPipelineConfiguration: Sendable, Equatable {
    /// `INGEST_PARTITIONS`: writer threads; events are routed to one by a hash of their DID, so one
    /// repository's events stay in order while different repositories proceed in parallel.
    public var partitions: Int
    /// `INGEST_BATCH_SIZE`: most events per transaction.
    public var batchSize: Int
    /// `INGEST_BATCH_MAX_DELAY_MS`: longest a batch waits for more events once it holds one, so
    /// latency stays low at low traffic.
    public var batchMaxDelayMilliseconds: Int
    /// `INGEST_QUEUE_CAPACITY`: events each partition's queue holds; when full, the reader blocks
    /// and stops reading its source (backpressure).
    public var queueCapacity: Int
    /// `MAX_CONCURRENT_OPS`: most write transactions in flight at once, across partitions.
    public var maxConcurrentOperations: Int
    /// `MAX_CONCURRENT_USER_CREATIONS`: permits of the user-creation workers (published in the
    /// metrics; the workers themselves come with identity resolution).
    public var maxConcurrentUserCreations: Int
    /// `INGEST_METRICS_INTERVAL_MS`: how often the metrics snapshot is written to the database.
    public var metricsIntervalMilliseconds: Int
    /// `INGEST_ACTOR_CACHE_SIZE`: actors the indexer remembers as existing, so their rows are not
    /// upserted again on every sight (least recently seen evicted; an evicted actor is upserted again).
    public var knownActorCacheSize: Int
    /// `INGEST_TOMBSTONE_HORIZON_S`: how long (in event time, behind the newest event applied) a
    /// delete's tombstone is kept; a create older than an applied delete within it is not applied.
    public var tombstoneHorizonSeconds: Int

    public init(partitions: Int = 2, batchSize: Int = 1000, batchMaxDelayMilliseconds: Int = 50, queueCapacity: Int = 5000,
                maxConcurrentOperations: Int = 4, maxConcurrentUserCreations: Int = 5, metricsIntervalMilliseconds: Int = 2000,
                knownActorCacheSize: Int = 100_000, tombstoneHorizonSeconds: Int = 7 * 86_400) {
        self.partitions = partitions
        self.batchSize = batchSize
        self.batchMaxDelayMilliseconds = batchMaxDelayMilliseconds
        self.queueCapacity = queueCapacity
        self.maxConcurrentOperations = maxConcurrentOperations
        self.maxConcurrentUserCreations = maxConcurrentUserCreations
        self.metricsIntervalMilliseconds = metricsIntervalMilliseconds
        self.knownActorCacheSize = knownActorCacheSize
        self.tombstoneHorizonSeconds = tombstoneHorizonSeconds
    }

    /// Reads the knobs from `environment` (unset → `defaults`), checking each range and the
    /// relations between them; a bad value fails with a message naming the variable.
    public static func fromEnvironment(_ environment: [String: String], poolSize: Int,
                                       defaults: IngestPipelineConfiguration = IngestPipelineConfiguration()) throws -> IngestPipelineConfiguration {
        var configuration = defaults
        configuration.partitions = try environment.positiveInt("INGEST_PARTITIONS", default: defaults.partitions, max: 64)
        configuration.batchSize = try environment.positiveInt("INGEST_BATCH_SIZE", default: defaults.batchSize, max: 100_000)
        configuration.batchMaxDelayMilliseconds = try environment.positiveInt(
            "INGEST_BATCH_MAX_DELAY_MS", default: defaults.batchMaxDelayMilliseconds, max: 60_000)
        configuration.queueCapacity = try environment.positiveInt("INGEST_QUEUE_CAPACITY", default: defaults.queueCapacity, max: 1_000_000)
        configuration.maxConcurrentOperations = try environment.positiveInt(
            "MAX_CONCURRENT_OPS", default: min(defaults.maxConcurrentOperations, max(1, poolSize - 1)), max: 1000)
        configuration.maxConcurrentUserCreations = try environment.positiveInt(
            "MAX_CONCURRENT_USER_CREATIONS", default: defaults.maxConcurrentUserCreations, max: 1000)
        configuration.metricsIntervalMilliseconds = try environment.positiveInt(
            "INGEST_METRICS_INTERVAL_MS", default: defaults.metricsIntervalMilliseconds, max: 5000)
        configuration.knownActorCacheSize = try environment.positiveInt(
            "INGEST_ACTOR_CACHE_SIZE", default: defaults.knownActorCacheSize, max: 10_000_000)
        configuration.tombstoneHorizonSeconds = try environment.positiveInt(
            "INGEST_TOMBSTONE_HORIZON_S", default: defaults.tombstoneHorizonSeconds, max: 366 * 86_400)
        try configuration.validate(poolSize: poolSize)
        return configuration
    }

    /// The relations between knobs.
    public func validate(poolSize: Int) throws {
        guard queueCapacity >= batchSize else {
            throw ConfigurationError("INGEST_QUEUE_CAPACITY=\(queueCapacity) is smaller than INGEST_BATCH_SIZE=\(batchSize): a batch could never fill")
        }
        guard maxConcurrentOperations < poolSize else {
            throw ConfigurationError("MAX_CONCURRENT_OPS=\(maxConcurrentOperations) must be below DB_POOL_SIZE=\(poolSize): the metrics and cursor writer need a connection too")
        }
        guard metricsIntervalMilliseconds >= 100 else {
            throw ConfigurationError("INGEST_METRICS_INTERVAL_MS=\(metricsIntervalMilliseconds) is invalid: expected between 100 and 5000")
        }
    }
}
