import Storage

/// A blocking HTTP GET, for DID documents, handles and profiles. Called on dedicated worker threads,
/// never on Swift's cooperative pool. Tests inject their own.
public protocol HTTPFetcher: Sendable {
    /// GETs `url` within `timeoutMilliseconds`; fails with `.tooLarge` once the body exceeds `maxBytes`.
    /// Any address may be connected to: for URLs the operator configured.
    func get(_ url: String, timeoutMilliseconds: Int, maxBytes: Int) throws(FetchError) -> FetchResponse

    /// The same GET, connecting only to addresses `destinations` allows: URLs built from data (DID
    /// documents, handles, the firehose) use `.publicOnly` unless the operator allowed private ones.
    func get(_ url: String, timeoutMilliseconds: Int, maxBytes: Int, destinations: FetchDestinations) throws(FetchError) -> FetchResponse
}

extension HTTPFetcher {
    /// Fetchers that never touch the network (test doubles) ignore the destination rule.
    public func get(_ url: String, timeoutMilliseconds: Int, maxBytes: Int, destinations: FetchDestinations) throws(FetchError) -> FetchResponse {
        try get(url, timeoutMilliseconds: timeoutMilliseconds, maxBytes: maxBytes)
    }
}

/// Which addresses a GET may connect to, checked on the resolved address right before connecting
/// (so a DNS answer that changes between a check and the connection cannot slip past).
public enum FetchDestinations: Sendable, Equatable {
    /// Any address: URLs the operator configured (`PLC_URL`, a fixed `HANDLE_VERIFICATION_URL` host).
    case any
    /// Public internet addresses only (`PublicAddress`): loopback, private, link-local, … are refused.
    case publicOnly

    /// `.any` when the operator allowed private addresses (`FETCH_ALLOW_PRIVATE_ADDRESSES`), else `.publicOnly`.
    public static func forDataDerivedURLs(allowPrivateAddresses: Bool) -> FetchDestinations {
        allowPrivateAddresses ? .any : .publicOnly
    }
}

/// Status and body of a completed GET.
public struct FetchResponse: Sendable {
    public var status: Int
    public var body: [UInt8]

    public init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }
}

/// A GET that did not complete.
public enum FetchError: Error, Equatable, CustomStringConvertible, Sendable {
    case timeout
    case tooLarge(limit: Int)
    /// Connection refused, DNS failure, TLS error, …
    case network(String)
    /// Not attempted: the host resolved only to addresses the destination rule forbids (the address given).
    case refusedAddress(String)

    public var description: String {
        switch self {
        case .timeout: return "timed out"
        case .tooLarge(let limit): return "response larger than \(limit) bytes"
        case .network(let message): return message
        case .refusedAddress(let address):
            return "refused to connect to \(address): \(Self.refusedAddressMarker) (FETCH_ALLOW_PRIVATE_ADDRESSES=1 allows it)"
        }
    }

    /// In the description of `.refusedAddress`, and of errors built from it.
    static let refusedAddressMarker = "not a public address"
}

extension FetchDestinations {
    /// `FETCH_ALLOW_PRIVATE_ADDRESSES`: `1`/`on`/`true` or `0`/`off`/`false` (default off).
    public static func allowPrivateAddresses(_ environment: [String: String]) throws -> Bool {
        switch environment["FETCH_ALLOW_PRIVATE_ADDRESSES"] ?? "" {
        case "", "0", "off", "false": return false
        case "1", "on", "true": return true
        case let other:
            throw ConfigurationError("FETCH_ALLOW_PRIVATE_ADDRESSES=\(other) is invalid: expected 1 or 0")
        }
    }
}
