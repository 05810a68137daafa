import Identity
import Testing
@testable import Ingest

/// Answers GETs from a table of URL → (status, body); anything else is a connection failure.
private struct TableFetcher: HTTPFetcher {
    var answers: [String: (Int, String)]
    func get(_ url: String, timeoutMilliseconds: Int, maxBytes: Int) throws(FetchError) -> FetchResponse {
        guard let (status, body) = answers[url] else { throw .network("connection refused") }
        return FetchResponse(status: status, body: Array(body.utf8))
    }
}

@Suite struct UserCreationFetcherTests {
    static let did = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"
    static let document = ##"{"id":"did:plc:aaaaaaaaaaaaaaaaaaaaaaaa","alsoKnownAs":["at://Alice.example.com"],"service":[{"id":"#atproto_pds","type":"AtprotoPersonalDataServer","serviceEndpoint":"https://pds.example.com/"}]}"##
    static let profileURL = "https://pds.example.com/xrpc/com.atproto.repo.getRecord?repo=did:plc:aaaaaaaaaaaaaaaaaaaaaaaa&collection=app.bsky.actor.profile&rkey=self"
    static let handleURL = "https://alice.example.com/.well-known/atproto-did"

    func fetcher(_ answers: [String: (Int, String)]) -> UserCreationFetcher {
        var all = answers
        all["https://plc.example/\(Self.did)"] = (200, Self.document)
        let http = TableFetcher(answers: all)
        var configuration = DIDResolver.Configuration()
        configuration.plcURL = "https://plc.example"
        return UserCreationFetcher(resolver: DIDResolver(configuration: configuration, fetcher: http, store: nil), http: http)
    }

    @Test func aVerifiedHandleAndTheProfileRecordAsServed() {
        let outcome = fetcher([
            Self.handleURL: (200, Self.did + "\n"),
            Self.profileURL: (200, #"{"uri":"at://x/app.bsky.actor.profile/self","cid":"bafyp","value":{"$type":"app.bsky.actor.profile","displayName":"Alice", "description":"hi"}}"#),
        ]).fetch(Self.did)
        #expect(outcome.error == nil)
        #expect(outcome.handle == "alice.example.com")
        #expect(outcome.profile?.cid == "bafyp")
        #expect(outcome.profile?.record.displayName == "Alice")
        #expect(outcome.profile?.record.rawJSON == #"{"$type":"app.bsky.actor.profile","displayName":"Alice", "description":"hi"}"#)
    }

    @Test func aHandleNamingAnotherDIDOrUnreachableIsNotStored() {
        let other = fetcher([Self.handleURL: (200, "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb"), Self.profileURL: (400, #"{"error":"RecordNotFound"}"#)])
            .fetch(Self.did)
        #expect(other.handle == nil)
        #expect(other.profile == nil)
        #expect(other.error == nil) // settled: nothing more to learn
        let unreachable = fetcher([Self.profileURL: (400, "{}")]).fetch(Self.did)
        #expect(unreachable.handle == nil)
        #expect(unreachable.error == nil)
    }

    @Test func aPDSOutageOrAMissingDocumentIsRetriedLater() {
        let pdsDown = fetcher([Self.handleURL: (200, Self.did), Self.profileURL: (502, "bad gateway")]).fetch(Self.did)
        #expect(pdsDown.handle == "alice.example.com")
        #expect(pdsDown.error?.contains("HTTP 502") == true)
        let garbage = fetcher([Self.profileURL: (200, "not json")]).fetch(Self.did)
        #expect(garbage.error != nil)
        let unknown = fetcher([:]).fetch("did:plc:cccccccccccccccccccccccc")
        #expect(unknown.error != nil)
        #expect(unknown.handle == nil)
    }

    @Test func handlesThatCouldBendTheURLAreNeverFetched() {
        #expect(UserCreationFetcher.isPlausibleHandle("alice.bsky.social"))
        for bad in ["alice", "alice.example.com/evil", "a@b.c", ".x.y", "x.y.", "ALICE.example.com", "a b.c"] {
            #expect(!UserCreationFetcher.isPlausibleHandle(bad), "\(bad)")
        }
    }
}
