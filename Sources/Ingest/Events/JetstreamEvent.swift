/// One Jetstream message (REFERENCE §5): a repository commit operation, an identity change or an
/// account status change, stamped with Jetstream's own time.
public struct JetstreamEvent: Sendable {
    /// The repository (account) the event is about.
    public var did: String
    /// Unix microseconds when Jetstream saw the event; the resume cursor and the source of `indexed_at`.
    public var timeMicroseconds: Int64
    /// What happened.
    public var payload: Payload

    /// The kinds of event.
    public enum Payload: Sendable {
        case commit(CommitOperation)
        case identity(IdentityChange)
        case account(AccountChange)
        /// A kind this indexer does not know (counted and ignored).
        case unsupported(kind: String)
    }

    public init(did: String, timeMicroseconds: Int64, payload: Payload) {
        self.did = did
        self.timeMicroseconds = timeMicroseconds
        self.payload = payload
    }

    /// `indexed_at` of everything this event writes: its time truncated to milliseconds, so a
    /// replay produces identical rows and the API's millisecond cursors compare exactly.
    public var indexedAtMilliseconds: Int64 {
        let (quotient, remainder) = timeMicroseconds.quotientAndRemainder(dividingBy: 1000)
        return remainder < 0 ? quotient - 1 : quotient
    }
}

/// A create, update or delete of one record.
public struct CommitOperation: Sendable {
    /// The operation on the record.
    public enum Action: String, Sendable {
        case create, update, delete
    }

    public var action: Action
    public var collection: String
    public var rkey: String
    /// `at://<did>/<collection>/<rkey>`.
    public var uri: String
    /// The record's CID (creates and updates).
    public var cid: String?
    /// The decoded record for creates and updates of indexed collections; nil for deletes and for
    /// collections this indexer ignores (their records are never decoded).
    public var record: IndexedRecord?

    public init(action: Action, collection: String, rkey: String, uri: String, cid: String?, record: IndexedRecord?) {
        self.action = action
        self.collection = collection
        self.rkey = rkey
        self.uri = uri
        self.cid = cid
        self.record = record
    }

    /// The indexed collection this operation belongs to, if any.
    public var indexedCollection: IndexedCollection? { IndexedCollection(rawValue: collection) }
}

/// The collections the indexer writes.
public enum IndexedCollection: String, Sendable, CaseIterable {
    case post = "app.bsky.feed.post"
    case like = "app.bsky.feed.like"
    case repost = "app.bsky.feed.repost"
    case follow = "app.bsky.graph.follow"
    case block = "app.bsky.graph.block"
    case profile = "app.bsky.actor.profile"
}

/// A handle change (or a request to re-resolve the DID when `handle` is absent).
public struct IdentityChange: Sendable {
    /// Lower-cased handle; nil when the event carries none or says `handle.invalid`.
    public var handle: String?
    public init(handle: String?) { self.handle = handle }
}

/// An account status change.
public struct AccountChange: Sendable {
    public var active: Bool
    /// `takendown`, `suspended`, `deactivated`, `deleted`, … ; nil when active.
    public var status: String?
    public init(active: Bool, status: String?) {
        self.active = active
        self.status = status
    }
}
