import Storage

/// The media half of a post's embed (lexicon `app.bsky.embed.{images,gallery,external,video}`),
/// read from `EmbedMediaQuery.media` rows. Blobs keep their CID and owner; URLs are built when written.
enum EmbedMedia {
    struct Image {
        var cid: String
        var alt: String
        var aspectRatio: AspectRatio?
    }

    /// `app.bsky.embed.defs#aspectRatio`: both sides positive integers, else left out.
    struct AspectRatio {
        var width: Int
        var height: Int

        init?(width: String?, height: String?) {
            guard let width = width.flatMap(Int.init), let height = height.flatMap(Int.init), width >= 1, height >= 1
            else { return nil }
            self.width = width
            self.height = height
        }
    }

    case images(ownerDID: String, [Image])
    case gallery(ownerDID: String, [Image])
    case external(ownerDID: String, uri: String, title: String, description: String, thumbCID: String?)
    case video(ownerDID: String, cid: String, alt: String?, aspectRatio: AspectRatio?, presentation: String?)

    /// The lexicon's limit on `app.bsky.embed.images#view.images`.
    static let maxImages = 4

    /// Media by post uri, one query; posts without usable media are absent.
    static func fetch(uris: [String], on connection: PostgresConnection) throws -> [String: EmbedMedia] {
        if uris.isEmpty { return [:] }
        let result = try connection.query(EmbedMediaQuery.media, [uris])
        var media: [String: EmbedMedia] = [:]
        for index in 0..<result.rowCount {
            let row = result[index]
            guard let uri = row.string(0), let owner = row.string(1) else { continue }
            let blobCID = row.string(4).flatMap { Identifiers.isCID($0) ? $0 : nil }
            let aspectRatio = AspectRatio(width: row.string(6), height: row.string(7))
            switch row.string(2) {
            case "app.bsky.embed.images", "app.bsky.embed.gallery":
                let isGallery = row.string(2) == "app.bsky.embed.gallery"
                var images: [Image] = []
                switch media[uri] {
                case .images(_, let existing)?, .gallery(_, let existing)?: images = existing
                default: break
                }
                // An image whose blob is unusable cannot be shown; a gallery item needs its aspect ratio.
                if let blobCID, !isGallery || aspectRatio != nil, isGallery || images.count < maxImages {
                    images.append(Image(cid: blobCID, alt: row.string(5) ?? "", aspectRatio: aspectRatio))
                }
                media[uri] = isGallery ? .gallery(ownerDID: owner, images) : .images(ownerDID: owner, images)
            case "app.bsky.embed.external":
                guard let link = row.string(8), Identifiers.isURI(link) else { continue }
                media[uri] = .external(ownerDID: owner, uri: link, title: row.string(9) ?? "",
                                       description: row.string(10) ?? "", thumbCID: blobCID)
            case "app.bsky.embed.video":
                guard let blobCID else { continue }
                media[uri] = .video(ownerDID: owner, cid: blobCID, alt: row.string(5), aspectRatio: aspectRatio,
                                    presentation: row.string(11))
            default:
                continue
            }
        }
        return media
    }
}
