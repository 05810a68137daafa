/// Builds CDN URLs for blobs from a template with the placeholders `{preset}` (`avatar`, `banner`,
/// `feed_thumbnail`, `feed_fullsize`: Bluesky's CDN presets), `{did}` (the blob's owner) and `{cid}`.
/// Parsed once; filled per blob without Foundation. Video URLs use a second instance
/// (`ProfileViewWriter.videos`, `VIDEO_URL_TEMPLATE`, presets `playlist.m3u8` and `thumbnail.jpg`).
public struct ImageURLTemplate: Sendable {
    public static let defaultTemplate = "https://cdn.bsky.app/img/{preset}/plain/{did}/{cid}@jpeg"
    /// Video playlists (`playlist.m3u8`) and thumbnails (`thumbnail.jpg`), as Bluesky's video service serves them.
    public static let defaultVideoTemplate = "https://video.bsky.app/watch/{did}/{cid}/{preset}"

    enum Segment: Sendable {
        case literal(String)
        case preset, did, cid
    }

    public let template: String
    let segments: [Segment]

    public init(_ template: String = ImageURLTemplate.defaultTemplate) {
        self.template = template
        var segments: [Segment] = []
        var literal = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            literal += rest[..<open]
            let afterOpen = rest[open...]
            let placeholders: [(String, Segment)] = [("{preset}", .preset), ("{did}", .did), ("{cid}", .cid)]
            if let (text, segment) = placeholders.first(where: { afterOpen.hasPrefix($0.0) }) {
                if !literal.isEmpty { segments.append(.literal(literal)) }
                literal = ""
                segments.append(segment)
                rest = afterOpen.dropFirst(text.count)
            } else {
                literal += "{"
                rest = afterOpen.dropFirst()
            }
        }
        literal += rest
        if !literal.isEmpty { segments.append(.literal(literal)) }
        self.segments = segments
    }

    /// The URL for one image; nil when the cid is not a plausible CID (never emit a broken URL).
    public func url(preset: String, did: String, cid: String?) -> String? {
        guard let cid, Identifiers.isCID(cid) else { return nil }
        var url = ""
        url.reserveCapacity(template.utf8.count + did.utf8.count + cid.utf8.count)
        for segment in segments {
            switch segment {
            case .literal(let text): url += text
            case .preset: url += preset
            case .did: url += did
            case .cid: url += cid
            }
        }
        return url
    }
}
