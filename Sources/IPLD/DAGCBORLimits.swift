/// Bounds of one DAG-CBOR decode. Every limit is checked against the bytes actually present before
/// anything is allocated, so a lying length field costs nothing.
public struct DAGCBORLimits: Sendable, Equatable {
    /// Deepest nesting of arrays, maps and tags (the top-level value is depth 1).
    public var maximumDepth: Int
    /// Longest text or byte string, in bytes.
    public var maximumStringBytes: Int
    /// Most elements of one array or entries of one map.
    public var maximumContainerCount: Int
    /// Most values in one decode (every scalar, container and key counts): bounds memory, which is
    /// about 40 bytes per value, whatever the shape of the input.
    public var maximumValueCount: Int

    public init(maximumDepth: Int = 64, maximumStringBytes: Int = 5 * 1024 * 1024,
                maximumContainerCount: Int = 128 * 1024, maximumValueCount: Int = 1_000_000) {
        self.maximumDepth = maximumDepth
        self.maximumStringBytes = maximumStringBytes
        self.maximumContainerCount = maximumContainerCount
        self.maximumValueCount = maximumValueCount
    }

    /// Limits for relay frames and records: depth 64, strings ≤ 5 MiB, containers ≤ 131,072
    /// entries, ≤ 1,000,000 values.
    public static let `default` = DAGCBORLimits()
}
