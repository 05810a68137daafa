import JSON
import Storage

/// `app.bsky.actor.getProfiles`: `profileViewDetailed`s for up to 25 actors, in the order asked;
/// unknown and inactive actors are omitted.
struct GetProfiles: XRPCMethod {
    static let nsid = "app.bsky.actor.getProfiles"
    static let maxActors = 25

    let viewer: String?
    let actors: [String]

    init(_ input: XRPCInput) throws(XRPCError) {
        viewer = input.viewer
        actors = try input.parameters.requiredList(
            "actors", maxCount: Self.maxActors, expected: "valid dids or handles", isValid: Identifiers.isATIdentifier)
    }

    func run(on connection: PostgresConnection, environment: XRPCEnvironment) throws -> [UInt8] {
        let dids = actors.filter { $0.hasPrefix("did:") }
        let handles = actors.filter { !$0.hasPrefix("did:") }
        let found = try ActorHydrator.fetch(dids: dids, handles: handles, viewer: viewer, on: connection)
        var writer = JSONWriter(capacity: 1024 * actors.count)
        writer.beginObject()
        writer.key("profiles")
        writer.beginArray()
        var written = Set<String>()
        for actor in actors {
            guard let record = ProfileResolution.pick(found, actor: actor), record.isActive,
                  written.insert(record.did).inserted else { continue }
            environment.profiles.writeDetailed(record, to: &writer)
        }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }
}
