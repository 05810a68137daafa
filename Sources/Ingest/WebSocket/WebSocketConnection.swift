import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import NIOWebSocket
import WSClient

/// Why a connection ended.
enum WebSocketDisconnect: Error, Equatable {
    /// `stop()` was called.
    case stopped
    /// Nothing arrived for the stall timeout while the buffer had room.
    case stalled
    /// A single frame above the frame limit: the client cannot read it, so the connection is recycled.
    /// (swift-websocket 1.6.2 ends the inbound stream without this error, so such a frame usually
    /// shows up as `closedByServer`; kept for versions that surface it.)
    case oversizedFrame
    /// The server sent an error message (the relay's op -1 frame: FutureCursor, ConsumerTooSlow, …),
    /// after which it closes: the connection is closed and re-opened after the backoff.
    case errorMessage
    /// The server closed the connection (a close frame or end of stream).
    case closedByServer
    /// Anything else: refused, TLS, handshake, protocol or network error.
    case failed(String)
}

/// How a source connects: the parts of its configuration the WebSocket machinery needs.
struct WebSocketSettings: Sendable {
    /// Log prefix and label: `jetstream`, `relay`.
    var name: String
    /// `.text` (Jetstream's JSON) or `.binary` (the relay's DAG-CBOR frames).
    var messageKind: WebSocketMessageAssembler.FrameKind
    var stallTimeoutSeconds: Int
    var pingIntervalSeconds: Int
    var maximumMessageBytes: Int
    var frameSizeLimit: Int
    var reconnectMinimumMilliseconds: Int
    var reconnectMaximumMilliseconds: Int
    var trustedCertificatesFile: String?
    /// The variable that sets `maximumMessageBytes`, for log lines.
    var maximumMessageBytesVariable: String
}

/// What a source makes of a complete message, decided on the connection's task (so it must be cheap).
enum WebSocketMessageVerdict: Equatable {
    /// Into the buffer.
    case deliver
    /// Dropped (the source counted and logged it).
    case skip
    /// Into the buffer, then the connection is closed (`WebSocketDisconnect.errorMessage`): the server
    /// announced an error, so this connection is over and it must not count as a healthy one.
    case deliverThenClose
}

/// One WebSocket connection: reads frames, assembles messages, hands them to the bounded buffer
/// (awaiting room: backpressure), sends keep-alive pings, and watches for stalls. Returns when the
/// connection ends, saying why; never throws.
struct WebSocketConnection {
    let settings: WebSocketSettings
    let url: String
    /// This connection's number: it tags every message put into the buffer.
    let number: Int
    let buffer: WebSocketMessageBuffer
    let counters: WebSocketCounters
    let logger: Logger
    /// This connection's own event loop: shutting it down closes the connection in any phase
    /// (swift-websocket 1.6.2 ignores cancellation until the upgrade has completed).
    let eventLoopGroup: MultiThreadedEventLoopGroup
    /// Judges each complete message of the expected kind.
    let inspect: @Sendable (Data) -> WebSocketMessageVerdict
    /// Called once the handshake has completed.
    let onConnected: @Sendable () -> Void

    /// Tells the watchdog when the connection last made progress.
    final class Activity: @unchecked Sendable {
        private let lock = NSLock()
        private var lastProgress = DispatchTime.now().uptimeNanoseconds
        private(set) var handshakeCompleted = false
        private(set) var messagesReceived = 0
        private var inboundError: Error?
        private(set) var stalled = false

        func markStalled() {
            lock.lock()
            stalled = true
            lock.unlock()
        }

        /// The error that ended reading: swift-websocket may replace it by a later close error, so it is kept here.
        func recordInboundError(_ error: Error) {
            lock.lock()
            if inboundError == nil { inboundError = error }
            lock.unlock()
        }

        var firstInboundError: Error? {
            lock.lock()
            defer { lock.unlock() }
            return inboundError
        }

        func touch(countingMessage: Bool = false) {
            lock.lock()
            lastProgress = DispatchTime.now().uptimeNanoseconds
            if countingMessage { messagesReceived += 1 }
            lock.unlock()
        }

