/// Request in, response out. Called concurrently from several dedicated threads; blocking is allowed
/// (it runs on transport threads, never on Swift's cooperative pool).
public protocol RequestHandler: Sendable {
    func handle(_ request: HTTPRequest) -> HTTPResponse
}
