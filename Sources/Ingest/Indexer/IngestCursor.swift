/// A resume position written in the same transaction as the events it covers (`ingest_cursor`).
public struct IngestCursor: Sendable, Equatable {
    /// The event source, e.g. `jetstream` or `import:<file>`.
    public var source: String
    /// The highest Jetstream `time_us` applied. The stored cursor only moves forward.
    public var position: Int64

    public init(source: String, position: Int64) {
        self.source = source
        self.position = position
    }
}
