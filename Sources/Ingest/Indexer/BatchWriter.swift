import Storage

/// Writes one `BatchPlan` on a connection inside a transaction. Every step is one multi-row
/// statement over `unnest`ed arrays. A record whose version (CID) changed is replaced with its
/// derived rows (delete, then insert), so an update leaves exactly the rows the new version implies;
/// an unchanged record is not touched at all, so a replay writes nothing. Only the subjects of rows
/// actually written or removed are recounted.
struct BatchWriter {
    let connection: PostgresConnection
    let plan: BatchPlan

    /// Subjects whose counts the batch may have changed, per count: only those are recounted.
    private var recount = Recount()
    private var feedItemURIs: [String] = []
    private var feedItems = FeedItemColumns()
    private var notificationRecordURIs: [String] = []
    private var notifications: [BatchPlan.NotificationRow] = []
    /// Actors this batch created, and those whose handle and profile the batch settled.
    private var createdActors = Set<String>()
    private var settledActors = Set<String>()

    init(connection: PostgresConnection, plan: BatchPlan) {
        self.connection = connection
        self.plan = plan
    }

    static let ts = SQLFragment.timestamp

    /// Runs a statement, sending array parameters with the indexer's fast array encoders.
    @discardableResult
    private func execute(_ sql: String, _ parameters: [PostgresBindable]) throws -> QueryResult {
        try connection.query(sql, parameters.map { parameter -> PostgresBindable in
            switch parameter {
            case let strings as [String]: return TextArray(strings)
            case let numbers as [Int64]: return ScalarArray(numbers)
            case let flags as [Bool]: return ScalarArray(flags)
            default: return parameter
            }
        })
    }

    /// Writes the plan; returns the DIDs whose actor rows it created and whose handle or profile
    /// is still unknown (each got its `user_creation_pending` marker in this transaction).
    @discardableResult
    func write() throws -> [String] {
        var writer = self
        try writer.writeAll()
        return writer.createdActors.subtracting(writer.settledActors).sorted()
    }

    private mutating func writeAll() throws {
        try writeActorsSeen()
        try writeIdentities()
        try writeAccounts()
        try writeProfiles()
        try settleUserCreations()
        try writePosts()
        try writeSubjectRecords(table: "likes", changes: plan.likes, reason: "like")
        try writeSubjectRecords(table: "reposts", changes: plan.reposts, reason: "repost")
        try writeFollows()
        try writeBlocks()
        try writeFeedItems()
        try writeNotifications()
        try recomputeAggregates()
    }

    // MARK: actors

    /// First sight creates the actor; its `indexed_at` is the earliest event that mentioned it,
    /// whatever the arrival order. A created actor (`xmax = 0`: inserted, not updated) gets its
    /// user-creation marker in the same statement.
    private mutating func writeActorsSeen() throws {
        guard !plan.actorsSeen.isEmpty else { return }
        let dids = plan.actorsSeen.keys.sorted()
        let result = try execute("""
            WITH upserted AS (
                INSERT INTO actors (did, indexed_at)
                SELECT did, \(Self.ts("seen")) FROM unnest($1::text[], $2::bigint[]) AS x(did, seen)
                ON CONFLICT (did) DO UPDATE SET indexed_at = excluded.indexed_at
                WHERE excluded.indexed_at < actors.indexed_at
                RETURNING did, xmax = 0 AS created
            ), marked AS (
                INSERT INTO user_creation_pending (did) SELECT did FROM upserted WHERE created
                ON CONFLICT (did) DO NOTHING
            )
            SELECT did FROM upserted WHERE created
            """, [dids, dids.map { plan.actorsSeen[$0]! }])
        createdActors = Set(result.rows.compactMap { $0.string(0) })
    }

    /// Identity and profile events settle what user creation would fetch: once an actor has both an
    /// identity event's handle and a profile, its marker goes.
    private mutating func settleUserCreations() throws {
        guard !plan.identities.isEmpty || !plan.profiles.isEmpty else { return }
        let dids = Set(plan.identities.keys).union(plan.profiles.keys).sorted()
        let result = try execute("""
            DELETE FROM user_creation_pending p USING actors a
            WHERE p.did = ANY($1::text[]) AND a.did = p.did AND a.identity_time_us IS NOT NULL AND a.profile_cid IS NOT NULL
            RETURNING p.did
            """, [dids])
        settledActors = Set(result.rows.compactMap { $0.string(0) })
    }

