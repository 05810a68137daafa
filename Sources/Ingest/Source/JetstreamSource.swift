import Foundation
import Logging

/// The live event source: Jetstream over WebSocket (swift-websocket's `WebSocketClient`, on NIO,
/// through `ReconnectingWebSocket`).
///
/// An async task keeps one connection open at a time and puts each message into a bounded buffer;
/// when the buffer is full the task suspends, the socket is no longer read and TCP backpressure
/// reaches Jetstream. The pipeline's thread takes messages with the blocking `next()`.
/// Every (re)connect asks `resumeCursor` for the committed cursor and subscribes from it minus the
/// rewind (nil: live tail); a dropped, failed or stalled connection is re-opened after a capped
/// exponential backoff with jitter. The connection opens on the first `next()`; `stop()` ends it.
public final class JetstreamSource: EventSource, @unchecked Sendable {
    public let configuration: JetstreamSourceConfiguration
    private let buffer: WebSocketMessageBuffer
    private let socket: ReconnectingWebSocket
    private let newestEventTime: NewestEventTime

    /// - Parameters:
    ///   - resumeCursor: the committed cursor (Jetstream `time_us`) or nil to tail live; called at
    ///     every (re)connect on a thread of its own, so it may read the database.
    public init(configuration: JetstreamSourceConfiguration, resumeCursor: @escaping @Sendable () -> Int64?, logger: Logger) {
        self.configuration = configuration
        let buffer = WebSocketMessageBuffer(capacity: configuration.bufferCapacity, maximumBytes: configuration.bufferMaximumBytes)
        let newestEventTime = NewestEventTime()
        self.buffer = buffer
        self.newestEventTime = newestEventTime
        socket = ReconnectingWebSocket(
            settings: configuration.webSocketSettings, buffer: buffer, logger: logger, resumeCursor: resumeCursor,
            subscribe: { [configuration] committed in
                let subscription = JetstreamSubscription(baseURL: configuration.url, wantedCollections: configuration.wantedCollections,
                                                         committedCursor: committed, rewindSeconds: configuration.resumeRewindSeconds)
                return (subscription.url, subscription.cursor)
            },
            inspect: { [logger] message in
                guard message.first == UInt8(ascii: "{") else {
                    logger.warning("jetstream: skipped a text message that is not a JSON object", metadata: [
                        "bytes": "\(message.count)", "start": "\(String(decoding: message.prefix(64), as: UTF8.self))",
                    ])
                    newestEventTime.countInvalid()
                    return .skip
                }
                if let time = JetstreamTimeField.timeMicroseconds(in: message) { newestEventTime.set(time) }
                return .deliver
            },
            progressMetadata: {
                ["last_time_us": "\(newestEventTime.value.map(String.init) ?? "none")"]
            })
    }

    /// The next Jetstream message (one JSON object, UTF-8). Blocks the calling thread until one
    /// arrives; nil once `stop()` was called. Never throws: connection trouble is retried, counted
    /// and logged, not surfaced.
    public func next() throws -> SourceEvent? {
        socket.startIfNeeded()
        return buffer.take().map { SourceEvent(json: $0) }
    }

    /// Closes the connection, ends reconnecting and makes `next()` return nil promptly. Any thread.
    public func stop() { socket.stop() }

    /// Counters and buffer state now.
    public var statistics: JetstreamSourceStatistics {
        var snapshot = JetstreamSourceStatistics()
        snapshot.record(connection: socket.counters.snapshot, buffer: buffer.state)
        snapshot.invalidMessages += newestEventTime.invalid
        snapshot.lastEventTimeMicroseconds = newestEventTime.value
        return snapshot
    }
}

/// The newest `time_us` seen and the non-JSON messages skipped, written by the connection task.
private final class NewestEventTime: @unchecked Sendable {
    private let lock = NSLock()
    private var time: Int64?
    private var invalidCount = 0

    func set(_ value: Int64) { lock.withLock { time = value } }
    func countInvalid() { lock.withLock { invalidCount += 1 } }
    var value: Int64? { lock.withLock { time } }
    var invalid: Int { lock.withLock { invalidCount } }
}
