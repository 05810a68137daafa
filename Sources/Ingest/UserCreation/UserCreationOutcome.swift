import Identity

/// What the network said about one new actor. Fields are nil when unknown or unverified.
public struct UserCreationOutcome: Sendable {
    public var did: String
    /// The handle of the DID document, only when the handle resolves back to this DID.
    public var handle: String?
    public var profile: FetchedProfile?
    /// Why the resolution must be retried later (the marker stays); nil once settled.
    public var error: String?
    /// How the DID document's handle was checked; nil when there was none to check.
    public var handleCheck: HandleCheck?
    /// A DID document fetched from the network, for the writer to store with its batch.
    public var fetchedDocument: StoredDIDDocument?
    /// Fetches refused because their host is not a public address.
    public var refusedAddresses = 0

    public init(did: String, handle: String? = nil, profile: FetchedProfile? = nil, error: String? = nil) {
        self.did = did
        self.handle = handle
        self.profile = profile
        self.error = error
    }
}

/// The `app.bsky.actor.profile/self` record as the PDS serves it.
public struct FetchedProfile: Sendable {
    public var cid: String
    public var record: ProfileRecord
}

/// The result of checking a DID document's handle back against the DID.
public enum HandleCheck: Sendable, Equatable {
    /// `_atproto.<handle>` TXT names this DID.
    case verifiedByDNS
    /// DNS had no answer; `HANDLE_VERIFICATION_URL` (HTTPS well-known) names this DID.
    case verifiedByHTTPS
    /// DNS or HTTPS names another DID: an impostor claim, the handle stays `handle.invalid`.
    case namesAnotherDID
    /// Neither method answered (or the handle is not a valid handle).
    case unverified(reason: String)
}
