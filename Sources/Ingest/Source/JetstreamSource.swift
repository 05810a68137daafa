import Foundation
import Logging
import NIOPosix

/// The live event source: Jetstream over WebSocket (swift-websocket's `WebSocketClient`, on NIO).
///
/// An async task keeps one connection open at a time and puts each message into a bounded buffer;
/// when the buffer is full the task suspends, the socket is no longer read and TCP backpressure
/// reaches Jetstream. The pipeline's thread takes messages with the blocking `next()`.
/// Every (re)connect asks `resumeCursor` for the committed cursor and subscribes from it minus the
/// rewind (nil: live tail); a dropped, failed or stalled connection is re-opened after a capped
/// exponential backoff with jitter. The connection opens on the first `next()`; `stop()` ends it
/// (the connection task keeps the source alive until then).
public final class JetstreamSource: EventSource, @unchecked Sendable {
    public let configuration: JetstreamSourceConfiguration
    private let resumeCursor: @Sendable () -> Int64?
    private let logger: Logger
    private let buffer: JetstreamMessageBuffer
    private let counters = JetstreamCounters()
    private let lifecycle = NSLock()
    private var connectionTask: Task<Void, Never>?
    private var connectionEventLoop: MultiThreadedEventLoopGroup?
    private var connectionActivity: JetstreamConnection.Activity?
    private var stopped = false

    /// - Parameters:
    ///   - resumeCursor: the committed cursor (Jetstream `time_us`) or nil to tail live; called at
    ///     every (re)connect on a thread of its own, so it may read the database.
    public init(configuration: JetstreamSourceConfiguration, resumeCursor: @escaping @Sendable () -> Int64?, logger: Logger) {
        self.configuration = configuration
        self.resumeCursor = resumeCursor
        self.logger = logger
        self.buffer = JetstreamMessageBuffer(capacity: configuration.bufferCapacity,
                                             maximumBytes: configuration.bufferMaximumBytes)
    }

    deinit {
        connectionTask?.cancel()
        buffer.close()
    }

    /// The next Jetstream message (one JSON object, UTF-8). Blocks the calling thread until one
    /// arrives; nil once `stop()` was called. Never throws: connection trouble is retried, counted
    /// and logged, not surfaced.
    public func next() throws -> SourceEvent? {
        startIfNeeded()
        return buffer.take().map { SourceEvent(json: $0) }
    }

    /// Closes the connection, ends reconnecting and makes `next()` return nil promptly. Any thread.
    public func stop() {
        lifecycle.lock()
        stopped = true
        let task = connectionTask
        let eventLoop = connectionEventLoop
        let activity = connectionActivity
        lifecycle.unlock()
        buffer.close()
        task?.cancel()  // closes an established connection
        if let eventLoop, let activity, !activity.snapshot.connected {
            JetstreamConnection.closeBeforeHandshake(eventLoop)
        }
    }

    /// Counters and buffer state now.
    public var statistics: JetstreamSourceStatistics {
        var snapshot = counters.snapshot
        let state = buffer.state
        snapshot.bufferDepth = state.depth
        snapshot.bufferBytes = state.bytes
        snapshot.bufferMaximumDepth = state.maximumDepth
        snapshot.backpressured = state.producerWaiting
        return snapshot
    }

    private func startIfNeeded() {
        lifecycle.lock()
        defer { lifecycle.unlock() }
        guard connectionTask == nil, !stopped else { return }
        connectionTask = Task.detached { [self] in await self.maintainConnection() }
    }

    /// `resumeCursor()` on a thread of its own: it may block (a database read), which must not
    /// happen on the cooperative pool.
    private func committedCursor() async -> Int64? {
        let resumeCursor = resumeCursor
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: resumeCursor()) }
        }
    }

    /// Records the event loop and activity of the connection being opened; false once stopped.
    private func register(_ eventLoop: MultiThreadedEventLoopGroup, _ activity: JetstreamConnection.Activity) -> Bool {
        lifecycle.lock()
        defer { lifecycle.unlock() }
        guard !stopped else { return false }
        connectionEventLoop = eventLoop
        connectionActivity = activity
        return true
    }

    private func isStopped() -> Bool {
        lifecycle.lock()
        defer { lifecycle.unlock() }
        return stopped
    }

    /// Connects, runs the connection to its end, waits, reconnects — until stopped.
    private func maintainConnection() async {
        let backoff = ReconnectBackoff(minimumMilliseconds: configuration.reconnectMinimumMilliseconds,
                                       maximumMilliseconds: configuration.reconnectMaximumMilliseconds)
        var generator = SystemRandomNumberGenerator()
        var failedAttempts = 0
        var isFirstAttempt = true
        while !isStopped() && !Task.isCancelled {
            if !isFirstAttempt { counters.update { $0.reconnects += 1 } }
            isFirstAttempt = false
            let subscription = JetstreamSubscription(baseURL: configuration.url,
                                                     wantedCollections: configuration.wantedCollections,
                                                     committedCursor: await committedCursor(),
                                                     rewindSeconds: configuration.resumeRewindSeconds)
            counters.update { $0.lastConnectCursor = subscription.cursor }
            logger.info("jetstream: connecting", metadata: [
                "url": "\(configuration.url)",
                "cursor": "\(subscription.cursor.map(String.init) ?? "live")",
            ])
            let activity = JetstreamConnection.Activity()
            // A one-thread event loop per connection, so that stop() and the stall watchdog can close it in any phase.
            let eventLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            guard register(eventLoop, activity) else {
                eventLoop.shutdownGracefully { _ in }
                break
            }
            let connection = JetstreamConnection(
                configuration: configuration, subscription: subscription, buffer: buffer, counters: counters,
                logger: logger, eventLoopGroup: eventLoop,
                onConnected: { [counters, logger] in
                    counters.update {
                        $0.connects += 1
                        $0.connected = true
                    }
                    logger.info("jetstream: connected", metadata: ["cursor": "\(subscription.cursor.map(String.init) ?? "live")"])
                })
            let reason = await connection.run(activity: activity)
            let (handshakeCompleted, received, _) = activity.snapshot
            counters.update {
                $0.connected = false
                switch reason {
                case .stalled: $0.stalls += 1
                case .oversizedFrame: $0.oversizedMessages += 1
                default: break
                }
                if !handshakeCompleted && reason != .stopped { $0.connectFailures += 1 }
            }
            if reason == .stopped || isStopped() { break }
            // A connection that delivered something was healthy: start the backoff over.
            failedAttempts = received > 0 ? 0 : failedAttempts + 1
            let delay = backoff.delayMilliseconds(attempt: max(0, failedAttempts - 1), using: &generator)
            let metadata: Logger.Metadata = [
                "reason": "\(reason)", "messages": "\(received)", "retry_in_ms": "\(delay)",
                "last_time_us": "\(counters.snapshot.lastEventTimeMicroseconds.map(String.init) ?? "none")",
            ]
            switch reason {
            case .oversizedFrame:
                logger.error("jetstream: a frame over the frame limit (4 × JETSTREAM_MAX_MESSAGE_BYTES) ended the connection", metadata: metadata)
            case .failed where !handshakeCompleted:
                logger.warning("jetstream: connection attempt failed", metadata: metadata)
            default:
                logger.info("jetstream: disconnected", metadata: metadata)
            }
            do {
                try await Task.sleep(nanoseconds: UInt64(delay) * 1_000_000)
            } catch {
                break
            }
        }
        logger.info("jetstream: stopped")
    }
}
