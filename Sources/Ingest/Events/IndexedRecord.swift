/// The decoded fields of a record the indexer stores. Records are decoded only for indexed collections.
public enum IndexedRecord: Sendable {
    case post(PostRecord)
    case like(SubjectRecord)
    case repost(SubjectRecord)
    case follow(GraphRecord)
    case block(GraphRecord)
    case profile(ProfileRecord)
}

/// A reference to a specific version of a record.
public struct StrongRef: Sendable, Hashable {
    public var uri: ATURI
    public var cid: String
    public init(uri: ATURI, cid: String) {
        self.uri = uri
        self.cid = cid
    }
}

/// `app.bsky.feed.post`.
public struct PostRecord: Sendable {
    /// The record JSON exactly as received (stored in `posts.record`).
    public var rawJSON: String
    public var text: String
    /// `createdAt` in Unix milliseconds; nil when absent or unparseable (then `indexed_at` is used).
    public var createdAtMilliseconds: Int64?
    public var reply: Reply?
    public var embed: Embed?
    /// DIDs of `app.bsky.richtext.facet#mention` features, in order, without duplicates.
    public var mentionedDIDs: [String]

    /// The thread a reply belongs to.
    public struct Reply: Sendable {
        public var root: StrongRef
        public var parent: StrongRef
        public init(root: StrongRef, parent: StrongRef) {
            self.root = root
            self.parent = parent
        }
    }

    /// What the post embeds.
    public struct Embed: Sendable {
        /// `images`, `external`, `record`, `recordWithMedia`, `video` or `gallery`.
        public var type: String
        /// The embedded (quoted) record for `record` and `recordWithMedia`.
        public var record: StrongRef?
        /// Images, video or gallery, directly or as the media of `recordWithMedia`.
        public var hasMedia: Bool
        public init(type: String, record: StrongRef?, hasMedia: Bool) {
            self.type = type
            self.record = record
            self.hasMedia = hasMedia
        }
    }

    public init(rawJSON: String, text: String, createdAtMilliseconds: Int64?, reply: Reply?, embed: Embed?, mentionedDIDs: [String]) {
        self.rawJSON = rawJSON
        self.text = text
        self.createdAtMilliseconds = createdAtMilliseconds
        self.reply = reply
        self.embed = embed
        self.mentionedDIDs = mentionedDIDs
    }
}

/// `app.bsky.feed.like` and `app.bsky.feed.repost`: a record about another record.
public struct SubjectRecord: Sendable {
    public var subject: StrongRef
    public var createdAtMilliseconds: Int64?
    public init(subject: StrongRef, createdAtMilliseconds: Int64?) {
        self.subject = subject
        self.createdAtMilliseconds = createdAtMilliseconds
    }
}

/// `app.bsky.graph.follow` and `app.bsky.graph.block`: a record about another account.
public struct GraphRecord: Sendable {
    public var subjectDID: String
    public var createdAtMilliseconds: Int64?
    public init(subjectDID: String, createdAtMilliseconds: Int64?) {
        self.subjectDID = subjectDID
        self.createdAtMilliseconds = createdAtMilliseconds
    }
}

/// `app.bsky.actor.profile` (rkey `self`).
public struct ProfileRecord: Sendable {
    /// The record JSON exactly as received (stored in `actors.profile_record`).
    public var rawJSON: String
    public var displayName: String?
    public var description: String?
    public var avatarCID: String?
    public var bannerCID: String?
    public var createdAtMilliseconds: Int64?
    public init(rawJSON: String, displayName: String?, description: String?, avatarCID: String?, bannerCID: String?, createdAtMilliseconds: Int64?) {
        self.rawJSON = rawJSON
        self.displayName = displayName
        self.description = description
        self.avatarCID = avatarCID
        self.bannerCID = bannerCID
        self.createdAtMilliseconds = createdAtMilliseconds
    }
}
