import Foundation
import JSON

/// A long, realistic Jetstream stream for replay tests and the ingest benchmark: likes ≈ 2/3 of
/// events, then posts (replies, mentions, quotes, images), reposts, follows, blocks, profile
/// updates, deletes of likes, posts and follows, identity and account events. Who is liked and
/// followed follows a power law (a few accounts get most of it). Deterministic for a seed, in
/// strictly increasing `time_us`, with memory bounded by its rings of recent records.
public struct SyntheticStreamGenerator {
    struct RecentRecord {
        var uri: String
        var cid: String
        var author: Int
    }

    /// Fixed start (2026-07-01T00:00:00Z) so the output depends on the parameters only.
    static let startMicroseconds: Int64 = Timestamp.daysFromCivil(year: 2026, month: 7, day: 1) * 86_400_000_000
    static let ringCapacity = 50_000

    let actorCount: Int
    var random: SplitMix64
    var clock = SyntheticStreamGenerator.startMicroseconds
    var dids: [String] = []
    var posts: [RecentRecord] = []
    var likes: [RecentRecord] = []
    var follows: [RecentRecord] = []
    var clockID: UInt64 = 0

    /// `actorCount` accounts; the same parameters always give the same stream.
    public init(actorCount: Int, seed: UInt64) {
        precondition(actorCount >= 2)
        self.actorCount = actorCount
        random = SplitMix64(seed: seed)
        dids = (0..<actorCount).map { _ in DemoIdentifiers.did(&random) }
    }

    /// Writes `count` events through `emit`, one JSON line each.
    public mutating func generate(count: Int, _ emit: (String) throws -> Void) rethrows {
        for _ in 0..<count { try emit(nextEvent()) }
    }

    /// One event, by the mix above.
    public mutating func nextEvent() -> String {
        clock += 1 + Int64(random.below(40))
        let author = random.below(actorCount)
        let roll = random.below(1000)
        switch roll {
        case 0..<660 where !posts.isEmpty: return like(author)
        case 660..<790: return post(author)
        case 790..<860 where !posts.isEmpty: return repost(author)
        case 860..<920: return follow(author)
        case 920..<930: return graph(author, collection: "app.bsky.graph.block", subject: popular()).line
        case 930..<945: return profile(author)
        case 945..<965 where !likes.isEmpty: return delete(from: \.likes, collection: "app.bsky.feed.like")
        case 965..<975 where !posts.isEmpty: return delete(from: \.posts, collection: "app.bsky.feed.post")
        case 975..<990 where !follows.isEmpty: return delete(from: \.follows, collection: "app.bsky.graph.follow")
        case 990..<995: return identity(author)
        case 995..<1000: return account(author)
        default: return post(author)
        }
    }

    /// An account index skewed towards 0: P(index < n·x) = x^(1/3), a power law.
    mutating func popular() -> Int {
        let uniform = Double(random.next() >> 11) / Double(1 << 53)
        return min(actorCount - 1, Int(Double(actorCount) * uniform * uniform * uniform))
    }

    /// A recent post, most often one by a popular author or a very recent one.
    mutating func recentPost() -> RecentRecord {
        let uniform = Double(random.next() >> 11) / Double(1 << 53)
        return posts[posts.count - 1 - Int(Double(posts.count - 1) * uniform * uniform)]
    }

    mutating func remember(_ record: RecentRecord, in ring: WritableKeyPath<Self, [RecentRecord]>) {
        let count = self[keyPath: ring].count
        if count >= Self.ringCapacity {
            self[keyPath: ring].swapAt(random.below(count), count - 1)
            self[keyPath: ring].removeLast()
        }
        self[keyPath: ring].append(record)
    }

    func iso(_ microseconds: Int64) -> String { Timestamp.iso8601(epochMilliseconds: microseconds / 1000) }

    mutating func commit(_ author: Int, operation: String = "create", collection: String, rkey: String? = nil,
                         record: [(String, DemoJSON)]) -> (line: String, uri: String, cid: String) {
        clockID &+= 1
        let rkey = rkey ?? DemoIdentifiers.tid(microseconds: clock, clockID: clockID)
        let cid = DemoIdentifiers.cid(codec: 0x71, &random)
        let line = DemoJSON.object([
            ("did", .string(dids[author])), ("time_us", .int(clock)), ("kind", .string("commit")),
            ("commit", .object([
                ("rev", .string(DemoIdentifiers.tid(microseconds: clock, clockID: clockID))), ("operation", .string(operation)),
                ("collection", .string(collection)), ("rkey", .string(rkey)), ("record", .object(record)), ("cid", .string(cid)),
            ])),
        ]).text
        return (line, "at://\(dids[author])/\(collection)/\(rkey)", cid)
    }

    mutating func like(_ author: Int) -> String {
        let subject = recentPost()
        let made = commit(author, collection: "app.bsky.feed.like", record: [
            ("$type", .string("app.bsky.feed.like")),
            ("subject", .object([("uri", .string(subject.uri)), ("cid", .string(subject.cid))])), ("createdAt", .string(iso(clock))),
        ])
        remember(RecentRecord(uri: made.uri, cid: made.cid, author: author), in: \.likes)
        return made.line
    }

