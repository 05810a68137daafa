import Foundation
@testable import Ingest
import Testing

@Suite("concurrent writers", .serialized)
struct ConcurrentWriterTests {
    @Test("writers liking the same post at once leave an exact count")
    func concurrentLikes() throws {
        let harness = try IngestHarness("ingest_concurrent")
        let post = EventLines.postURI(BatchOrderingTests.bob, "3p")
        let base = BatchOrderingTests.base
        let writers = 3, batches = 8, likesPerBatch = 150
        let group = DispatchGroup()
        let failures = FailureLog()
        for writer in 0..<writers {
            DispatchQueue.global().async(group: group) {
                do {
                    for batch in 0..<batches {
                        let lines = (0..<likesPerBatch).map { index in
                            EventLines.like("did:plc:writer\(writer)liker\(index)aaaaaaaaa", "3b\(batch)", time: base + Int64(batch * 10 + index), subject: post)
                        }
                        try harness.apply(lines)
                    }
                } catch {
                    failures.record("\(error)")
                }
            }
        }
        group.wait()
        #expect(failures.messages.isEmpty)
        #expect(try harness.int("SELECT count(*) FROM likes") == writers * batches * likesPerBatch)
        #expect(try harness.int("SELECT like_count FROM post_aggregates WHERE uri = $1", [post]) == writers * batches * likesPerBatch)
    }
}

/// Errors collected from background threads.
final class FailureLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func record(_ message: String) { lock.withLock { stored.append(message) } }
    var messages: [String] { lock.withLock { stored } }
}
