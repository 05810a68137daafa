import Foundation
import Storage

/// How `JetstreamSource` connects to Jetstream, resumes, keeps the connection alive and bounds its
/// memory. Every field has a default suitable for a small server; `fromEnvironment` reads the
/// `JETSTREAM_*` variables and rejects invalid values with the variable and its accepted range.
public struct JetstreamSourceConfiguration: Sendable {
    /// The subscribe endpoint, `ws://` or `wss://` (`JETSTREAM_URL`), without query string.
    public var url: String
    /// Collections asked for with `wantedCollections` (`JETSTREAM_WANTED_COLLECTIONS`, comma separated);
    /// default: the collections the indexer writes. Identity and account events come regardless.
    public var wantedCollections: [String]
    /// No message for this long while the buffer has room → the connection is closed and
    /// re-opened, and counted as a stall (`JETSTREAM_STALL_TIMEOUT_S`, default 30). Time spent
    /// waiting for the consumer (backpressure) is not a stall.
    public var stallTimeoutSeconds: Int
    /// A (re)connect resumes at the committed cursor minus this many seconds
    /// (`JETSTREAM_RESUME_REWIND_S`, default 5): events are applied idempotently, so the overlap
    /// only costs duplicates, and it covers events Jetstream stamps slightly out of order.
    public var resumeRewindSeconds: Int
    /// First reconnect delay (`JETSTREAM_RECONNECT_MIN_MS`, default 250); doubles per failed
    /// attempt up to `reconnectMaximumMilliseconds`, with full jitter.
    public var reconnectMinimumMilliseconds: Int
    /// Reconnect delay cap (`JETSTREAM_RECONNECT_MAX_MS`, default 30000).
    public var reconnectMaximumMilliseconds: Int
    /// A ping frame is sent this often (`JETSTREAM_PING_INTERVAL_S`, default 20) so idle
    /// intermediaries keep the connection; liveness itself is judged by the stall timeout.
    public var pingIntervalSeconds: Int
    /// Messages held between the socket and the pipeline (`JETSTREAM_BUFFER_CAPACITY`, default
    /// 4096). When full, the socket is no longer read and TCP backpressure reaches the server.
    public var bufferCapacity: Int
    /// Bytes held between the socket and the pipeline (`JETSTREAM_BUFFER_MAX_BYTES`, default
    /// 16 MiB); whichever of the two limits is reached first stops reading.
    public var bufferMaximumBytes: Int
    /// A message larger than this is counted, logged and skipped (`JETSTREAM_MAX_MESSAGE_BYTES`,
    /// default 1 MiB), without a reconnect. One single frame larger than `frameSizeLimit` (4 × this)
    /// is refused by the WebSocket decoder, which closes the connection; it is then re-opened.
    public var maximumMessageBytes: Int
    /// PEM file of the certificates trusted for `wss://` (`JETSTREAM_CA_FILE`); nil: the system's
    /// trust store. For a Jetstream behind a private CA, and for the TLS test.
    public var trustedCertificatesFile: String?

    /// The Jetstream endpoint used when `JETSTREAM_URL` is unset.
    public static let defaultURL = "wss://jetstream2.us-east.bsky.network/subscribe"

    /// Jetstream accepts at most this many `wantedCollections`.
    public static let maximumWantedCollections = 100

    public init(
        url: String = JetstreamSourceConfiguration.defaultURL,
        wantedCollections: [String] = IndexedCollection.allCases.map(\.rawValue),
        stallTimeoutSeconds: Int = 30,
        resumeRewindSeconds: Int = 5,
        reconnectMinimumMilliseconds: Int = 250,
        reconnectMaximumMilliseconds: Int = 30_000,
        pingIntervalSeconds: Int = 20,
        bufferCapacity: Int = 4096,
        bufferMaximumBytes: Int = 16 << 20,
        maximumMessageBytes: Int = 1 << 20,
        trustedCertificatesFile: String? = nil
    ) {
        self.url = url
        self.wantedCollections = wantedCollections
        self.stallTimeoutSeconds = stallTimeoutSeconds
        self.resumeRewindSeconds = resumeRewindSeconds
        self.reconnectMinimumMilliseconds = reconnectMinimumMilliseconds
        self.reconnectMaximumMilliseconds = reconnectMaximumMilliseconds
        self.pingIntervalSeconds = pingIntervalSeconds
        self.bufferCapacity = bufferCapacity
        self.bufferMaximumBytes = bufferMaximumBytes
        self.maximumMessageBytes = maximumMessageBytes
        self.trustedCertificatesFile = trustedCertificatesFile
    }

