import COpenSSL

/// The two curves atproto signing keys use.
public enum SigningCurve: String, Sendable, CaseIterable {
    /// secp256k1, JWT `alg` ES256K, multicodec 0xe7 (varint `e7 01`).
    case secp256k1
    /// NIST P-256, JWT `alg` ES256, multicodec 0x1200 (varint `80 24`).
    case p256

    /// The JWT `alg` of signatures made with this curve.
    public var jwtAlgorithm: String {
        switch self {
        case .secp256k1: return "ES256K"
        case .p256: return "ES256"
        }
    }

    /// The curve of a JWT `alg`, nil for any other algorithm.
    public init?(jwtAlgorithm: String) {
        switch jwtAlgorithm {
        case "ES256K": self = .secp256k1
        case "ES256": self = .p256
        default: return nil
        }
    }

    /// The multicodec varint that prefixes a compressed public key of this curve.
    public var multicodecPrefix: [UInt8] {
        switch self {
        case .secp256k1: return [0xe7, 0x01]
        case .p256: return [0x80, 0x24]
        }
    }

    var openSSLCurveName: Int32 {
        switch self {
        case .secp256k1: return Int32(COPENSSL_NID_SECP256K1)
        case .p256: return Int32(COPENSSL_NID_P256)
        }
    }
}
