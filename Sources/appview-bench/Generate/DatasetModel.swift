/// The generated world as pure functions of the parameters: who authored post `p`, when, what it
/// replies to, who reposted or liked what. Nothing per row is stored; COPY streams recompute rows.
///
/// Actor numbering: 0..<actors are ordinary accounts ranked by activity (0 = most active);
/// actors..<actors + viewerCount are the benchmark viewers. Post numbering: the regular posts
/// 0..<regularPostCount are laid out author by author (`postStart`), then each viewer's own posts.
final class DatasetModel: @unchecked Sendable {
    let parameters: DatasetParameters
    let hash: DeterministicHash
    let popularity: ZipfSampler
    let dids: [[UInt8]]
    /// postStart[a] ..< postStart[a + 1] are actor a's posts.
    let postStart: [Int]
    let viewerCount: Int
    var totalActors: Int { parameters.actors + viewerCount }
    var totalPosts: Int { postStart[totalActors] }

    init(_ parameters: DatasetParameters) {
        self.parameters = parameters
        hash = DeterministicHash(seed: parameters.seed)
        popularity = ZipfSampler(count: parameters.actors, exponent: parameters.zipfExponent, offset: parameters.zipfOffset)
        viewerCount = parameters.viewersPerClass * ViewerClass.allCases.count
        let total = parameters.actors + viewerCount
        dids = (0..<total).map { SyntheticIdentifiers.did(actor: $0, hash: DeterministicHash(seed: parameters.seed)) }

        // Every ordinary actor posts at least once; the remaining posts follow the Zipf weights.
        let regular = parameters.regularPostCount
        let spare = max(0, regular - parameters.actors)
        var counts = [Int](repeating: 1, count: total)
        var assigned = parameters.actors
        for a in 0..<parameters.actors {
            let extra = Int(Double(spare) * popularity.weights[a])
            counts[a] += extra
            assigned += extra
        }
        var a = 0
        while assigned < regular { counts[a] += 1; assigned += 1; a = (a + 1) % parameters.actors }
        for v in 0..<viewerCount { counts[parameters.actors + v] = parameters.postsPerViewer }
        var starts = [Int](repeating: 0, count: total + 1)
        for i in 0..<total { starts[i + 1] = starts[i] + counts[i] }
        postStart = starts
    }

    // MARK: actors

    func viewerActor(_ viewerClass: ViewerClass, _ n: Int) -> Int {
        let classIndex = ViewerClass.allCases.firstIndex(of: viewerClass)!
        return parameters.actors + classIndex * parameters.viewersPerClass + n
    }

    func viewerInfo(actor: Int) -> (ViewerClass, Int)? {
        guard actor >= parameters.actors else { return nil }
        let offset = actor - parameters.actors
        return (ViewerClass.allCases[offset / parameters.viewersPerClass], offset % parameters.viewersPerClass)
    }

    func handle(actor: Int) -> String {
        if let (viewerClass, n) = viewerInfo(actor: actor) {
            return "\(viewerClass.rawValue)-\(n).viewers.bench.test"
        }
        return "u\(actor).bench.test"
    }

    @inline(__always) func popularActor(_ u: Double) -> Int { popularity.rank(u) }

    // MARK: posts

    func author(ofPost p: Int) -> Int {
        var low = 0
        var high = totalActors - 1
        while low < high {
            let mid = (low + high + 1) >> 1
            if postStart[mid] <= p { low = mid } else { high = mid - 1 }
        }
        return low
    }

    @inline(__always) func postTime(_ p: Int) -> Int64 {
        parameters.endMillis - 1 - Int64(hash.unit(.postTime, p) * Double(parameters.windowMillis))
    }

    @inline(__always) func randomPost(of actor: Int, _ bits: UInt64) -> Int {
        let count = postStart[actor + 1] - postStart[actor]
        return postStart[actor] + Int(bits % UInt64(count))
    }

    func randomViewerPost(_ bits: UInt64) -> Int {
        let viewer = Int(bits % UInt64(viewerCount))
        return randomPost(of: parameters.actors + viewer, bits >> 20)
    }

    /// Share of replies, reposts and likes aimed at viewers' posts, so each viewer gets enough
    /// notifications for full listNotifications pages (~60 replies, ~60 reposts, ~300 likes each).
    var viewerReplyShare: Double { min(0.5, Double(viewerCount * 60) / max(1, Double(parameters.regularPostCount) * parameters.replyShare)) }
    var viewerRepostShare: Double { min(0.5, Double(viewerCount * 60) / max(1, Double(parameters.repostCount))) }
    var viewerLikeShare: Double { min(0.5, Double(viewerCount * 300) / max(1, Double(parameters.likes))) }

    /// The post `p` replies to, if it is a reply. Parents are always older, so chains end.
    func replyParent(_ p: Int) -> Int? {
        guard p < parameters.regularPostCount, hash.unit(.isReply, p) < parameters.replyShare else { return nil }
        let parent: Int
        if hash.unit(.replyToViewer, p) < viewerReplyShare {
            parent = randomViewerPost(hash.bits(.replyPost, p))
        } else {
            parent = randomPost(of: popularActor(hash.unit(.replyAuthor, p)), hash.bits(.replyPost, p))
        }
        guard parent != p, postTime(parent) < postTime(p) else { return nil }
        return parent
    }

