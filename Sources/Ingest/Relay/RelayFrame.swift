import Foundation

/// One decoded relay message (`com.atproto.sync.subscribeRepos`).
public struct RelayFrame: Sendable {
    /// The message type: the header's `t` (`#commit`, …) or, for `op: -1`, `error`.
    public enum Kind: Sendable, Equatable {
        case commit, identity, account, sync, info, error
        /// A well-formed frame of a type this decoder does not convert (`#handle`, `#tombstone`, future types).
        case unknown(String)
    }

    public var kind: Kind
    /// The stream position: commit/identity/account/sync; nil otherwise.
    public var seq: Int64?
    /// The DID the frame is about, when any (`repo` of a commit, `did` of the others).
    public var repo: String?
    /// A commit flagged `tooBig`: its ops come without blocks, so it yields no events (as Jetstream).
    public var tooBig: Bool
    /// info: `name` or `name: message`; error: `error` or `error: message`.
    public var message: String?
    /// Jetstream v1 JSON lines (UTF-8, no newline) this frame yields, in Jetstream's order.
    public var events: [Data]
    /// Commit ops that yielded no event (Jetstream skips them too): missing or mismatching record,
    /// undecodable record, unknown action. Ops filtered out by `wantedCollections` are not listed.
    public var skippedOperations: [RelaySkippedOperation]

    public init(kind: Kind, seq: Int64? = nil, repo: String? = nil, tooBig: Bool = false, message: String? = nil,
                events: [Data] = [], skippedOperations: [RelaySkippedOperation] = []) {
        self.kind = kind
        self.seq = seq
        self.repo = repo
        self.tooBig = tooBig
        self.message = message
        self.events = events
        self.skippedOperations = skippedOperations
    }
}

/// A commit op that yielded no event, and why.
public struct RelaySkippedOperation: Sendable, Equatable {
    /// The op's `collection/rkey`.
    public var path: String
    /// Why, in a few words (`record not in blocks`, `record CID mismatch`, …).
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
}