    /// The newest identity event wins; an older one (by `time_us`) is ignored.
    private func writeIdentities() throws {
        guard !plan.identities.isEmpty else { return }
        let dids = plan.identities.keys.sorted()
        try execute("""
            UPDATE actors a SET handle = coalesce(x.handle, a.handle), identity_time_us = x.time_us
            FROM unnest($1::text[], $2::text[], $3::bigint[]) AS x(did, handle, time_us)
            WHERE a.did = x.did AND (a.identity_time_us IS NULL OR a.identity_time_us < x.time_us)
            """, [dids, TextArray(dids.map { plan.identities[$0]!.handle }), dids.map { plan.identities[$0]!.timeMicroseconds }])
    }

    private func writeAccounts() throws {
        guard !plan.accounts.isEmpty else { return }
        let dids = plan.accounts.keys.sorted()
        let rows = dids.map { plan.accounts[$0]! }
        try execute("""
            UPDATE actors a SET is_active = x.active, status = x.status, account_time_us = x.time_us
            FROM unnest($1::text[], $2::bool[], $3::text[], $4::bigint[]) AS x(did, active, status, time_us)
            WHERE a.did = x.did AND (a.account_time_us IS NULL OR a.account_time_us < x.time_us)
            """, [dids, rows.map(\.active), TextArray(rows.map(\.status)), rows.map(\.timeMicroseconds)])
    }

    /// A profile create/update sets the profile columns; a delete clears them.
    private func writeProfiles() throws {
        guard !plan.profiles.isEmpty else { return }
        let dids = plan.profiles.keys
        let rows: [BatchPlan.ProfileRow?] = dids.map { did in
            if case .upsert(let row) = plan.profiles.changes[did] { return row }
            return nil
        }
        try execute("""
            UPDATE actors a SET profile_cid = x.cid, profile_record = x.record::jsonb, display_name = x.display_name,
                description = x.description, avatar_cid = x.avatar_cid, banner_cid = x.banner_cid,
                profile_created_at = \(Self.ts("x.created_at"))
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[])
                AS x(did, cid, record, display_name, description, avatar_cid, banner_cid, created_at)
            WHERE a.did = x.did AND a.profile_cid IS DISTINCT FROM x.cid
            """, [
                dids, TextArray(rows.map { $0?.cid }), TextArray(rows.map { $0?.record.rawJSON }),
                TextArray(rows.map { $0?.record.displayName }), TextArray(rows.map { $0?.record.description }),
                TextArray(rows.map { $0?.record.avatarCID }), TextArray(rows.map { $0?.record.bannerCID }),
                ScalarArray(rows.map { $0?.record.createdAtMilliseconds }),
            ])
    }

    // MARK: records

    /// The upserts whose version (CID) is not the stored one, and the URIs to clear before writing:
    /// deletes plus those upserts. A replayed, unchanged record is skipped entirely, so replays
    /// write nothing and trigger no recounts. With `commitTime` (posts store theirs), a version
    /// older than the stored one is skipped too, so a late-arriving create never undoes an update.
    private func versionsToWrite<Row>(table: String, changes: OrderedChanges<Row>, uri: (Row) -> String, cid: (Row) -> String,
                                      commitTime: ((Row) -> Int64)? = nil) throws -> (upserts: [Row], clear: [String]) {
        let candidates = changes.upserts
        var upserts: [Row] = []
        if !candidates.isEmpty {
            let result: QueryResult
            if let commitTime {
                result = try execute("""
                    SELECT x.uri FROM unnest($1::text[], $2::text[], $3::bigint[]) AS x(uri, cid, time_us)
                    WHERE NOT EXISTS (SELECT 1 FROM \(table) t WHERE t.uri = x.uri AND (t.cid = x.cid OR t.commit_time_us > x.time_us))
                    """, [candidates.map(uri), candidates.map(cid), candidates.map(commitTime)])
            } else {
                result = try execute("""
                    SELECT x.uri FROM unnest($1::text[], $2::text[]) AS x(uri, cid)
                    WHERE NOT EXISTS (SELECT 1 FROM \(table) t WHERE t.uri = x.uri AND t.cid = x.cid)
                    """, [candidates.map(uri), candidates.map(cid)])
            }
            let changed = Set(result.rows.compactMap { $0.string(0) })
            upserts = candidates.filter { changed.contains(uri($0)) }
        }
        return (upserts, changes.deletedKeys + upserts.map(uri))
    }

