import Foundation

/// The parts of a DID document atproto uses: the `#atproto` signing key, the handle claimed in
/// `alsoKnownAs` and the `#atproto_pds` endpoint. `json` is the document as received.
public struct DIDDocument: Sendable, Equatable {
    public let did: String
    /// Lower-cased handle of the first `at://` entry of `alsoKnownAs` (not verified bidirectionally).
    public let handle: String?
    /// Decodable verification methods by fragment (`atproto`, `atproto_label`, …).
    public let keys: [String: PublicKey]
    /// `serviceEndpoint` of the `#atproto_pds` service.
    public let pdsEndpoint: String?
    /// The document's JSON text, as stored.
    public let json: String

    /// The `#atproto` signing key.
    public var signingKey: PublicKey? { keys["atproto"] }

    /// Parses a document and checks that its `id` is `did`.
    public init(did: String, json bytes: [UInt8]) throws(DIDDocumentError) {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes))
        } catch {
            throw .notJSON
        }
        guard let document = object as? [String: Any] else { throw .notJSON }
        guard let id = document["id"] as? String else { throw .missingField("id") }
        guard id == did else { throw .idMismatch(expected: did, found: id) }

        var handle: String?
        if let aliases = document["alsoKnownAs"] as? [Any] {
            handle = aliases.lazy.compactMap { $0 as? String }.first { $0.hasPrefix("at://") }
                .map { String($0.dropFirst("at://".count)).lowercased() }
        }

        var keys: [String: PublicKey] = [:]
        for case let method as [String: Any] in document["verificationMethod"] as? [Any] ?? [] {
            guard let methodID = method["id"] as? String, let fragment = Self.fragment(of: methodID, in: did),
                  keys[fragment] == nil, let encoded = method["publicKeyMultibase"] as? String else { continue }
            let key: PublicKey?
            switch method["type"] as? String {
            case "Multikey": key = try? PublicKey(multikey: encoded)
            case "EcdsaSecp256k1VerificationKey2019": key = try? PublicKey(legacyMultibase: encoded, curve: .secp256k1)
            case "EcdsaSecp256r1VerificationKey2019": key = try? PublicKey(legacyMultibase: encoded, curve: .p256)
            default: key = nil
            }
            if let key { keys[fragment] = key }
        }

        var pdsEndpoint: String?
        for case let service as [String: Any] in document["service"] as? [Any] ?? [] {
            guard let serviceID = service["id"] as? String, Self.fragment(of: serviceID, in: did) == "atproto_pds",
                  let endpoint = service["serviceEndpoint"] as? String else { continue }
            pdsEndpoint = endpoint
            break
        }

        self.did = did
        self.handle = handle
        self.keys = keys
        self.pdsEndpoint = pdsEndpoint
        self.json = String(decoding: bytes, as: UTF8.self)
    }

    /// `atproto` for `#atproto` or `<did>#atproto`; nil for ids of other subjects.
    private static func fragment(of id: String, in did: String) -> String? {
        guard let hash = id.firstIndex(of: "#") else { return nil }
        let subject = id[..<hash]
        guard subject.isEmpty || subject == did else { return nil }
        return String(id[id.index(after: hash)...])
    }
}

/// Why a DID document was refused.
public enum DIDDocumentError: Error, Equatable, CustomStringConvertible, Sendable {
    case notJSON
    case missingField(String)
    case idMismatch(expected: String, found: String)

    public var description: String {
        switch self {
        case .notJSON: return "the DID document is not a JSON object"
        case .missingField(let name): return "the DID document has no \(name)"
        case .idMismatch(let expected, let found): return "the DID document is for \(found), not \(expected)"
        }
    }
}
