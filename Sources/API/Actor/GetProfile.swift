import JSON
import Storage

/// `app.bsky.actor.getProfile`: one `profileViewDetailed`.
struct GetProfile: XRPCMethod {
    static let nsid = "app.bsky.actor.getProfile"

    let viewer: String?
    let actor: String

    init(_ input: XRPCInput) throws(XRPCError) {
        viewer = input.viewer
        actor = try input.parameters.requiredActor()
    }

    func run(on connection: PostgresConnection, environment: XRPCEnvironment) throws -> [UInt8] {
        let record = try ProfileResolution.resolve(actor, viewer: viewer, on: connection)
        var writer = JSONWriter(capacity: 1024)
        environment.profiles.writeDetailed(record, to: &writer)
        return writer.bytes
    }
}
