import JSON

/// The `embed` of a post view (lexicon `app.bsky.embed.*#view`), built from the stored embed type,
/// the quoted post (loaded with the page) and the media rows.
///
/// A quoted post renders as `#viewRecord` when it may be shown, `#viewBlocked` when its author and
/// the viewer block each other, and `#viewNotFound` when it was never indexed, was deleted, its
/// author is inactive, or it is not a post (feed generators, lists, starter packs and labelers are
/// not indexed by this AppView). Inside a `#viewRecord`, `embeds` carries the quoted post's own
/// media only: a quote of a quote stops there (the nested record is not loaded).
extension PostViewContext {
    /// Writes `"embed": …` when the post has an embed this AppView renders; nothing otherwise.
    func writeEmbedField(_ post: PostRecord, to writer: inout JSONWriter) {
        switch post.embedType {
        case "record":
            guard let quoted = post.embedRecordURI else { return }
            writer.key("embed")
            writeRecordEmbed(quotedURI: quoted, to: &writer)
        case "recordWithMedia":
            guard let quoted = post.embedRecordURI else { return }
            writer.key("embed")
            guard let media = media[post.uri], media.isRenderable else {
                writeRecordEmbed(quotedURI: quoted, to: &writer)
                return
            }
            writer.beginObject()
            writer.field("$type", "app.bsky.embed.recordWithMedia#view")
            writer.key("record")
            writeRecordEmbed(quotedURI: quoted, to: &writer)
            writer.key("media")
            writeMedia(media, to: &writer)
            writer.endObject()
        case "images", "gallery", "external", "video":
            guard let media = media[post.uri], media.isRenderable else { return }
            writer.key("embed")
            writeMedia(media, to: &writer)
        default:
            return
        }
    }

    /// `app.bsky.embed.record#view`.
    func writeRecordEmbed(quotedURI: String, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("$type", "app.bsky.embed.record#view")
        writer.key("record")
        writeQuotedRecord(uri: quotedURI, to: &writer)
        writer.endObject()
    }

    /// The union member of `app.bsky.embed.record#view.record`.
    func writeQuotedRecord(uri: String, to writer: inout JSONWriter) {
        guard let quoted = posts[uri], actor(quoted.authorDID).isActive else {
            writer.beginObject()
            writer.field("$type", "app.bsky.embed.record#viewNotFound")
            writer.field("uri", uri)
            writer.field("notFound", true)
            writer.endObject()
            return
        }
        let author = actor(quoted.authorDID)
        if let viewerState = author.viewer, viewerState.isBlockedEitherWay {
            Self.writeBlocked("app.bsky.embed.record#viewBlocked", uri: uri, authorDID: author.did,
                              viewerState: viewerState, to: &writer)
            return
        }
        writer.beginObject()
        writer.field("$type", "app.bsky.embed.record#viewRecord")
        writer.field("uri", quoted.uri)
        writer.field("cid", quoted.cid)
        writer.key("author")
        profiles.writeBasic(author, to: &writer)
        writer.key("value")
        _ = quoted.row.withUTF8(PostRecord.recordColumn) { writer.rawJSON($0) }
        writer.field("replyCount", quoted.replyCount)
        writer.field("repostCount", quoted.repostCount)
        writer.field("likeCount", quoted.likeCount)
        writer.field("quoteCount", quoted.quoteCount)
        if ["images", "gallery", "external", "video"].contains(quoted.embedType ?? ""),
           let media = media[quoted.uri], media.isRenderable
        {
            writer.key("embeds")
            writer.beginArray()
            writeMedia(media, to: &writer)
            writer.endArray()
        }
        writer.key("indexedAt")
        writer.datetime(epochMilliseconds: quoted.indexedAtMilliseconds)
        SelfLabels.writeField(quoted, to: &writer)
        writer.endObject()
    }

    /// `app.bsky.embed.images#view`, `gallery#view`, `external#view` or `video#view`.
    func writeMedia(_ media: EmbedMedia, to writer: inout JSONWriter) {
        let images = profiles.images
        writer.beginObject()
        switch media {
        case .images(let owner, let list):
            writer.field("$type", "app.bsky.embed.images#view")
            writer.key("images")
            writer.beginArray()
            for image in list {
                writer.beginObject()
                writer.optionalField("thumb", images.url(preset: "feed_thumbnail", did: owner, cid: image.cid))
                writer.optionalField("fullsize", images.url(preset: "feed_fullsize", did: owner, cid: image.cid))
                writer.field("alt", image.alt)
                Self.writeAspectRatio(image.aspectRatio, to: &writer)
                writer.endObject()
            }
            writer.endArray()
        case .gallery(let owner, let list):
            writer.field("$type", "app.bsky.embed.gallery#view")
            writer.key("items")
            writer.beginArray()
            for image in list {
                writer.beginObject()
                writer.field("$type", "app.bsky.embed.gallery#viewImage")
                writer.optionalField("thumbnail", images.url(preset: "feed_thumbnail", did: owner, cid: image.cid))
                writer.optionalField("fullsize", images.url(preset: "feed_fullsize", did: owner, cid: image.cid))
                writer.field("alt", image.alt)
                Self.writeAspectRatio(image.aspectRatio, to: &writer)
                writer.endObject()
            }
            writer.endArray()
        case .external(let owner, let uri, let title, let description, let thumbCID):
            writer.field("$type", "app.bsky.embed.external#view")
            writer.key("external")
            writer.beginObject()
            writer.field("uri", uri)
            writer.field("title", title)
            writer.field("description", description)
            writer.optionalField("thumb", images.url(preset: "feed_thumbnail", did: owner, cid: thumbCID))
            writer.endObject()
        case .video(let owner, let cid, let alt, let aspectRatio, let presentation):
            writer.field("$type", "app.bsky.embed.video#view")
            writer.field("cid", cid)
            writer.optionalField("playlist", profiles.videos.url(preset: "playlist.m3u8", did: owner, cid: cid))
            writer.optionalField("thumbnail", profiles.videos.url(preset: "thumbnail.jpg", did: owner, cid: cid))
            writer.optionalField("alt", alt)
            Self.writeAspectRatio(aspectRatio, to: &writer)
            writer.optionalField("presentation", presentation)
        }
        writer.endObject()
    }

    private static func writeAspectRatio(_ ratio: EmbedMedia.AspectRatio?, to writer: inout JSONWriter) {
        guard let ratio else { return }
        writer.key("aspectRatio")
        writer.beginObject()
        writer.field("width", ratio.width)
        writer.field("height", ratio.height)
        writer.endObject()
    }
}

extension EmbedMedia {
    /// Worth an embed view: an image list or gallery with at least one usable item, or a link / video.
    var isRenderable: Bool {
        switch self {
        case .images(_, let list), .gallery(_, let list): return !list.isEmpty
        case .external, .video: return true
        }
    }
}
