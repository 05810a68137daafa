import Foundation

/// A snapshot of what a `RelaySource` has done since it was created, for the pipeline to publish
/// with its metrics (under `relay`). Counters only grow.
public struct RelaySourceStatistics: Sendable, Equatable {
    /// WebSocket handshakes that succeeded.
    public var connects = 0
    /// Connection attempts after a disconnect or a failed attempt (the first attempt is not one).
    public var reconnects = 0
    /// Attempts that failed before the handshake completed (refused, TLS, HTTP error, timeout).
    public var connectFailures = 0
    /// Connections closed because nothing arrived for the stall timeout while the buffer had room.
    public var stalls = 0
    /// Binary messages received (frames), and their bytes.
    public var messages = 0
    public var bytes = 0
    /// Messages over `RELAY_MAX_MESSAGE_BYTES`, skipped (their events are lost: logged as errors).
    public var oversizedMessages = 0
    /// Text messages (the relay sends binary only), skipped.
    public var invalidMessages = 0
    /// Frames decoded, by type: `commit`, `identity`, `account`, `sync`, `info`, `error`, or the
    /// unknown type's name.
    public var frames: [String: Int] = [:]
    /// Frames that could not be decoded, by error kind (`header.unexpectedEnd`, `invalidField`, …): skipped.
    public var malformedFrames: [String: Int] = [:]
    /// Error frames by name (`FutureCursor`, `ConsumerTooSlow`, …); each ends its connection.
    public var errorFrames: [String: Int] = [:]
    /// `#info` frames by name (`OutdatedCursor`, …).
    public var infoFrames: [String: Int] = [:]
    /// Commits flagged `tooBig`: their ops come without records, so they yield no event.
    public var tooBigCommits = 0
    /// `#sync` frames: the repository's state was reset; not re-fetched (see the README).
    public var syncFrames = 0
    /// Commit ops that yielded no event (record missing, CID mismatch, undecodable record, …).
    public var skippedOperations = 0
    /// Frames skipped because their `seq` was not above the highest one seen on the same connection.
    public var outOfOrderFrames = 0
    /// Frames skipped as already delivered: the overlap of a resume at the committed cursor after a reconnect.
    public var replayedFrames = 0
    /// Events handed to the pipeline.
    public var events = 0
    /// Highest `seq` accepted (nil before the first).
    public var lastSeq: Int64?
    /// The `cursor` query parameter of the latest connection attempt (nil: live tail).
    public var lastConnectCursor: Int64?
    /// When the newest message was received.
    public var lastMessageReceivedAt: Date?
    /// Frames waiting in the buffer now, their bytes, and the deepest the buffer has been.
    public var bufferDepth = 0
    public var bufferBytes = 0
    public var bufferMaximumDepth = 0
    /// True while the reader waits for the pipeline to make room (backpressure).
    public var backpressured = false
    /// True while a connection is open.
    public var connected = false

    public init() {}
}
