import Identity
import Storage

/// The user-creation knobs (environment variables, validated at start).
public struct UserCreationConfiguration: Sendable, Equatable {
    /// `MAX_CONCURRENT_USER_CREATIONS`: resolutions in progress at once (semaphore permits and worker threads).
    public var maxConcurrent: Int = 5
    /// `USER_CREATION_WAIT_TIMEOUT_S`: longest a queued DID waits for a permit; then it is deferred to its marker.
    public var waitTimeoutSeconds: Double = 30
    /// `USER_CREATION_QUEUE_LIMIT`: DIDs held in memory; beyond it the least recently seen is evicted to its marker.
    public var queueLimit: Int = 5000
    /// `USER_CREATION_SWEEP_INTERVAL_S`: how often due markers are queued again.
    public var sweepIntervalSeconds: Double = 10
    /// `USER_CREATION_SWEEP_BATCH`: most markers queued per sweep.
    public var sweepBatch: Int = 500
    /// `USER_CREATION_FETCH_TIMEOUT_MS`: limit of the handle checks (DNS, rounded up to whole
    /// seconds, and HTTPS) and of the profile fetch.
    public var fetchTimeoutMilliseconds: Int = 5000
    /// `USER_CREATION_RETRY_BASE_S`: delay before the first retry of a failed resolution (doubling, at most 1 h).
    public var retryBaseSeconds: Int = 30
    /// `HANDLE_DNS_SERVER`: where `_atproto.<handle>` TXT records are looked up.
    public var handleDNS: HandleDNS = .system
    /// `FETCH_ALLOW_PRIVATE_ADDRESSES`: PDS endpoints, handles and did:web hosts may be loopback or
    /// private addresses (tests, local stacks); off in production.
    public var allowPrivateAddresses = false
    /// Results written per transaction, and the longest a result waits to be written.
    public var writeBatch: Int = 100
    public var writeDelaySeconds: Double = 0.2
    /// DIDs the dispatcher takes at once: their stored DID documents are read in one query.
    public var prepareBatch: Int = 50

    /// How handles are looked up in DNS.
    public enum HandleDNS: Sendable, Equatable {
        /// The nameservers of /etc/resolv.conf (`system`, the default).
        case system
        /// One nameserver (`a.b.c.d[:port]`): a local resolver, or a stand-in in tests.
        case server(DNSNameserver)
        /// No DNS lookups (`off`): handles are checked over HTTPS only.
        case off
    }

    public init() {}

    public static func fromEnvironment(_ environment: [String: String], defaultMaxConcurrent: Int) throws -> UserCreationConfiguration {
        var configuration = UserCreationConfiguration()
        configuration.maxConcurrent = defaultMaxConcurrent
        configuration.waitTimeoutSeconds = Double(try environment.positiveInt("USER_CREATION_WAIT_TIMEOUT_S", default: 30, max: 3600))
        configuration.queueLimit = try environment.positiveInt("USER_CREATION_QUEUE_LIMIT", default: 5000, max: 1_000_000)
        configuration.sweepIntervalSeconds = Double(try environment.positiveInt("USER_CREATION_SWEEP_INTERVAL_S", default: 10, max: 86_400))
        configuration.sweepBatch = try environment.positiveInt("USER_CREATION_SWEEP_BATCH", default: 500, max: 100_000)
        configuration.fetchTimeoutMilliseconds = try environment.positiveInt("USER_CREATION_FETCH_TIMEOUT_MS", default: 5000, max: 60_000)
        configuration.retryBaseSeconds = try environment.positiveInt("USER_CREATION_RETRY_BASE_S", default: 30, max: 3600)
        configuration.allowPrivateAddresses = try FetchDestinations.allowPrivateAddresses(environment)
        switch environment["HANDLE_DNS_SERVER"] ?? "" {
        case "", "system": configuration.handleDNS = .system
        case "off": configuration.handleDNS = .off
        case let text:
            guard let server = DNSNameserver(text) else {
                throw ConfigurationError("HANDLE_DNS_SERVER=\(text) is invalid: expected system, off, or an IPv4 address with an optional port (127.0.0.1:5353)")
            }
            configuration.handleDNS = .server(server)
        }
        return configuration
    }
}
