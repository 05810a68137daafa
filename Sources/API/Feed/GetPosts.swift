import JSON
import Storage

/// `app.bsky.feed.getPosts`: post views for up to 25 at-uris, in the order asked, unknown and hidden
/// posts (inactive author) omitted. Blocks do not hide posts here: the viewer asked for them by uri,
/// and the view's author viewer state shows the block.
struct GetPosts: XRPCMethod {
    static let nsid = "app.bsky.feed.getPosts"
    static let maxURIs = 25

    let viewer: String?
    let uris: [String]

    init(_ input: XRPCInput) throws(XRPCError) {
        viewer = input.viewer
        let given = try input.parameters.requiredList(
            "uris", maxCount: Self.maxURIs, expected: "valid at-uris", isValid: Identifiers.isATURI)
        var seen = Set<String>()
        uris = given.filter { seen.insert($0).inserted }
    }

    func run(on connection: PostgresConnection, environment: XRPCEnvironment) throws -> [UInt8] {
        let context = try PostViewContext.load(postURIs: uris, extraDIDs: [], viewer: viewer,
                                               profiles: environment.profiles, on: connection)
        var writer = JSONWriter(capacity: 1024 + uris.count * 1500)
        writer.beginObject()
        writer.key("posts")
        writer.beginArray()
        for uri in uris {
            guard let post = context.posts[uri], context.actor(post.authorDID).isActive else { continue }
            context.writePostView(post, to: &writer)
        }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }
}
