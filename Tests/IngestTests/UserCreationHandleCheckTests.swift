import Foundation
import Identity
import Testing
@testable import Ingest

/// Answers GETs from a table (anything else: connection refused) and records the destination rule of each.
private final class RecordingFetcher: HTTPFetcher, @unchecked Sendable {
    let answers: [String: (Int, String)]
    private let lock = NSLock()
    private var requests: [(url: String, destinations: FetchDestinations)] = []
    /// URLs whose host counts as private: refused under `.publicOnly`, as libcurl's socket check would.
    var privateHosts: Set<String> = []

    init(_ answers: [String: (Int, String)]) { self.answers = answers }

    var seen: [(url: String, destinations: FetchDestinations)] { lock.withLock { requests } }

    func get(_ url: String, timeoutMilliseconds: Int, maxBytes: Int) throws(FetchError) -> FetchResponse {
        try get(url, timeoutMilliseconds: timeoutMilliseconds, maxBytes: maxBytes, destinations: .any)
    }

    func get(_ url: String, timeoutMilliseconds: Int, maxBytes: Int, destinations: FetchDestinations) throws(FetchError) -> FetchResponse {
        lock.withLock { requests.append((url, destinations)) }
        if destinations == .publicOnly, privateHosts.contains(where: { url.contains("://\($0)") }) { throw .refusedAddress("127.0.0.1") }
        guard let (status, body) = answers[url] else { throw .network("connection refused") }
        return FetchResponse(status: status, body: Array(body.utf8))
    }
}

@Suite struct UserCreationHandleCheckTests {
    static let did = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"
    static let other = "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb"
    static func document(pds: String = "https://pds.example.com") -> String {
        ##"{"id":"did:plc:aaaaaaaaaaaaaaaaaaaaaaaa","alsoKnownAs":["at://alice.example.com"],"service":[{"id":"#atproto_pds","type":"AtprotoPersonalDataServer","serviceEndpoint":"\##(pds)"}]}"##
    }
    static let handleURL = "https://alice.example.com/.well-known/atproto-did"
    static let profileURL = "https://pds.example.com/xrpc/com.atproto.repo.getRecord?repo=did:plc:aaaaaaaaaaaaaaaaaaaaaaaa&collection=app.bsky.actor.profile&rkey=self"

    private static func fetcher(_ answers: [String: (Int, String)], document: String = document(),
                                dns: HandleDNSResolver.Answer? = nil, allowPrivate: Bool = false,
                                template: String = UserCreationFetcher.defaultHandleVerificationURL,
                                privateHosts: Set<String> = []) -> (UserCreationFetcher, RecordingFetcher) {
        var all = answers
        all["https://plc.example/\(did)"] = (200, document)
        let http = RecordingFetcher(all)
        http.privateHosts = privateHosts
        var configuration = DIDResolver.Configuration()
        configuration.plcURL = "https://plc.example"
        let lookup: (@Sendable (String) -> HandleDNSResolver.Answer)? = dns.map { answer in { _ in answer } }
        let fetcher = UserCreationFetcher(resolver: DIDResolver(configuration: configuration, fetcher: http, store: nil), http: http,
                                          handleVerificationURL: template, dnsLookup: lookup, allowPrivateAddresses: allowPrivate)
        return (fetcher, http)
    }

    @Test func aTXTRecordNamingTheDIDVerifiesTheHandleWithoutHTTPS() {
        let (fetcher, http) = Self.fetcher([Self.profileURL: (400, "{}")], dns: .did(Self.did))
        let outcome = fetcher.fetch(Self.did)
        #expect(outcome.handle == "alice.example.com")
        #expect(outcome.handleCheck == .verifiedByDNS)
        #expect(!http.seen.contains { $0.url == Self.handleURL })
    }

    @Test func aTXTRecordNamingAnotherDIDIsAnImpostorEvenWhenHTTPSAgrees() {
        let (fetcher, http) = Self.fetcher([Self.handleURL: (200, Self.did), Self.profileURL: (400, "{}")], dns: .did(Self.other))
        let outcome = fetcher.fetch(Self.did)
        #expect(outcome.handle == nil)
        #expect(outcome.handleCheck == .namesAnotherDID)
        #expect(outcome.error == nil) // settled: the claim is false, not pending
        #expect(!http.seen.contains { $0.url == Self.handleURL })
    }

