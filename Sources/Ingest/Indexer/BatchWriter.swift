import Storage

/// Writes one `BatchPlan` on a connection inside a transaction. Every step is one multi-row
/// statement over `unnest`ed arrays. A new record is one `INSERT … ON CONFLICT DO NOTHING`; a record
/// whose version (CID) changed is replaced with its derived rows (delete, then insert), so an update
/// leaves exactly the rows the new version implies; an unchanged record is not touched at all, so a
/// replay writes nothing. Aggregates move by exactly the rows inserted and removed (`RETURNING`),
/// so they stay equal to a count of the live rows in any arrival order.
struct BatchWriter {
    let connection: PostgresConnection
    let plan: BatchPlan
    /// The DIDs of `plan.actorsSeen` to upsert: those not known to exist with an earlier first sight.
    let actorsToUpsert: [String]

    /// How much each count changes, from the rows this batch actually inserted and removed.
    private var deltas = AggregateDeltas()
    /// Newest tombstone time of any record (nil: none); creates not older than it cannot be tombstoned.
    private var newestTombstone: Int64?
    private var feedItemURIs: [String] = []
    private var feedItems = FeedItemColumns()
    private var notificationRecordURIs: [String] = []
    private var notifications: [BatchPlan.NotificationRow] = []
    /// Actors this batch created, and those whose handle and profile the batch settled.
    private var createdActors = Set<String>()
    private var settledActors = Set<String>()

    init(connection: PostgresConnection, plan: BatchPlan, actorsToUpsert: [String]? = nil) {
        self.connection = connection
        self.plan = plan
        self.actorsToUpsert = actorsToUpsert ?? plan.actorsSeen.keys.sorted()
    }

    static let ts = SQLFragment.timestamp

