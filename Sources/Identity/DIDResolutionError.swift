/// Why a DID could not be resolved.
public enum DIDResolutionError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The directory or host says the DID does not exist (404, 410 for a tombstoned did:plc).
    case notFound(did: String)
    /// A document came back but is unusable (not JSON, wrong `id`, too large).
    case invalidDocument(did: String, reason: String)
    /// The directory or host could not be reached, timed out or failed (5xx): worth retrying later.
    case unavailable(did: String, reason: String)

    public var description: String {
        switch self {
        case .notFound(let did): return "\(did) does not exist (no DID document)"
        case .invalidDocument(let did, let reason): return "the DID document of \(did) is unusable: \(reason)"
        case .unavailable(let did, let reason): return "could not resolve \(did): \(reason)"
        }
    }
}

extension DIDResolutionError {
    /// The document was not fetched because its did:web host is not a public address.
    public var isRefusedAddress: Bool {
        guard case .invalidDocument(_, let reason) = self else { return false }
        return reason.contains(FetchError.refusedAddressMarker)
    }
}
