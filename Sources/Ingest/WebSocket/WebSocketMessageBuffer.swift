import DequeModule
import Foundation

/// A complete WebSocket message and the number of the connection it arrived on (connections of one
/// source are numbered from 1), so a consumer can tell a replay after a reconnect from a repeat.
struct WebSocketMessage: Sendable, Equatable {
    var data: Data
    var connection: Int
}

/// The bounded hand-off between the async task reading the socket and the pipeline's thread.
/// The producer *awaits* (suspends, never blocks a cooperative thread) while the buffer holds
/// `capacity` messages or `maximumBytes` bytes, so the socket is not read and TCP backpressure
/// reaches the server; the consumer *blocks* its own thread until a message arrives or the buffer
/// is closed. One producer at a time.
final class WebSocketMessageBuffer: @unchecked Sendable {
    private let condition = NSCondition()
    private var messages = Deque<WebSocketMessage>()
    private var byteCount = 0
    private var spaceWaiter: CheckedContinuation<Void, Never>?
    private var closed = false
    private var maximumDepthSeen = 0

    let capacity: Int
    let maximumBytes: Int

    init(capacity: Int, maximumBytes: Int) {
        precondition(capacity > 0 && maximumBytes > 0)
        self.capacity = capacity
        self.maximumBytes = maximumBytes
    }

    /// Appends a message, suspending while the buffer is full. Returns false once closed (the
    /// message is dropped: the source is stopping and the committed cursor will bring it back).
    func put(_ message: Data, connection: Int = 0) async -> Bool {
        await put(WebSocketMessage(data: message, connection: connection))
    }

    func put(_ message: WebSocketMessage) async -> Bool {
        while true {
            switch append(message) {
            case .appended: return true
            case .closed: return false
            case .full:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    waitForRoom(for: message.data.count, continuation)
                }
            }
        }
    }

    private enum AppendResult { case appended, full, closed }

    private func append(_ message: WebSocketMessage) -> AppendResult {
        condition.lock()
        defer { condition.unlock() }
        if closed { return .closed }
        guard hasRoom(for: message.data.count) else { return .full }
        messages.append(message)
        byteCount += message.data.count
        maximumDepthSeen = max(maximumDepthSeen, messages.count)
        condition.signal()
        return .appended
    }

    /// Parks the producer until `take()` makes room or `close()`; resumes at once if that already happened.
    private func waitForRoom(for size: Int, _ continuation: CheckedContinuation<Void, Never>) {
        condition.lock()
        if closed || hasRoom(for: size) {
            condition.unlock()
            continuation.resume()
            return
        }
        precondition(spaceWaiter == nil, "WebSocketMessageBuffer has one producer")
        spaceWaiter = continuation
        condition.unlock()
    }

    /// The oldest message; blocks the calling thread while the buffer is empty. Nil once closed,
    /// even if messages remain (they are not committed, so a restart receives them again).
    func take() -> Data? { takeMessage()?.data }

    /// `take()` with the number of the connection the message arrived on.
    func takeMessage() -> WebSocketMessage? {
        condition.lock()
        while messages.isEmpty && !closed { condition.wait() }
        if closed {
            condition.unlock()
            return nil
        }
        let message = messages.removeFirst()
        byteCount -= message.data.count
        var waiter: CheckedContinuation<Void, Never>?
        if spaceWaiter != nil, hasRoom(forAtLeast: 1) {
            waiter = spaceWaiter
            spaceWaiter = nil
        }
        condition.unlock()
        waiter?.resume()
        return message
    }

    /// Wakes a blocked `take()` and a suspended `put()`; both return at once from now on.
    func close() {
        condition.lock()
        closed = true
        messages.removeAll()
        byteCount = 0
        let waiter = spaceWaiter
        spaceWaiter = nil
        condition.broadcast()
        condition.unlock()
        waiter?.resume()
    }

    /// Depth, bytes, the deepest it has been, and whether the producer is waiting for room.
    var state: (depth: Int, bytes: Int, maximumDepth: Int, producerWaiting: Bool) {
        condition.lock()
        defer { condition.unlock() }
        return (messages.count, byteCount, maximumDepthSeen, spaceWaiter != nil)
    }

    /// A message always fits into an empty buffer, so one larger than `maximumBytes` cannot wedge it.
    private func hasRoom(for size: Int) -> Bool {
        messages.isEmpty || (messages.count < capacity && byteCount + size <= maximumBytes)
    }

    /// The producer is woken as soon as one more message of some size could fit; it re-checks.
    private func hasRoom(forAtLeast size: Int) -> Bool {
        messages.count < capacity && byteCount < maximumBytes
    }
}
