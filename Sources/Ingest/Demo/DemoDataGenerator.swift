import JSON

/// Generates a deterministic, realistic Jetstream JSONL stream for a demo AppView: accounts with
/// handles (`alice.demo`, …) and profiles, follows, posts with replies, mentions (facets with byte
/// offsets), quotes, image and external embeds, likes, reposts, blocks and a few deletes, in time order.
public struct DemoDataGenerator {
    /// What was generated.
    public struct Summary: Sendable {
        public var events: Int
        /// Handles in account order; the first ones are the best-connected.
        public var handles: [String]
    }

    struct Account {
        var did: String
        var handle: String
        var name: String
    }

    struct GeneratedPost {
        var uri: String
        var cid: String
        var author: Int
        var rootURI: String
        var rootCID: String
    }

    static let names = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj",
                        "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "wendy"]
    static let topics = ["the new espresso place", "federated protocols", "my garden tomatoes", "the rain today", "Swift 6",
                         "PostgreSQL indexes", "a long bike ride", "the jazz concert", "open source maintenance", "this week's book",
                         "mountain hiking", "late-night debugging", "the city marathon", "homemade bread", "the lunar eclipse"]
    static let openers = ["Thinking about", "Can't stop talking about", "Hot take on", "Quick note on", "Loving", "Notes on",
                          "Finally tried", "Some thoughts on"]
    static let closers = ["☕️", "🌱", "🚲", "✨", "😅", "🎷", "📚", "", "", "!"]
    static let replies = ["Totally agree!", "Hmm, not sure about that.", "This is great 👏", "Same here.", "Tell me more?",
                          "Ha, exactly what I thought.", "Bookmarking this.", "Interesting — why?"]

    /// 2026-07-01T00:00:00Z: fixed, so the output depends on the seed only.
    static let startMicroseconds: Int64 = Timestamp.daysFromCivil(year: 2026, month: 7, day: 1) * 86_400_000_000

    let actorCount: Int
    var random: SplitMix64
    var clock: Int64 = DemoDataGenerator.startMicroseconds
    var sequence: Int64 = 1_000_000
    var accounts: [Account] = []
    var posts: [GeneratedPost] = []
    var likes: [(uri: String, author: Int)] = []
    var follows: [(uri: String, author: Int)] = []
    var followed = Set<String>()
    var emitted = 0

    /// `actorCount` accounts (handles `alice.demo`, `bob.demo`, … then `alice2.demo`, …); the same
    /// seed always yields the same events.
    public init(actorCount: Int, seed: UInt64) {
        self.actorCount = actorCount
        random = SplitMix64(seed: seed)
    }

    /// Writes the events through `emit`, one JSON line each.
    public mutating func generate(_ emit: (String) throws -> Void) throws -> Summary {
        for index in 0..<actorCount {
            let base = Self.names[index % Self.names.count]
            let round = index / Self.names.count
            let name = round == 0 ? base : "\(base)\(round + 1)"
            accounts.append(Account(did: DemoIdentifiers.did(&random), handle: "\(name).demo", name: name))
        }
        for index in accounts.indices {
            try emit(identity(index))
            try emit(profile(index))
        }
        // A social graph: the first accounts follow many others, everyone follows a few.
        for index in accounts.indices {
            let count = index < 3 ? min(actorCount - 1, 60) : 2 + random.below(min(12, actorCount - 1))
            for _ in 0..<count {
                let subject = random.below(actorCount)
                guard subject != index, !followed.contains("\(index)>\(subject)") else { continue }
                try emit(follow(index, subject))
            }
        }
        // Activity: posts first, interactions with what exists so far.
        let steps = actorCount * 20
        for _ in 0..<steps {
            let author = activeAccount()
            let roll = random.below(100)
            switch roll {
            case 0..<35: try emit(post(author))
            case 35..<50 where !posts.isEmpty: try emit(post(author, replyTo: random.pick(posts)))
            case 50..<80 where !posts.isEmpty: try emit(like(author, random.pick(posts)))
            case 80..<90 where !posts.isEmpty: try emit(repost(author, random.pick(posts)))
            case 90..<96:
                let subject = random.below(actorCount)
                if subject == author || followed.contains("\(author)>\(subject)") {
                    try emit(post(author))
                } else {
                    try emit(follow(author, subject))
                }
            case 96..<97: try emit(block(author, random.below(actorCount)))
            case 97..<98 where !likes.isEmpty: try emit(delete(likes.remove(at: random.below(likes.count)), collection: "app.bsky.feed.like"))
            case 98..<99 where !follows.isEmpty:
                try emit(delete(follows.remove(at: random.below(follows.count)), collection: "app.bsky.graph.follow"))
            case 99 where posts.count > 10:
                let removed = posts.remove(at: random.below(posts.count))
                try emit(delete((removed.uri, removed.author), collection: "app.bsky.feed.post"))
            default: try emit(post(author))
            }
        }
        return Summary(events: emitted, handles: accounts.map(\.handle))
    }