    /// Runs a statement, sending array parameters with the indexer's fast array encoders.
    @discardableResult
    private func execute(_ sql: String, _ parameters: [PostgresBindable?]) throws -> QueryResult {
        try connection.query(sql, parameters.map { parameter -> PostgresBindable? in
            guard let parameter else { return nil }
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
        try writeTombstones()
        try writePosts()
        try writeSubjectRecords(table: "likes", changes: plan.likes, reason: "like")
        try writeSubjectRecords(table: "reposts", changes: plan.reposts, reason: "repost")
        try writeFollows()
        try writeBlocks()
        try writeFeedItems()
        try writeNotifications()
        try writeAggregateDeltas()
    }

    // MARK: actors

    /// First sight creates the actor; its `indexed_at` is the earliest event that mentioned it,
    /// whatever the arrival order. A created actor (`xmax = 0`: inserted, not updated) gets its
    /// user-creation marker in the same statement.
    private mutating func writeActorsSeen() throws {
        guard !actorsToUpsert.isEmpty else { return }
        let dids = actorsToUpsert
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

    // MARK: tombstones

    /// Deletes leave a tombstone (URI, event time), so a create that is older than an applied delete
    /// (out of order across a rewind or a resumed import) does not bring the record back. Also reads
    /// the newest tombstone time, under the writer lock: creates newer than it need no lookup.
    private mutating func writeTombstones() throws {
        let hasUpserts = !(plan.posts.isEmpty && plan.likes.isEmpty && plan.reposts.isEmpty && plan.follows.isEmpty && plan.blocks.isEmpty)
        guard hasUpserts || !plan.tombstones.isEmpty else { return }
        let uris = plan.tombstones.keys.sorted()
        let result = try execute("""
            WITH written AS (
                INSERT INTO record_tombstones (uri, time_us)
                SELECT uri, time_us FROM unnest($1::text[], $2::bigint[]) AS x(uri, time_us)
                ON CONFLICT (uri) DO UPDATE SET time_us = excluded.time_us WHERE record_tombstones.time_us < excluded.time_us
                RETURNING time_us
            )
            SELECT greatest((SELECT max(time_us) FROM record_tombstones), (SELECT max(time_us) FROM written), $3::bigint)
            """, [uris, uris.map { plan.tombstones[$0]! }, plan.tombstones.values.max()])
        newestTombstone = result.rowCount > 0 ? result[0].int64(0) : nil
    }

    /// `WHERE` condition of a create `x` (columns `uri`, `time_us`) that no tombstone forbids; `$n` is
    /// the newest tombstone time, so the lookup runs only for creates not newer than every tombstone.
    private static func notTombstoned(_ newestParameter: Int) -> String {
        """
        (x.time_us > coalesce($\(newestParameter)::bigint, -1)
         OR NOT EXISTS (SELECT 1 FROM record_tombstones d WHERE d.uri = x.uri AND d.time_us >= x.time_us))
        """
    }

    // MARK: records

    /// One record table's changes: deletes first, then the creates as `INSERT … ON CONFLICT (uri)
    /// DO NOTHING` (new records: one statement). Creates that were not inserted are stored already:
    /// those whose stored version differs (and, with `commitTime`, is not newer) are removed and
    /// inserted again; an unchanged record is left alone, so a replay writes nothing. Returns the
    /// rows inserted and the removed rows' `returning` columns (first column: uri).
    private func writeRecords<Row>(table: String, changes: OrderedChanges<Row>, uri: (Row) -> String, cid: (Row) -> String,
                                   time: (Row) -> Int64, commitTime: Bool = false, returning: [String],
                                   insert: ([Row]) throws -> QueryResult) throws -> (inserted: [Row], removed: [Storage.Row]) {
        var removed: [Storage.Row] = []
        let returned = returning.map { "t.\($0)" }.joined(separator: ", ")
        let deleted = changes.deletedKeys
        if !deleted.isEmpty {
            removed += try execute("DELETE FROM \(table) t WHERE t.uri = ANY($1::text[]) RETURNING \(returned)", [deleted]).rows
        }
        let candidates = changes.upserts
        guard !candidates.isEmpty else { return ([], removed) }
        var inserted = Set(try insert(candidates).rows.compactMap { $0.string(0) })
        let present = candidates.filter { !inserted.contains(uri($0)) }
        if !present.isEmpty {
            let replaced = try execute("""
                DELETE FROM \(table) t USING unnest($1::text[], $2::text[], $3::bigint[]) AS x(uri, cid, time_us)
                WHERE t.uri = x.uri AND t.cid <> x.cid \(commitTime ? "AND t.commit_time_us <= x.time_us" : "")
                  AND NOT EXISTS (SELECT 1 FROM record_tombstones d WHERE d.uri = x.uri AND d.time_us >= x.time_us)
                RETURNING \(returned)
                """, [present.map(uri), present.map(cid), present.map(time)]).rows
            if !replaced.isEmpty {
                removed += replaced
                let replacedURIs = Set(replaced.compactMap { $0.string(0) })
                inserted.formUnion(try insert(present.filter { replacedURIs.contains(uri($0)) }).rows.compactMap { $0.string(0) })
            }
        }
        return (candidates.filter { inserted.contains(uri($0)) }, removed)
    }

    private mutating func writePosts() throws {
        guard !plan.posts.isEmpty else { return }
        let (posts, removed) = try writeRecords(
            table: "posts", changes: plan.posts, uri: \.uri, cid: \.cid, time: \.timeMicroseconds, commitTime: true,
            returning: ["uri", "author_did", "reply_parent_uri", "embed_record_uri"], insert: insertPosts)
        for row in removed {
            guard let uri = row.string(0) else { continue }
            feedItemURIs.append(uri)
            notificationRecordURIs.append(uri)
            if let author = row.string(1) { deltas[actor: author].posts -= 1 }
            if let parent = row.string(2) { deltas[post: parent].replies -= 1 }
            if let quoted = row.string(3) { deltas[post: quoted].quotes -= 1 }
        }
        for post in posts {
            deltas[actor: post.authorDID].posts += 1
            if let parent = post.record.reply?.parent.uri { deltas[post: parent.description].replies += 1 }
            if let quoted = post.record.embed?.record?.uri { deltas[post: quoted.description].quotes += 1 }
            let reply = post.record.reply
            let isReply = reply != nil
            let isSelfThread = reply.map { $0.parent.uri.did == post.authorDID && $0.root.uri.did == post.authorDID } ?? false
            feedItems.append(uri: post.uri, cid: post.cid, type: "post", postURI: post.uri, postAuthorDID: post.authorDID,
                             originatorDID: post.authorDID, sortAt: min(post.createdAt, post.indexedAt), isReply: isReply,
                             isSelfThread: isSelfThread, hasMedia: post.record.embed?.hasMedia ?? false)
            notifications += NotificationRules.forPost(post)
        }
    }

    /// Inserts the posts no tombstone forbids and that are not stored yet; returns the inserted URIs.
    private func insertPosts(_ posts: [BatchPlan.PostRow]) throws -> QueryResult {
        try execute("""
            INSERT INTO posts (uri, cid, author_did, record, text, reply_root_uri, reply_root_cid, reply_parent_uri,
                reply_parent_cid, embed_type, embed_record_uri, has_media, created_at, indexed_at, sort_at, commit_time_us)
            SELECT uri, cid, author_did, record::jsonb, text, root_uri, root_cid, parent_uri, parent_cid, embed_type, embed_uri,
                has_media, \(Self.ts("created_at")), \(Self.ts("indexed_at")), \(Self.ts("least(created_at, indexed_at)")), time_us
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                $10::text[], $11::text[], $12::bool[], $13::bigint[], $14::bigint[], $15::bigint[])
                AS x(uri, cid, author_did, record, text, root_uri, root_cid, parent_uri, parent_cid, embed_type, embed_uri,
                     has_media, created_at, indexed_at, time_us)
            WHERE \(Self.notTombstoned(16))
            ON CONFLICT (uri) DO NOTHING
            RETURNING uri
            """, [
                posts.map(\.uri), posts.map(\.cid), posts.map(\.authorDID), posts.map(\.record.rawJSON), posts.map(\.record.text),
                TextArray(posts.map { $0.record.reply?.root.uri.description }), TextArray(posts.map { $0.record.reply?.root.cid }),
                TextArray(posts.map { $0.record.reply?.parent.uri.description }), TextArray(posts.map { $0.record.reply?.parent.cid }),
                TextArray(posts.map { $0.record.embed?.type }), TextArray(posts.map { $0.record.embed?.record?.uri.description }),
                posts.map { $0.record.embed?.hasMedia ?? false }, posts.map(\.createdAt), posts.map(\.indexedAt),
                posts.map(\.timeMicroseconds), newestTombstone,
            ])
    }

    /// Likes and reposts: same shape; reposts also own a feed item.
    private mutating func writeSubjectRecords(table: String, changes: OrderedChanges<BatchPlan.SubjectRow>, reason: String) throws {
        guard !changes.isEmpty else { return }
        let isLike = reason == "like"
        let (rows, removed) = try writeRecords(
            table: table, changes: changes, uri: \.uri, cid: \.cid, time: \.timeMicroseconds, returning: ["uri", "subject_uri"],
            insert: { try insertSubjectRecords(table: table, $0) })
        for row in removed {
            guard let uri = row.string(0) else { continue }
            notificationRecordURIs.append(uri)
            if !isLike { feedItemURIs.append(uri) }
            if let subject = row.string(1) {
                if isLike { deltas[post: subject].likes -= 1 } else { deltas[post: subject].reposts -= 1 }
            }
        }
        for row in rows {
            let subject = row.subject.uri.description
            if isLike { deltas[post: subject].likes += 1 } else { deltas[post: subject].reposts += 1 }
            if let notification = NotificationRules.forSubjectRecord(row, reason: reason) { notifications.append(notification) }
            if !isLike, row.subject.uri.collection == IndexedCollection.post.rawValue {
                feedItems.append(uri: row.uri, cid: row.cid, type: "repost", postURI: subject,
                                 postAuthorDID: row.subject.uri.did, originatorDID: row.authorDID,
                                 sortAt: min(row.createdAt, row.indexedAt), isReply: false, isSelfThread: false, hasMedia: false)
            }
        }
    }

    private func insertSubjectRecords(table: String, _ rows: [BatchPlan.SubjectRow]) throws -> QueryResult {
        try execute("""
            INSERT INTO \(table) (uri, cid, author_did, subject_uri, subject_cid, created_at, indexed_at)
            SELECT uri, cid, author_did, subject_uri, subject_cid, \(Self.ts("created_at")), \(Self.ts("indexed_at"))
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[])
                AS x(uri, cid, author_did, subject_uri, subject_cid, created_at, indexed_at, time_us)
            WHERE \(Self.notTombstoned(9))
            ON CONFLICT (uri) DO NOTHING
            RETURNING uri
            """, [rows.map(\.uri), rows.map(\.cid), rows.map(\.authorDID), rows.map { $0.subject.uri.description },
                  rows.map(\.subject.cid), rows.map(\.createdAt), rows.map(\.indexedAt), rows.map(\.timeMicroseconds), newestTombstone])
    }

    private mutating func writeFollows() throws {
        guard !plan.follows.isEmpty else { return }
        let (inserted, removed) = try writeGraphRecords(table: "follows", changes: plan.follows)
        for row in removed {
            guard let uri = row.string(0), let creator = row.string(1), let subject = row.string(2) else { continue }
            notificationRecordURIs.append(uri)
            deltas[actor: creator].follows -= 1
            deltas[actor: subject].followers -= 1
        }
        for row in inserted {
            deltas[actor: row.creatorDID].follows += 1
            deltas[actor: row.subjectDID].followers += 1
            if let notification = NotificationRules.forFollow(row) { notifications.append(notification) }
        }
    }

    private func writeBlocks() throws {
        guard !plan.blocks.isEmpty else { return }
        _ = try writeGraphRecords(table: "blocks", changes: plan.blocks)
    }

    private func writeGraphRecords(table: String, changes: OrderedChanges<BatchPlan.GraphRow>) throws
        -> (inserted: [BatchPlan.GraphRow], removed: [Storage.Row]) {
        try writeRecords(table: table, changes: changes, uri: \.uri, cid: \.cid, time: \.timeMicroseconds,
                         returning: ["uri", "creator_did", "subject_did"]) { rows in
            try execute("""
                INSERT INTO \(table) (uri, cid, creator_did, subject_did, created_at, indexed_at)
                SELECT uri, cid, creator_did, subject_did, \(Self.ts("created_at")), \(Self.ts("indexed_at"))
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[])
                    AS x(uri, cid, creator_did, subject_did, created_at, indexed_at, time_us)
                WHERE \(Self.notTombstoned(8))
                ON CONFLICT (uri) DO NOTHING
                RETURNING uri
                """, [rows.map(\.uri), rows.map(\.cid), rows.map(\.creatorDID), rows.map(\.subjectDID), rows.map(\.createdAt),
                      rows.map(\.indexedAt), rows.map(\.timeMicroseconds), newestTombstone])
        }
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
    /// Deleting by record uses the primary key's prefix (record_uri, recipient_did).
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
            ON CONFLICT (record_uri, recipient_did) DO UPDATE SET record_cid = excluded.record_cid, author_did = excluded.author_did,
                reason = excluded.reason, reason_subject = excluded.reason_subject, sort_at = excluded.sort_at
            """, [rows.map(\.recipientDID), rows.map(\.recordURI), rows.map(\.recordCID), rows.map(\.authorDID), rows.map(\.reason),
                  TextArray(rows.map(\.reasonSubject)), rows.map(\.sortAt)])
    }

    // MARK: aggregates

    /// Adds each subject's delta to its counts: one upsert per aggregate table. The deltas come from
    /// the rows this transaction inserted and removed (`RETURNING`), so every count stays equal to a
    /// count of the live rows: a replay inserts and removes nothing and changes no count. A subject
    /// never counted has no row (readers treat a missing row as zeros); a count can exist before its
    /// post does (likes that arrive first).
    private func writeAggregateDeltas() throws {
        let posts = deltas.posts.filter { !$0.value.isZero }.sorted { $0.key < $1.key }
        if !posts.isEmpty {
            try execute("""
                INSERT INTO post_aggregates AS a (uri, like_count, repost_count, reply_count, quote_count)
                SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[])
                ON CONFLICT (uri) DO UPDATE SET like_count = a.like_count + excluded.like_count,
                    repost_count = a.repost_count + excluded.repost_count, reply_count = a.reply_count + excluded.reply_count,
                    quote_count = a.quote_count + excluded.quote_count
                """, [posts.map { $0.key }, posts.map { $0.value.likes }, posts.map { $0.value.reposts },
                      posts.map { $0.value.replies }, posts.map { $0.value.quotes }])
        }
        let actors = deltas.actors.filter { !$0.value.isZero }.sorted { $0.key < $1.key }
        if !actors.isEmpty {
            try execute("""
                INSERT INTO actor_aggregates AS a (did, followers_count, follows_count, posts_count)
                SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[])
                ON CONFLICT (did) DO UPDATE SET followers_count = a.followers_count + excluded.followers_count,
                    follows_count = a.follows_count + excluded.follows_count, posts_count = a.posts_count + excluded.posts_count
                """, [actors.map { $0.key }, actors.map { $0.value.followers }, actors.map { $0.value.follows },
                      actors.map { $0.value.posts }])
        }
    }
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
