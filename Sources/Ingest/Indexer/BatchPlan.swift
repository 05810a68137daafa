/// Everything one batch of events writes, computed in memory before the transaction starts, so the
/// transaction body is pure database work (it may be retried).
///
/// Order within a batch: every record row and every row derived from it (feed item, notifications)
/// is a function of the record alone, so the state after a sequence of operations on one URI equals
/// the effect of the last one (create → delete ends deleted; delete → create ends created). The plan
/// therefore keeps only the last operation per URI, per identity/account the newest event, and per
/// profile the last operation, with one exception: a create or update older (by event time) than a
/// delete of the same URI seen before it is dropped (the delete's tombstone outlives it). Aggregates
/// are adjusted afterwards by exactly the rows written and removed.
struct BatchPlan {
    /// A record to (re)write or remove.
    enum RecordChange<Row> {
        case upsert(Row)
        case delete
    }

    struct PostRow {
        var uri: String, cid: String, authorDID: String, record: PostRecord, indexedAt: Int64, timeMicroseconds: Int64
        var createdAt: Int64 { record.createdAtMilliseconds ?? indexedAt }
    }

    struct SubjectRow {
        var uri: String, cid: String, authorDID: String, subject: StrongRef, createdAt: Int64, indexedAt: Int64
        var timeMicroseconds: Int64
    }

    struct GraphRow {
        var uri: String, cid: String, creatorDID: String, subjectDID: String, createdAt: Int64, indexedAt: Int64
        var timeMicroseconds: Int64
    }

    struct ProfileRow {
        var cid: String, record: ProfileRecord
    }

    struct IdentityRow {
        var handle: String?
        var timeMicroseconds: Int64
    }
    struct AccountRow {
        var active: Bool
        var status: String?
        var timeMicroseconds: Int64
    }

    struct NotificationRow {
        var recipientDID: String, recordURI: String, recordCID: String, authorDID: String, reason: String
        var reasonSubject: String?
        var sortAt: Int64
    }

    /// Earliest event time (ms) at which each DID was seen in this batch: its first-sight `indexed_at`.
    var actorsSeen: [String: Int64] = [:]
    var identities: [String: IdentityRow] = [:]
    var accounts: [String: AccountRow] = [:]
    var profiles = OrderedChanges<ProfileRow>()
    var posts = OrderedChanges<PostRow>()
    var likes = OrderedChanges<SubjectRow>()
    var reposts = OrderedChanges<SubjectRow>()
    var follows = OrderedChanges<GraphRow>()
    var blocks = OrderedChanges<GraphRow>()
    /// Newest delete event time (`time_us`) per record URI of this batch: the tombstones it writes.
    var tombstones: [String: Int64] = [:]

    init(events: [JetstreamEvent]) {
        for event in events { add(event) }
    }

    mutating func see(_ did: String, at milliseconds: Int64) {
        if let known = actorsSeen[did], known <= milliseconds { return }
        actorsSeen[did] = milliseconds
    }

    mutating func add(_ event: JetstreamEvent) {
        let indexedAt = event.indexedAtMilliseconds
        switch event.payload {
        case .unsupported:
            return
        case .identity(let identity):
            see(event.did, at: indexedAt)
            if let known = identities[event.did], known.timeMicroseconds > event.timeMicroseconds { break }
            identities[event.did] = IdentityRow(handle: identity.handle, timeMicroseconds: event.timeMicroseconds)
        case .account(let account):
            see(event.did, at: indexedAt)
            if let known = accounts[event.did], known.timeMicroseconds > event.timeMicroseconds { break }
            accounts[event.did] = AccountRow(active: account.active, status: account.status, timeMicroseconds: event.timeMicroseconds)
        case .commit(let operation):
            guard let collection = operation.indexedCollection else { return }
            see(event.did, at: indexedAt)
            addCommit(operation, collection: collection, event: event, indexedAt: indexedAt)
        }
    }

