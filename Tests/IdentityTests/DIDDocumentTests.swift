import Foundation
import Testing
@testable import Identity

/// A document as plc.directory serves it (shape of a real one; key from the interop fixtures).
let plcDocument = """
{"@context":["https://www.w3.org/ns/did/v1","https://w3id.org/security/multikey/v1","https://w3id.org/security/suites/secp256k1-2019/v1"],
 "id":"did:plc:ewvi7nxzyoun6zhxrhs64oiz",
 "alsoKnownAs":["https://example.com/not-a-handle","at://Atproto.com"],
 "verificationMethod":[{"id":"did:plc:ewvi7nxzyoun6zhxrhs64oiz#atproto","type":"Multikey","controller":"did:plc:ewvi7nxzyoun6zhxrhs64oiz","publicKeyMultibase":"\(InteropVectors.k256Key)"}],
 "service":[{"id":"#atproto_pds","type":"AtprotoPersonalDataServer","serviceEndpoint":"https://enoki.us-east.host.bsky.network"}]}
"""

@Suite struct DIDTests {
    @Test func plcAndWebDIDsAreRecognised() {
        #expect(DID("did:plc:ewvi7nxzyoun6zhxrhs64oiz")?.method == .plc)
        #expect(DID("did:web:example.com")?.method == .web(host: "example.com"))
        #expect(DID("did:web:localhost%3A8080")?.method == .web(host: "localhost:8080"))
        #expect(DID("did:web:Example.COM")?.method == .web(host: "example.com"))
        for bad in ["did:plc:short", "did:plc:ewvi7nxzyoun6zhxrhs64oi1", "did:plc:EWVI7NXZYOUN6ZHXRHS64OIZ",
                    "did:web:example.com:users:alice", "did:web:", "did:web:exa mple.com", "did:web:localhost%3Aabc",
                    "did:web:localhost%3A99999", "did:key:zQ3sh", "alice.bsky.social", "did:web:.example.com", ""] {
            #expect(DID(bad) == nil, "\(bad)")
        }
    }

    @Test func localServiceDIDsAreLocalhostAndTestNamesOnly() {
        for local in ["did:web:localhost", "did:web:localhost%3A8080", "did:web:appview.localhost", "did:web:appview.test"] {
            #expect(DID(local)?.isLocalServiceDID == true, "\(local)")
        }
        for remote in ["did:web:api.bsky.app", "did:web:localhost.evil.com", "did:web:test", "did:web:mytest",
                       "did:plc:ewvi7nxzyoun6zhxrhs64oiz"] {
            #expect(DID(remote)?.isLocalServiceDID == false, "\(remote)")
        }
    }

    @Test func documentURLs() {
        var configuration = DIDResolver.Configuration()
        configuration.plcURL = "http://127.0.0.1:18082/"
        let resolver = DIDResolver(configuration: configuration, fetcher: FakeFetcher(), store: nil)
        #expect(resolver.documentURL(DID("did:plc:ewvi7nxzyoun6zhxrhs64oiz")!) == "http://127.0.0.1:18082/did:plc:ewvi7nxzyoun6zhxrhs64oiz")
        #expect(resolver.documentURL(DID("did:web:example.com")!) == "https://example.com/.well-known/did.json")
        #expect(resolver.documentURL(DID("did:web:localhost%3A8080")!) == "http://localhost:8080/.well-known/did.json")
        #expect(resolver.documentURL(DID("did:web:app.localhost")!) == "https://app.localhost/.well-known/did.json")
    }
}

@Suite struct DIDDocumentTests {
    @Test func parsesKeyHandleAndPDS() throws {
        let document = try DIDDocument(did: "did:plc:ewvi7nxzyoun6zhxrhs64oiz", json: Array(plcDocument.utf8))
        #expect(document.handle == "atproto.com")
        #expect(document.signingKey == (try PublicKey(multikey: InteropVectors.k256Key)))
        #expect(document.pdsEndpoint == "https://enoki.us-east.host.bsky.network")
        #expect(document.json == plcDocument)
    }

    @Test func relativeIdsLegacyKeyTypesAndOtherKeys() throws {
        let json = """
            {"id":"did:web:example.com","verificationMethod":[
              {"id":"#atproto_label","type":"Multikey","publicKeyMultibase":"\(InteropVectors.p256Key)"},
              {"id":"did:plc:ewvi7nxzyoun6zhxrhs64oiz#atproto","type":"Multikey","publicKeyMultibase":"\(InteropVectors.k256Key)"},
              {"id":"#atproto","type":"EcdsaSecp256r1VerificationKey2019","publicKeyMultibase":"\(InteropVectors.p256Legacy)"}]}
            """
        let document = try DIDDocument(did: "did:web:example.com", json: Array(json.utf8))
        // The key of another subject is ignored; the legacy P-256 one is the signing key.
        #expect(document.signingKey == (try PublicKey(multikey: InteropVectors.p256Key)))
        #expect(document.keys["atproto_label"]?.curve == .p256)
        #expect(document.handle == nil && document.pdsEndpoint == nil)
    }

    @Test func refusesOtherSubjectsAndNonObjects() {
        #expect(throws: DIDDocumentError.idMismatch(expected: "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", found: "did:plc:ewvi7nxzyoun6zhxrhs64oiz")) {
            try DIDDocument(did: "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", json: Array(plcDocument.utf8))
        }
        #expect(throws: DIDDocumentError.notJSON) { try DIDDocument(did: "did:web:a.com", json: Array("[1]".utf8)) }
        #expect(throws: DIDDocumentError.notJSON) { try DIDDocument(did: "did:web:a.com", json: Array("{".utf8)) }
        #expect(throws: DIDDocumentError.missingField("id")) { try DIDDocument(did: "did:web:a.com", json: Array("{}".utf8)) }
    }

    @Test func unusableKeysAreSkippedNotFatal() throws {
        let json = """
            {"id":"did:web:a.com","verificationMethod":[{"id":"#atproto","type":"Multikey","publicKeyMultibase":"zNotAKey0"},
             {"id":"#atproto","type":"JsonWebKey2020","publicKeyJwk":{}}, "junk"]}
            """
        let document = try DIDDocument(did: "did:web:a.com", json: Array(json.utf8))
        #expect(document.signingKey == nil)
    }
}
