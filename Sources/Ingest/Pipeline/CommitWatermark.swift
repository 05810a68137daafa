import Foundation

/// The resume cursor as a low watermark across partitions: the highest position (`time_us`, or the
/// source's own cursor such as the relay's `seq`) such that every event received up to it (in
/// arrival order) is committed. Events are registered in arrival order
/// by the reader and marked committed by the writers, in any order across partitions.
///
/// A writer asks for `watermark(assumingCommitted:)` of its batch before its transaction and
/// writes the answer in that transaction: if the transaction commits, the batch is committed and so,
/// already, is everything else the answer covers. At most `capacity` events are tracked: past it,
/// `register` waits for commits (events that need no write, e.g. ignored collections, would
/// otherwise pile up behind a stalled partition).
final class CommitWatermark: @unchecked Sendable {
    private let lock = NSCondition()
    let capacity: Int
    private var cancelled = false
    /// Sequence number of `times[0]`.
    private var base: Int64 = 0
    private var times: [Int64] = []
    private var done: [Bool] = []
    private var head = 0
    /// Highest time of the committed prefix already dropped from `times`.
    private var committedTime: Int64

    /// `initial`: the persisted cursor this run resumes from (0 when none). `capacity` must exceed
    /// the events that can wait for a write (queues plus batches being written), or `register`
    /// could wait for commits that never come.
    init(initial: Int64 = 0, capacity: Int = Int.max) {
        committedTime = initial
        self.capacity = capacity
    }

    /// The reader saw an event; `alreadyDone` for events that need no write (ignored kinds).
    /// Waits while `capacity` events are tracked; nil once `cancel()` was called.
    func register(time: Int64, alreadyDone: Bool = false) -> Int64? {
        lock.withLock {
            while times.count - head >= capacity && !cancelled { lock.wait() }
            guard !cancelled else { return nil }
            let sequence = base + Int64(times.count)
            times.append(time)
            done.append(alreadyDone)
            if alreadyDone { advance() }
            return sequence
        }
    }

    /// The watermark if the batch `sequences` (ascending) committed now.
    func watermark(assumingCommitted sequences: [Int64]) -> Int64 {
        lock.withLock {
            var best = committedTime
            var next = 0
            var index = head
            while index < times.count {
                let sequence = base + Int64(index)
                if done[index] {
                    // committed
                } else if next < sequences.count, sequences[next] == sequence {
                    next += 1
                } else {
                    break
                }
                best = max(best, times[index])
                index += 1
            }
            return best
        }
    }

    /// The writer's transaction committed.
    func markCommitted(_ sequences: [Int64]) {
        lock.withLock {
            for sequence in sequences {
                let index = Int(sequence - base)
                if index >= head && index < done.count { done[index] = true }
            }
            advance()
            lock.broadcast()
        }
    }

    /// The pipeline is failing: a waiting and every later `register` return nil.
    func cancel() {
        lock.withLock {
            cancelled = true
            lock.broadcast()
        }
    }

    /// Highest time every received event at or below which is committed.
    var committed: Int64 { lock.withLock { committedTime } }

    /// Events registered and not yet committed.
    var inFlight: Int { lock.withLock { done[head...].lazy.filter { !$0 }.count } }

    private func advance() {
        while head < times.count && done[head] {
            committedTime = max(committedTime, times[head])
            head += 1
        }
        if head == times.count {
            base += Int64(head)
            times.removeAll(keepingCapacity: true)
            done.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 4096 && head * 2 >= times.count {
            base += Int64(head)
            times.removeFirst(head)
            done.removeFirst(head)
            head = 0
        }
    }
}
