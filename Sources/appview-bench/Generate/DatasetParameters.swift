/// Everything that determines the generated dataset. Two runs with equal parameters produce
/// identical rows; `fingerprint` is stored with the dataset so a rerun can skip regeneration.
struct DatasetParameters: Sendable, Equatable {
    var actors = 100_000
    var feedItems = 5_000_000
    /// Share of feed items that are reposts (the rest are posts).
    var repostShare = 0.2
    var likes = 2_000_000
    /// Mean follows per ordinary actor (Pareto-distributed, capped).
    var meanFollows = 20
    var days = 30
    var seed: UInt64 = 42
    var viewersPerClass = 20
    /// Posts authored by each viewer (their own items in the timeline; notification subjects).
    var postsPerViewer = 30
    /// Followers each viewer gets (follow notifications).
    var followersPerViewer = 200
    /// Zipf–Mandelbrot activity law.
    var zipfExponent = 1.0
    var zipfOffset = 20.0
    /// Share of posts that are replies.
    var replyShare = 0.15
    /// End of the activity window (the dataset's "now"), ms since the epoch: 2026-07-04T00:00:00Z.
    var endMillis: Int64 = 1_783_123_200_000

    var repostCount: Int { Int((Double(feedItems) * repostShare).rounded()) }
    var regularPostCount: Int { feedItems - repostCount }
    var windowMillis: Int64 { Int64(days) * 86_400_000 }

    /// A stable description of the parameters (stored in `bench_dataset`).
    var fingerprint: String {
        "v1 actors=\(actors) feedItems=\(feedItems) repostShare=\(repostShare) likes=\(likes) meanFollows=\(meanFollows) "
            + "days=\(days) seed=\(seed) viewersPerClass=\(viewersPerClass) postsPerViewer=\(postsPerViewer) "
            + "followersPerViewer=\(followersPerViewer) zipf=\(zipfExponent)/\(zipfOffset) replyShare=\(replyShare) end=\(endMillis)"
    }
}

/// The viewer classes the benchmark reports on.
enum ViewerClass: String, CaseIterable, Sendable {
    /// 50 follows of rarely-posting accounts: the 2-day window holds fewer than a page.
    case sparse
    /// 50, 500 and 2,000 follows of the most active accounts.
    case dense50, dense500, dense2000

    var followCount: Int {
        switch self {
        case .sparse, .dense50: return 50
        case .dense500: return 500
        case .dense2000: return 2000
        }
    }
}
