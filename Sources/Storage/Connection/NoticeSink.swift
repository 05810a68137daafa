import CLibPQ
import Logging

/// Routes a connection's server notices (NOTICE, WARNING, and the farewell error of a terminated
/// backend) to the logger at debug level. Without it libpq prints them on stderr, which would
/// interleave with the services' own output.
final class NoticeSink {
    let logger: Logger

    init(logger: Logger) { self.logger = logger }

    /// Installs this sink as the connection's notice processor. The connection keeps the sink alive
    /// for as long as the libpq handle exists, so the unretained pointer stays valid.
    func install(on connection: OpaquePointer) {
        PQsetNoticeProcessor(connection, { context, message in
            guard let context, let message else { return }
            let sink = Unmanaged<NoticeSink>.fromOpaque(context).takeUnretainedValue()
            var text = String(cString: message)
            while text.last?.isWhitespace == true { text.removeLast() }
            sink.logger.debug("postgres notice", metadata: ["notice": "\(text)"])
        }, Unmanaged.passUnretained(self).toOpaque())
    }
}
