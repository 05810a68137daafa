import Storage

/// Resolves `actor` (DID or handle) to an actor row for methods that need exactly one.
enum ProfileResolution {
    /// The actor, or a 400: unknown → `InvalidRequest` "Profile not found"; taken down or
    /// suspended → `AccountTakedown`; deactivated → `AccountDeactivated`; other inactive states
    /// (deleted, …) → "Profile not found".
    static func resolve(_ actor: String, viewer: String?, on connection: PostgresConnection) throws -> ActorRecord {
        let isDID = actor.hasPrefix("did:")
        let found = try ActorHydrator.fetch(dids: isDID ? [actor] : [], handles: isDID ? [] : [actor],
                                            viewer: viewer, on: connection)
        guard let record = pick(found, actor: actor) else { throw XRPCError.badRequest("InvalidRequest", "Profile not found") }
        try checkActive(record)
        return record
    }

    /// The row answering `actor`; with several rows claiming one handle, the lowest DID, so the
    /// answer is at least deterministic until the indexer resolves the conflict.
    static func pick(_ found: [String: ActorRecord], actor: String) -> ActorRecord? {
        if actor.hasPrefix("did:") { return found[actor] }
        let handle = actor.lowercased()
        return found.values.filter { $0.storedHandle == handle }.min { $0.did < $1.did }
    }

    static func checkActive(_ record: ActorRecord) throws(XRPCError) {
        guard !record.isActive else { return }
        switch record.status {
        case "takendown", "suspended":
            throw .badRequest("AccountTakedown", "Account has been suspended")
        case "deactivated":
            throw .badRequest("AccountDeactivated", "Account is deactivated")
        default:
            throw .badRequest("InvalidRequest", "Profile not found")
        }
    }
}

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

/// `app.bsky.actor.getProfiles`: `profileViewDetailed`s for up to 25 actors, in the order asked;
/// unknown and inactive actors are omitted.
struct GetProfiles: XRPCMethod {
    static let nsid = "app.bsky.actor.getProfiles"
    static let maxActors = 25

    let viewer: String?
    let actors: [String]

    init(_ input: XRPCInput) throws(XRPCError) {
        viewer = input.viewer
        let given = input.parameters.all("actors")
        guard !given.isEmpty else { throw .invalidRequest("Error: Params must have the property \"actors\"") }
        guard given.count <= Self.maxActors else {
            throw .invalidRequest("actors must not have more than \(Self.maxActors) elements")
        }
        for actor in given where !Identifiers.isATIdentifier(actor) {
            throw .invalidRequest("actors must contain valid dids or handles")
        }
        actors = given
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
