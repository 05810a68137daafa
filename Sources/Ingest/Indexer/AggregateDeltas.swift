/// How much one batch changes each count, by subject: +1 per row it inserted, −1 per row it removed.
struct AggregateDeltas {
    /// `post_aggregates` columns of one post URI.
    struct PostCounts {
        var likes: Int64 = 0, reposts: Int64 = 0, replies: Int64 = 0, quotes: Int64 = 0
        var isZero: Bool { likes == 0 && reposts == 0 && replies == 0 && quotes == 0 }
    }

    /// `actor_aggregates` columns of one DID.
    struct ActorCounts {
        var followers: Int64 = 0, follows: Int64 = 0, posts: Int64 = 0
        var isZero: Bool { followers == 0 && follows == 0 && posts == 0 }
    }

    private(set) var posts: [String: PostCounts] = [:]
    private(set) var actors: [String: ActorCounts] = [:]

    /// The counts of post `uri`, to adjust in place.
    subscript(post uri: String) -> PostCounts {
        get { posts[uri, default: PostCounts()] }
        set { posts[uri] = newValue }
    }

    /// The counts of actor `did`, to adjust in place.
    subscript(actor did: String) -> ActorCounts {
        get { actors[did, default: ActorCounts()] }
        set { actors[did] = newValue }
    }
}
