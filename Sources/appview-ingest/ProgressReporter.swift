import Foundation
import Ingest

/// Prints the pipeline's counters to stderr about once a second while it runs.
final class ProgressReporter: @unchecked Sendable {
    private let condition = NSCondition()
    private var stopped = false
    private let finished = DispatchGroup()

    init(pipeline: IngestPipeline, label: String = "import", interval: TimeInterval = 1) {
        finished.enter()
        let thread = Thread { [self] in
            let started = Date()
            condition.lock()
            while !stopped {
                _ = condition.wait(until: Date(timeIntervalSinceNow: interval))
                if stopped { break }
                let values = pipeline.statistics()
                let elapsed = Date().timeIntervalSince(started)
                let rate = elapsed > 0 ? Double(values.applied) / elapsed : 0
                FileHandle.standardError.write(Data(
                    "\(label): \(values.received) lines, \(values.applied) applied, \(values.errorCount) errors, \(values.ignoredCount) ignored, \(Int(rate)) events/s\n".utf8))
            }
            condition.unlock()
            finished.leave()
        }
        thread.name = "ingest-progress"
        thread.start()
    }

    func stop() {
        condition.withLock {
            stopped = true
            condition.broadcast()
        }
        finished.wait()
    }
}
