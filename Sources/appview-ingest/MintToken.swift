import ArgumentParser
import Foundation
import Identity
import Storage

/// `appview-ingest mint-token`: a short-lived service-auth token for an account of a LOCAL stack.
/// Generates a fresh key, stores the account's DID document in `did_documents` marked local (the
/// API's resolver finds it there and never asks the network for it), and prints the JWT.
struct MintToken: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mint-token",
        abstract: "Prints a short-lived service-auth token for an account (local stacks only).",
        discussion: """
            Refused (exit 2) unless SERVICE_DID is local: did:web on localhost, *.localhost or *.test.
            Each call generates a new key and replaces the account's stored DID document, so older
            tokens of that account stop verifying. Needs DATABASE_URL (the API's database).
            Example: curl -H "Authorization: Bearer $(appview-ingest mint-token --actor alice.test)" \\
                       'http://127.0.0.1:8080/xrpc/app.bsky.feed.getTimeline?limit=5'
            """)

    @Option(help: "DID or handle of the account the token is for.")
    var actor: String

    @Option(help: "NSID the token is restricted to (lxm), e.g. app.bsky.feed.getTimeline (default: none).")
    var lxm: String?

    @Option(help: "Key curve: secp256k1 (ES256K) or p256 (ES256).")
    var curve: String = "secp256k1"

    @Option(help: "Lifetime of the token in seconds (1-3600).")
    var ttl: Int = 300

    func validate() throws {
        guard SigningCurve(rawValue: curve) != nil else { throw ValidationError("--curve must be secp256k1 or p256") }
        guard (1...3600).contains(ttl) else { throw ValidationError("--ttl must be between 1 and 3600 seconds") }
    }

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let serviceDID = environment["SERVICE_DID"], !serviceDID.isEmpty else {
            fail("SERVICE_DID is not set: it must be the API's SERVICE_DID (a local one, e.g. did:web:localhost)", status: 2)
        }
        guard let service = DID(serviceDID), service.isLocalServiceDID else {
            fail("refusing to mint: SERVICE_DID=\(serviceDID) is not a local service DID "
                 + "(did:web on localhost, *.localhost or *.test); tokens are only minted for local stacks", status: 2)
        }
        try runReportingErrors {
            let pool = ConnectionPool(configuration: try ingestDatabaseConfiguration())
            defer { pool.close() }
            try MigrationRunner(directory: MigrationRunner.defaultDirectory()).requireUpToDate(pool)
            let (did, handle) = try account(pool)
            let key = try PrivateKey.generate(curve: SigningCurve(rawValue: curve)!)
            let now = Date().timeIntervalSince1970
            let document = makeDIDDocument(did: did.text, handle: handle, key: key.publicKey)
            try DIDDocumentStore(pool: pool).save(StoredDIDDocument(did: did.text, json: document, fetchedAt: now, isLocal: true))
            let token = try ServiceTokenMinter(key: key).mint(
                issuer: did.text, audience: serviceDID, method: lxm, issuedAt: Int(now), lifetimeSeconds: ttl)
            FileHandle.standardError.write(Data("mint-token: \(did.text)\(handle.map { " (\($0))" } ?? ""), aud \(serviceDID), expires in \(ttl) s\n".utf8))
            print(token)
        }
    }

    /// The account's DID and known handle; a handle must be known to the database.
    private func account(_ pool: ConnectionPool) throws -> (DID, String?) {
        try pool.withConnection { connection -> (DID, String?) in
            if actor.hasPrefix("did:") {
                guard let did = DID(actor) else { fail("--actor \(actor) is not a did:plc or did:web DID", status: 2) }
                let result = try connection.query("SELECT handle FROM actors WHERE did = $1", [did.text])
                return (did, result.rowCount > 0 ? result[0].string(0) : nil)
            }
            let handle = actor.hasPrefix("@") ? String(actor.dropFirst()) : actor
            let result = try connection.query("SELECT did, handle FROM actors WHERE lower(handle) = lower($1) LIMIT 1", [handle])
            guard result.rowCount > 0, let text = result[0].string(0), let did = DID(text) else {
                fail("no account with handle \(handle) in the database", status: 1)
            }
            return (did, result[0].string(1))
        }
    }

    private func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data("appview-ingest mint-token: \(message)\n".utf8))
        Foundation.exit(status)
    }
}
