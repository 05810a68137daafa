// TEMPORARY PLACEHOLDER — replaced at merge by the live Jetstream WebSocket source built on the
// `jetstream` branch. It only fixes the API the ingest pipeline and `appview-ingest run` compile
// against; it reads nothing. Do not test against it.
import Foundation
import Logging

/// Settings of the live Jetstream source (placeholder: see the file header).
public struct JetstreamSourceConfiguration: Sendable {
    /// `JETSTREAM_URL`.
    public var url: String

    /// Reads the source's environment variables (placeholder: `JETSTREAM_URL` only).
    public static func fromEnvironment(_ environment: [String: String]) throws -> JetstreamSourceConfiguration {
        JetstreamSourceConfiguration(url: environment["JETSTREAM_URL"] ?? "wss://jetstream2.us-east.bsky.network/subscribe")
    }
}

/// The live Jetstream WebSocket source (placeholder: see the file header).
public final class JetstreamSource: EventSource {
    /// - Parameter resumeCursor: the committed cursor (`time_us`), asked at each (re)connect.
    public init(configuration: JetstreamSourceConfiguration, resumeCursor: @escaping @Sendable () -> Int64?, logger: Logger) {}

    public func next() throws -> Data? {
        throw JetstreamSourceNotBuilt()
    }

    public func stop() {}
}

/// The placeholder's only answer.
public struct JetstreamSourceNotBuilt: Error, CustomStringConvertible {
    public var description: String {
        "the live Jetstream source is not built into this binary yet (placeholder); use `run --source file:PATH`"
    }
}
