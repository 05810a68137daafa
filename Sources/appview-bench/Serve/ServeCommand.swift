import API
import ArgumentParser
import Foundation
import Logging

/// `appview-bench serve`: the API exactly as `appview-api` runs it (same `APIServer` setup, same
/// environment variables), except that the viewer comes from the `X-Bench-Viewer` header
/// (`BenchViewerAuthenticator`), so wrk can act as any viewer.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the API for the benchmark (viewer from X-Bench-Viewer); configured like appview-api (DATABASE_URL, FCGI_LISTEN, API_THREADS, …).",
        discussion: APIConfiguration.usage)

    func run() throws {
        // Before the server starts any thread, so only `wait()` receives SIGTERM/SIGINT.
        let signals = TerminationSignals()
        signals.block()
        APIServer.bootstrapLogging()
        let configuration: APIConfiguration
        do {
            configuration = try APIConfiguration.fromEnvironment()
        } catch {
            throw ValidationError("invalid configuration: \(error)")
        }
        let logger = Logger(label: "appview.bench.serve")
        logger.warning("benchmark server: the viewer is taken from the X-Bench-Viewer header, unauthenticated")
        APIServer.run(name: "appview-bench serve", configuration: configuration,
                      authenticator: BenchViewerAuthenticator(), signals: signals, logger: logger)
    }
}