    mutating func repost(_ author: Int) -> String {
        let subject = recentPost()
        return commit(author, collection: "app.bsky.feed.repost", record: [
            ("$type", .string("app.bsky.feed.repost")),
            ("subject", .object([("uri", .string(subject.uri)), ("cid", .string(subject.cid))])), ("createdAt", .string(iso(clock))),
        ]).line
    }

    mutating func graph(_ author: Int, collection: String, subject: Int) -> (line: String, uri: String, cid: String) {
        commit(author, collection: collection, record: [
            ("$type", .string(collection)), ("subject", .string(dids[subject])), ("createdAt", .string(iso(clock))),
        ])
    }

    mutating func follow(_ author: Int) -> String {
        let made = graph(author, collection: "app.bsky.graph.follow", subject: popular())
        remember(RecentRecord(uri: made.uri, cid: made.cid, author: author), in: \.follows)
        return made.line
    }

    mutating func profile(_ author: Int) -> String {
        commit(author, operation: random.chance(50) ? "update" : "create", collection: "app.bsky.actor.profile", rkey: "self", record: [
            ("$type", .string("app.bsky.actor.profile")), ("displayName", .string("Account \(author) v\(clock % 1000)")),
            ("description", .string("Synthetic account number \(author).")),
        ]).line
    }

    mutating func post(_ author: Int) -> String {
        var record: [(String, DemoJSON)] = [("$type", .string("app.bsky.feed.post"))]
        var text = "Post \(clock) about topic \(random.below(500))"
        if random.chance(20) {
            let mentioned = popular()
            let handle = "user\(mentioned).synthetic.test"
            let start = text.utf8.count + 1
            text += " @\(handle)"
            record.append(("facets", .array([.object([
                ("index", .object([("byteStart", .int(Int64(start))), ("byteEnd", .int(Int64(text.utf8.count)))])),
                ("features", .array([.object([("$type", .string("app.bsky.richtext.facet#mention")), ("did", .string(dids[mentioned]))])])),
            ])])))
        }
        record.insert(("text", .string(text)), at: 1)
        let roll = random.below(100)
        if roll < 30, !posts.isEmpty {
            let parent = recentPost()
            let reference: DemoJSON = .object([("uri", .string(parent.uri)), ("cid", .string(parent.cid))])
            record.append(("reply", .object([("root", reference), ("parent", reference)])))
        } else if roll < 40, !posts.isEmpty {
            let quoted = recentPost()
            record.append(("embed", .object([("$type", .string("app.bsky.embed.record")),
                                             ("record", .object([("uri", .string(quoted.uri)), ("cid", .string(quoted.cid))]))])))
        } else if roll < 55 {
            record.append(("embed", .object([("$type", .string("app.bsky.embed.images")), ("images", .array([.object([
                ("alt", .string("")),
                ("image", .object([("$type", .string("blob")), ("ref", .object([("$link", .string(DemoIdentifiers.cid(codec: 0x55, &random)))])),
                                   ("mimeType", .string("image/jpeg")), ("size", .int(123_456))])),
            ])]))])))
        }
        record.append(("createdAt", .string(iso(clock))))
        let made = commit(author, collection: "app.bsky.feed.post", record: record)
        remember(RecentRecord(uri: made.uri, cid: made.cid, author: author), in: \.posts)
        return made.line
    }

    mutating func delete(from ring: WritableKeyPath<Self, [RecentRecord]>, collection: String) -> String {
        let count = self[keyPath: ring].count
        self[keyPath: ring].swapAt(random.below(count), count - 1)
        let record = self[keyPath: ring].removeLast()
        let rkey = record.uri.split(separator: "/").last.map(String.init) ?? ""
        clockID &+= 1
        return DemoJSON.object([
            ("did", .string(dids[record.author])), ("time_us", .int(clock)), ("kind", .string("commit")),
            ("commit", .object([
                ("rev", .string(DemoIdentifiers.tid(microseconds: clock, clockID: clockID))), ("operation", .string("delete")),
                ("collection", .string(collection)), ("rkey", .string(rkey)),
            ])),
        ]).text
    }

    mutating func identity(_ author: Int) -> String {
        DemoJSON.object([
            ("did", .string(dids[author])), ("time_us", .int(clock)), ("kind", .string("identity")),
            ("identity", .object([("did", .string(dids[author])), ("handle", .string("user\(author).synthetic.test")),
                                  ("seq", .int(clock / 1000)), ("time", .string(iso(clock)))])),
        ]).text
    }

    mutating func account(_ author: Int) -> String {
        let active = random.chance(80)
        var body: [(String, DemoJSON)] = [("active", .bool(active))]
        if !active { body.append(("status", .string("deactivated"))) }
        body += [("did", .string(dids[author])), ("seq", .int(clock / 1000)), ("time", .string(iso(clock)))]
        return DemoJSON.object([
            ("did", .string(dids[author])), ("time_us", .int(clock)), ("kind", .string("account")), ("account", .object(body)),
        ]).text
    }
}
