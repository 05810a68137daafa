/// Row writers: each renders one table's rows for a range of the model's indexes into COPY text.
/// The column lists match migrations/0001_core_schema.sql.
struct TableStreams {
    let model: DatasetModel

    static let actorsCopy = "COPY actors (did, handle, display_name, is_active, indexed_at) FROM STDIN"
    static let postsCopy = """
        COPY posts (uri, cid, author_did, record, text, reply_root_uri, reply_root_cid, reply_parent_uri, \
        reply_parent_cid, created_at, indexed_at, sort_at, commit_time_us) FROM STDIN
        """
    static let feedItemsCopy = """
        COPY feed_items (uri, cid, type, post_uri, post_author_did, originator_did, sort_at, is_reply, \
        is_self_thread, has_media) FROM STDIN
        """
    static let repostsCopy = "COPY reposts (uri, cid, author_did, subject_uri, subject_cid, created_at, indexed_at) FROM STDIN"
    static let likesCopy = "COPY likes (uri, cid, author_did, subject_uri, subject_cid, created_at, indexed_at) FROM STDIN"
    static let followsCopy = "COPY follows (uri, cid, creator_did, subject_did, created_at, indexed_at) FROM STDIN"

    func actors(_ out: inout CopyRowBuffer) throws {
        let firstSeen = model.parameters.endMillis - model.parameters.windowMillis - 90 * 86_400_000
        for a in 0..<model.totalActors {
            out.field(model.dids[a]); out.tab()
            out.field(model.handle(actor: a)); out.tab()
            if let (viewerClass, n) = model.viewerInfo(actor: a) {
                out.field("Bench viewer \(viewerClass.rawValue) \(n)")
            } else {
                out.field("Bench user \(a)")
            }
            out.tab(); out.bool(true); out.tab()
            out.timestamp(firstSeen + Int64(a % 86_400) * 1000)
            try out.endRow()
        }
    }