    /// The largest single WebSocket frame the client reads; a larger one ends the connection.
    public var frameSizeLimit: Int { maximumMessageBytes * 4 }

    /// What the WebSocket machinery needs: text messages, these timings and limits.
    var webSocketSettings: WebSocketSettings {
        WebSocketSettings(name: "jetstream", messageKind: .text, stallTimeoutSeconds: stallTimeoutSeconds,
                          pingIntervalSeconds: pingIntervalSeconds, maximumMessageBytes: maximumMessageBytes,
                          frameSizeLimit: frameSizeLimit, reconnectMinimumMilliseconds: reconnectMinimumMilliseconds,
                          reconnectMaximumMilliseconds: reconnectMaximumMilliseconds,
                          trustedCertificatesFile: trustedCertificatesFile, maximumMessageBytesVariable: "JETSTREAM_MAX_MESSAGE_BYTES")
    }

    /// Reads the `JETSTREAM_*` variables (unset or empty → default); throws `ConfigurationError`
    /// naming the variable and the accepted range for an invalid value.
    public static func fromEnvironment(_ environment: [String: String]) throws -> JetstreamSourceConfiguration {
        var configuration = JetstreamSourceConfiguration()
        if let url = environment["JETSTREAM_URL"], !url.isEmpty {
            configuration.url = try validatedURL(url)
        }
        if let raw = environment["JETSTREAM_WANTED_COLLECTIONS"], !raw.isEmpty {
            configuration.wantedCollections = try validatedCollections(raw)
        }
        configuration.connectionKnobs = try WebSocketSourceKnobs.read(
            prefix: "JETSTREAM", from: environment, defaults: configuration.connectionKnobs, minimumMessageBytes: 1024)
        configuration.resumeRewindSeconds = try integerVariable(
            environment, "JETSTREAM_RESUME_REWIND_S", default: configuration.resumeRewindSeconds, in: 0...3600)
        return configuration
    }

    static func validatedURL(_ raw: String) throws -> String {
        try WebSocketSourceKnobs.validatedURL(
            raw, variable: "JETSTREAM_URL", expected: "ws://HOST[:PORT]/PATH or wss://HOST[:PORT]/PATH without a query string")
    }

    static func validatedCollections(_ raw: String) throws -> [String] {
        let names = raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        // An NSID (reverse-DNS segments) or a prefix wildcard such as app.bsky.feed.*
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-*")
        for name in names {
            let segments = name.split(separator: ".", omittingEmptySubsequences: false)
            let wildcardMisplaced = name.dropLast().contains("*") || (name.hasSuffix("*") && !name.hasSuffix(".*"))
            guard name.unicodeScalars.allSatisfy(allowed.contains), segments.count >= 3,
                  !segments.contains(where: \.isEmpty), !wildcardMisplaced
            else {
                throw ConfigurationError(
                    "JETSTREAM_WANTED_COLLECTIONS contains \(name), which is invalid: expected comma-separated NSIDs such as app.bsky.feed.post or prefixes such as app.bsky.feed.*")
            }
        }
        guard !names.isEmpty, names.count <= maximumWantedCollections else {
            throw ConfigurationError(
                "JETSTREAM_WANTED_COLLECTIONS=\(raw) is invalid: expected between 1 and \(maximumWantedCollections) collections")
        }
        return names
    }
}
