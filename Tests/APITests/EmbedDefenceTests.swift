import API
import Foundation
import Testing

/// Embeds whose record data is malformed (the firehose carries records no PDS should have accepted)
/// still render lexicon-valid views: unusable parts are left out, never passed through.
@Suite(.serialized)
struct EmbedDefenceTests {
    static let validBlob = #"{"$type":"blob","ref":{"$link":"bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"},"mimeType":"image/jpeg","size":1}"#

    /// Inserts a post with this raw embed JSON and embed type (as the indexer stores them).
    static func post(_ fixture: Fixture, author: String, rkey: String, embedType: String, embed: String,
                     quoting: String? = nil) throws -> String {
        let uri = "at://\(author)/app.bsky.feed.post/\(rkey)"
        let record = #"{"$type":"app.bsky.feed.post","text":"t","createdAt":"2026-07-04T12:00:00.000Z","embed":\#(embed)}"#
        try fixture.sql("""
            INSERT INTO posts (uri, cid, author_did, record, embed_type, embed_record_uri, created_at, indexed_at, sort_at,
                               commit_time_us)
            VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7::timestamptz, $7::timestamptz, $7::timestamptz, 0)
            """, [uri, fixture.nextCID(), author, record, embedType, quoting, Fixture.iso(Fixture.baseTime)])
        return uri
    }

    @Test func malformedMediaIsLeftOutAndTheRestStillRenders() throws {
        let fixture = try Fixture(name: "conformance_embed_defence")
        let author = try fixture.actor("embedder")
        let quoted = try fixture.post(by: author, at: Fixture.baseTime - 1000).uri
        let images = try Self.post(fixture, author: author, rkey: "images", embedType: "images", embed: """
            {"$type":"app.bsky.embed.images","images":[
              {"image":{"ref":{"$link":"not a cid!"}},"alt":"broken blob"},
              {"image":\(Self.validBlob),"alt":5,"aspectRatio":{"width":0,"height":"x"}},
              "not an object",
              {"image":\(Self.validBlob),"alt":"fine","aspectRatio":{"width":1.5,"height":2}}]}
            """)
        let notAnArray = try Self.post(fixture, author: author, rkey: "notarray", embedType: "images",
                                       embed: #"{"$type":"app.bsky.embed.images","images":{"a":1}}"#)
        let badLink = try Self.post(fixture, author: author, rkey: "badlink", embedType: "external",
                                    embed: #"{"$type":"app.bsky.embed.external","external":{"uri":"not a uri","title":"t","description":"d"}}"#)
        let oddLink = try Self.post(fixture, author: author, rkey: "oddlink", embedType: "external",
                                    embed: #"{"$type":"app.bsky.embed.external","external":{"uri":"https://e.com","title":7,"thumb":{"ref":{}}}}"#)
        let noVideo = try Self.post(fixture, author: author, rkey: "novideo", embedType: "video",
                                    embed: #"{"$type":"app.bsky.embed.video","alt":"no blob"}"#)
        let badMedia = try Self.post(fixture, author: author, rkey: "badmedia", embedType: "recordWithMedia", embed: """
            {"$type":"app.bsky.embed.recordWithMedia","record":{"record":{"uri":"\(quoted)","cid":"x"}},
             "media":{"$type":"app.bsky.embed.images","images":[]}}
            """, quoting: quoted)
        let service = fixture.service(viewer: nil)
        let uris = [images, notAnArray, badLink, oddLink, noVideo, badMedia]
        let answer = service.call("app.bsky.feed.getPosts", uris.map { "uris=\(q($0))" }.joined(separator: "&"))
        #expect(answer.status == 200)
        let posts = Dictionary(uniqueKeysWithValues: (answer.json["posts"] as? [[String: Any]] ?? []).map {
            ($0["uri"] as? String ?? "", $0)
        })
        #expect(posts.count == uris.count)
        for post in posts.values { Lexicon.checkPostView(post, "post") }

        let imageList = (posts[images]?["embed"] as? [String: Any])?["images"] as? [[String: Any]] ?? []
        #expect(imageList.count == 2, "the broken blob and the non-object are left out")
        #expect(imageList.map { $0["alt"] as? String } == ["", "fine"], "a non-string alt becomes empty")
        #expect(imageList.allSatisfy { $0["aspectRatio"] == nil }, "non-integer or non-positive sides drop the ratio")
        #expect(imageList.allSatisfy { ($0["thumb"] as? String)?.contains("/feed_thumbnail/plain/\(author)/bafkrei") == true })
        #expect(posts[notAnArray]?["embed"] == nil)
        #expect(posts[badLink]?["embed"] == nil, "an external link whose uri is not a uri is left out")
        let odd = ((posts[oddLink]?["embed"] as? [String: Any])?["external"] as? [String: Any]) ?? [:]
        #expect(odd["uri"] as? String == "https://e.com" && odd["title"] as? String == "" && odd["description"] as? String == "")
        #expect(odd["thumb"] == nil)
        #expect(posts[noVideo]?["embed"] == nil)
        let fallback = posts[badMedia]?["embed"] as? [String: Any]
        #expect(fallback?["$type"] as? String == "app.bsky.embed.record#view", "unusable media: the quote alone")
        #expect((fallback?["record"] as? [String: Any])?["uri"] as? String == quoted)
    }

    @Test func videoURLsFollowTheConfiguredTemplate() throws {
        let fixture = try Fixture(name: "conformance_video_template")
        let author = try fixture.actor("filmmaker")
        let blob = #"{"$type":"blob","ref":{"$link":"bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"},"mimeType":"video/mp4","size":1}"#
        let video = try Self.post(fixture, author: author, rkey: "video", embedType: "video",
                                  embed: #"{"$type":"app.bsky.embed.video","video":\#(blob),"alt":"a clip"}"#)
        let cid = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
        func embed(_ service: AppViewService) -> [String: Any]? {
            let answer = service.call("app.bsky.feed.getPosts", "uris=\(q(video))")
            #expect(answer.status == 200)
            return ((answer.json["posts"] as? [[String: Any]])?.first)?["embed"] as? [String: Any]
        }
        let standard = embed(fixture.service(viewer: nil))
        #expect(standard?["playlist"] as? String == "https://video.bsky.app/watch/\(author)/\(cid)/playlist.m3u8")
        #expect(standard?["thumbnail"] as? String == "https://video.bsky.app/watch/\(author)/\(cid)/thumbnail.jpg")
        let own = embed(fixture.service(viewer: nil, videoURLTemplate: "https://media.example/v/{cid}/{did}/{preset}"))
        #expect(own?["playlist"] as? String == "https://media.example/v/\(cid)/\(author)/playlist.m3u8")
        #expect(own?["thumbnail"] as? String == "https://media.example/v/\(cid)/\(author)/thumbnail.jpg")
    }
}
