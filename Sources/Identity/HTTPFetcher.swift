/// A blocking HTTP GET, for DID documents. Called on dedicated worker threads, never on Swift's
/// cooperative pool. Tests inject their own.
public protocol HTTPFetcher: Sendable {
    /// GETs `url` within `timeoutMilliseconds`; fails with `.tooLarge` once the body exceeds `maxBytes`.
    func get(_ url: String, timeoutMilliseconds: Int, maxBytes: Int) throws(FetchError) -> FetchResponse
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

    public var description: String {
        switch self {
        case .timeout: return "timed out"
        case .tooLarge(let limit): return "response larger than \(limit) bytes"
        case .network(let message): return message
        }
    }
}
