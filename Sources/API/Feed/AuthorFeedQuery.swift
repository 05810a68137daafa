/// The SQL of `app.bsky.feed.getAuthorFeed`, one statement per filter so each matches its partial
/// index. Parameters: $1 actor DID, keyset position ($2 sort_at, $3 cid, $4 uri; `infinity`,'',''
/// = start), $5 limit.
public enum AuthorFeedQuery {
    static let columns = "SELECT uri, cid, type, post_uri, originator_did, floor(extract(epoch FROM sort_at) * 1000)::bigint FROM feed_items"
    static let keysetAndOrder = """
        AND (sort_at, cid, uri) < ($2::timestamptz, $3::text, $4::text)
        ORDER BY sort_at DESC, cid DESC, uri DESC
        LIMIT $5::int
        """

    /// `posts_with_replies` (default). Index: feed_items_originator_sort_idx.
    public static let postsWithReplies = "\(columns)\nWHERE originator_did = $1\n\(keysetAndOrder)"
    /// `posts_no_replies`. Index: feed_items_originator_no_replies_idx (WHERE NOT is_reply).
    public static let postsNoReplies = "\(columns)\nWHERE originator_did = $1 AND NOT is_reply\n\(keysetAndOrder)"
    /// `posts_with_media`. Index: feed_items_originator_media_idx (WHERE has_media).
    public static let postsWithMedia = "\(columns)\nWHERE originator_did = $1 AND has_media\n\(keysetAndOrder)"
    /// `posts_and_author_threads`. Index: feed_items_originator_threads_idx (WHERE NOT is_reply OR is_self_thread).
    public static let postsAndAuthorThreads =
        "\(columns)\nWHERE originator_did = $1 AND (NOT is_reply OR is_self_thread)\n\(keysetAndOrder)"

    /// The statement for a filter value, nil when the filter is not supported.
    public static func statement(filter: String) -> String? {
        switch filter {
        case "posts_with_replies": return postsWithReplies
        case "posts_no_replies": return postsNoReplies
        case "posts_with_media": return postsWithMedia
        case "posts_and_author_threads": return postsAndAuthorThreads
        default: return nil
        }
    }
}
