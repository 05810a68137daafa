import JSON
import Storage

/// SQL that loads actors for profile views. Every read method hydrates actors with this one
/// batched query (never one query per actor).
public enum ActorQuery {
    /// Actors by DID ($1 text[]) or by lower-cased handle ($2 text[]), with aggregates and the viewer's
    /// relationship ($3 viewer DID, NULL when anonymous). Indexes: actors_pkey,
    /// actors_handle_idx (lower(handle)), actor_aggregates_pkey, follows_creator_subject_idx (both
    /// directions: creator = viewer / creator = actor), blocks_creator_subject_idx (both directions).
    public static let profiles = """
        WITH wanted AS (
            SELECT did FROM actors WHERE did = ANY($1::text[])
            UNION
            SELECT did FROM actors WHERE lower(handle) = ANY($2::text[])
        )
        SELECT a.did, a.handle, a.display_name, a.description, a.avatar_cid, a.banner_cid,
               floor(extract(epoch FROM a.indexed_at) * 1000)::bigint,
               floor(extract(epoch FROM a.profile_created_at) * 1000)::bigint,
               a.is_active, a.status,
               coalesce(g.followers_count, 0), coalesce(g.follows_count, 0), coalesce(g.posts_count, 0),
               (SELECT f.uri FROM follows f WHERE f.creator_did = $3::text AND f.subject_did = a.did LIMIT 1),
               (SELECT f.uri FROM follows f WHERE f.creator_did = a.did AND f.subject_did = $3::text LIMIT 1),
               (SELECT b.uri FROM blocks b WHERE b.creator_did = $3::text AND b.subject_did = a.did LIMIT 1),
               EXISTS (SELECT 1 FROM blocks b WHERE b.creator_did = a.did AND b.subject_did = $3::text),
               CASE WHEN a.profile_record->'labels'->>'$type' = 'com.atproto.label.defs#selfLabels'
                         AND jsonb_typeof(a.profile_record->'labels'->'values') = 'array'
                    THEN (SELECT string_agg(v.value->>'val', ',' ORDER BY v.position)
                          FROM jsonb_array_elements(a.profile_record->'labels'->'values') WITH ORDINALITY AS v(value, position)
                          WHERE v.value->>'val' ~ '^!?[a-z][a-z0-9-]{0,126}$') END,
               CASE WHEN jsonb_typeof(a.profile_record->'pronouns') = 'string' THEN a.profile_record->>'pronouns' END,
               CASE WHEN jsonb_typeof(a.profile_record->'website') = 'string' THEN a.profile_record->>'website' END,
               CASE WHEN jsonb_typeof(a.profile_record->'pinnedPost'->'uri') = 'string'
                    THEN a.profile_record->'pinnedPost'->>'uri' END,
               CASE WHEN jsonb_typeof(a.profile_record->'pinnedPost'->'cid') = 'string'
                    THEN a.profile_record->'pinnedPost'->>'cid' END,
               a.profile_cid
        FROM wanted w
        JOIN actors a ON a.did = w.did
        LEFT JOIN actor_aggregates g ON g.did = a.did
        """
}

/// The viewer's relationship to an actor (lexicon `app.bsky.actor.defs#viewerState`).
struct ActorViewerState {
    var following: String?
    var followedBy: String?
    var blocking: String?
    var blockedBy: Bool

    /// A block in either direction between the viewer and this actor.
    var isBlockedEitherWay: Bool { blocking != nil || blockedBy }
}

/// One hydrated actor.
struct ActorRecord {
    var did: String
    /// The stored handle when it is syntactically valid, else `handle.invalid`.
    var handle: String
    var displayName: String?
    var description: String?
    var avatarCID: String?
    var bannerCID: String?
    var indexedAtMilliseconds: Int64
    var createdAtMilliseconds: Int64?
    var isActive: Bool
    var status: String?
    var followersCount: Int
    var followsCount: Int
    var postsCount: Int
    /// nil for anonymous requests.
    var viewer: ActorViewerState?
    /// The handle as stored (lower-cased), to match `actor=<handle>` lookups.
    var storedHandle: String?
    /// From the profile record: self-label values, pronouns, website, pinned post (uri, cid), record CID.
    var selfLabels: [String] = []
    var pronouns: String?
    var website: String?
    var pinnedPost: (uri: String, cid: String)?
    var profileCID: String?

    /// Stand-in for a DID the index has no actor row for yet (posts can arrive before profiles).
    static func unknown(did: String, viewerPresent: Bool) -> ActorRecord {
        ActorRecord(did: did, handle: "handle.invalid", indexedAtMilliseconds: 0, isActive: true,
                    followersCount: 0, followsCount: 0, postsCount: 0,
                    viewer: viewerPresent ? ActorViewerState(blockedBy: false) : nil)
    }
}

