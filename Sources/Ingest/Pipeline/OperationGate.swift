import Foundation

/// A counting semaphore for blocking threads (`MAX_CONCURRENT_OPS`): FIFO enough for a handful of
/// writer threads, no busy waiting.
final class OperationGate: @unchecked Sendable {
    private let condition = NSCondition()
    private var available: Int
    let permits: Int

    init(permits: Int) {
        self.permits = permits
        available = permits
    }

    func withPermit<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        while available == 0 { condition.wait() }
        available -= 1
        condition.unlock()
        defer {
            condition.lock()
            available += 1
            condition.signal()
            condition.unlock()
        }
        return try body()
    }

    /// Permits in use.
    var inUse: Int { condition.withLock { permits - available } }
}
