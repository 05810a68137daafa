import Foundation

/// One event on its way to a partition writer.
struct QueuedEvent {
    var event: JetstreamEvent
    /// Arrival order (the `CommitWatermark` sequence).
    var sequence: Int64
    /// Monotonic nanoseconds when the reader received it (event-to-commit latency).
    var receivedAt: UInt64
}

/// A partition's bounded FIFO. `put` blocks while it is full (backpressure to the reader);
/// `takeBatch` hands a writer up to `maxCount` events, waiting up to `maxDelay` after the first
/// one for the batch to fill.
final class PartitionQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [QueuedEvent] = []
    private var head = 0
    private var closed = false
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    var count: Int { condition.withLock { items.count - head } }

    /// Waits for room, then appends. Returns false when the queue was closed meanwhile.
    @discardableResult
    func put(_ item: QueuedEvent) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count - head >= capacity && !closed { condition.wait() }
        guard !closed else { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// No more `put`s: writers drain what is queued, then `takeBatch` returns nil.
    func close() {
        condition.withLock {
            closed = true
            condition.broadcast()
        }
    }

    /// Up to `maxCount` events in order; nil once closed and empty.
    func takeBatch(maxCount: Int, maxDelay: TimeInterval) -> [QueuedEvent]? {
        condition.lock()
        defer { condition.unlock() }
        while items.count == head && !closed { condition.wait() }
        if items.count == head { return nil }
        let deadline = Date(timeIntervalSinceNow: maxDelay)
        while items.count - head < maxCount && !closed {
            guard condition.wait(until: deadline) else { break }
        }
        let end = min(items.count, head + maxCount)
        let batch = Array(items[head..<end])
        head = end
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 4096 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return batch
    }
}
