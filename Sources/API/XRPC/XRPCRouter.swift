import Foundation
import Logging
import Storage

/// Dispatches `/xrpc/<nsid>` to the implemented methods: checks the HTTP method, authenticates the
/// viewer through the `ViewerAuthenticator` seam, validates parameters, runs the method on one pooled
/// connection and maps every failure to an XRPC JSON error (never an HTML page, never a crash).
public final class XRPCRouter: @unchecked Sendable {
    let pool: ConnectionPool
    let authenticator: any ViewerAuthenticator
    let environment: XRPCEnvironment
    let logger: Logger

    static let methods: [String: any XRPCMethod.Type] = {
        let all: [any XRPCMethod.Type] = [
            GetTimeline.self, GetAuthorFeed.self, GetPosts.self,
            GetProfile.self, GetProfiles.self,
            ListNotifications.self, GetUnreadCount.self, UpdateSeen.self,
        ]
        return Dictionary(uniqueKeysWithValues: all.map { ($0.nsid, $0) })
    }()

    /// - Parameters:
    ///   - authenticator: decides the viewer; the default rejects every token until service auth lands.
    ///   - videoURLTemplate: video playlist and thumbnail URLs (env `VIDEO_URL_TEMPLATE`).
    ///   - imageURLTemplate: avatar/banner/image URLs, placeholders `{preset}` `{did}` `{cid}`
    ///     (env `IMAGE_URL_TEMPLATE` in `appview-api`).
    public init(
        pool: ConnectionPool,
        authenticator: any ViewerAuthenticator = UnconfiguredServiceAuth(),
        imageURLTemplate: String = ImageURLTemplate.defaultTemplate,
        videoURLTemplate: String = ImageURLTemplate.defaultVideoTemplate,
        logger: Logger = Logger(label: "appview.api.xrpc")
    ) {
        self.pool = pool
        self.authenticator = authenticator
        self.environment = XRPCEnvironment(profiles: ProfileViewWriter(
            images: ImageURLTemplate(imageURLTemplate), videos: ImageURLTemplate(videoURLTemplate)))
        self.logger = logger
    }

    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        let nsid = String(request.path.dropFirst("/xrpc/".count))
        guard let method = Self.methods[nsid] else {
            return XRPCError.methodNotImplemented(nsid).response
        }
        return handle(request, nsid: nsid, method: method)
    }

    private func handle(_ request: HTTPRequest, nsid: String, method: any XRPCMethod.Type) -> HTTPResponse {
        guard request.method == method.httpMethod else {
            return XRPCError.wrongHTTPMethod(request.method, expected: method.httpMethod).response
        }
        let viewer: String?
        switch authenticator.authenticate(request, method: nsid) {
        case .success(let did): viewer = did
        case .failure(let error): return error.response
        }
        if method.requiresViewer && viewer == nil {
            return XRPCError.authenticationRequired.response
        }
        do {
            let parameters = try QueryParameters(parsing: request.query)
            let input = XRPCInput(
                parameters: parameters, viewer: viewer, body: request.body,
                nowMilliseconds: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
            let call = try method.init(input)
            let environment = self.environment
            let body = try pool.withConnection { connection in
                try call.run(on: connection, environment: environment)
            }
            // Procedures without output (updateSeen) answer 200 with an empty body and no content type.
            return body.isEmpty ? HTTPResponse(status: 200, body: []) : HTTPResponse.json(200, body)
        } catch let error as XRPCError {
            return error.response
        } catch let error as PostgresError {
            let mapped = XRPCError.from(database: error)
            if mapped.status == 500 {
                logger.error("database error", metadata: ["method": "\(nsid)", "error": "\(error)"])
            } else {
                logger.warning("database unavailable", metadata: ["method": "\(nsid)", "error": "\(error)"])
            }
            return mapped.response
        } catch {
            logger.error("unexpected error", metadata: ["method": "\(nsid)", "error": "\(error)"])
            return XRPCError(status: 500, name: "InternalServerError", message: "Internal Server Error").response
        }
    }
}