    func posts(_ range: Range<Int>, _ out: inout CopyRowBuffer) throws {
        var author = model.author(ofPost: range.lowerBound)
        for p in range {
            while model.postStart[author + 1] <= p { author += 1 }
            let time = model.postTime(p)
            let parent = model.replyParent(p)
            out.raw { model.appendPostURI(&$0, p, author: author) }; out.tab()
            out.raw { model.appendPostCID(&$0, p) }; out.tab()
            out.field(model.dids[author]); out.tab()
            // record: {"$type":"app.bsky.feed.post","text":…,"createdAt":…[,"reply":{…}]}
            out.field(#"{"$type": "app.bsky.feed.post", "text": ""#)
            out.raw { model.appendPostText(&$0, p) }
            out.field(#"", "createdAt": ""#)
            out.raw { TimestampText.append(&$0, millis: time, iso: true) }
            out.field("\"")
            var root = p
            if let parent {
                root = model.replyRoot(parent)
                let parentAuthor = model.author(ofPost: parent)
                let rootAuthor = model.author(ofPost: root)
                out.field(#", "reply": {"root": {"uri": ""#)
                out.raw { model.appendPostURI(&$0, root, author: rootAuthor) }
                out.field(#"", "cid": ""#)
                out.raw { model.appendPostCID(&$0, root) }
                out.field(#""}, "parent": {"uri": ""#)
                out.raw { model.appendPostURI(&$0, parent, author: parentAuthor) }
                out.field(#"", "cid": ""#)
                out.raw { model.appendPostCID(&$0, parent) }
                out.field("\"}}")
                _ = parentAuthor
            }
            out.field("}"); out.tab()
            out.raw { model.appendPostText(&$0, p) }; out.tab()
            if let parent {
                out.raw { model.appendPostURI(&$0, root, author: model.author(ofPost: root)) }; out.tab()
                out.raw { model.appendPostCID(&$0, root) }; out.tab()
                out.raw { model.appendPostURI(&$0, parent, author: model.author(ofPost: parent)) }; out.tab()
                out.raw { model.appendPostCID(&$0, parent) }; out.tab()
            } else {
                out.null(); out.tab(); out.null(); out.tab(); out.null(); out.tab(); out.null(); out.tab()
            }
            out.timestamp(time); out.tab()
            out.timestamp(time); out.tab()
            out.timestamp(time); out.tab()
            out.field(Int(time) * 1000 + p % 1000)
            try out.endRow()
        }
    }

    func postFeedItems(_ range: Range<Int>, _ out: inout CopyRowBuffer) throws {
        var author = model.author(ofPost: range.lowerBound)
        for p in range {
            while model.postStart[author + 1] <= p { author += 1 }
            let parent = model.replyParent(p)
            var selfThread = false
            if let parent {
                selfThread = model.author(ofPost: parent) == author && model.author(ofPost: model.replyRoot(parent)) == author
            }
            out.raw { model.appendPostURI(&$0, p, author: author) }; out.tab()
            out.raw { model.appendPostCID(&$0, p) }; out.tab()
            out.field("post"); out.tab()
            out.raw { model.appendPostURI(&$0, p, author: author) }; out.tab()
            out.field(model.dids[author]); out.tab()
            out.field(model.dids[author]); out.tab()
            out.timestamp(model.postTime(p)); out.tab()
            out.bool(parent != nil); out.tab()
            out.bool(selfThread); out.tab()
            out.bool(false)
            try out.endRow()
        }
    }

    @inline(__always)
    private func appendRecordURI(_ buffer: inout [UInt8], actor: Int, collection: [UInt8], time: Int64, index: Int) {
        buffer.append(contentsOf: model.atPrefix)
        buffer.append(contentsOf: model.dids[actor])
        buffer.append(contentsOf: collection)
        SyntheticIdentifiers.appendTID(&buffer, micros: time * 1000 + Int64(index % 1000), clockID: (index / 1000) % 1024)
    }

    func repostFeedItems(_ range: Range<Int>, _ out: inout CopyRowBuffer) throws {
        for q in range {
            let r = model.repost(q)
            out.raw { appendRecordURI(&$0, actor: r.actor, collection: model.repostCollection, time: r.time, index: q) }; out.tab()
            out.raw { SyntheticIdentifiers.appendCID(&$0, hash: model.hash, stream: .repostCid, index: q) }; out.tab()
            out.field("repost"); out.tab()
            out.raw { model.appendPostURI(&$0, r.subject, author: r.subjectAuthor) }; out.tab()
            out.field(model.dids[r.subjectAuthor]); out.tab()
            out.field(model.dids[r.actor]); out.tab()
            out.timestamp(r.time); out.tab()
            out.bool(false); out.tab(); out.bool(false); out.tab(); out.bool(false)
            try out.endRow()
        }
    }

    func reposts(_ range: Range<Int>, _ out: inout CopyRowBuffer) throws {
        for q in range {
            let r = model.repost(q)
            try interactionRow(r, index: q, collection: model.repostCollection, cidStream: .repostCid, &out)
        }
    }

    func likes(_ range: Range<Int>, _ out: inout CopyRowBuffer) throws {
        for l in range {
            let r = model.like(l)
            try interactionRow(r, index: l, collection: model.likeCollection, cidStream: .likeCid, &out)
        }
    }

    @inline(__always)
    private func interactionRow(
        _ r: DatasetModel.Interaction, index: Int, collection: [UInt8], cidStream: DeterministicHash.Stream,
        _ out: inout CopyRowBuffer
    ) throws {
        out.raw { appendRecordURI(&$0, actor: r.actor, collection: collection, time: r.time, index: index) }; out.tab()
        out.raw { SyntheticIdentifiers.appendCID(&$0, hash: model.hash, stream: cidStream, index: index) }; out.tab()
        out.field(model.dids[r.actor]); out.tab()
        out.raw { model.appendPostURI(&$0, r.subject, author: r.subjectAuthor) }; out.tab()
        out.raw { model.appendPostCID(&$0, r.subject) }; out.tab()
        out.timestamp(r.time); out.tab()
        out.timestamp(r.time)
        try out.endRow()
    }

    /// Ordinary actors' follows (popular accounts are followed more), then the viewers' follows
    /// (their class), then each viewer's followers.
    func follows(_ out: inout CopyRowBuffer) throws {
        let params = model.parameters
        let followWindow = 2 * params.windowMillis
        var seen = Set<Int>()
        for a in 0..<params.actors {
            let count = min(model.followCount(a), params.actors - 1)
            seen.removeAll(keepingCapacity: true)
            var draw = 0
            var made = 0
            while made < count && draw < count * 4 {
                let key = (a << 16) | (draw & 0xFFFF)
                draw += 1
                let subject = model.popularActor(model.hash.unit(.followSubject, key))
                guard subject != a, seen.insert(subject).inserted else { continue }
                let time = params.endMillis - 1 - Int64(model.hash.unit(.followTime, key) * Double(followWindow))
                try followRow(creator: a, subject: subject, time: time, index: made, cidIndex: key, &out)
                made += 1
            }
        }
        for viewerClass in ViewerClass.allCases {
            for n in 0..<params.viewersPerClass {
                let viewer = model.viewerActor(viewerClass, n)
                for (i, subject) in model.viewerFollows(viewerClass, n).enumerated() {
                    let key = (viewer << 16) | i
                    let time = params.endMillis - 1 - Int64(model.hash.unit(.followTime, key) * Double(followWindow))
                    try followRow(creator: viewer, subject: subject, time: time, index: i, cidIndex: key, &out)
                }
                var followers = Set<Int>()
                var draw = 0
                while followers.count < min(params.followersPerViewer, params.actors) {
                    let key = (viewer << 20) | draw
                    draw += 1
                    let follower = model.hash.below(params.actors, .viewerFollower, key)
                    guard followers.insert(follower).inserted else { continue }
                    let time = params.endMillis - 1 - Int64(model.hash.unit(.viewerFollowerTime, key) * Double(params.windowMillis))
                    // Index offset 500_000 keeps these record keys apart from the follower's own follows.
                    try followRow(creator: follower, subject: viewer, time: time, index: 500_000 + draw, cidIndex: key, &out)
                }
            }
        }
    }

    @inline(__always)
    private func followRow(creator: Int, subject: Int, time: Int64, index: Int, cidIndex: Int, _ out: inout CopyRowBuffer) throws {
        out.raw { appendRecordURI(&$0, actor: creator, collection: model.followCollection, time: time, index: index) }; out.tab()
        out.raw { SyntheticIdentifiers.appendCID(&$0, hash: model.hash, stream: .followCid, index: cidIndex) }; out.tab()
        out.field(model.dids[creator]); out.tab()
        out.field(model.dids[subject]); out.tab()
        out.timestamp(time); out.tab()
        out.timestamp(time)
        try out.endRow()
    }
}