    mutating func addCommit(_ operation: CommitOperation, collection: IndexedCollection, event: JetstreamEvent, indexedAt: Int64) {
        let uri = operation.uri
        let time = event.timeMicroseconds
        guard let record = operation.record, let cid = operation.cid, operation.action != .delete else {
            if collection != .profile, tombstones[uri].map({ $0 < time }) ?? true { tombstones[uri] = time }
            switch collection {
            case .post: posts.set(uri, .delete, time: time)
            case .like: likes.set(uri, .delete, time: time)
            case .repost: reposts.set(uri, .delete, time: time)
            case .follow: follows.set(uri, .delete, time: time)
            case .block: blocks.set(uri, .delete, time: time)
            case .profile: if operation.rkey == "self" { profiles.set(event.did, .delete, time: time) }
            }
            return
        }
        switch record {
        case .post(let post):
            for did in [post.reply?.parent.uri.did, post.reply?.root.uri.did, post.embed?.record?.uri.did].compactMap({ $0 }) + post.mentionedDIDs {
                see(did, at: indexedAt)
            }
            posts.set(uri, .upsert(PostRow(uri: uri, cid: cid, authorDID: event.did, record: post, indexedAt: indexedAt,
                                           timeMicroseconds: time)), time: time)
        case .like(let like):
            see(like.subject.uri.did, at: indexedAt)
            likes.set(uri, .upsert(SubjectRow(uri: uri, cid: cid, authorDID: event.did, subject: like.subject,
                                              createdAt: like.createdAtMilliseconds ?? indexedAt, indexedAt: indexedAt,
                                              timeMicroseconds: time)), time: time)
        case .repost(let repost):
            see(repost.subject.uri.did, at: indexedAt)
            reposts.set(uri, .upsert(SubjectRow(uri: uri, cid: cid, authorDID: event.did, subject: repost.subject,
                                                createdAt: repost.createdAtMilliseconds ?? indexedAt, indexedAt: indexedAt,
                                                timeMicroseconds: time)), time: time)
        case .follow(let follow):
            see(follow.subjectDID, at: indexedAt)
            follows.set(uri, .upsert(GraphRow(uri: uri, cid: cid, creatorDID: event.did, subjectDID: follow.subjectDID,
                                              createdAt: follow.createdAtMilliseconds ?? indexedAt, indexedAt: indexedAt,
                                              timeMicroseconds: time)), time: time)
        case .block(let block):
            see(block.subjectDID, at: indexedAt)
            blocks.set(uri, .upsert(GraphRow(uri: uri, cid: cid, creatorDID: event.did, subjectDID: block.subjectDID,
                                             createdAt: block.createdAtMilliseconds ?? indexedAt, indexedAt: indexedAt,
                                             timeMicroseconds: time)), time: time)
        case .profile(let profile):
            // Only the `self` record is the account's profile.
            if operation.rkey == "self" { profiles.set(event.did, .upsert(ProfileRow(cid: cid, record: profile)), time: time) }
        }
    }
}

/// Last change per key, in first-seen key order (deterministic statements).
struct OrderedChanges<Row> {
    private(set) var keys: [String] = []
    private(set) var changes: [String: BatchPlan.RecordChange<Row>] = [:]
    /// Event time of each key's delete, while a delete is its last change.
    private var deleteTimes: [String: Int64] = [:]

    /// Records `change` as the key's last one, except a create/update that is not newer than a delete
    /// of the key already in the batch: the record stays deleted (that create happened before the delete).
    mutating func set(_ key: String, _ change: BatchPlan.RecordChange<Row>, time: Int64) {
        switch change {
        case .delete:
            deleteTimes[key] = time
        case .upsert:
            if let deletedAt = deleteTimes[key] {
                if deletedAt >= time { return }
                deleteTimes[key] = nil
            }
        }
        if changes.updateValue(change, forKey: key) == nil { keys.append(key) }
    }

    var isEmpty: Bool { keys.isEmpty }

    /// Rows to write, in key order.
    var upserts: [Row] {
        keys.compactMap { key in
            if case .upsert(let row) = changes[key] { return row }
            return nil
        }
    }

    /// Keys whose last change is a delete.
    var deletedKeys: [String] {
        keys.filter { key in
            if case .delete = changes[key] { return true }
            return false
        }
    }
}