/// Loads actors for views.
enum ActorHydrator {
    /// Actors by DID and/or handle, keyed by DID. One query.
    static func fetch(dids: [String], handles: [String] = [], viewer: String?, on connection: PostgresConnection)
        throws -> [String: ActorRecord]
    {
        if dids.isEmpty && handles.isEmpty { return [:] }
        let result = try connection.query(ActorQuery.profiles, [dids, handles.map { $0.lowercased() }, viewer])
        var actors: [String: ActorRecord] = [:]
        actors.reserveCapacity(result.rowCount)
        for index in 0..<result.rowCount {
            let row = result[index]
            let did = row.string(0) ?? ""
            let stored = row.string(1)
            let handle = stored.flatMap { Identifiers.isHandle($0) ? $0 : nil } ?? "handle.invalid"
            actors[did] = ActorRecord(
                did: did, handle: handle, displayName: row.string(2).map(LexiconText.displayName),
                description: row.string(3).map(LexiconText.description),
                avatarCID: row.string(4), bannerCID: row.string(5),
                indexedAtMilliseconds: row.int64(6) ?? 0, createdAtMilliseconds: row.int64(7),
                isActive: row.bool(8) ?? true, status: row.string(9),
                followersCount: row.int(10) ?? 0, followsCount: row.int(11) ?? 0, postsCount: row.int(12) ?? 0,
                viewer: viewer == nil ? nil : ActorViewerState(
                    following: row.string(13), followedBy: row.string(14), blocking: row.string(15),
                    blockedBy: row.bool(16) ?? false),
                storedHandle: stored?.lowercased(),
                selfLabels: row.string(17).map { $0.split(separator: ",").prefix(SelfLabels.maxValues).map(String.init) } ?? [],
                pronouns: row.string(18).map(LexiconText.pronouns),
                website: row.string(19).flatMap { Identifiers.isURI($0) ? $0 : nil },
                pinnedPost: pinnedPost(uri: row.string(20), cid: row.string(21)),
                profileCID: row.string(22).flatMap { Identifiers.isCID($0) ? $0 : nil })
        }
        return actors
    }

    /// A pinned post that is a syntactically valid strong reference, else nil.
    private static func pinnedPost(uri: String?, cid: String?) -> (uri: String, cid: String)? {
        guard let uri, let cid, Identifiers.isATURI(uri), Identifiers.isCID(cid) else { return nil }
        return (uri, cid)
    }
}

/// Writes the three profile view shapes of `app.bsky.actor.defs`.
struct ProfileViewWriter {
    let images: ImageURLTemplate
    /// Video playlists and thumbnails (embeds); kept beside `images` because both build blob URLs.
    var videos = ImageURLTemplate(ImageURLTemplate.defaultVideoTemplate)

    /// `#profileViewBasic`.
    func writeBasic(_ actor: ActorRecord, to writer: inout JSONWriter) {
        writer.beginObject()
        writeCommon(actor, to: &writer)
        writer.endObject()
    }

    /// `#profileView`: basic plus description and indexedAt.
    func writeView(_ actor: ActorRecord, to writer: inout JSONWriter) {
        writer.beginObject()
        writeCommon(actor, to: &writer)
        writer.optionalField("description", actor.description)
        writer.key("indexedAt")
        writer.datetime(epochMilliseconds: actor.indexedAtMilliseconds)
        writer.endObject()
    }

    /// `#profileViewDetailed`: view plus banner and counts.
    func writeDetailed(_ actor: ActorRecord, to writer: inout JSONWriter) {
        writer.beginObject()
        writeCommon(actor, to: &writer)
        writer.optionalField("description", actor.description)
        writer.optionalField("banner", images.url(preset: "banner", did: actor.did, cid: actor.bannerCID))
        writer.field("followersCount", actor.followersCount)
        writer.field("followsCount", actor.followsCount)
        writer.field("postsCount", actor.postsCount)
        writer.optionalField("website", actor.website)
        if let pinned = actor.pinnedPost {
            writer.key("pinnedPost")
            writer.beginObject()
            writer.field("uri", pinned.uri)
            writer.field("cid", pinned.cid)
            writer.endObject()
        }
        writer.key("indexedAt")
        writer.datetime(epochMilliseconds: actor.indexedAtMilliseconds)
        writer.endObject()
    }

    private func writeCommon(_ actor: ActorRecord, to writer: inout JSONWriter) {
        writer.field("did", actor.did)
        writer.field("handle", actor.handle)
        writer.optionalField("displayName", actor.displayName)
        writer.optionalField("avatar", images.url(preset: "avatar", did: actor.did, cid: actor.avatarCID))
        if let createdAt = actor.createdAtMilliseconds {
            writer.key("createdAt")
            writer.datetime(epochMilliseconds: createdAt)
        }
        writer.optionalField("pronouns", actor.pronouns)
        if let viewer = actor.viewer {
            writer.key("viewer")
            Self.writeViewerState(viewer, to: &writer)
        }
        SelfLabels.writeField(actor, to: &writer)
    }

    static func writeViewerState(_ viewer: ActorViewerState, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("muted", false)
        writer.field("blockedBy", viewer.blockedBy)
        writer.optionalField("blocking", viewer.blocking)
        writer.optionalField("following", viewer.following)
        writer.optionalField("followedBy", viewer.followedBy)
        writer.endObject()
    }
}
