import API

/// Bench-only viewer identity: wrk cannot mint service-auth tokens, so the viewer is taken from the
/// `X-Bench-Viewer: <did>` header. Lives in `appview-bench` only: the production binary
/// (`appview-api`) has no way to trust this header.
struct BenchViewerAuthenticator: ViewerAuthenticator {
    static let header = "x-bench-viewer"

    func authenticate(_ request: HTTPRequest, method nsid: String) -> Result<String?, XRPCError> {
        guard let viewer = request.headers[Self.header], !viewer.isEmpty else { return .success(nil) }
        guard viewer.hasPrefix("did:") else {
            return .failure(XRPCError(status: 401, name: "InvalidToken", message: "X-Bench-Viewer must be a DID"))
        }
        return .success(viewer)
    }
}
