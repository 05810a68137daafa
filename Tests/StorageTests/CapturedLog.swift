import Foundation
import Logging

/// A logger whose messages (with metadata) are kept for assertions.
final class CapturedLog: @unchecked Sendable {
    private let store = Locked<[String]>([])

    var messages: [String] { store.current }

    var logger: Logger {
        let store = self.store
        var logger = Logger(label: "storage-tests") { _ in Handler(store: store) }
        logger.logLevel = .trace
        return logger
    }

    private struct Handler: LogHandler {
        let store: Locked<[String]>
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let extra = (event.metadata ?? [:]).map { "\($0)=\($1)" }.sorted().joined(separator: " ")
            store.withValue { $0.append("\(event.level) \(event.message) \(extra)") }
        }
    }
}
