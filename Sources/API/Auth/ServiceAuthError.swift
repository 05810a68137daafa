/// The 401/503 answers of service-auth verification (names follow the atproto reference where a
/// client acts on them: `ExpiredToken` means "get a fresh token", `BadJwtSignature` means the key
/// did not verify, `InvalidToken` everything else about the token).
enum ServiceAuthError {
    static func invalid(_ message: String) -> XRPCError {
        XRPCError(status: 401, name: "InvalidToken", message: message)
    }

    static func expired(_ message: String) -> XRPCError {
        XRPCError(status: 401, name: "ExpiredToken", message: message)
    }

    static func badSignature(_ message: String) -> XRPCError {
        XRPCError(status: 401, name: "BadJwtSignature", message: message)
    }

    /// The issuer's DID document could not be fetched (directory down or slow): not the client's
    /// fault and worth retrying, so a 503 rather than a 401 that would make it drop its session.
    static func resolverUnavailable(_ message: String) -> XRPCError {
        XRPCError(status: 503, name: "UpstreamFailure", message: message, headers: ["Retry-After": "5"])
    }
}
