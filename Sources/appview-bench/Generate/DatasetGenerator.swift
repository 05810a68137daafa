import Foundation
import Storage

/// Builds the benchmark dataset: truncate, drop indexes, stream every table through COPY on
/// parallel connections, recreate indexes, derive aggregates/notifications in SQL, VACUUM ANALYZE.
struct DatasetGenerator {
    let parameters: DatasetParameters
    let url: String
    let workers: Int

    /// Session settings for the bulk connections: no statement timeout, large sort memory, and no
    /// waiting for WAL flushes (the data can be regenerated).
    static let bulkSettings = [
        "statement_timeout": "0",
        "synchronous_commit": "off",
        "maintenance_work_mem": "1GB",
        "work_mem": "256MB",
        "max_parallel_maintenance_workers": "0",
        "jit": "off",  // compiling the one-off derivation queries costs more than it saves
        "TimeZone": "UTC",
    ]

    func connect() throws -> PostgresConnection {
        try PostgresConnection(conninfo: url, settings: Self.bulkSettings)
    }

    /// Applies pending migrations (also when generation is skipped: the API refuses an older schema).
    static func migrate(_ url: String) throws {
        let pool = ConnectionPool(configuration: DatabaseConfiguration(url: url, poolSize: 1, statementTimeoutMilliseconds: 3_600_000))
        defer { pool.close() }
        let applied = try MigrationRunner(directory: MigrationRunner.defaultDirectory()).migrate(pool)
        if !applied.isEmpty { Progress.say("migrations applied: \(applied)") }
    }

    /// The fingerprint of the dataset present in the database, if a generation completed there.
    static func existingFingerprint(_ connection: PostgresConnection) throws -> String? {
        let exists = try connection.query("SELECT to_regclass('bench_dataset') IS NOT NULL")
        guard exists[0].bool(0) == true else { return nil }
        let result = try connection.query("SELECT value FROM bench_dataset WHERE key = 'fingerprint'")
        return result.rowCount == 1 ? result[0].string(0) : nil
    }

    func run(replaceForeignData: Bool) throws {
        Progress.started = Date()
        let model = DatasetModel(parameters)
        let streams = TableStreams(model: model)
        Progress.say("model ready: \(model.totalActors) actors, \(model.totalPosts) posts, \(parameters.repostCount) reposts, \(parameters.likes) likes")

        let admin = try connect()
        defer { admin.close() }
        try prepare(admin, replaceForeignData: replaceForeignData)

        // Largest first; the post-derived tables are split so both workers stay busy.
        let posts = model.totalPosts
        let halves = [0..<posts / 2, posts / 2..<posts]
        let likeHalves = [0..<parameters.likes / 2, parameters.likes / 2..<parameters.likes]
        var jobs: [ParallelJobs.Job] = []
        for (i, range) in halves.enumerated() {
            jobs.append(copyJob("posts[\(i)]", TableStreams.postsCopy) { try streams.posts(range, &$0) })
        }
        for (i, range) in halves.enumerated() {
            jobs.append(copyJob("feed_items posts[\(i)]", TableStreams.feedItemsCopy) { try streams.postFeedItems(range, &$0) })
        }
        for (i, range) in likeHalves.enumerated() {
            jobs.append(copyJob("likes[\(i)]", TableStreams.likesCopy) { try streams.likes(range, &$0) })
        }
        jobs.append(copyJob("feed_items reposts", TableStreams.feedItemsCopy) { try streams.repostFeedItems(0..<parameters.repostCount, &$0) })
        jobs.append(copyJob("follows", TableStreams.followsCopy) { try streams.follows(&$0) })
        jobs.append(copyJob("reposts", TableStreams.repostsCopy) { try streams.reposts(0..<parameters.repostCount, &$0) })
        jobs.append(copyJob("actors", TableStreams.actorsCopy) { try streams.actors(&$0) })
        let loadStarted = Date()
        try ParallelJobs(jobs).run(workers: workers, connect: connect)
        Progress.say("COPY done in \(Progress.seconds(since: loadStarted))")

        try recreateIndexes(admin)
        try derive(admin, model)
        try vacuum(admin)
        try admin.query("INSERT INTO bench_dataset (key, value) VALUES ('fingerprint', $1), ('generated_at', now()::text)", [parameters.fingerprint])
        Progress.say("dataset complete: \(parameters.fingerprint)")
    }

