import Foundation
import Identity
import JSON
import Testing
@testable import API

/// Documents served from memory, counted; a DID can be made unavailable.
final class FakeKeySource: SigningKeySource, @unchecked Sendable {
    private let lock = NSLock()
    private var documents: [String: DIDDocument] = [:]
    private var unavailable: Set<String> = []
    private(set) var forcedLookups = 0

    func publish(_ did: String, key: PublicKey, fragment: String = "atproto") throws {
        let json = """
            {"id":"\(did)","verificationMethod":[{"id":"#\(fragment)","type":"Multikey","publicKeyMultibase":"\(key.multikey)"}]}
            """
        let document = try DIDDocument(did: did, json: Array(json.utf8))
        lock.withLock { documents[did] = document }
    }

    func makeUnavailable(_ did: String) { _ = lock.withLock { unavailable.insert(did) } }

    func document(for did: DID, forceRefresh: Bool) throws(DIDResolutionError) -> DIDDocument {
        let (document, down) = lock.withLock { () -> (DIDDocument?, Bool) in
            if forceRefresh { forcedLookups += 1 }
            return (documents[did.text], unavailable.contains(did.text))
        }
        if down { throw .unavailable(did: did.text, reason: "timed out") }
        guard let document else { throw .notFound(did: did.text) }
        return document
    }
}

struct Signer {
    let did: String
    let key: PrivateKey

