import Foundation

/// A snapshot of what a `JetstreamSource` has done since it was created, for the pipeline to
/// publish with its metrics. Counters only grow.
public struct JetstreamSourceStatistics: Sendable, Equatable {
    /// WebSocket handshakes that succeeded.
    public var connects = 0
    /// Connection attempts after a disconnect or a failed attempt (the first attempt is not one).
    public var reconnects = 0
    /// Attempts that failed before the handshake completed (refused, TLS, HTTP error, timeout).
    public var connectFailures = 0
    /// Connections closed because nothing arrived for the stall timeout while the buffer had room.
    public var stalls = 0
    /// Messages over `JETSTREAM_MAX_MESSAGE_BYTES`, skipped.
    public var oversizedMessages = 0
    /// Binary or non-JSON messages, skipped.
    public var invalidMessages = 0
    /// Text messages handed to the buffer.
    public var messages = 0
    /// Bytes of those messages.
    public var bytes = 0
    /// Messages waiting in the buffer now, their bytes, and the deepest the buffer has been.
    public var bufferDepth = 0
    public var bufferBytes = 0
    public var bufferMaximumDepth = 0
    /// True while the reader waits for the pipeline to make room (backpressure).
    public var backpressured = false
    /// True while a connection is open.
    public var connected = false
    /// `time_us` of the newest message received (nil before the first).
    public var lastEventTimeMicroseconds: Int64?
    /// When the newest message was received.
    public var lastMessageReceivedAt: Date?
    /// The `cursor` query parameter of the latest connection attempt (nil: live tail).
    public var lastConnectCursor: Int64?

    public init() {}
}
