import JSON

/// Mints atproto service-auth JWTs the way a PDS does: header `{typ:"JWT", alg}`, payload
/// `{iat, iss, aud, exp, lxm?, jti}`, signature `r‖s` (low-S) over `header.payload`.
public struct ServiceTokenMinter: Sendable {
    public let key: PrivateKey

    public init(key: PrivateKey) {
        self.key = key
    }

    /// A compact JWT. `jti` is random.
    public func mint(issuer: String, audience: String, method lxm: String?, issuedAt: Int, lifetimeSeconds: Int) throws(SigningError) -> String {
        var header = JSONWriter(capacity: 64)
        header.beginObject()
        header.field("typ", "JWT")
        header.field("alg", key.curve.jwtAlgorithm)
        header.endObject()

        var payload = JSONWriter(capacity: 256)
        payload.beginObject()
        payload.field("iat", issuedAt)
        payload.field("iss", issuer)
        payload.field("aud", audience)
        payload.field("exp", issuedAt + lifetimeSeconds)
        payload.optionalField("lxm", lxm)
        payload.field("jti", Base64URL.encode((0..<16).map { _ in UInt8.random(in: 0...255) }))
        payload.endObject()

        let signingInput = Base64URL.encode(header.bytes) + "." + Base64URL.encode(payload.bytes)
        let signature = try key.sign(Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }
}