    private func copyJob(_ label: String, _ copySQL: String, _ body: @escaping (inout CopyRowBuffer) throws -> Void) -> ParallelJobs.Job {
        ParallelJobs.Job(label: label) { connection in
            var rows = 0
            try connection.copyIn(copySQL) { send in
                try withoutActuallyEscaping(send) { send in
                    var buffer = CopyRowBuffer(send: send)
                    try body(&buffer)
                    try buffer.flush()
                    rows = buffer.rows
                }
            }
            return "\(rows) rows"
        }
    }

    private func prepare(_ connection: PostgresConnection, replaceForeignData: Bool) throws {
        try Self.migrate(url)
        // Refuse to wipe a database that holds data this tool did not generate.
        let marked = try connection.query("SELECT to_regclass('bench_dataset') IS NOT NULL")[0].bool(0) == true
        let hasActors = try connection.query("SELECT EXISTS (SELECT 1 FROM actors)")[0].bool(0) == true
        if hasActors && !marked && !replaceForeignData {
            throw ConfigurationError("the database already holds actors that appview-bench did not generate; pass --replace to wipe it (or use a dedicated database)")
        }
        try connection.execute("""
            DROP TABLE IF EXISTS bench_dataset;
            DROP TABLE IF EXISTS bench_viewers;
            TRUNCATE actors, posts, likes, reposts, follows, blocks, feed_items, notifications,
                     post_aggregates, actor_aggregates, notification_seen;
            DROP INDEX IF EXISTS bench_anchor_posts_created_at_idx;
            """)
        // Autovacuum would scan the fresh tables while we load and index them; our own
        // VACUUM (ANALYZE) at the end does that work once (autovacuum is re-enabled then).
        for table in LoadIndexes.tables {
            try connection.execute("ALTER TABLE \(table) SET (autovacuum_enabled = off)")
        }
        let started = Date()
        try LoadIndexes.saveAndDrop(connection)
        Progress.say("tables truncated, load indexes dropped (\(Progress.seconds(since: started)))")
    }

    private func recreateIndexes(_ admin: PostgresConnection) throws {
        let started = Date()
        // Each worker builds one index at a time, biggest tables first.
        let definitions = try LoadIndexes.saved(admin)
        let jobs = definitions.map { definition in
            ParallelJobs.Job(label: "index \(definition.name)") { connection in
                try LoadIndexes.recreate(definition, connection)
                return "built"
            }
        }
        // The replaced systems' shape (b) orders posts by created_at; give it the index it had.
        let anchorIndex = ParallelJobs.Job(label: "index bench_anchor_posts_created_at_idx") { connection in
            try connection.execute("CREATE INDEX IF NOT EXISTS bench_anchor_posts_created_at_idx ON posts (created_at DESC)")
            return "built"
        }
        try ParallelJobs(jobs + [anchorIndex]).run(workers: workers, connect: connect)
        Progress.say("indexes rebuilt in \(Progress.seconds(since: started))")
    }

