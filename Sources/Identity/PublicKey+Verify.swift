import COpenSSL

/// The outcome of checking a JWT-style ECDSA signature.
public enum SignatureVerification: Sendable, Equatable {
    case valid
    /// Well-formed but not made by this key over this message.
    case invalid
    /// `s` is above half the curve order: the malleable twin of a valid signature, refused in strict mode.
    case highS
    /// Not 64 bytes, or `r`/`s` out of range.
    case malformed
    /// The public key is not a point on its curve.
    case unusableKey
}

extension PublicKey {
    /// Checks a 64-byte `r‖s` signature over SHA-256 of `message`; high-S signatures are refused.
    public func verify(signature: [UInt8], message: [UInt8]) -> SignatureVerification {
        guard signature.count == 64 else { return .malformed }
        let digest = sha256(message)
        return withGroup(curve) { group -> SignatureVerification in
            guard let order = EC_GROUP_get0_order(group) else { return .unusableKey }
            guard let r = signature.withUnsafeBufferPointer({ BN_bin2bn($0.baseAddress, 32, nil) }) else { return .malformed }
            guard let s = signature.withUnsafeBufferPointer({ BN_bin2bn($0.baseAddress! + 32, 32, nil) }) else {
                BN_free(r)
                return .malformed
            }
            var sigOwnsNumbers = false
            defer { if !sigOwnsNumbers { BN_free(r); BN_free(s) } }
            if BN_is_zero(r) == 1 || BN_is_zero(s) == 1 || BN_cmp(r, order) >= 0 || BN_cmp(s, order) >= 0 {
                return .malformed
            }
            if isHighS(s, group: group) { return .highS }

            guard let point = EC_POINT_new(group) else { return .unusableKey }
            defer { EC_POINT_free(point) }
            let decoded = self.point.withUnsafeBufferPointer { EC_POINT_oct2point(group, point, $0.baseAddress, $0.count, nil) }
            guard decoded == 1, let key = EC_KEY_new() else { return .unusableKey }
            defer { EC_KEY_free(key) }
            guard EC_KEY_set_group(key, group) == 1, EC_KEY_set_public_key(key, point) == 1 else { return .unusableKey }

            guard let ecdsaSignature = ECDSA_SIG_new() else { return .malformed }
            defer { ECDSA_SIG_free(ecdsaSignature) }
            guard ECDSA_SIG_set0(ecdsaSignature, r, s) == 1 else { return .malformed }
            sigOwnsNumbers = true
            let result = digest.withUnsafeBufferPointer { ECDSA_do_verify($0.baseAddress, 32, ecdsaSignature, key) }
            ERR_clear_error()
            return result == 1 ? .valid : .invalid
        } ?? .unusableKey
    }
}