    /// Power-law-ish activity: low indexes act far more often.
    mutating func activeAccount() -> Int {
        let a = random.below(actorCount), b = random.below(actorCount)
        return min(a, b)
    }

    mutating func tick() -> Int64 {
        clock += Int64(1_000 + random.below(400_000))
        emitted += 1
        sequence += 1
        return clock
    }

    func isoTime(_ microseconds: Int64) -> String { Timestamp.iso8601(epochMilliseconds: microseconds / 1000) }

    mutating func identity(_ index: Int) -> String {
        let time = tick()
        let account = accounts[index]
        return DemoJSON.object([
            ("did", .string(account.did)), ("time_us", .int(time)), ("kind", .string("identity")),
            ("identity", .object([("did", .string(account.did)), ("handle", .string(account.handle)), ("seq", .int(sequence)),
                                  ("time", .string(isoTime(time)))])),
        ]).text
    }

    mutating func commit(_ author: Int, collection: String, rkey: String? = nil, record: [(String, DemoJSON)], time: Int64) -> (String, String, String) {
        let key = rkey ?? DemoIdentifiers.tid(microseconds: time, clockID: UInt64(author))
        let cid = DemoIdentifiers.cid(codec: 0x71, &random)
        let did = accounts[author].did
        let line = DemoJSON.object([
            ("did", .string(did)), ("time_us", .int(time)), ("kind", .string("commit")),
            ("commit", .object([
                ("rev", .string(DemoIdentifiers.tid(microseconds: time, clockID: 7))), ("operation", .string("create")),
                ("collection", .string(collection)), ("rkey", .string(key)), ("record", .object(record)), ("cid", .string(cid)),
            ])),
        ]).text
        return (line, "at://\(did)/\(collection)/\(key)", cid)
    }

    mutating func blob(_ mimeType: String) -> DemoJSON {
        .object([("$type", .string("blob")), ("ref", .object([("$link", .string(DemoIdentifiers.cid(codec: 0x55, &random)))])),
                 ("mimeType", .string(mimeType)), ("size", .int(Int64(20_000 + random.below(900_000))))])
    }

    mutating func profile(_ index: Int) -> String {
        let time = tick()
        let account = accounts[index]
        let display = account.name.prefix(1).uppercased() + account.name.dropFirst() + " Demo"
        let record: [(String, DemoJSON)] = [
            ("$type", .string("app.bsky.actor.profile")), ("displayName", .string(display)),
            ("description", .string("Demo account \(account.handle). Posts about \(random.pick(Self.topics)).")),
            ("avatar", blob("image/jpeg")), ("createdAt", .string(isoTime(time))),
        ]
        return commit(index, collection: "app.bsky.actor.profile", rkey: "self", record: record, time: time).0
    }

    mutating func follow(_ author: Int, _ subject: Int) -> String {
        let time = tick()
        let subjectIndex = subject == author ? (subject + 1) % actorCount : subject
        followed.insert("\(author)>\(subjectIndex)")
        let (line, uri, _) = commit(author, collection: "app.bsky.graph.follow", record: [
            ("$type", .string("app.bsky.graph.follow")), ("createdAt", .string(isoTime(time))), ("subject", .string(accounts[subjectIndex].did)),
        ], time: time)
        follows.append((uri, author))
        return line
    }

    mutating func block(_ author: Int, _ subject: Int) -> String {
        let time = tick()
        let subjectIndex = subject == author ? (subject + 1) % actorCount : subject
        return commit(author, collection: "app.bsky.graph.block", record: [
            ("$type", .string("app.bsky.graph.block")), ("createdAt", .string(isoTime(time))), ("subject", .string(accounts[subjectIndex].did)),
        ], time: time).0
    }