    private mutating func writePosts() throws {
        guard !plan.posts.isEmpty else { return }
        let (posts, clear) = try versionsToWrite(table: "posts", changes: plan.posts, uri: \.uri, cid: \.cid,
                                                 commitTime: \.timeMicroseconds)
        guard !clear.isEmpty else { return }
        let removed = try execute(
            "DELETE FROM posts WHERE uri = ANY($1::text[]) RETURNING uri, author_did, reply_parent_uri, embed_record_uri", [clear])
        for row in removed.rows {
            guard let uri = row.string(0) else { continue }
            feedItemURIs.append(uri)
            notificationRecordURIs.append(uri)
            if let author = row.string(1) { recount.postsOf.insert(author) }
            if let parent = row.string(2) { recount.repliesTo.insert(parent) }
            if let quoted = row.string(3) { recount.quotesOf.insert(quoted) }
        }
        guard !posts.isEmpty else { return }
        for post in posts {
            recount.postsOf.insert(post.authorDID)
            if let parent = post.record.reply?.parent.uri { recount.repliesTo.insert(parent.description) }
            if let quoted = post.record.embed?.record?.uri { recount.quotesOf.insert(quoted.description) }
            let reply = post.record.reply
            let isReply = reply != nil
            let isSelfThread = reply.map { $0.parent.uri.did == post.authorDID && $0.root.uri.did == post.authorDID } ?? false
            feedItems.append(uri: post.uri, cid: post.cid, type: "post", postURI: post.uri, postAuthorDID: post.authorDID,
                             originatorDID: post.authorDID, sortAt: min(post.createdAt, post.indexedAt), isReply: isReply,
                             isSelfThread: isSelfThread, hasMedia: post.record.embed?.hasMedia ?? false)
            notifications += NotificationRules.forPost(post)
        }
        try execute("""
            INSERT INTO posts (uri, cid, author_did, record, text, reply_root_uri, reply_root_cid, reply_parent_uri,
                reply_parent_cid, embed_type, embed_record_uri, has_media, created_at, indexed_at, sort_at, commit_time_us)
            SELECT uri, cid, author_did, record::jsonb, text, root_uri, root_cid, parent_uri, parent_cid, embed_type, embed_uri,
                has_media, \(Self.ts("created_at")), \(Self.ts("indexed_at")), \(Self.ts("least(created_at, indexed_at)")), time_us
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                $10::text[], $11::text[], $12::bool[], $13::bigint[], $14::bigint[], $15::bigint[])
                AS x(uri, cid, author_did, record, text, root_uri, root_cid, parent_uri, parent_cid, embed_type, embed_uri,
                     has_media, created_at, indexed_at, time_us)
            """, [
                posts.map(\.uri), posts.map(\.cid), posts.map(\.authorDID), posts.map(\.record.rawJSON), posts.map(\.record.text),
                TextArray(posts.map { $0.record.reply?.root.uri.description }), TextArray(posts.map { $0.record.reply?.root.cid }),
                TextArray(posts.map { $0.record.reply?.parent.uri.description }), TextArray(posts.map { $0.record.reply?.parent.cid }),
                TextArray(posts.map { $0.record.embed?.type }), TextArray(posts.map { $0.record.embed?.record?.uri.description }),
                posts.map { $0.record.embed?.hasMedia ?? false }, posts.map(\.createdAt), posts.map(\.indexedAt),
                posts.map(\.timeMicroseconds),
            ])
    }

    /// Likes and reposts: same shape; reposts also own a feed item.
    private mutating func writeSubjectRecords(table: String, changes: OrderedChanges<BatchPlan.SubjectRow>, reason: String) throws {
        guard !changes.isEmpty else { return }
        let (rows, clear) = try versionsToWrite(table: table, changes: changes, uri: \.uri, cid: \.cid)
        guard !clear.isEmpty else { return }
        let removed = try execute("DELETE FROM \(table) WHERE uri = ANY($1::text[]) RETURNING uri, subject_uri", [clear])
        for row in removed.rows {
            guard let uri = row.string(0) else { continue }
            notificationRecordURIs.append(uri)
            if reason == "repost" { feedItemURIs.append(uri) }
            if let subject = row.string(1) {
                if reason == "like" { recount.likesOf.insert(subject) } else { recount.repostsOf.insert(subject) }
            }
        }
        guard !rows.isEmpty else { return }
        for row in rows {
            if reason == "like" { recount.likesOf.insert(row.subject.uri.description) } else { recount.repostsOf.insert(row.subject.uri.description) }
            if let notification = NotificationRules.forSubjectRecord(row, reason: reason) { notifications.append(notification) }
            if reason == "repost", row.subject.uri.collection == IndexedCollection.post.rawValue {
                feedItems.append(uri: row.uri, cid: row.cid, type: "repost", postURI: row.subject.uri.description,
                                 postAuthorDID: row.subject.uri.did, originatorDID: row.authorDID,
                                 sortAt: min(row.createdAt, row.indexedAt), isReply: false, isSelfThread: false, hasMedia: false)
            }
        }
        try execute("""
            INSERT INTO \(table) (uri, cid, author_did, subject_uri, subject_cid, created_at, indexed_at)
            SELECT uri, cid, author_did, subject_uri, subject_cid, \(Self.ts("created_at")), \(Self.ts("indexed_at"))
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[])
                AS x(uri, cid, author_did, subject_uri, subject_cid, created_at, indexed_at)
            """, [rows.map(\.uri), rows.map(\.cid), rows.map(\.authorDID), rows.map { $0.subject.uri.description },
                  rows.map(\.subject.cid), rows.map(\.createdAt), rows.map(\.indexedAt)])
    }

