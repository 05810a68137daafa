import IPLD

/// Bounds of decoding one relay frame. Defaults follow the atproto limits (5 MiB frames, 1 MiB records).
public struct RelayDecodingLimits: Sendable, Equatable {
    /// Largest frame accepted.
    public var maximumFrameBytes: Int
    /// Header and body DAG-CBOR.
    public var frame: DAGCBORLimits
    /// The commit's CAR (`blocks`).
    public var car: CARLimits
    /// One record's DAG-CBOR (bounded again by `maximumRecordBytes`).
    public var record: DAGCBORLimits
    /// Largest record block converted; larger ones are skipped (as Jetstream does).
    public var maximumRecordBytes: Int

    public init(maximumFrameBytes: Int = 5 * 1024 * 1024, frame: DAGCBORLimits = .default,
                car: CARLimits = CARLimits(maximumSectionBytes: 2 * 1024 * 1024, maximumBlockCount: 100_000),
                record: DAGCBORLimits = .default, maximumRecordBytes: Int = 1024 * 1024) {
        self.maximumFrameBytes = maximumFrameBytes
        self.frame = frame
        self.car = car
        self.record = record
        self.maximumRecordBytes = maximumRecordBytes
    }

    /// The defaults above.
    public static let `default` = RelayDecodingLimits()
}
