import COpenSSL

/// A signing key (for `appview-ingest mint-token` and tests): 32-byte secret on one of the curves.
public struct PrivateKey: Sendable {
    public let curve: SigningCurve
    /// The secret scalar, big-endian, 32 bytes.
    public let secret: [UInt8]
    public let publicKey: PublicKey

    /// A fresh random key (OpenSSL's CSPRNG).
    public static func generate(curve: SigningCurve) throws(SigningError) -> PrivateKey {
        guard let key = EC_KEY_new_by_curve_name(curve.openSSLCurveName) else { throw .openSSL("EC_KEY_new_by_curve_name") }
        defer { EC_KEY_free(key) }
        guard EC_KEY_generate_key(key) == 1, let secret = EC_KEY_get0_private_key(key) else { throw .openSSL("EC_KEY_generate_key") }
        return try PrivateKey(curve: curve, secret: bigEndian(secret))
    }

    /// The key of a known secret; throws when it is not a valid scalar for the curve.
    public init(curve: SigningCurve, secret: [UInt8]) throws(SigningError) {
        guard secret.count == 32 else { throw .invalidSecret }
        let point: [UInt8]? = withGroup(curve) { group -> [UInt8]? in
            guard let scalar = secret.withUnsafeBufferPointer({ BN_bin2bn($0.baseAddress, 32, nil) }) else { return nil }
            defer { BN_clear_free(scalar) }
            guard BN_is_zero(scalar) == 0, let order = EC_GROUP_get0_order(group), BN_cmp(scalar, order) < 0,
                  let point = EC_POINT_new(group) else { return nil }
            defer { EC_POINT_free(point) }
            guard EC_POINT_mul(group, point, scalar, nil, nil, nil) == 1 else { return nil }
            var compressed = [UInt8](repeating: 0, count: 33)
            let written = compressed.withUnsafeMutableBufferPointer {
                EC_POINT_point2oct(group, point, POINT_CONVERSION_COMPRESSED, $0.baseAddress, 33, nil)
            }
            return written == 33 ? compressed : nil
        } ?? nil
        guard let point else { throw .invalidSecret }
        self.curve = curve
        self.secret = secret
        self.publicKey = PublicKey(curve: curve, point: point)
    }

    /// A 64-byte `r‖s` signature over SHA-256 of `message`, always in low-S form.
    public func sign(_ message: [UInt8]) throws(SigningError) -> [UInt8] {
        let digest = sha256(message)
        let result: [UInt8]? = withGroup(curve) { group -> [UInt8]? in
            guard let key = EC_KEY_new(), EC_KEY_set_group(key, group) == 1 else { return nil }
            defer { EC_KEY_free(key) }
            guard let scalar = secret.withUnsafeBufferPointer({ BN_bin2bn($0.baseAddress, 32, nil) }) else { return nil }
            defer { BN_clear_free(scalar) }
            guard EC_KEY_set_private_key(key, scalar) == 1 else { return nil }
            guard let signature = digest.withUnsafeBufferPointer({ ECDSA_do_sign($0.baseAddress, 32, key) }) else { return nil }
            defer { ECDSA_SIG_free(signature) }
            guard let r = ECDSA_SIG_get0_r(signature), let s = ECDSA_SIG_get0_s(signature) else { return nil }
            var sBytes = bigEndian(s)
            if isHighS(s, group: group) {
                guard let order = EC_GROUP_get0_order(group), let low = BN_new() else { return nil }
                defer { BN_free(low) }
                BN_sub(low, order, s)
                sBytes = bigEndian(low)
            }
            return bigEndian(r) + sBytes
        } ?? nil
        guard let result else { throw .openSSL("ECDSA_do_sign") }
        return result
    }
}

/// The high-S twin of a signature (n − s): equally valid mathematically, refused by `verify`.
/// Exists for tests that prove the refusal.
public func highSVariant(of signature: [UInt8], curve: SigningCurve) -> [UInt8]? {
    guard signature.count == 64 else { return nil }
    return withGroup(curve) { group -> [UInt8]? in
        guard let order = EC_GROUP_get0_order(group),
              let s = signature.withUnsafeBufferPointer({ BN_bin2bn($0.baseAddress! + 32, 32, nil) }),
              let flipped = BN_new() else { return nil }
        defer { BN_free(s); BN_free(flipped) }
        BN_sub(flipped, order, s)
        return Array(signature[0..<32]) + bigEndian(flipped)
    } ?? nil
}

/// Signing failed.
public enum SigningError: Error, Equatable, CustomStringConvertible, Sendable {
    case invalidSecret
    case openSSL(String)

    public var description: String {
        switch self {
        case .invalidSecret: return "the secret is not a valid private key for the curve"
        case .openSSL(let call): return "OpenSSL \(call) failed"
        }
    }
}
