import Foundation
import Logging
import NIOPosix

/// Keeps one WebSocket connection of a live source open at a time (Jetstream, the relay), feeding
/// its bounded buffer: every (re)connect asks for the committed cursor and subscribes at the URL the
/// source derives from it; a dropped, failed, stalled or errored connection is re-opened after a
/// capped exponential backoff with full jitter. Starts on the first `startIfNeeded()`; `stop()`
/// ends it (the connection task keeps this object alive until then).
final class ReconnectingWebSocket: @unchecked Sendable {
    /// The URL to subscribe at and the cursor it carries (nil: live tail), from the committed cursor.
    typealias Subscribe = @Sendable (_ committedCursor: Int64?) -> (url: String, cursor: Int64?)

    let settings: WebSocketSettings
    let buffer: WebSocketMessageBuffer
    let counters = WebSocketCounters()
    private let resumeCursor: @Sendable () -> Int64?
    private let subscribe: Subscribe
    private let inspect: @Sendable (Data) -> WebSocketMessageVerdict
    /// Extra fields for the disconnect log line (e.g. the newest event time).
    private let progressMetadata: @Sendable () -> Logger.Metadata
    private let logger: Logger
    private let lifecycle = NSLock()
    private var connectionTask: Task<Void, Never>?
    private var connectionEventLoop: MultiThreadedEventLoopGroup?
    private var connectionActivity: WebSocketConnection.Activity?
    private var stopped = false

    init(settings: WebSocketSettings, buffer: WebSocketMessageBuffer, logger: Logger,
         resumeCursor: @escaping @Sendable () -> Int64?, subscribe: @escaping Subscribe,
         inspect: @escaping @Sendable (Data) -> WebSocketMessageVerdict,
         progressMetadata: @escaping @Sendable () -> Logger.Metadata = { [:] }) {
        self.settings = settings
        self.buffer = buffer
        self.logger = logger
        self.resumeCursor = resumeCursor
        self.subscribe = subscribe
        self.inspect = inspect
        self.progressMetadata = progressMetadata
    }

    deinit {
        connectionTask?.cancel()
        buffer.close()
    }

    func startIfNeeded() {
        lifecycle.lock()
        defer { lifecycle.unlock() }
        guard connectionTask == nil, !stopped else { return }
        connectionTask = Task.detached { [self] in await self.maintainConnection() }
    }

    /// Closes the connection, ends reconnecting and closes the buffer. Any thread.
    func stop() {
        lifecycle.lock()
        stopped = true
        let task = connectionTask
        let eventLoop = connectionEventLoop
        let activity = connectionActivity
        lifecycle.unlock()
        buffer.close()
        task?.cancel()  // closes an established connection
        if let eventLoop, let activity, !activity.snapshot.connected {
            WebSocketConnection.closeBeforeHandshake(eventLoop)
        }
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
    private func register(_ eventLoop: MultiThreadedEventLoopGroup, _ activity: WebSocketConnection.Activity) -> Bool {
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
        let name = settings.name
        let backoff = ReconnectBackoff(minimumMilliseconds: settings.reconnectMinimumMilliseconds,
                                       maximumMilliseconds: settings.reconnectMaximumMilliseconds)
        var generator = SystemRandomNumberGenerator()
        var failedAttempts = 0
        var number = 0
        while !isStopped() && !Task.isCancelled {
            if number > 0 { counters.update { $0.reconnects += 1 } }
            number += 1
            let (url, cursor) = subscribe(await committedCursor())
            counters.update { $0.lastConnectCursor = cursor }
            logger.info("\(name): connecting", metadata: ["url": "\(url)", "cursor": "\(cursor.map(String.init) ?? "live")"])
            let activity = WebSocketConnection.Activity()
            // A one-thread event loop per connection, so that stop() and the stall watchdog can close it in any phase.
            let eventLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            guard register(eventLoop, activity) else {
                eventLoop.shutdownGracefully { _ in }
                break
            }
            let connection = WebSocketConnection(
                settings: settings, url: url, number: number, buffer: buffer, counters: counters, logger: logger,
                eventLoopGroup: eventLoop, inspect: inspect,
                onConnected: { [counters, logger] in
                    counters.update {
                        $0.connects += 1
                        $0.connected = true
                    }
                    logger.info("\(name): connected", metadata: ["cursor": "\(cursor.map(String.init) ?? "live")"])
                })
            let reason = await connection.run(activity: activity)
            let (handshakeCompleted, received, _) = activity.snapshot
            counters.update {
                $0.connected = false
                switch reason {
                case .stalled: $0.stalls += 1
                case .oversizedFrame: $0.oversizedMessages += 1
                case .errorMessage: $0.errorMessages += 1
                default: break
                }
                if !handshakeCompleted && reason != .stopped { $0.connectFailures += 1 }
            }
            if reason == .stopped || isStopped() { break }
            // A connection that delivered something was healthy: start the backoff over. One the
            // server ended with an error message was not (FutureCursor would otherwise loop fast).
            failedAttempts = received > 0 && reason != .errorMessage ? 0 : failedAttempts + 1
            let delay = backoff.delayMilliseconds(attempt: max(0, failedAttempts - 1), using: &generator)
            var metadata: Logger.Metadata = ["reason": "\(reason)", "messages": "\(received)", "retry_in_ms": "\(delay)"]
            metadata.merge(progressMetadata()) { current, _ in current }
            switch reason {
            case .oversizedFrame:
                logger.error("\(name): a frame over the frame limit (4 × \(settings.maximumMessageBytesVariable)) ended the connection", metadata: metadata)
            case .failed where !handshakeCompleted:
                logger.warning("\(name): connection attempt failed", metadata: metadata)
            case .errorMessage:
                logger.warning("\(name): the server sent an error and the connection was closed", metadata: metadata)
            default:
                logger.info("\(name): disconnected", metadata: metadata)
            }
            do {
                try await Task.sleep(nanoseconds: UInt64(delay) * 1_000_000)
            } catch {
                break
            }
        }
        logger.info("\(name): stopped")
    }
}