    mutating func post(_ author: Int, replyTo parent: GeneratedPost? = nil) -> String {
        let time = tick()
        var text = parent == nil
            ? "\(random.pick(Self.openers)) \(random.pick(Self.topics)) \(random.pick(Self.closers))"
            : random.pick(Self.replies)
        var record: [(String, DemoJSON)] = [("$type", .string("app.bsky.feed.post"))]
        var facets: [DemoJSON] = []
        if random.chance(20) {
            // A mention: the facet indexes UTF-8 bytes, so emoji before it shift the offsets.
            let mentioned = accounts[random.below(actorCount)]
            text += " cc @\(mentioned.handle)"
            let end = text.utf8.count
            let start = end - mentioned.handle.utf8.count - 1
            facets.append(.object([
                ("$type", .string("app.bsky.richtext.facet")),
                ("index", .object([("byteStart", .int(Int64(start))), ("byteEnd", .int(Int64(end)))])),
                ("features", .array([.object([("$type", .string("app.bsky.richtext.facet#mention")), ("did", .string(mentioned.did))])])),
            ]))
        }
        record.append(("text", .string(text)))
        if !facets.isEmpty { record.append(("facets", .array(facets))) }
        if let parent {
            record.append(("reply", .object([
                ("root", .object([("uri", .string(parent.rootURI)), ("cid", .string(parent.rootCID))])),
                ("parent", .object([("uri", .string(parent.uri)), ("cid", .string(parent.cid))])),
            ])))
        } else {
            let roll = random.below(100)
            if roll < 20 {
                record.append(("embed", .object([("$type", .string("app.bsky.embed.images")), ("images", .array([.object([
                    ("alt", .string("A photo of \(random.pick(Self.topics))")), ("image", blob("image/jpeg")),
                    ("aspectRatio", .object([("width", .int(1200)), ("height", .int(800))])),
                ])]))])))
            } else if roll < 30 {
                let slug = random.pick(Self.topics).replacingOccurrences(of: " ", with: "-")
                record.append(("embed", .object([("$type", .string("app.bsky.embed.external")), ("external", .object([
                    ("uri", .string("https://example.com/\(slug)")), ("title", .string("All about \(slug)")),
                    ("description", .string("A demo link card.")), ("thumb", blob("image/jpeg")),
                ]))])))
            } else if roll < 42, !posts.isEmpty {
                let quoted = random.pick(posts)
                let reference: DemoJSON = .object([("uri", .string(quoted.uri)), ("cid", .string(quoted.cid))])
                if roll < 37 {
                    record.append(("embed", .object([("$type", .string("app.bsky.embed.record")), ("record", reference)])))
                } else {
                    record.append(("embed", .object([
                        ("$type", .string("app.bsky.embed.recordWithMedia")),
                        ("record", .object([("$type", .string("app.bsky.embed.record")), ("record", reference)])),
                        ("media", .object([("$type", .string("app.bsky.embed.images")), ("images", .array([.object([
                            ("alt", .string("")), ("image", blob("image/png")),
                        ])]))])),
                    ])))
                }
            }
        }
        record.append(("langs", .array([.string("en")])))
        record.append(("createdAt", .string(isoTime(time - Int64(random.below(3_000_000))))))
        let (line, uri, cid) = commit(author, collection: "app.bsky.feed.post", record: record, time: time)
        posts.append(GeneratedPost(uri: uri, cid: cid, author: author, rootURI: parent?.rootURI ?? uri, rootCID: parent?.rootCID ?? cid))
        return line
    }

    mutating func like(_ author: Int, _ subject: GeneratedPost) -> String {
        let time = tick()
        let (line, uri, _) = commit(author, collection: "app.bsky.feed.like", record: [
            ("$type", .string("app.bsky.feed.like")),
            ("subject", .object([("uri", .string(subject.uri)), ("cid", .string(subject.cid))])), ("createdAt", .string(isoTime(time))),
        ], time: time)
        likes.append((uri, author))
        return line
    }

    mutating func repost(_ author: Int, _ subject: GeneratedPost) -> String {
        let time = tick()
        return commit(author, collection: "app.bsky.feed.repost", record: [
            ("$type", .string("app.bsky.feed.repost")),
            ("subject", .object([("uri", .string(subject.uri)), ("cid", .string(subject.cid))])), ("createdAt", .string(isoTime(time))),
        ], time: time).0
    }

    mutating func delete(_ record: (uri: String, author: Int), collection: String) -> String {
        let time = tick()
        let rkey = record.uri.split(separator: "/").last.map(String.init) ?? ""
        return DemoJSON.object([
            ("did", .string(accounts[record.author].did)), ("time_us", .int(time)), ("kind", .string("commit")),
            ("commit", .object([
                ("rev", .string(DemoIdentifiers.tid(microseconds: time, clockID: 7))), ("operation", .string("delete")),
                ("collection", .string(collection)), ("rkey", .string(rkey)),
            ])),
        ]).text
    }
}
