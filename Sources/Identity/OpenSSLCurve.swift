import COpenSSL

// The OpenSSL plumbing shared by verification and signing.

/// SHA-256 of `bytes`.
public func sha256(_ bytes: [UInt8]) -> [UInt8] {
    var digest = [UInt8](repeating: 0, count: 32)
    bytes.withUnsafeBufferPointer { input in
        digest.withUnsafeMutableBufferPointer { output in
            _ = SHA256(input.baseAddress, input.count, output.baseAddress)
        }
    }
    return digest
}

/// Runs `body` with an OpenSSL EC_GROUP for one call (cheap for named curves; groups are not shared across threads).
func withGroup<T>(_ curve: SigningCurve, _ body: (OpaquePointer) -> T) -> T? {
    guard let group = EC_GROUP_new_by_curve_name(curve.openSSLCurveName) else { return nil }
    defer { EC_GROUP_free(group) }
    return body(group)
}

/// Whether `s` is above half the order of `group` (the high-S form).
func isHighS(_ s: OpaquePointer, group: OpaquePointer) -> Bool {
    guard let order = EC_GROUP_get0_order(group), let half = BN_new() else { return true }
    defer { BN_free(half) }
    BN_rshift1(half, order)
    return BN_cmp(s, half) > 0
}

/// A BIGNUM as 32 big-endian bytes.
func bigEndian(_ number: OpaquePointer) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: 32)
    _ = bytes.withUnsafeMutableBufferPointer { BN_bn2binpad(number, $0.baseAddress, 32) }
    return bytes
}
