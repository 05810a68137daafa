import JSON

/// Self-labels of a post or profile record as `com.atproto.label.defs#label`s in its view (`labels`),
/// as the reference AppView shows them: source = the author, subject = the record (uri and cid),
/// created = the record's `createdAt`. Clients apply moderation (content warnings) from these; labeler-issued labels are not
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

    /// A profile's self-labels; the subject is its `app.bsky.actor.profile/self` record.
    static func writeField(_ actor: ActorRecord, to writer: inout JSONWriter) {
        guard !actor.selfLabels.isEmpty else { return }
        writer.key("labels")
        writer.beginArray()
        for value in actor.selfLabels {
            writer.beginObject()
            writer.field("src", actor.did)
            writer.field("uri", "at://\(actor.did)/app.bsky.actor.profile/self")
            writer.optionalField("cid", actor.profileCID)
            writer.field("val", value)
            writer.key("cts")
            writer.datetime(epochMilliseconds: actor.createdAtMilliseconds ?? actor.indexedAtMilliseconds)
            writer.endObject()
        }
        writer.endArray()
    }
}