    @Test func noDNSAnswerFallsBackToHTTPS() {
        let (fetcher, _) = Self.fetcher([Self.handleURL: (200, Self.did + "\n"), Self.profileURL: (400, "{}")],
                                        dns: .noAnswer(reason: "NXDOMAIN"))
        let outcome = fetcher.fetch(Self.did)
        #expect(outcome.handle == "alice.example.com")
        #expect(outcome.handleCheck == .verifiedByHTTPS)
        let (impostor, _) = Self.fetcher([Self.handleURL: (200, Self.other), Self.profileURL: (400, "{}")], dns: .noAnswer(reason: "timeout"))
        #expect(impostor.fetch(Self.did).handleCheck == .namesAnotherDID)
        let (neither, _) = Self.fetcher([Self.profileURL: (400, "{}")], dns: .noAnswer(reason: "NXDOMAIN"))
        let unverified = neither.fetch(Self.did)
        #expect(unverified.handle == nil)
        guard case .unverified(let reason) = unverified.handleCheck else {
            Issue.record("\(String(describing: unverified.handleCheck))")
            return
        }
        #expect(reason.contains("NXDOMAIN") && reason.contains("connection refused"))
    }

    @Test func dataDerivedHostsArePublicOnlyAndTheOperatorsAreNot() {
        let (fetcher, http) = Self.fetcher([Self.handleURL: (200, Self.did), Self.profileURL: (400, "{}")])
        _ = fetcher.fetch(Self.did)
        let rules = Dictionary(http.seen.map { ($0.url, $0.destinations) }, uniquingKeysWith: { a, _ in a })
        #expect(rules["https://plc.example/\(Self.did)"] == .any)
        #expect(rules[Self.handleURL] == .publicOnly)
        #expect(rules[Self.profileURL] == .publicOnly)

        // A fixed host in HANDLE_VERIFICATION_URL is configured, not data.
        let (fixed, _) = Self.fetcher([:], template: "http://127.0.0.1:9/handles/{handle}/.well-known/atproto-did")
        #expect(fixed.handleURLDestinations == .any)
        let (inHost, _) = Self.fetcher([:], template: "http://{handle}.localhost:9/handles/{handle}")
        #expect(inHost.handleURLDestinations == .publicOnly)
        let (allowed, _) = Self.fetcher([:], allowPrivate: true)
        #expect(allowed.handleURLDestinations == .any)
    }

    @Test func aRefusedPDSIsAFailureCountedAsRefused() {
        let (fetcher, _) = Self.fetcher([Self.handleURL: (200, Self.did), Self.profileURL: (200, "{}")], privateHosts: ["pds.example.com"])
        let outcome = fetcher.fetch(Self.did)
        #expect(outcome.handle == "alice.example.com")
        #expect(outcome.refusedAddresses == 1)
        #expect(outcome.error?.contains("not a public address") == true)
        var statistics = UserCreationStatistics()
        statistics.count(outcome)
        #expect(statistics.refusedAddresses == 1 && statistics.failed == 1 && statistics.handlesVerifiedByHTTPS == 1)
    }

    @Test func unusablePDSEndpointsAreNeverFetched() {
        for endpoint in ["https://user:pw@pds.example.com", "https://pds.example.com/path", "https://pds.example.com?x=1",
                         "https://pds.example.com#f", "ftp://pds.example.com", "pds.example.com", "https://"] {
            #expect(UserCreationFetcher.usablePDSEndpoint(endpoint) == nil, "\(endpoint)")
            let (fetcher, http) = Self.fetcher([Self.handleURL: (200, Self.did)], document: Self.document(pds: endpoint))
            let outcome = fetcher.fetch(Self.did)
            #expect(outcome.error == nil, "\(endpoint)")
            #expect(!http.seen.contains { $0.url.contains("getRecord") }, "\(endpoint)")
        }
        #expect(UserCreationFetcher.usablePDSEndpoint("https://pds.example.com/") == "https://pds.example.com")
        #expect(UserCreationFetcher.usablePDSEndpoint("http://127.0.0.1:8080") == "http://127.0.0.1:8080")
    }

    @Test func handlesFollowTheAtprotoSyntax() {
        for good in ["alice.bsky.social", "a.co", "xn--ls8h.la", "u1.pds.test", "1password.com", "a-b.c-d.example.org"] {
            #expect(UserCreationFetcher.isPlausibleHandle(good), "\(good)")
        }
        for bad in ["127.0.0.1", "alice.123", "alice.localhost", "x.internal", "a.local", "b.onion", "c.arpa", "d.invalid", "e.example",
                    "-a.com", "a-.com", "a..com", String(repeating: "a", count: 64) + ".com"] {
            #expect(!UserCreationFetcher.isPlausibleHandle(bad), "\(bad)")
        }
    }
}