    func replyRoot(_ p: Int) -> Int {
        var current = p
        while let parent = replyParent(current) { current = parent }
        return current
    }

    @inline(__always) func appendPostURI(_ buffer: inout [UInt8], _ p: Int, author: Int) {
        buffer.append(contentsOf: atPrefix)
        buffer.append(contentsOf: dids[author])
        buffer.append(contentsOf: postCollection)
        SyntheticIdentifiers.appendTID(&buffer, micros: postTime(p) * 1000 + Int64(p % 1000), clockID: (p / 1000) % 1024)
    }

    @inline(__always) func appendPostCID(_ buffer: inout [UInt8], _ p: Int) {
        SyntheticIdentifiers.appendCID(&buffer, hash: hash, stream: .postCid, index: p)
    }

    func appendPostText(_ buffer: inout [UInt8], _ p: Int) {
        var bits = hash.bits(.postText, p)
        let words = 4 + Int(bits & 15)
        bits >>= 4
        for i in 0..<words {
            if i > 0 { buffer.append(32) }
            if i % 10 == 9 { bits = hash.bits(.postText, p &+ (i << 40)) }
            buffer.append(contentsOf: Self.words[Int(bits & 63)])
            bits >>= 6
        }
    }

    // MARK: reposts and likes (index q / l)

    struct Interaction {
        var actor: Int
        var subject: Int
        var subjectAuthor: Int
        var time: Int64
    }

    func repost(_ q: Int) -> Interaction {
        interaction(q, actorStream: .reposter, toViewer: .repostToViewer, viewerShare: viewerRepostShare,
                    authorStream: .repostAuthor, postStream: .repostPost, timeStream: .repostTime)
    }

    func like(_ l: Int) -> Interaction {
        interaction(l, actorStream: .liker, toViewer: .likeToViewer, viewerShare: viewerLikeShare,
                    authorStream: .likeAuthor, postStream: .likePost, timeStream: .likeTime)
    }

    @inline(__always)
    private func interaction(
        _ i: Int, actorStream: DeterministicHash.Stream, toViewer: DeterministicHash.Stream, viewerShare: Double,
        authorStream: DeterministicHash.Stream, postStream: DeterministicHash.Stream, timeStream: DeterministicHash.Stream
    ) -> Interaction {
        let subject: Int
        if hash.unit(toViewer, i) < viewerShare {
            subject = randomViewerPost(hash.bits(postStream, i))
        } else {
            subject = randomPost(of: popularActor(hash.unit(authorStream, i)), hash.bits(postStream, i))
        }
        var actor = popularActor(hash.unit(actorStream, i))
        let subjectAuthor = author(ofPost: subject)
        if actor == subjectAuthor { actor = (actor + 1) % parameters.actors }
        let subjectTime = postTime(subject)
        let time = min(parameters.endMillis - 1,
                       subjectTime + Int64(hash.unit(timeStream, i) * Double(parameters.endMillis - subjectTime)))
        return Interaction(actor: actor, subject: subject, subjectAuthor: subjectAuthor, time: time)
    }

    // MARK: follows

    /// Follow counts of ordinary actors: Pareto(alpha 1.5) with the configured mean, capped.
    func followCount(_ actor: Int) -> Int {
        let minimum = Double(parameters.meanFollows) / 3.0
        let u = max(1e-9, hash.unit(.followCount, actor))
        return min(2000, Int(minimum * pow(u, -1.0 / 1.5)))
    }

    /// The accounts a viewer follows: distinct ranks drawn from the rare tail (sparse) or from the
    /// 2×N most active accounts (dense classes).
    func viewerFollows(_ viewerClass: ViewerClass, _ n: Int) -> [Int] {
        let want = viewerClass.followCount
        let range: Range<Int>
        switch viewerClass {
        case .sparse: range = (parameters.actors * 8 / 10)..<parameters.actors
        default: range = 0..<min(parameters.actors, want * 2)
        }
        var chosen = Set<Int>()
        var ordered: [Int] = []
        var draw = 0
        let key = viewerActor(viewerClass, n) << 20
        while ordered.count < min(want, range.count) {
            let candidate = range.lowerBound + hash.below(range.count, .viewerFollow, key + draw)
            draw += 1
            if chosen.insert(candidate).inserted { ordered.append(candidate) }
        }
        return ordered
    }

    let atPrefix = Array("at://".utf8)
    let postCollection = Array("/app.bsky.feed.post/".utf8)
    let repostCollection = Array("/app.bsky.feed.repost/".utf8)
    let likeCollection = Array("/app.bsky.feed.like/".utf8)
    let followCollection = Array("/app.bsky.graph.follow/".utf8)

    static let words: [[UInt8]] = [
        "the", "a", "bluesky", "feed", "today", "coffee", "morning", "thread", "post", "reading", "new", "great",
        "idea", "code", "swift", "music", "photo", "weather", "rain", "sun", "city", "train", "book", "cat",
        "dog", "garden", "walk", "night", "week", "update", "release", "bug", "fix", "ship", "team", "hello",
        "world", "again", "really", "small", "big", "fast", "slow", "open", "source", "protocol", "network",
        "friends", "lunch", "dinner", "game", "match", "goal", "art", "draw", "paint", "sky", "blue", "tea",
        "read", "write", "think", "learn", "love",
    ].map { Array($0.utf8) }
}

import Foundation
