import Foundation
import Logging

/// The relay firehose (`com.atproto.sync.subscribeRepos`) as a live event source: binary DAG-CBOR
/// frames over WebSocket (`ReconnectingWebSocket`, as Jetstream), decoded by `RelayFrameDecoder` into
/// the Jetstream events the pipeline consumes, with the relay's `seq` as the resume cursor.
///
/// The connection task only buffers frames (bounded: a full buffer stops reading the socket) and
/// notices error frames; decoding runs in `next()`, on the pipeline's dedicated reader thread, never
/// on the cooperative pool. Every (re)connect subscribes with `cursor` = the committed `seq` (the
/// relay sends the frames after it; no rewind is needed; with nothing committed yet, the seq before
/// the first frame received, so a reconnect does not jump to the live head); frames at or below the highest `seq`
/// already accepted — the overlap after a reconnect, or a relay repeating itself — are skipped and
/// counted (`RelaySourceSequencer`). Events get `time_us` = the wall clock when decoded (strictly
/// increasing), as Jetstream stamps its own.
///
/// Protocol messages: `#info` (e.g. OutdatedCursor) is logged and counted; an error frame
/// (FutureCursor, ConsumerTooSlow, …) is logged and counted, and its connection is closed and
/// re-opened after the backoff; `tooBig` commits (no records) and `#sync` (repository reset) are
/// counted, logged and move the cursor; a frame that cannot be decoded is counted by kind, logged
/// and skipped. Nothing of this is fatal.
public final class RelaySource: EventSource, @unchecked Sendable {
    public let configuration: RelaySourceConfiguration
    private let buffer: WebSocketMessageBuffer
    private let socket: ReconnectingWebSocket
    private let decoder: RelayFrameDecoder
    private let resumeCursor: @Sendable () -> Int64?
    private let logger: Logger
    private let clock: @Sendable () -> Int64
    private let counters = RelayCounters()
    // Reader-thread state (one reader at a time, as the pipeline guarantees).
    private var sequencer: RelaySourceSequencer?
    private var pending: [SourceEvent] = []
    private var pendingIndex = 0
    private var lastTime: Int64 = 0

