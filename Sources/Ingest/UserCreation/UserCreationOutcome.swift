/// What the network said about one new actor. Fields are nil when unknown or unverified.
public struct UserCreationOutcome: Sendable {
    public var did: String
    /// The handle of the DID document, only when the handle resolves back to this DID.
    public var handle: String?
    public var profile: FetchedProfile?
    /// Why the resolution must be retried later (the marker stays); nil once settled.
    public var error: String?

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