    private mutating func writeFollows() throws {
        guard !plan.follows.isEmpty else { return }
        var inserted: [BatchPlan.GraphRow] = []
        var removed: [(uri: String, creator: String, subject: String)] = []
        try writeGraphRecords(table: "follows", changes: plan.follows, inserted: { inserted = $0 }, removed: { removed = $0 })
        for row in removed {
            notificationRecordURIs.append(row.uri)
            recount.followsOf.insert(row.creator)
            recount.followersOf.insert(row.subject)
        }
        for row in inserted {
            recount.followsOf.insert(row.creatorDID)
            recount.followersOf.insert(row.subjectDID)
            if let notification = NotificationRules.forFollow(row) { notifications.append(notification) }
        }
    }

    private func writeBlocks() throws {
        guard !plan.blocks.isEmpty else { return }
        try writeGraphRecords(table: "blocks", changes: plan.blocks, inserted: { _ in }, removed: { _ in })
    }

    private func writeGraphRecords(table: String, changes: OrderedChanges<BatchPlan.GraphRow>,
                                   inserted: ([BatchPlan.GraphRow]) -> Void,
                                   removed: ([(uri: String, creator: String, subject: String)]) -> Void) throws {
        let (rows, clear) = try versionsToWrite(table: table, changes: changes, uri: \.uri, cid: \.cid)
        guard !clear.isEmpty else { return }
        let result = try execute(
            "DELETE FROM \(table) WHERE uri = ANY($1::text[]) RETURNING uri, creator_did, subject_did", [clear])
        removed(result.rows.compactMap { row in
            guard let uri = row.string(0), let creator = row.string(1), let subject = row.string(2) else { return nil }
            return (uri, creator, subject)
        })
        guard !rows.isEmpty else { return }
        inserted(rows)
        try execute("""
            INSERT INTO \(table) (uri, cid, creator_did, subject_did, created_at, indexed_at)
            SELECT uri, cid, creator_did, subject_did, \(Self.ts("created_at")), \(Self.ts("indexed_at"))
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
                AS x(uri, cid, creator_did, subject_did, created_at, indexed_at)
            """, [rows.map(\.uri), rows.map(\.cid), rows.map(\.creatorDID), rows.map(\.subjectDID), rows.map(\.createdAt),
                  rows.map(\.indexedAt)])
    }

    // MARK: derived rows

    private func writeFeedItems() throws {
        if !feedItemURIs.isEmpty {
            try execute("DELETE FROM feed_items WHERE uri = ANY($1::text[])", [feedItemURIs])
        }
        guard !feedItems.uri.isEmpty else { return }
        try execute("""
            INSERT INTO feed_items (uri, cid, type, post_uri, post_author_did, originator_did, sort_at, is_reply, is_self_thread, has_media)
            SELECT uri, cid, type, post_uri, post_author_did, originator_did, \(Self.ts("sort_at")), is_reply, is_self_thread, has_media
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bool[], $9::bool[], $10::bool[])
                AS x(uri, cid, type, post_uri, post_author_did, originator_did, sort_at, is_reply, is_self_thread, has_media)
            ON CONFLICT (uri) DO UPDATE SET cid = excluded.cid, type = excluded.type, post_uri = excluded.post_uri,
                post_author_did = excluded.post_author_did, originator_did = excluded.originator_did, sort_at = excluded.sort_at,
                is_reply = excluded.is_reply, is_self_thread = excluded.is_self_thread, has_media = excluded.has_media
            """, [feedItems.uri, feedItems.cid, feedItems.type, feedItems.postURI, feedItems.postAuthorDID, feedItems.originatorDID,
                  feedItems.sortAt, feedItems.isReply, feedItems.isSelfThread, feedItems.hasMedia])
    }

