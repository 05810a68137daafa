/// The one seam where a request's viewer (the DID the caller acts as) is decided. Nothing else —
/// no header, no query parameter — can set the viewer. In production it is `ServiceAuthVerifier`
/// (atproto service-auth JWTs) when `SERVICE_DID` is configured, `UnconfiguredServiceAuth` otherwise.
public protocol ViewerAuthenticator: Sendable {
    /// The viewer DID, nil for an anonymous request, or the error to answer (401 `InvalidToken`, …).
    func authenticate(_ request: HTTPRequest, method nsid: String) -> Result<String?, XRPCError>
}

/// Used when no service DID is configured (no token can name this service as its audience):
/// requests without credentials are anonymous; any `Authorization` header is rejected with 401
/// `InvalidToken` rather than trusted unverified.
public struct UnconfiguredServiceAuth: ViewerAuthenticator {
    public init() {}

    public func authenticate(_ request: HTTPRequest, method nsid: String) -> Result<String?, XRPCError> {
        guard let header = request.headers["authorization"], !header.isEmpty else { return .success(nil) }
        return .failure(XRPCError(
            status: 401, name: "InvalidToken",
            message: "service auth verification is not configured on this server"))
    }
}
