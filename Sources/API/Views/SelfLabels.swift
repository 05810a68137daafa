import JSON

/// A post's self-labels as `com.atproto.label.defs#label`s in its view (`labels`), as the reference
/// AppView shows them: source = the author, subject = the post (uri and cid), created = the record's
/// `createdAt`. Clients apply moderation (content warnings) from these; labeler-issued labels are not
/// indexed by this AppView.
enum SelfLabels {
    /// `com.atproto.label.defs#selfLabels.values` holds at most 10.
    static let maxValues = 10

    static func writeField(_ post: PostRecord, to writer: inout JSONWriter) {
        guard !post.selfLabels.isEmpty else { return }
        writer.key("labels")
        writer.beginArray()
        for value in post.selfLabels {
            writer.beginObject()
            writer.field("src", post.authorDID)
            writer.field("uri", post.uri)
            writer.field("cid", post.cid)
            writer.field("val", value)
            writer.key("cts")
            writer.datetime(epochMilliseconds: post.createdAtMilliseconds)
            writer.endObject()
        }
        writer.endArray()
    }
}
