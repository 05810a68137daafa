import Identity

/// Where the verifier gets an issuer's DID document; `DIDResolver` in production, stand-ins in tests.
public protocol SigningKeySource: Sendable {
    /// The issuer's document; `forceRefresh` after a signature failed with the cached one.
    func document(for did: DID, forceRefresh: Bool) throws(DIDResolutionError) -> DIDDocument
}

extension DIDResolver: SigningKeySource {
    public func document(for did: DID, forceRefresh: Bool) throws(DIDResolutionError) -> DIDDocument {
        try resolve(did, forceRefresh: forceRefresh)
    }
}
