import Foundation
import Storage

/// Everything the API server reads from the environment, validated up front (shared by
/// `appview-api` and the benchmark's `appview-bench serve`).
public struct APIConfiguration {
    public var listen: FastCGIListenAddress
    public var threads: Int
    public var database: DatabaseConfiguration
    /// CDN URL template for avatars, banners and images (`IMAGE_URL_TEMPLATE`).
    public var imageURLTemplate: String
    /// URL template for video playlists and thumbnails (`VIDEO_URL_TEMPLATE`).
    public var videoURLTemplate: String = ImageURLTemplate.defaultVideoTemplate
    /// atproto service auth; nil when `SERVICE_DID` is unset (then every token is refused).
    public var serviceAuth: ServiceAuthConfiguration?

    public static let defaultListen = ".local/run/appview-api.sock"
    public static let defaultThreads = 32
    /// Upper bound of the default pool: the database does the work, and a small server has few cores.
    public static let defaultPoolLimit = 16

    /// Throws `ConfigurationError` naming the variable and the accepted range.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> APIConfiguration {
        let threads = try environment.positiveInt("API_THREADS", default: defaultThreads, max: 1024)
        let listen = try FastCGIListenAddress.parse(environment["FCGI_LISTEN"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultListen)
        // Threads are cheap and nginx has no upstream queue (a request beyond max_conns is refused), so
        // there are more workers than connections: the pool's FIFO acquire is the queue, and it bounds
        // the database's concurrency. Default pool = min(threads, 16).
        let database = try DatabaseConfiguration.fromEnvironment(environment, defaults: DatabaseConfiguration(
            url: "", poolSize: min(threads, defaultPoolLimit), acquireTimeoutMilliseconds: 2000, statementTimeoutMilliseconds: 3000,
            applicationName: "appview-api"))
        let imageURLTemplate = environment["IMAGE_URL_TEMPLATE"].flatMap { $0.isEmpty ? nil : $0 } ?? ImageURLTemplate.defaultTemplate
        for placeholder in ["{did}", "{cid}"] where !imageURLTemplate.contains(placeholder) {
            throw ConfigurationError("IMAGE_URL_TEMPLATE=\(imageURLTemplate) is invalid: it must contain \(placeholder)")
        }
        let videoURLTemplate = environment["VIDEO_URL_TEMPLATE"].flatMap { $0.isEmpty ? nil : $0 } ?? ImageURLTemplate.defaultVideoTemplate
        // {preset} tells the playlist from the thumbnail, so a video template needs all three.
        for placeholder in ["{preset}", "{did}", "{cid}"] where !videoURLTemplate.contains(placeholder) {
            throw ConfigurationError("VIDEO_URL_TEMPLATE=\(videoURLTemplate) is invalid: it must contain \(placeholder)")
        }
        let serviceAuth = try ServiceAuthConfiguration.fromEnvironment(environment)
        var configuration = APIConfiguration(listen: listen, threads: threads, database: database, imageURLTemplate: imageURLTemplate,
                                             serviceAuth: serviceAuth)
        configuration.videoURLTemplate = videoURLTemplate
        return configuration
    }

    public static let usage = """
        appview-api: the AppView read API, served over FastCGI for nginx.

        Configured by environment variables:
          DATABASE_URL            libpq URI or conninfo (required)
          FCGI_LISTEN             unix socket path, host:port or :port (default \(defaultListen))
          API_THREADS             FastCGI worker threads = most concurrent requests (default \(defaultThreads));
                                  nginx's upstream max_conns must not exceed it
          DB_POOL_SIZE            database connections (default min(API_THREADS, 16))
          DB_ACQUIRE_TIMEOUT_MS   wait for a free connection before answering 503 (default 2000)
          STATEMENT_TIMEOUT_MS    per-statement limit (default 3000)
          IMAGE_URL_TEMPLATE      CDN URL for blobs, placeholders {preset} {did} {cid}
                                  (default \(ImageURLTemplate.defaultTemplate))
          VIDEO_URL_TEMPLATE      video playlist/thumbnail URL, placeholders {preset} (playlist.m3u8,
                                  thumbnail.jpg) {did} {cid} (default \(ImageURLTemplate.defaultVideoTemplate))
          DB_CONNECT_TIMEOUT_S, IDLE_IN_TRANSACTION_TIMEOUT_MS, TRANSACTION_TIMEOUT_MS  (see docs/CONTRACTS.md)
          SERVICE_DID             this AppView's DID: the `aud` service-auth tokens must carry; unset = every
                                  Authorization header is refused (401) and requests are anonymous
          SERVICE_DID_ALTERNATES  further accepted `aud` DIDs (optionally did#fragment), comma-separated (default none)
          PLC_URL                 PLC directory for did:plc documents (default https://plc.directory)
          AUTH_CLOCK_SKEW_S       seconds a token is still accepted after its exp, 0-300
                                  (default \(ServiceAuthConfiguration.defaultClockSkewSeconds))
          DID_CACHE_TTL_S         DID documents are refetched after this age (default \(ServiceAuthConfiguration.defaultCacheTTLSeconds))
          DID_CACHE_SIZE          DID documents kept in memory (default \(ServiceAuthConfiguration.defaultCacheSize)); all are
                                  also kept in the did_documents table
          DID_RESOLVE_TIMEOUT_MS  limit of one DID document fetch (default \(ServiceAuthConfiguration.defaultResolveTimeoutMilliseconds))
          FETCH_ALLOW_PRIVATE_ADDRESSES  1: a did:web may resolve to a loopback/private address (tests, local stacks) (default 0)
          MIGRATIONS_DIR          migrations to compare the schema with (default ./migrations)
          LOG_LEVEL               trace|debug|info|notice|warning|error|critical (default info)

        Refuses to start on a schema older than its migrations (run `appview-ingest migrate`).
        SIGTERM/SIGINT: stop accepting, finish running requests (up to 10 s), close the pool, exit 0.
        Exit codes: 0 clean stop, 1 cannot start, 2 invalid configuration.
        """

    /// The database URL without credentials, for the startup log line.
    public static func redacted(_ url: String) -> String {
        var text = url
        if let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].firstIndex(of: "@") {
            let userInfo = text[scheme.upperBound..<at]
            if let colon = userInfo.firstIndex(of: ":") {
                text.replaceSubrange(colon..<at, with: ":***")
            }
        }
        if let range = text.range(of: #"password=[^&\s]*"#, options: .regularExpression) {
            text.replaceSubrange(range, with: "password=***")
        }
        return text
    }
}