    private func derive(_ admin: PostgresConnection, _ model: DatasetModel) throws {
        var started = Date()
        // Statistics first, so the derivations below get sensible plans (index lookups for the
        // few viewers rather than hash joins over every like).
        try admin.execute("ANALYZE actors, posts, feed_items, likes, reposts, follows")
        Progress.say("ANALYZE in \(Progress.seconds(since: started))")
        started = Date()
        try admin.execute("""
            CREATE TABLE bench_dataset (key text PRIMARY KEY, value text NOT NULL);
            CREATE TABLE bench_viewers (
                class text NOT NULL, n integer NOT NULL, did text NOT NULL UNIQUE,
                PRIMARY KEY (class, n));
            """)
        var classes: [String] = [], numbers: [Int] = [], viewerDids: [String] = []
        for viewerClass in ViewerClass.allCases {
            for n in 0..<parameters.viewersPerClass {
                classes.append(viewerClass.rawValue)
                numbers.append(n + 1)
                viewerDids.append(String(decoding: model.dids[model.viewerActor(viewerClass, n)], as: UTF8.self))
            }
        }
        try admin.query("""
            INSERT INTO bench_viewers (class, n, did)
            SELECT * FROM unnest($1::text[], $2::int[], $3::text[])
            """, [classes, numbers, viewerDids])
        try admin.query("INSERT INTO bench_dataset (key, value) VALUES ('end_at', $1)",
                        [TimestampText.string(millis: parameters.endMillis, iso: true)])

        // Aggregates: exact counts from the loaded rows, one row per post and per actor.
        let aggregates = [
            ParallelJobs.Job(label: "post_aggregates") { connection in
                let result = try connection.execute("""
                    INSERT INTO post_aggregates (uri, like_count, repost_count, reply_count, quote_count)
                    SELECT p.uri, coalesce(l.n, 0), coalesce(r.n, 0), coalesce(c.n, 0), 0
                      FROM posts p
                      LEFT JOIN (SELECT subject_uri, count(*) AS n FROM likes GROUP BY 1) l ON l.subject_uri = p.uri
                      LEFT JOIN (SELECT subject_uri, count(*) AS n FROM reposts GROUP BY 1) r ON r.subject_uri = p.uri
                      LEFT JOIN (SELECT reply_parent_uri, count(*) AS n FROM posts
                                  WHERE reply_parent_uri IS NOT NULL GROUP BY 1) c ON c.reply_parent_uri = p.uri
                    """)
                return "\(result.affectedRows) rows"
            },
            ParallelJobs.Job(label: "actor_aggregates") { connection in
                let result = try connection.execute("""
                    INSERT INTO actor_aggregates (did, followers_count, follows_count, posts_count)
                    SELECT a.did, coalesce(fr.n, 0), coalesce(fo.n, 0), coalesce(p.n, 0)
                      FROM actors a
                      LEFT JOIN (SELECT subject_did, count(*) AS n FROM follows GROUP BY 1) fr ON fr.subject_did = a.did
                      LEFT JOIN (SELECT creator_did, count(*) AS n FROM follows GROUP BY 1) fo ON fo.creator_did = a.did
                      LEFT JOIN (SELECT author_did, count(*) AS n FROM posts GROUP BY 1) p ON p.author_did = a.did
                    """)
                return "\(result.affectedRows) rows"
            },
            // The viewers' notifications, derived from the rows as the indexer would: likes, reposts
            // and replies of their posts, and follows of them; never for acting on one's own content.
            ParallelJobs.Job(label: "notifications") { connection in
                let result = try connection.execute("""
                    INSERT INTO notifications (recipient_did, record_uri, record_cid, author_did, reason, reason_subject, sort_at)
                    SELECT p.author_did, l.uri, l.cid, l.author_did, 'like', p.uri, l.indexed_at
                      FROM bench_viewers v JOIN posts p ON p.author_did = v.did JOIN likes l ON l.subject_uri = p.uri
                     WHERE l.author_did <> p.author_did
                    UNION ALL
                    SELECT p.author_did, r.uri, r.cid, r.author_did, 'repost', p.uri, r.indexed_at
                      FROM bench_viewers v JOIN posts p ON p.author_did = v.did JOIN reposts r ON r.subject_uri = p.uri
                     WHERE r.author_did <> p.author_did
                    UNION ALL
                    SELECT p.author_did, c.uri, c.cid, c.author_did, 'reply', p.uri, c.indexed_at
                      FROM bench_viewers v JOIN posts p ON p.author_did = v.did JOIN posts c ON c.reply_parent_uri = p.uri
                     WHERE c.author_did <> p.author_did
                    UNION ALL
                    SELECT f.subject_did, f.uri, f.cid, f.creator_did, 'follow', NULL, f.indexed_at
                      FROM bench_viewers v JOIN follows f ON f.subject_did = v.did
                     WHERE f.creator_did <> f.subject_did
                    ON CONFLICT DO NOTHING
                    """)
                return "\(result.affectedRows) rows"
            },
        ]
        try ParallelJobs(aggregates).run(workers: workers, connect: connect)
        Progress.say("derived rows in \(Progress.seconds(since: started))")
    }

    private func vacuum(_ admin: PostgresConnection) throws {
        let started = Date()
        // VACUUM sets the visibility map (index-only scans); ANALYZE gives the planner statistics.
        let tables = ["feed_items", "posts", "likes", "follows", "reposts", "post_aggregates", "actors",
                      "actor_aggregates", "notifications", "bench_viewers", "bench_dataset"]
        let jobs = tables.map { table in
            ParallelJobs.Job(label: "vacuum \(table)") { connection in
                try connection.execute("VACUUM (ANALYZE) \(table)")
                return "done"
            }
        }
        try ParallelJobs(jobs).run(workers: workers, connect: connect)
        for table in LoadIndexes.tables {
            try admin.execute("ALTER TABLE \(table) RESET (autovacuum_enabled)")
        }
        _ = try? admin.execute("CHECKPOINT")  // needs superuser or pg_checkpoint; only speeds later reads
        Progress.say("VACUUM (ANALYZE) + CHECKPOINT in \(Progress.seconds(since: started))")
    }
}