        func markConnected() {
            lock.lock()
            handshakeCompleted = true
            lastProgress = DispatchTime.now().uptimeNanoseconds
            lock.unlock()
        }

        var idleNanoseconds: UInt64 {
            lock.lock()
            defer { lock.unlock() }
            return DispatchTime.now().uptimeNanoseconds &- lastProgress
        }

        var snapshot: (connected: Bool, messages: Int, stalled: Bool) {
            lock.lock()
            defer { lock.unlock() }
            return (handshakeCompleted, messagesReceived, stalled)
        }
    }

    /// Runs the connection to its end. `activity` lets the caller see whether the handshake
    /// completed and how many messages arrived.
    func run(activity: Activity) async -> WebSocketDisconnect {
        var clientConfiguration = WebSocketClientConfiguration(
            maxFrameSize: settings.frameSizeLimit,
            closeTimeout: .seconds(2),
            autoPing: .disabled,  // its pong check needs the inbound side read, which backpressure pauses
            validateUTF8: false
        )
        clientConfiguration.additionalHeaders[.userAgent] = "appview-ingest"
        let handler = makeHandler(activity: activity)
        var tlsConfiguration = TLSConfiguration.makeClientConfiguration()  // used for wss:// only
        if let file = settings.trustedCertificatesFile { tlsConfiguration.trustRoots = .file(file) }
        let client = WebSocketClient(url: url, configuration: clientConfiguration, tlsConfiguration: tlsConfiguration,
                                     eventLoopGroup: eventLoopGroup, logger: logger, handler: handler)
        defer { eventLoopGroup.shutdownGracefully { _ in } }
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await client.run() }
                group.addTask { try await watchForStall(activity: activity) }
                // The first to finish ends the connection: the client (closed) or the watchdog (stall).
                try await group.next()
                group.cancelAll()
            }
        } catch let disconnect as WebSocketDisconnect {
            return Task.isCancelled ? .stopped : disconnect  // the watchdog's stall, or a protocol violation
        } catch {
            if Task.isCancelled { return .stopped }
            return activity.snapshot.stalled ? .stalled : Self.classify(activity.firstInboundError ?? error)
        }
        if Task.isCancelled { return .stopped }
        if activity.snapshot.stalled { return .stalled }
        return activity.firstInboundError.map(Self.classify) ?? .closedByServer
    }

    /// Ends a connection still in its TCP/TLS/upgrade phase by shutting its event loop down.
    static func closeBeforeHandshake(_ eventLoopGroup: MultiThreadedEventLoopGroup) {
        eventLoopGroup.shutdownGracefully { _ in }
    }

    static func classify(_ error: Error) -> WebSocketDisconnect {
        switch error {
        case let disconnect as WebSocketDisconnect: return disconnect
        case NIOWebSocketError.invalidFrameLength: return .oversizedFrame
        case let error as WebSocketClientError where error == .serverSentMessageTooLarge: return .oversizedFrame
        default: return .failed(String(describing: error))
        }
    }

    private func makeHandler(activity: Activity) -> WebSocketDataHandler<WebSocketClient.Context> {
        { inbound, outbound, _ in
            activity.markConnected()
            onConnected()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await sendKeepAlivePings(outbound: outbound, intervalSeconds: settings.pingIntervalSeconds)
                }
                do {
                    try await receive(inbound, activity: activity)
                } catch {
                    activity.recordInboundError(error)
                    throw error
                }
                group.cancelAll()
            }
        }
    }

    /// Reads frames until the stream ends or the buffer is closed (stop), handing each complete
    /// message to the buffer; suspends while the buffer is full, which stops reading the socket.
    private func receive(_ inbound: WebSocketInboundStream, activity: Activity) async throws {
        var assembler = WebSocketMessageAssembler(maximumMessageBytes: settings.maximumMessageBytes, expecting: settings.messageKind)
        for try await frame in inbound {
            activity.touch()
            let kind: WebSocketMessageAssembler.FrameKind
            switch frame.opcode {
            case .text: kind = .text
            case .binary: kind = .binary
            case .continuation: kind = .continuation
            }
            switch assembler.consume(kind: kind, payload: Data(frame.data.readableBytesView), fin: frame.fin) {
            case .incomplete:
                continue
            case .message(let message):
                let verdict = inspect(message)
                if verdict == .skip { continue }
                counters.update {
                    $0.messages += 1
                    $0.bytes += message.count
                    $0.lastMessageReceivedAt = Date()
                }
                guard await buffer.put(WebSocketMessage(data: message, connection: number)) else { return }  // stopped
                if verdict == .deliverThenClose { throw WebSocketDisconnect.errorMessage }
                activity.touch(countingMessage: true)
            case .oversized(let size, let prefix):
                counters.update { $0.oversizedMessages += 1 }
                var metadata: Logger.Metadata = ["bytes": "\(size)", "limit": "\(settings.maximumMessageBytes)"]
                if settings.messageKind == .text {
                    metadata["time_us"] = "\(JetstreamTimeField.timeMicroseconds(in: prefix).map(String.init) ?? "unknown")"
                }
                logger.error("\(settings.name): skipped a message over \(settings.maximumMessageBytesVariable)", metadata: metadata)
            case .unexpectedKind(let size):
                counters.update { $0.invalidMessages += 1 }
                logger.warning("\(settings.name): skipped a \(settings.messageKind == .text ? "binary" : "text") message", metadata: [
                    "bytes": "\(size)",
                    "expected": "\(settings.messageKind == .text ? "text (compression is never requested)" : "binary")",
                ])
            case .protocolViolation:
                throw WebSocketDisconnect.failed("fragmented message out of sequence")
            }
        }
    }

    /// Ping frames keep idle intermediaries (NAT, proxies) from dropping the connection. Pongs are
    /// not awaited: while the pipeline applies backpressure nothing is read, pongs included, so a
    /// pong deadline would kill healthy connections. The stall watchdog judges liveness instead.
    private func sendKeepAlivePings(outbound: WebSocketOutboundWriter, intervalSeconds: Int) async throws {
        while true {
            try await Task.sleep(for: .seconds(intervalSeconds))
            try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer())))
        }
    }

    /// Throws `.stalled` once nothing has arrived for the stall timeout. Waiting for the consumer
    /// to make room is not a stall, so time spent backpressured does not count.
    private func watchForStall(activity: Activity) async throws {
        let timeout = UInt64(settings.stallTimeoutSeconds) * 1_000_000_000
        let checkInterval = min(UInt64(1_000_000_000), timeout / 4)
        while true {
            try await Task.sleep(nanoseconds: checkInterval)
            if buffer.state.producerWaiting {
                activity.touch()
            } else if activity.idleNanoseconds > timeout {
                activity.markStalled()
                if !activity.snapshot.connected {
                    // Mid-handshake the client ignores cancellation: closing its event loop ends it.
                    Self.closeBeforeHandshake(eventLoopGroup)
                }
                throw WebSocketDisconnect.stalled  // after the handshake, cancelling the client closes it
            }
        }
    }
}

/// What the connections of one source have done, shared by its connection tasks and read by the
/// source's `statistics`. Counters only grow.
struct WebSocketStatistics: Sendable, Equatable {
    var connects = 0
    var reconnects = 0
    var connectFailures = 0
    var stalls = 0
    var oversizedMessages = 0
    var invalidMessages = 0
    var messages = 0
    var bytes = 0
    var connected = false
    var lastMessageReceivedAt: Date?
    var lastConnectCursor: Int64?
    /// Connections ended by an error message from the server.
    var errorMessages = 0
}

/// The source's connection counters, shared by its connection tasks and read by `statistics`.
final class WebSocketCounters: @unchecked Sendable {
    private let lock = NSLock()
    private var statistics = WebSocketStatistics()

    func update(_ body: (inout WebSocketStatistics) -> Void) {
        lock.lock()
        body(&statistics)
        lock.unlock()
    }

    var snapshot: WebSocketStatistics {
        lock.lock()
        defer { lock.unlock() }
        return statistics
    }
}
