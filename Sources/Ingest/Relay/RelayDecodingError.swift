import IPLD

/// Why a relay frame yielded nothing. The frame should be counted, logged and skipped.
public enum RelayDecodingError: Error, Equatable, Sendable {
    /// The frame is larger than `RelayDecodingLimits.maximumFrameBytes`.
    case frameTooLarge(byteCount: Int, limit: Int)
    /// The header is not valid DAG-CBOR.
    case header(IPLDError)
    /// The body is not valid DAG-CBOR (or bytes follow it).
    case body(IPLDError)
    /// A header or body field is missing or has the wrong type (`header.op`, `#commit.seq`, …).
    case invalidField(String)
    /// The commit's CAR, commit block or tree is unreadable: none of its ops can be resolved.
    case blocks(IPLDError)

    /// A short stable name for counting errors by kind.
    public var kind: String {
        switch self {
        case .frameTooLarge: return "frameTooLarge"
        case .header(let error): return "header." + error.kind
        case .body(let error): return "body." + error.kind
        case .invalidField: return "invalidField"
        case .blocks(let error): return "blocks." + error.kind
        }
    }
}