    /// A record's notifications are replaced with what its current version causes (none once deleted).
    private func writeNotifications() throws {
        if !notificationRecordURIs.isEmpty {
            try execute("DELETE FROM notifications WHERE record_uri = ANY($1::text[])", [notificationRecordURIs])
        }
        guard !notifications.isEmpty else { return }
        let rows = notifications
        try execute("""
            INSERT INTO notifications (recipient_did, record_uri, record_cid, author_did, reason, reason_subject, sort_at)
            SELECT recipient_did, record_uri, record_cid, author_did, reason, reason_subject, \(Self.ts("sort_at"))
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
                AS x(recipient_did, record_uri, record_cid, author_did, reason, reason_subject, sort_at)
            ON CONFLICT (recipient_did, record_uri) DO UPDATE SET record_cid = excluded.record_cid, author_did = excluded.author_did,
                reason = excluded.reason, reason_subject = excluded.reason_subject, sort_at = excluded.sort_at
            """, [rows.map(\.recipientDID), rows.map(\.recordURI), rows.map(\.recordCID), rows.map(\.authorDID), rows.map(\.reason),
                  TextArray(rows.map(\.reasonSubject)), rows.map(\.sortAt)])
    }

    // MARK: aggregates

    /// Counted from the live rows, never incremented: exact under replays and any arrival order
    /// (a like stored before its post is counted; the aggregate row exists before the post does).
    /// Each count is recounted only for the subjects whose rows of that kind the batch changed;
    /// a subject never counted has no row (readers treat a missing row as zeros).
    private func recomputeAggregates() throws {
        for (column, table, key, subjects) in [
            ("like_count", "likes", "subject_uri", recount.likesOf), ("repost_count", "reposts", "subject_uri", recount.repostsOf),
            ("reply_count", "posts", "reply_parent_uri", recount.repliesTo), ("quote_count", "posts", "embed_record_uri", recount.quotesOf),
        ] where !subjects.isEmpty {
            try upsertCount(aggregates: "post_aggregates", id: "uri", column: column, table: table, key: key, subjects: subjects)
        }
        for (column, key, subjects) in [
            ("followers_count", "subject_did", recount.followersOf), ("follows_count", "creator_did", recount.followsOf),
        ] where !subjects.isEmpty {
            try upsertCount(aggregates: "actor_aggregates", id: "did", column: column, table: "follows", key: key, subjects: subjects)
        }
        if !recount.postsOf.isEmpty {
            try upsertCount(aggregates: "actor_aggregates", id: "did", column: "posts_count", table: "posts", key: "author_did",
                            subjects: recount.postsOf)
        }
    }

    /// `aggregates.column` := count of `table` rows whose `key` is the subject, for each subject.
    /// Names are constants of this file, never input.
    private func upsertCount(aggregates: String, id: String, column: String, table: String, key: String, subjects: Set<String>) throws {
        try execute("""
            INSERT INTO \(aggregates) (\(id), \(column))
            SELECT s.subject, (SELECT count(*) FROM \(table) WHERE \(key) = s.subject)
            FROM unnest($1::text[]) AS s(subject)
            ON CONFLICT (\(id)) DO UPDATE SET \(column) = excluded.\(column)
            WHERE \(aggregates).\(column) <> excluded.\(column)
            """, [subjects.sorted()])
    }
}

/// The subjects whose counts a batch may have changed, by count.
struct Recount {
    var likesOf = Set<String>(), repostsOf = Set<String>(), repliesTo = Set<String>(), quotesOf = Set<String>()
    var followersOf = Set<String>(), followsOf = Set<String>(), postsOf = Set<String>()
}

/// Column arrays of the feed items a batch inserts.
struct FeedItemColumns {
    var uri: [String] = [], cid: [String] = [], type: [String] = [], postURI: [String] = [], postAuthorDID: [String] = []
    var originatorDID: [String] = [], sortAt: [Int64] = [], isReply: [Bool] = [], isSelfThread: [Bool] = [], hasMedia: [Bool] = []

    mutating func append(uri: String, cid: String, type: String, postURI: String, postAuthorDID: String, originatorDID: String,
                         sortAt: Int64, isReply: Bool, isSelfThread: Bool, hasMedia: Bool) {
        self.uri.append(uri)
        self.cid.append(cid)
        self.type.append(type)
        self.postURI.append(postURI)
        self.postAuthorDID.append(postAuthorDID)
        self.originatorDID.append(originatorDID)
        self.sortAt.append(sortAt)
        self.isReply.append(isReply)
        self.isSelfThread.append(isSelfThread)
        self.hasMedia.append(hasMedia)
    }
}