    /// - Parameters:
    ///   - resumeCursor: the committed `seq`, or nil to tail live; called at every (re)connect on a
    ///     thread of its own, and once on the reader thread before the first frame.
    ///   - clock: microseconds since the epoch (tests may fix it).
    public init(configuration: RelaySourceConfiguration, resumeCursor: @escaping @Sendable () -> Int64?, logger: Logger,
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1_000_000) }) {
        self.configuration = configuration
        self.resumeCursor = resumeCursor
        self.logger = logger
        self.clock = clock
        decoder = RelayFrameDecoder(wantedCollections: configuration.wantedCollections,
                                    limits: RelayDecodingLimits(maximumFrameBytes: max(configuration.maximumMessageBytes,
                                                                                     RelayDecodingLimits.default.maximumFrameBytes)))
        let buffer = WebSocketMessageBuffer(capacity: configuration.bufferCapacity, maximumBytes: configuration.bufferMaximumBytes)
        self.buffer = buffer
        let counters = counters
        let firstSeq = FirstSeq()
        socket = ReconnectingWebSocket(
            settings: configuration.webSocketSettings, buffer: buffer, logger: logger, resumeCursor: resumeCursor,
            subscribe: { [configuration] committed in
                // Nothing committed yet but frames received: resume before the first of them, not at the live
                // head (which would skip what the relay sent while disconnected); the overlap is skipped as replayed.
                let cursor = committed ?? firstSeq.value.map { $0 - 1 }
                return (configuration.subscribeURL(cursor: cursor), cursor)
            },
            inspect: { message in
                let operation = RelayFrameHeader.operation(of: message)
                if operation == 1 { firstSeq.noteIfFirst(message) }
                // The server closes after an error frame; closing here too ends the connection even if it does not.
                return operation == -1 ? .deliverThenClose : .deliver
            },
            progressMetadata: { ["last_seq": "\(counters.snapshot.lastSeq.map(String.init) ?? "none")"] })
    }

    /// The next event or position. Blocks the calling thread until a frame arrives and decodes it
    /// there; nil once `stop()` was called. Never throws: connection trouble and bad frames are
    /// retried or skipped, counted and logged.
    public func next() throws -> SourceEvent? {
        while true {
            if pendingIndex < pending.count {
                pendingIndex += 1
                return pending[pendingIndex - 1]
            }
            pending.removeAll(keepingCapacity: true)
            pendingIndex = 0
            if sequencer == nil { sequencer = RelaySourceSequencer(resumeCursor: resumeCursor()) }
            socket.startIfNeeded()
            guard let message = buffer.takeMessage() else { return nil }
            handle(message)
        }
    }

    /// Closes the connection, ends reconnecting and makes `next()` return nil promptly. Any thread.
    public func stop() { socket.stop() }

    /// Counters and buffer state now.
    public var statistics: RelaySourceStatistics {
        var snapshot = counters.snapshot
        snapshot.record(connection: socket.counters.snapshot, buffer: buffer.state)
        return snapshot
    }

    /// The `time_us` of the next frame's events: now, but never at or below the previous frame's.
    private func nextTime() -> Int64 {
        lastTime = max(clock(), lastTime + 1)
        return lastTime
    }

    /// Decodes one frame into `pending` (or counts why it yields nothing).
    private func handle(_ message: WebSocketMessage) {
        let frame: RelayFrame
        do throws(RelayDecodingError) {
            frame = try decoder.decode(Array(message.data), timeMicroseconds: nextTime())
        } catch {
            counters.update { $0.malformedFrames[error.kind, default: 0] += 1 }
            logger.error("relay: skipped a frame that cannot be decoded", metadata: [
                "error": "\(error)", "bytes": "\(message.data.count)", "after_seq": "\(sequencer?.highestSeq.map(String.init) ?? "none")",
            ])
            return
        }
        counters.update { $0.frames[frame.kind.name, default: 0] += 1 }
        switch frame.kind {
        case .info:
            let name = frame.message.map(Self.name) ?? "unknown"
            counters.update { $0.infoFrames[name, default: 0] += 1 }
            // OutdatedCursor: the cursor is older than the relay keeps; it starts at its oldest frame and the gap is lost.
            logger.warning("relay: info frame", metadata: ["info": "\(frame.message ?? "")"])
            return
        case .error:
            let name = frame.message.map(Self.name) ?? "unknown"
            counters.update { $0.errorFrames[name, default: 0] += 1 }
            var metadata: Logger.Metadata = ["error": "\(frame.message ?? "")", "after_seq": "\(sequencer?.highestSeq.map(String.init) ?? "none")"]
            if name == "FutureCursor" {
                metadata["hint"] = "the stored relay cursor is ahead of this relay (another relay's seq?): reset it or use --cursor-source"
            }
            logger.error("relay: error frame; the connection is closed and re-opened", metadata: metadata)
            return
        case .unknown(let type):
            logger.warning("relay: skipped a frame of an unknown type", metadata: ["type": "\(type)"])
            return
        case .commit, .identity, .account, .sync:
            break
        }
        guard let seq = frame.seq else {
            counters.update { $0.malformedFrames["missingSeq", default: 0] += 1 }
            return
        }
        if frame.tooBig {
            counters.update { $0.tooBigCommits += 1 }
            logger.warning("relay: tooBig commit: its records are not in the frame and are not fetched", metadata: [
                "seq": "\(seq)", "repo": "\(frame.repo ?? "")",
            ])
        }
        if frame.kind == .sync {
            counters.update { $0.syncFrames += 1 }
            logger.info("relay: #sync (repository state reset); not re-fetched", metadata: ["seq": "\(seq)", "repo": "\(frame.repo ?? "")"])
        }
        if !frame.skippedOperations.isEmpty {
            counters.update { $0.skippedOperations += frame.skippedOperations.count }
            for operation in frame.skippedOperations.prefix(4) {
                logger.warning("relay: commit op yielded no event", metadata: [
                    "seq": "\(seq)", "repo": "\(frame.repo ?? "")", "path": "\(operation.path)", "reason": "\(operation.reason)",
                ])
            }
        }
        switch sequencer!.admit(seq: seq, events: frame.events, connection: message.connection) {
        case .accept(let items):
            pending = items
            pendingIndex = 0
            counters.update {
                $0.events += frame.events.count
                $0.lastSeq = seq
            }
        case .replayed:
            counters.update { $0.replayedFrames += 1 }
        case .outOfOrder(let previous):
            counters.update { $0.outOfOrderFrames += 1 }
            logger.warning("relay: skipped a frame whose seq is not above the last one", metadata: [
                "seq": "\(seq)", "last_seq": "\(previous)",
            ])
        }
    }

    /// `Name` of `Name: message`.
    private static func name(_ message: String) -> String {
        String(message.prefix { $0 != ":" })
    }
}

extension RelayFrame.Kind {
    /// The key the statistics count this kind under.
    var name: String {
        switch self {
        case .commit: return "commit"
        case .identity: return "identity"
        case .account: return "account"
        case .sync: return "sync"
        case .info: return "info"
        case .error: return "error"
        case .unknown(let type): return type
        }
    }
}

/// The `seq` of the first frame this source received, read on the connection task from that frame
/// alone (decoded without its records, so cheaply): where a reconnect resumes while nothing is committed.
private final class FirstSeq: @unchecked Sendable {
    private let lock = NSLock()
    private var seq: Int64?
    private static let decoder = RelayFrameDecoder(wantedCollections: [])

    var value: Int64? { lock.withLock { seq } }

    func noteIfFirst(_ frame: Data) {
        guard value == nil, let found = try? Self.decoder.decode(Array(frame), timeMicroseconds: 0).seq else { return }
        lock.withLock { if seq == nil { seq = found } }
    }
}

/// The reader-side counters of a `RelaySource`.
final class RelayCounters: @unchecked Sendable {
    private let lock = NSLock()
    private var statistics = RelaySourceStatistics()

    func update(_ body: (inout RelaySourceStatistics) -> Void) {
        lock.lock()
        body(&statistics)
        lock.unlock()
    }

    var snapshot: RelaySourceStatistics {
        lock.lock()
        defer { lock.unlock() }
        return statistics
    }
}
