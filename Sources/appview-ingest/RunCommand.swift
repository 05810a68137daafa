import ArgumentParser
import Foundation
import Identity
import Ingest
import Logging
import Storage

/// `appview-ingest run`: the live consumer.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Consumes Jetstream or the relay firehose live through the ingest pipeline; one process per source leads, others stand by.",
        discussion: """
            Several `run` processes may share one database: a PostgreSQL advisory lock elects one leader,
            the others poll and take over within INGEST_LEADER_POLL_MS of the leader's death. SIGTERM or
            SIGINT: stop reading, commit what was read, persist the cursor, exit 0.

            Environment (defaults for a small server):
              DATABASE_URL                libpq URL of the AppView database (required)
              DB_POOL_SIZE                connections of the ingest's pool (8)
              STATEMENT_TIMEOUT_MS        per statement (30000)
              INGEST_PARTITIONS           writer threads; events are routed by DID hash (2)
              INGEST_BATCH_SIZE           most events per transaction (1000)
              INGEST_BATCH_MAX_DELAY_MS   longest a batch waits to fill (50)
              INGEST_QUEUE_CAPACITY       events queued per partition; full → the reader waits (5000)
              MAX_CONCURRENT_OPS          write transactions in flight at once (4; < DB_POOL_SIZE)
              MAX_CONCURRENT_USER_CREATIONS  new actors resolved at once (handle, PDS, profile) (5)
              USER_CREATION               on|off: resolve new actors (default on; off with --source)
              USER_CREATION_WAIT_TIMEOUT_S   longest a new actor waits for a permit, then deferred (30)
              USER_CREATION_QUEUE_LIMIT   new actors held in memory; beyond, LRU-evicted to the database (5000)
              USER_CREATION_SWEEP_INTERVAL_S  how often deferred/evicted/failed ones are queued again (10)
              USER_CREATION_SWEEP_BATCH   most queued again per sweep (500)
              USER_CREATION_FETCH_TIMEOUT_MS  handle check and profile fetch limit (5000)
              USER_CREATION_RETRY_BASE_S  first retry delay after a failure, doubling up to 1 h (30)
              HANDLE_VERIFICATION_URL     where a handle's DID is read over HTTP(S) when DNS has no answer ({handle}; https://{handle}/.well-known/atproto-did)
              HANDLE_DNS_SERVER           nameserver of the _atproto.<handle> TXT lookups: system (resolv.conf), off, or IPv4[:port] (system)
              FETCH_ALLOW_PRIVATE_ADDRESSES  1: PDS, handle and did:web hosts may be loopback/private addresses (tests, local stacks) (0)
              PLC_URL, DID_RESOLVE_TIMEOUT_MS  DID resolution, as for appview-api
              INGEST_METRICS_INTERVAL_MS  metrics snapshot period, at most 5000 (2000)
              INGEST_LEADER_POLL_MS       how often a standby tries to take over (1000)
              JETSTREAM_URL …             --source jetstream: Jetstream's settings (see the README)

            --source relay reads the relay firehose (com.atproto.sync.subscribeRepos) and resumes at the
            committed seq (cursor source `relay`):
              RELAY_URL                   wss://HOST of the relay; /xrpc/com.atproto.sync.subscribeRepos is appended (wss://bsky.network)
              RELAY_STALL_TIMEOUT_S       no frame for this long → reconnect (30; 1–3600)
              RELAY_RECONNECT_MIN_MS      first reconnect delay, doubling per failure, full jitter (250; 1–60000)
              RELAY_RECONNECT_MAX_MS      reconnect delay cap (30000; min–600000)
              RELAY_PING_INTERVAL_S       keep-alive ping period (20; 1–3600)
              RELAY_BUFFER_CAPACITY       frames held between socket and pipeline (4096; 1–1000000)
              RELAY_BUFFER_MAX_BYTES      bytes held between socket and pipeline (64 MiB; max message–4 GiB)
              RELAY_MAX_MESSAGE_BYTES     larger frames are counted and skipped (4 MiB; 64 KiB–64 MiB)
              RELAY_CA_FILE               PEM certificates trusted for wss:// (system trust store)
            """)

    @Option(help: "Where events come from: jetstream (default), relay, or file:PATH (a Jetstream JSONL file; tests, replays).")
    var source: String?

    @Option(help: "Cursor source name in ingest_cursor (default: jetstream, relay, or file:<name>).")
    var cursorSource: String?

    func validate() throws {
        if let source, source != "jetstream", source != "relay", !source.hasPrefix("file:") || source.count <= 5 {
            throw ValidationError("--source must be jetstream, relay or file:PATH")
        }
    }

    func run() throws {
        try runReportingErrors {
            let environment = ProcessInfo.processInfo.environment
            let databaseConfiguration = try ingestDatabaseConfiguration()
            let pipelineConfiguration = try IngestPipelineConfiguration.fromEnvironment(environment, poolSize: databaseConfiguration.poolSize)
            let pollMilliseconds = try environment.positiveInt("INGEST_LEADER_POLL_MS", default: 1000, max: 60_000)
            let filePath = source.flatMap { $0.hasPrefix("file:") ? String($0.dropFirst(5)) : nil }
            let isRelay = source == "relay"
            let jetstreamConfiguration = filePath == nil && !isRelay ? try JetstreamSourceConfiguration.fromEnvironment(environment) : nil
            let relayConfiguration = isRelay ? try RelaySourceConfiguration.fromEnvironment(environment) : nil
            if let filePath, !FileManager.default.isReadableFile(atPath: filePath) {
                throw ImportError("cannot open \(filePath) for reading")
            }
            let cursorName = cursorSource ?? filePath.map { "file:" + URL(fileURLWithPath: $0).lastPathComponent } ?? (isRelay ? "relay" : "jetstream")

            let userCreationSwitch = environment["USER_CREATION"] ?? (filePath == nil ? "on" : "off")
            guard ["on", "off"].contains(userCreationSwitch) else {
                throw ConfigurationError("USER_CREATION=\(userCreationSwitch) is invalid: expected on or off")
            }
            let userCreationConfiguration = try UserCreationConfiguration.fromEnvironment(
                environment, defaultMaxConcurrent: pipelineConfiguration.maxConcurrentUserCreations)
            var resolverConfiguration = DIDResolver.Configuration()
            if let plc = environment["PLC_URL"], !plc.isEmpty {
                guard plc.hasPrefix("http://") || plc.hasPrefix("https://") else {
                    throw ConfigurationError("PLC_URL=\(plc) is invalid: expected an http(s) URL such as https://plc.directory")
                }
                resolverConfiguration.plcURL = plc
            }
            resolverConfiguration.timeoutMilliseconds = try environment.positiveInt("DID_RESOLVE_TIMEOUT_MS", default: 5000, max: 60_000)
            resolverConfiguration.maxConcurrentFetches = userCreationConfiguration.maxConcurrent
            resolverConfiguration.allowPrivateAddresses = userCreationConfiguration.allowPrivateAddresses
            let handleVerificationURL = environment["HANDLE_VERIFICATION_URL"].flatMap { $0.isEmpty ? nil : $0 }
                ?? UserCreationFetcher.defaultHandleVerificationURL
            guard handleVerificationURL.contains("{handle}") else {
                throw ConfigurationError("HANDLE_VERIFICATION_URL=\(handleVerificationURL) is invalid: it must contain {handle}")
            }

            let pool = ConnectionPool(configuration: databaseConfiguration)
            defer { pool.close() }
            let makeUserCreation = { () -> UserCreationService in
                let resolver = DIDResolver(configuration: resolverConfiguration, store: DIDDocumentStore(pool: pool))
                let fetcher = UserCreationFetcher(resolver: resolver, configuration: userCreationConfiguration,
                                                  handleVerificationURL: handleVerificationURL)
                return UserCreationService(
                    configuration: userCreationConfiguration,
                    store: UserCreationStore(pool: pool, baseBackoffSeconds: userCreationConfiguration.retryBaseSeconds),
                    fetch: { fetcher.fetch($0) }, prepare: { fetcher.prepare($0) })
            }
            try MigrationRunner(directory: MigrationRunner.defaultDirectory()).requireUpToDate(pool)
            let consumer = LiveConsumer(
                pool: pool, pipelineConfiguration: pipelineConfiguration, cursorSource: cursorName,
                pollInterval: Double(pollMilliseconds) / 1000,
                makeSource: { resumeCursor in
                    if let filePath { return try FileEventSource(path: filePath) }
                    if let relayConfiguration {
                        return RelaySource(configuration: relayConfiguration, resumeCursor: resumeCursor,
                                           logger: Logger(label: "appview.ingest.relay"))
                    }
                    return JetstreamSource(configuration: jetstreamConfiguration!, resumeCursor: resumeCursor,
                                           logger: Logger(label: "appview.ingest.jetstream"))
                },
                skipAlreadyApplied: filePath != nil,
                makeUserCreation: userCreationSwitch == "off" ? nil : makeUserCreation)
            let signals = StopSignals { consumer.stop() }
            defer { signals.cancel() }
            try consumer.run()
        }
    }
}
