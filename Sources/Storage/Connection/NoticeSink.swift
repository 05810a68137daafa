import CLibPQ
import Foundation
import Logging

/// Routes a connection's server notices (NOTICE, WARNING, and the farewell error of a terminated
/// backend) to the logger at debug level. Without it libpq prints them on stderr, which would
/// interleave with the services' own output. It also remembers a FATAL farewell, which marks the
/// connection dead even before the socket's end-of-file arrives.
final class NoticeSink: @unchecked Sendable {
    let logger: Logger
    private let lock = NSLock()
    private var fatal = false

    init(logger: Logger) { self.logger = logger }

    /// True once the server announced that it is closing this session (severity FATAL or PANIC).
    var receivedFatal: Bool {
        lock.lock(); defer { lock.unlock() }
        return fatal
    }

    /// Installs this sink as the connection's notice receiver. The connection keeps the sink alive
    /// for as long as the libpq handle exists, so the unretained pointer stays valid.
    func install(on connection: OpaquePointer) {
        PQsetNoticeReceiver(connection, { context, result in
            guard let context, let result else { return }
            let sink = Unmanaged<NoticeSink>.fromOpaque(context).takeUnretainedValue()
            sink.receive(result)
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    private func receive(_ result: OpaquePointer) {
        // PG_DIAG_SEVERITY_NONLOCALIZED ('V'): the severity in English whatever lc_messages says.
        let severity = PQresultErrorField(result, Int32(UInt8(ascii: "V"))).map { String(cString: $0) } ?? ""
        var text = PQresultErrorMessage(result).map { String(cString: $0) } ?? ""
        while text.last?.isWhitespace == true { text.removeLast() }
        if severity == "FATAL" || severity == "PANIC" {
            lock.lock()
            fatal = true
            lock.unlock()
        }
        logger.debug("postgres notice", metadata: ["severity": "\(severity)", "notice": "\(text)"])
    }
}
