/// An atproto signing key: its curve and the encoded point (33-byte compressed form when it came
/// from a Multikey; legacy documents may carry the 65-byte uncompressed form).
public struct PublicKey: Sendable, Hashable {
    public var curve: SigningCurve
    /// SEC1 point encoding (0x02/0x03 + x, or 0x04 + x + y).
    public var point: [UInt8]

    public init(curve: SigningCurve, point: [UInt8]) {
        self.curve = curve
        self.point = point
    }

    /// Decodes a `publicKeyMultibase` value of type `Multikey`: multibase `z` (base58btc), then the
    /// multicodec prefix of the curve, then the compressed point.
    public init(multikey: String) throws(KeyDecodingError) {
        guard multikey.first == "z" else { throw .unsupportedMultibase(String(multikey.prefix(1))) }
        guard let bytes = Base58.decode(String(multikey.dropFirst())) else { throw .invalidBase58 }
        for curve in SigningCurve.allCases where bytes.starts(with: curve.multicodecPrefix) {
            let point = Array(bytes.dropFirst(curve.multicodecPrefix.count))
            guard point.count == 33, point[0] == 0x02 || point[0] == 0x03 else { throw .invalidPoint(curve) }
            self.init(curve: curve, point: point)
            return
        }
        throw .unsupportedMulticodec(Array(bytes.prefix(2)))
    }

    /// Decodes a legacy `publicKeyMultibase` (types `EcdsaSecp256k1VerificationKey2019` /
    /// `EcdsaSecp256r1VerificationKey2019`): base58btc of the bare point, no multicodec prefix.
    public init(legacyMultibase: String, curve: SigningCurve) throws(KeyDecodingError) {
        guard legacyMultibase.first == "z" else { throw .unsupportedMultibase(String(legacyMultibase.prefix(1))) }
        guard let bytes = Base58.decode(String(legacyMultibase.dropFirst())) else { throw .invalidBase58 }
        let valid = (bytes.count == 33 && (bytes[0] == 0x02 || bytes[0] == 0x03)) || (bytes.count == 65 && bytes[0] == 0x04)
        guard valid else { throw .invalidPoint(curve) }
        self.init(curve: curve, point: bytes)
    }

    /// The `publicKeyMultibase` text of this key (Multikey form). Only for compressed points.
    public var multikey: String {
        "z" + Base58.encode(curve.multicodecPrefix + point)
    }

    /// `did:key:z…` of this key.
    public var didKey: String { "did:key:" + multikey }
}

/// Why a public key could not be decoded.
public enum KeyDecodingError: Error, Equatable, CustomStringConvertible, Sendable {
    case unsupportedMultibase(String)
    case invalidBase58
    case unsupportedMulticodec([UInt8])
    case invalidPoint(SigningCurve)

    public var description: String {
        switch self {
        case .unsupportedMultibase(let prefix): return "unsupported multibase prefix \"\(prefix)\" (expected z, base58btc)"
        case .invalidBase58: return "invalid base58btc"
        case .unsupportedMulticodec(let prefix):
            return "unsupported key type (multicodec prefix \(prefix.map { String($0, radix: 16) }.joined(separator: " ")))"
        case .invalidPoint(let curve): return "not a valid \(curve.rawValue) public key encoding"
        }
    }
}