    /// A JWT with the given header and payload objects (as JSON text), signed with `key`.
    func token(header: String? = nil, payload: String, signature: [UInt8]? = nil) throws -> String {
        let head = header ?? #"{"typ":"JWT","alg":"\#(key.curve.jwtAlgorithm)"}"#
        let input = Base64URL.encode(Array(head.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        return input + "." + Base64URL.encode(try signature ?? key.sign(Array(input.utf8)))
    }
}

let now: Double = 1_800_000_000
let service = "did:web:appview.test"
let timeline = "app.bsky.feed.getTimeline"

func payload(iss: String, aud: String = service, exp: Int = Int(now) + 60, lxm: String? = timeline, extra: String = "") -> String {
    var text = #"{"iat":\#(Int(now)),"iss":"\#(iss)","aud":"\#(aud)","exp":\#(exp)"#
    if let lxm { text += #","lxm":"\#(lxm)""# }
    return text + extra + "}"
}

struct Fixture {
    let keys = FakeKeySource()
    let verifier: ServiceAuthVerifier
    let alice: Signer

    init(skew: Int = 10, curve: SigningCurve = .secp256k1) throws {
        verifier = ServiceAuthVerifier(
            configuration: ServiceAuthConfiguration(serviceDID: service, alternateDIDs: ["did:web:old.appview.test"], clockSkewSeconds: skew),
            keys: keys, clock: { now })
        alice = Signer(did: "did:plc:ewvi7nxzyoun6zhxrhs64oiz", key: try PrivateKey.generate(curve: curve))
        try keys.publish(alice.did, key: alice.key.publicKey)
    }

    func authenticate(_ token: String, method: String = timeline) -> Result<String?, XRPCError> {
        verifier.authenticate(HTTPRequest(path: "/xrpc/" + method, headers: ["authorization": "Bearer " + token]), method: method)
    }

    func error(_ token: String, method: String = timeline) -> XRPCError? {
        if case .failure(let error) = authenticate(token, method: method) { return error }
        return nil
    }
}

@Suite struct ServiceAuthVerifierTests {
    @Test(arguments: SigningCurve.allCases)
    func aValidTokenYieldsTheIssuer(curve: SigningCurve) throws {
        let fixture = try Fixture(curve: curve)
        let token = try fixture.alice.token(payload: payload(iss: fixture.alice.did))
        #expect(try fixture.authenticate(token).get() == fixture.alice.did)
        #expect(fixture.keys.forcedLookups == 0)
    }

    @Test func noHeaderIsAnonymous() throws {
        let fixture = try Fixture()
        #expect(try fixture.verifier.authenticate(HTTPRequest(path: "/xrpc/x"), method: timeline).get() == nil)
    }

    @Test func alternateAudiencesAndAbsentLxmAreAccepted() throws {
        let fixture = try Fixture()
        #expect(try fixture.authenticate(try fixture.alice.token(payload: payload(iss: fixture.alice.did, aud: "did:web:old.appview.test"))).get() != nil)
        #expect(try fixture.authenticate(try fixture.alice.token(payload: payload(iss: fixture.alice.did, lxm: nil))).get() != nil)
    }

    @Test func expiryHonoursTheSkewExactly() throws {
        let fixture = try Fixture(skew: 10)
        #expect(try fixture.authenticate(try fixture.alice.token(payload: payload(iss: fixture.alice.did, exp: Int(now) - 10))).get() != nil)
        let expired = fixture.error(try fixture.alice.token(payload: payload(iss: fixture.alice.did, exp: Int(now) - 11)))
        #expect(expired?.name == "ExpiredToken" && expired?.status == 401)
        // An expired token is reported as expired even when its signature is also wrong.
        let both = fixture.error(try fixture.alice.token(payload: payload(iss: fixture.alice.did, exp: Int(now) - 100), signature: [UInt8](repeating: 1, count: 64)))
        #expect(both?.name == "ExpiredToken")
    }

    @Test func claimAndHeaderChecksAreInvalidToken() throws {
        let fixture = try Fixture()
        let did = fixture.alice.did
        let cases: [(String, String)] = [
            (try fixture.alice.token(payload: payload(iss: did, aud: "did:web:api.bsky.app")), "aud"),
            (try fixture.alice.token(payload: payload(iss: did, lxm: "app.bsky.feed.getPosts")), "lxm"),
            (try fixture.alice.token(header: #"{"typ":"at+jwt","alg":"ES256K"}"#, payload: payload(iss: did)), "typ"),
            (try fixture.alice.token(header: #"{"typ":"JWT","alg":"none"}"#, payload: payload(iss: did)), "alg"),
            (try fixture.alice.token(header: #"{"typ":"JWT"}"#, payload: payload(iss: did)), "alg"),
            (try fixture.alice.token(payload: #"{"iss":"\#(did)","aud":"\#(service)"}"#), "exp"),
            (try fixture.alice.token(payload: #"{"iss":"\#(did)","aud":"\#(service)","exp":"soon"}"#), "exp"),
            (try fixture.alice.token(payload: #"{"iss":42,"aud":"\#(service)","exp":\#(Int(now) + 60)}"#), "iss"),
            (try fixture.alice.token(payload: payload(iss: "did:plc:tooshort")), "iss"),
            (try fixture.alice.token(payload: payload(iss: did), signature: [1, 2, 3]), "64 bytes"),
            (try fixture.alice.token(payload: payload(iss: "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa")), "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"),
        ]
        for (token, mentioned) in cases {
            let error = fixture.error(token)
            #expect(error?.name == "InvalidToken", "\(mentioned)")
            #expect(error?.status == 401)
            #expect(error?.message.contains(mentioned) == true, "\(error?.message ?? "accepted") should mention \(mentioned)")
        }
    }

    @Test func signatureFailuresAreBadJwtSignatureAfterOneForcedLookup() throws {
        let fixture = try Fixture()
        let stranger = Signer(did: fixture.alice.did, key: try PrivateKey.generate(curve: .secp256k1))
        let error = fixture.error(try stranger.token(payload: payload(iss: fixture.alice.did)))
        #expect(error?.name == "BadJwtSignature")
        #expect(fixture.keys.forcedLookups == 1)

        let valid = try fixture.alice.token(payload: payload(iss: fixture.alice.did))
        let parts = valid.split(separator: ".")
        let signature = Base64URL.decode(Array(parts[2].utf8))!
        let highS = try fixture.alice.token(payload: payload(iss: fixture.alice.did), signature: highSVariant(of: signature, curve: .secp256k1))
        #expect(fixture.error(highS)?.name == "BadJwtSignature")
        #expect(fixture.error(highS)?.message.contains("high-S") == true)
        #expect(fixture.keys.forcedLookups == 1, "a high-S signature is refused without re-resolving")

        let p256 = Signer(did: fixture.alice.did, key: try PrivateKey.generate(curve: .p256))
        #expect(fixture.error(try p256.token(payload: payload(iss: fixture.alice.did)))?.name == "BadJwtSignature")
    }

    @Test func aRotatedKeyIsFoundByTheForcedLookup() throws {
        let fixture = try Fixture()
        // The key source answers the new key only when forced: the verifier must ask it that way.
        final class RotatingSource: SigningKeySource, @unchecked Sendable {
            let old: DIDDocument
            let new: DIDDocument
            init(old: DIDDocument, new: DIDDocument) { self.old = old; self.new = new }
            func document(for did: DID, forceRefresh: Bool) throws(DIDResolutionError) -> DIDDocument { forceRefresh ? new : old }
        }
        let rotated = try PrivateKey.generate(curve: .p256)
        func document(_ key: PublicKey) throws -> DIDDocument {
            try DIDDocument(did: fixture.alice.did, json: Array(makeDIDDocument(did: fixture.alice.did, handle: nil, key: key).utf8))
        }
        let verifier = ServiceAuthVerifier(
            configuration: ServiceAuthConfiguration(serviceDID: service),
            keys: RotatingSource(old: try document(fixture.alice.key.publicKey), new: try document(rotated.publicKey)), clock: { now })
        let token = try Signer(did: fixture.alice.did, key: rotated).token(payload: payload(iss: fixture.alice.did))
        let result = verifier.authenticate(HTTPRequest(path: "/xrpc/x", headers: ["authorization": "Bearer " + token]), method: timeline)
        #expect(try result.get() == fixture.alice.did)
    }

    @Test func labelerIssuersUseTheLabelKey() throws {
        let fixture = try Fixture()
        let labeler = Signer(did: "did:plc:labelerlabelerlabelerlab", key: try PrivateKey.generate(curve: .secp256k1))
        try fixture.keys.publish(labeler.did, key: labeler.key.publicKey, fragment: "atproto_label")
        #expect(try fixture.authenticate(try labeler.token(payload: payload(iss: labeler.did + "#atproto_labeler"))).get() == labeler.did)
        // The same DID without the fragment needs an #atproto key, which it does not have.
        #expect(fixture.error(try labeler.token(payload: payload(iss: labeler.did)))?.name == "InvalidToken")
    }

    @Test func aResolverOutageIsA503NotA500() throws {
        let fixture = try Fixture()
        fixture.keys.makeUnavailable(fixture.alice.did)
        let error = fixture.error(try fixture.alice.token(payload: payload(iss: fixture.alice.did)))
        #expect(error?.status == 503 && error?.name == "UpstreamFailure")
        #expect(error?.headers["Retry-After"] == "5")
    }

    @Test func malformedHeadersAndOversizedTokensAreRefusedBeforeParsing() throws {
        let fixture = try Fixture()
        let request = { (value: String) in
            fixture.verifier.authenticate(HTTPRequest(path: "/xrpc/x", headers: ["authorization": value]), method: timeline)
        }
        for value in ["Basic abc", "Bearer", "abc.def.ghi", "Bearer " + String(repeating: "a", count: 5000),
                      "Bearer a.b.c", "Bearer ..", "Bearer e30.e30.", "Bearer e30=.e30.AAAA"] {
            guard case .failure(let error) = request(value) else {
                Issue.record("accepted \(value.prefix(40))")
                continue
            }
            #expect(error.name == "InvalidToken" && error.status == 401, "\(value.prefix(40))")
        }
        guard case .failure(let error) = request("Bearer " + String(repeating: "a", count: 5000)) else { return }
        #expect(error.message.contains("too large"))
    }

    @Test func configurationFromTheEnvironment() throws {
        #expect(try ServiceAuthConfiguration.fromEnvironment([:]) == nil)
        let configuration = try #require(try ServiceAuthConfiguration.fromEnvironment([
            "SERVICE_DID": "did:web:appview.example.com", "SERVICE_DID_ALTERNATES": " did:web:a.example.com , did:plc:ewvi7nxzyoun6zhxrhs64oiz,did:web:appview.example.com#bsky_appview",
            "PLC_URL": "http://127.0.0.1:2582", "AUTH_CLOCK_SKEW_S": "0", "DID_CACHE_TTL_S": "60", "DID_CACHE_SIZE": "5",
            "DID_RESOLVE_TIMEOUT_MS": "250",
        ]))
        #expect(configuration.audiences == ["did:web:appview.example.com", "did:web:a.example.com", "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
                                            "did:web:appview.example.com#bsky_appview"])
        #expect(configuration.clockSkewSeconds == 0)
        #expect(configuration.resolver.plcURL == "http://127.0.0.1:2582")
        #expect(configuration.resolver.cacheTTLSeconds == 60 && configuration.resolver.cacheSize == 5)
        #expect(configuration.resolver.timeoutMilliseconds == 250)
        let defaults = try #require(try ServiceAuthConfiguration.fromEnvironment(["SERVICE_DID": "did:web:localhost"]))
        #expect(defaults.resolver.plcURL == "https://plc.directory" && defaults.clockSkewSeconds == 10)
        for bad in [["SERVICE_DID": "appview"], ["SERVICE_DID": "did:web:x#frag"], ["PLC_URL": "plc.directory"],
                    ["AUTH_CLOCK_SKEW_S": "301"], ["DID_CACHE_SIZE": "0"], ["SERVICE_DID_ALTERNATES": "did:web:a.com#"],
                    ["SERVICE_DID_ALTERNATES": "did:web:a.com#x y"]] {
            #expect(throws: (any Error).self, "\(bad)") { try ServiceAuthConfiguration.fromEnvironment(bad.merging(["SERVICE_DID": bad["SERVICE_DID"] ?? "did:web:localhost"]) { a, _ in a }) }
        }
    }
}
