/// Decodes the fields the indexer stores from a record of an indexed collection, checking what the
/// lexicon requires of them. Anything else in the record is kept only in its raw JSON.
enum RecordDecoder {
    static let mentionFeature = "app.bsky.richtext.facet#mention"

    /// `rawJSON` is evaluated only for the collections that store the record text.
    static func decode(_ record: [String: Any], collection: IndexedCollection, rawJSON: () -> String?) throws -> IndexedRecord {
        switch collection {
        case .post:
            return .post(try decodePost(record, rawJSON: rawJSON))
        case .like:
            return .like(try decodeSubjectRecord(record))
        case .repost:
            return .repost(try decodeSubjectRecord(record))
        case .follow:
            return .follow(try decodeGraphRecord(record))
        case .block:
            return .block(try decodeGraphRecord(record))
        case .profile:
            guard let raw = rawJSON() else { throw EventDecodingError(.invalidRecord, "record text not found") }
            return .profile(ProfileRecord(
                rawJSON: raw,
                displayName: (record["displayName"] as? String).map(Text.storable),
                description: (record["description"] as? String).map(Text.storable),
                avatarCID: blobCID(record["avatar"]),
                bannerCID: blobCID(record["banner"]),
                createdAtMilliseconds: createdAt(record)))
        }
    }

    static func decodePost(_ record: [String: Any], rawJSON: () -> String?) throws -> PostRecord {
        var text = ""
        if let value = record["text"] {
            guard let string = value as? String else { throw EventDecodingError(.invalidRecord, "post \"text\" is not a string") }
            text = Text.storable(string)
        }
        var reply: PostRecord.Reply?
        if let value = record["reply"] {
            guard let object = value as? [String: Any] else { throw EventDecodingError(.invalidRecord, "post \"reply\" is not an object") }
            reply = PostRecord.Reply(root: try strongRef(object["root"], "reply.root"), parent: try strongRef(object["parent"], "reply.parent"))
        }
        var embed: PostRecord.Embed?
        if let value = record["embed"] {
            guard let object = value as? [String: Any] else { throw EventDecodingError(.invalidRecord, "post \"embed\" is not an object") }
            embed = try decodeEmbed(object)
        }
        guard let raw = rawJSON() else { throw EventDecodingError(.invalidRecord, "record text not found") }
        return PostRecord(rawJSON: raw, text: text, createdAtMilliseconds: createdAt(record), reply: reply, embed: embed,
                          mentionedDIDs: mentions(record["facets"]))
    }

    static func decodeEmbed(_ embed: [String: Any]) throws -> PostRecord.Embed? {
        guard let type = embed["$type"] as? String else { throw EventDecodingError(.invalidRecord, "post embed without \"$type\"") }
        switch type {
        case "app.bsky.embed.images": return .init(type: "images", record: nil, hasMedia: true)
        case "app.bsky.embed.video": return .init(type: "video", record: nil, hasMedia: true)
        case "app.bsky.embed.gallery": return .init(type: "gallery", record: nil, hasMedia: true)
        case "app.bsky.embed.external": return .init(type: "external", record: nil, hasMedia: false)
        case "app.bsky.embed.record":
            return .init(type: "record", record: try strongRef(embed["record"], "embed.record"), hasMedia: false)
        case "app.bsky.embed.recordWithMedia":
            guard let inner = embed["record"] as? [String: Any] else {
                throw EventDecodingError(.invalidRecord, "recordWithMedia without \"record\"")
            }
            let mediaType = (embed["media"] as? [String: Any])?["$type"] as? String
            let hasMedia = ["app.bsky.embed.images", "app.bsky.embed.video", "app.bsky.embed.gallery"].contains(mediaType ?? "")
            return .init(type: "recordWithMedia", record: try strongRef(inner["record"], "embed.record.record"), hasMedia: hasMedia)
        default:
            return nil // an embed type this AppView does not render; the record keeps it
        }
    }

    static func decodeSubjectRecord(_ record: [String: Any]) throws -> SubjectRecord {
        SubjectRecord(subject: try strongRef(record["subject"], "subject"), createdAtMilliseconds: createdAt(record))
    }

    static func decodeGraphRecord(_ record: [String: Any]) throws -> GraphRecord {
        guard let value = record["subject"] else { throw EventDecodingError(.invalidRecord, "no \"subject\"") }
        guard let subject = value as? String, DID.isValid(subject) else {
            throw EventDecodingError(.invalidRecord, "\"subject\" is not a DID")
        }
        return GraphRecord(subjectDID: subject, createdAtMilliseconds: createdAt(record))
    }

    static func strongRef(_ value: Any?, _ name: String) throws -> StrongRef {
        guard let object = value as? [String: Any] else { throw EventDecodingError(.invalidRecord, "\"\(name)\" is missing or not an object") }
        guard let uriText = object["uri"] as? String, let uri = ATURI(uriText) else {
            throw EventDecodingError(.invalidRecord, "\"\(name).uri\" is not an at:// record URI with a DID")
        }
        guard let cid = object["cid"] as? String, CID.isPlausible(cid) else {
            throw EventDecodingError(.invalidRecord, "\"\(name).cid\" is not a CID")
        }
        return StrongRef(uri: uri, cid: cid)
    }

    /// nil when absent or unparseable: the indexer then uses the event time.
    static func createdAt(_ record: [String: Any]) -> Int64? {
        (record["createdAt"] as? String).flatMap(RecordTimestamp.milliseconds)
    }

    /// Blob CID from `{"$type":"blob","ref":{"$link":…}}` or the legacy `{"cid":…}`.
    static func blobCID(_ value: Any?) -> String? {
        guard let blob = value as? [String: Any] else { return nil }
        if let ref = blob["ref"] as? [String: Any], let link = ref["$link"] as? String, CID.isPlausible(link) { return link }
        if let cid = blob["cid"] as? String, CID.isPlausible(cid) { return cid }
        return nil
    }

    /// Mentioned DIDs from facets; malformed facets are skipped (they only decorate the text).
    static func mentions(_ value: Any?) -> [String] {
        guard let facets = value as? [Any] else { return [] }
        var dids: [String] = []
        for case let facet as [String: Any] in facets {
            guard let features = facet["features"] as? [Any] else { continue }
            for case let feature as [String: Any] in features {
                guard feature["$type"] as? String == mentionFeature, let did = feature["did"] as? String, DID.isValid(did),
                      !dids.contains(did)
                else { continue }
                dids.append(did)
            }
        }
        return dids
    }
}
