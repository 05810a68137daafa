import Foundation
import Storage

/// Runs blocking jobs on `workers` dedicated threads, each with its own database connection,
/// taking jobs in the given order (put the largest first). Rethrows the first failure.
final class ParallelJobs: @unchecked Sendable {
    struct Job {
        var label: String
        var body: (PostgresConnection) throws -> String
    }

    private let lock = NSLock()
    private var queue: [Job]
    private var failure: Error?

    init(_ jobs: [Job]) { queue = jobs }

    func run(workers: Int, connect: @escaping () throws -> PostgresConnection) throws {
        let group = DispatchGroup()
        for _ in 0..<max(1, workers) {
            group.enter()
            let thread = Thread { [self] in
                defer { group.leave() }
                do {
                    let connection = try connect()
                    defer { connection.close() }
                    while let job = next() {
                        let started = Date()
                        let summary = try job.body(connection)
                        Progress.say("\(job.label): \(summary) in \(Progress.seconds(since: started))")
                    }
                } catch {
                    lock.lock()
                    if failure == nil { failure = error }
                    queue.removeAll()
                    lock.unlock()
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        if let failure { throw failure }
    }

    private func next() -> Job? {
        lock.lock()
        defer { lock.unlock() }
        return queue.isEmpty ? nil : queue.removeFirst()
    }
}

/// Progress lines on stderr with wall-clock offsets, so the operator sees where time goes.
enum Progress {
    nonisolated(unsafe) static var started = Date()
    private static let lock = NSLock()

    static func say(_ message: String) {
        let line = String(format: "[%7.1fs] ", Date().timeIntervalSince(started)) + message + "\n"
        lock.lock()
        FileHandle.standardError.write(Data(line.utf8))
        lock.unlock()
    }

    static func seconds(since date: Date) -> String {
        String(format: "%.1f s", Date().timeIntervalSince(date))
    }
}
