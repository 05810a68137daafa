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
