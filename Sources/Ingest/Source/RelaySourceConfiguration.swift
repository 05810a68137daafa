import Foundation
import Storage

/// How `RelaySource` connects to a relay (`com.atproto.sync.subscribeRepos`), keeps the connection
/// alive and bounds its memory. Every field has a default suitable for a small server;
/// `fromEnvironment` reads the `RELAY_*` variables and rejects invalid values with the variable and
/// its accepted range.
public struct RelaySourceConfiguration: Sendable {
    /// The subscribe endpoint (`RELAY_URL`): `ws://` or `wss://`, given as the relay's base URL
    /// (`wss://bsky.network`, the XRPC path is appended) or as the full endpoint; no query string.
    public var url: String
    /// Collections whose records are decoded into events; commit ops of others only move the cursor
    /// (the relay sends every collection). Identity and account events pass regardless.
    public var wantedCollections: Set<String>
    /// No frame for this long while the buffer has room → the connection is closed and re-opened,
    /// counted as a stall (`RELAY_STALL_TIMEOUT_S`, default 30). Waiting for the pipeline is not a stall.
    public var stallTimeoutSeconds: Int
    /// First reconnect delay (`RELAY_RECONNECT_MIN_MS`, default 250); doubles per failed attempt up
    /// to `reconnectMaximumMilliseconds`, with full jitter.
    public var reconnectMinimumMilliseconds: Int
    /// Reconnect delay cap (`RELAY_RECONNECT_MAX_MS`, default 30000).
    public var reconnectMaximumMilliseconds: Int
    /// A ping frame is sent this often (`RELAY_PING_INTERVAL_S`, default 20).
    public var pingIntervalSeconds: Int
    /// Frames held between the socket and the pipeline (`RELAY_BUFFER_CAPACITY`, default 4096).
    public var bufferCapacity: Int
    /// Bytes held between the socket and the pipeline (`RELAY_BUFFER_MAX_BYTES`, default 64 MiB);
    /// whichever limit is reached first stops reading the socket.
    public var bufferMaximumBytes: Int
    /// A frame larger than this is counted, logged and skipped (`RELAY_MAX_MESSAGE_BYTES`, default
    /// 4 MiB: a relay limits a commit's blocks to 2 MB); one single WebSocket frame over 4 × this ends
    /// the connection, which is re-opened.
    public var maximumMessageBytes: Int
    /// PEM file of the certificates trusted for `wss://` (`RELAY_CA_FILE`); nil: the system's trust store.
    public var trustedCertificatesFile: String?

    /// The relay used when `RELAY_URL` is unset.
    public static let defaultURL = "wss://bsky.network"
    /// The XRPC path of the firehose, appended to a base URL.
    public static let subscribePath = "/xrpc/com.atproto.sync.subscribeRepos"

    public init(
        url: String = RelaySourceConfiguration.defaultURL,
        wantedCollections: Set<String> = Set(IndexedCollection.allCases.map(\.rawValue)),
        stallTimeoutSeconds: Int = 30,
        reconnectMinimumMilliseconds: Int = 250,
        reconnectMaximumMilliseconds: Int = 30_000,
        pingIntervalSeconds: Int = 20,
        bufferCapacity: Int = 4096,
        bufferMaximumBytes: Int = 64 << 20,
        maximumMessageBytes: Int = 4 << 20,
        trustedCertificatesFile: String? = nil
    ) {
        self.url = Self.endpoint(url)
        self.wantedCollections = wantedCollections
        self.stallTimeoutSeconds = stallTimeoutSeconds
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

    /// The URL of one connection attempt: `cursor` = the committed `seq` (the relay sends the frames
    /// after it), none for a live tail.
    public func subscribeURL(cursor: Int64?) -> String {
        guard let cursor else { return url }
        return url + "?cursor=\(cursor)"
    }

    /// A base URL gets the XRPC path; a URL that already ends with it is kept.
    static func endpoint(_ url: String) -> String {
        if url.hasSuffix(subscribePath) { return url }
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        return base + subscribePath
    }

    var webSocketSettings: WebSocketSettings {
        WebSocketSettings(name: "relay", messageKind: .binary, stallTimeoutSeconds: stallTimeoutSeconds,
                          pingIntervalSeconds: pingIntervalSeconds, maximumMessageBytes: maximumMessageBytes,
                          frameSizeLimit: frameSizeLimit, reconnectMinimumMilliseconds: reconnectMinimumMilliseconds,
                          reconnectMaximumMilliseconds: reconnectMaximumMilliseconds,
                          trustedCertificatesFile: trustedCertificatesFile, maximumMessageBytesVariable: "RELAY_MAX_MESSAGE_BYTES")
    }

    /// Reads the `RELAY_*` variables (unset or empty → default); throws `ConfigurationError` naming
    /// the variable and the accepted range for an invalid value.
    public static func fromEnvironment(_ environment: [String: String]) throws -> RelaySourceConfiguration {
        var configuration = RelaySourceConfiguration()
        if let url = environment["RELAY_URL"], !url.isEmpty {
            configuration.url = endpoint(try validatedURL(url))
        }
        configuration.connectionKnobs = try WebSocketSourceKnobs.read(
            prefix: "RELAY", from: environment, defaults: configuration.connectionKnobs, minimumMessageBytes: 64 << 10)
        return configuration
    }

    static func validatedURL(_ raw: String) throws -> String {
        try WebSocketSourceKnobs.validatedURL(
            raw, variable: "RELAY_URL",
            expected: "ws://HOST[:PORT] or wss://HOST[:PORT] (optionally ending in \(subscribePath)) without a query string")
    }
}
