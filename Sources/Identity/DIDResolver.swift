import Foundation
import Logging

/// Resolves DIDs to documents, shared by all threads of a process.
///
/// Lookup order: a bounded in-memory LRU (entries valid for the TTL), then `did_documents` in
/// PostgreSQL (so a restart does not refetch), then the network (`did:plc` from the PLC directory,
/// `did:web` from `/.well-known/did.json`). Concurrent resolutions of one DID share one lookup; the
/// database connection is released before any network call. Blocking: call from dedicated threads.
///
/// Batches (the ingest's user creation): `preload` reads the stored documents of many DIDs in one
/// query, and `resolveDeferringSave` leaves writing a fetched document to the caller, who writes
/// a batch of them in one statement (`DIDDocumentStore.save(_:on:)`).
///
/// A did:web host comes from data (a token, the firehose), so it is fetched only when it resolves
/// to a public address, unless `allowPrivateAddresses`; the PLC directory is the operator's choice
/// and always trusted.
public final class DIDResolver: @unchecked Sendable {
    /// Limits and locations; env names are those of `appview-api`.
    public struct Configuration: Sendable {
        /// `PLC_URL`.
        public var plcURL: String = "https://plc.directory"
        /// `DID_CACHE_TTL_S`: how long a fetched document is used before it is fetched again.
        public var cacheTTLSeconds: Double = 3600
        /// `DID_CACHE_SIZE`: documents kept in memory.
        public var cacheSize: Int = 10_000
        /// `DID_RESOLVE_TIMEOUT_MS`: whole-request limit of one fetch.
        public var timeoutMilliseconds: Int = 3000
        /// Larger documents are refused (real ones are ~1 KB).
        public var maxDocumentBytes: Int = 64 * 1024
        /// A forced refresh (after a failed signature) goes to the network at most once per this
        /// interval per DID, so forged tokens cannot make us hammer the directory.
        public var forcedRefreshIntervalSeconds: Double = 30
        /// How long "does not exist" is remembered.
        public var notFoundTTLSeconds: Double = 60
        /// How long an outage answer is remembered before the network is tried again.
        public var failureRetrySeconds: Double = 5
        /// During an outage a previously fetched document is still used up to this age.
        public var maxStaleSeconds: Double = 86_400
        /// Network fetches in progress at once; beyond it a resolution fails at once as unavailable,
        /// so a flood of tokens naming unknown DIDs cannot park every API worker thread on the network.
        public var maxConcurrentFetches: Int = 8
        /// `FETCH_ALLOW_PRIVATE_ADDRESSES`: did:web hosts may resolve to loopback/private addresses
        /// (tests, local stacks). Off: such a DID is unusable (`invalidDocument`), nothing is fetched.
        public var allowPrivateAddresses: Bool = false

        public init() {}
    }

    /// Counters for tests and logs.
    public struct Statistics: Sendable, Equatable {
        public var memoryHits = 0
        public var databaseHits = 0
        public var networkFetches = 0
        public var sharedWaits = 0
        /// Resolutions refused because `maxConcurrentFetches` fetches were already running.
        public var fetchesRefused = 0
        /// Statements that read `did_documents` (one per `preload`, one per lookup not preloaded).
        public var databaseReads = 0
        /// Statements that wrote `did_documents` (deferred saves are the caller's).
        public var databaseWrites = 0
        /// did:web fetches not made because the host is not a public address.
        public var refusedAddresses = 0
    }

    /// A resolved document and, when it came from the network during this call with the save
    /// deferred, the row the caller must store.
    public struct Resolution: Sendable {
        public var document: DIDDocument
        public var unsavedRow: StoredDIDDocument?
    }

    /// What `preload` learnt about a DID for its next lookup: its row, or that it has none.
    private struct Preloaded {
        var row: StoredDIDDocument?
        /// When it was read (epoch s); older than `preloadValiditySeconds`, it is ignored.
        var readAt: Double
    }

    /// How long a preloaded answer stands in for a query: the batch it was read for is resolved by then.
    static let preloadValiditySeconds: Double = 60

    private struct Entry {
        var outcome: Result<DIDDocument, DIDResolutionError>
        var validUntil: Double
        /// When the document was fetched (epoch s); 0 for failures.
        var fetchedAt: Double
        var isLocal: Bool
    }

    /// One lookup in progress; followers wait on the resolver's condition until `result` is set.
    private final class Flight {
        var result: Result<DIDDocument, DIDResolutionError>?
    }

    private struct FlightKey: Hashable {
        var did: String
        var forced: Bool
    }

    public let configuration: Configuration
    private let fetcher: any HTTPFetcher
    private let store: DIDDocumentStore?
    private let logger: Logger
    private let clock: @Sendable () -> Double

    private let condition = NSCondition()
    private var cache: LRUCache<String, Entry>
    private var flights: [FlightKey: Flight] = [:]
    /// When each DID was last fetched because a signature failed (the rate limit of forced fetches).
    private var lastForcedFetch: [String: Double] = [:]
    private var counters = Statistics()
    private var fetchesInProgress = 0
    /// Rows read by `preload` for DIDs not fresh in memory, consumed by their next lookup; bounded.
    private var preloaded: [String: Preloaded] = [:]

    /// - Parameters:
    ///   - store: persistence; nil keeps documents in memory only.
    ///   - clock: epoch seconds (tests move time forward).
    public init(
        configuration: Configuration, fetcher: any HTTPFetcher = CurlFetcher(), store: DIDDocumentStore?,
        logger: Logger = Logger(label: "appview.identity.resolver"),
        clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.configuration = configuration
        self.fetcher = fetcher
        self.store = store
        self.logger = logger
        self.clock = clock
        self.cache = LRUCache(capacity: max(1, configuration.cacheSize))
    }

    public var statistics: Statistics {
        condition.lock()
        defer { condition.unlock() }
        return counters
    }

    /// Documents currently in memory.
    public var cachedCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return cache.count
    }

    /// The document of `did`. `forceRefresh` bypasses the memory cache (after a signature failed with
    /// the cached key): the database row is read again, and the network is asked unless it was asked
    /// for this DID less than `forcedRefreshIntervalSeconds` ago.
    public func resolve(_ did: DID, forceRefresh: Bool = false) throws(DIDResolutionError) -> DIDDocument {
        try resolveShared(did, forceRefresh: forceRefresh, deferSave: false).document
    }

    /// Like `resolve`, but a document fetched from the network is not written to `did_documents`:
    /// it comes back as `unsavedRow`, for the caller to write with others in one statement.
    public func resolveDeferringSave(_ did: DID) throws(DIDResolutionError) -> Resolution {
        try resolveShared(did, forceRefresh: false, deferSave: true)
    }

    /// Reads the stored documents of `dids` in one query, so that their lookups need no query of
    /// their own; DIDs fresh in memory are skipped. Each row (or "no row") is kept for the DID's next
    /// lookup, for at most a minute, at most `cacheSize` of them.
    public func preload(_ dids: [DID]) {
        guard let store else { return }
        let now = clock()
        var wanted: [String] = []
        condition.withLock {
            var seen = Set<String>()
            for did in dids where seen.insert(did.text).inserted {
                if let known = preloaded[did.text], now - known.readAt < Self.preloadValiditySeconds { continue }
                if let entry = cache.peek(did.text), now < entry.validUntil { continue }
                wanted.append(did.text)
            }
        }
        guard !wanted.isEmpty else { return }
        let rows: [String: StoredDIDDocument]
        do {
            rows = try store.load(wanted)
            count(\.databaseReads)
        } catch {
            logger.warning("could not read stored DID documents", metadata: ["count": "\(wanted.count)", "error": "\(error)"])
            return
        }
        condition.withLock {
            for did in wanted {
                if preloaded.count >= configuration.cacheSize { preloaded.removeAll(keepingCapacity: true) }
                preloaded[did] = Preloaded(row: rows[did], readAt: now)
            }
        }
    }

    private func resolveShared(_ did: DID, forceRefresh: Bool, deferSave: Bool) throws(DIDResolutionError) -> Resolution {
        let key = FlightKey(did: did.text, forced: forceRefresh)
        condition.lock()
        if !forceRefresh, let entry = cache.get(did.text), clock() < entry.validUntil {
            counters.memoryHits += 1
            condition.unlock()
            return Resolution(document: try entry.outcome.get(), unsavedRow: nil)
        }
        if let flight = flights[key] {
            counters.sharedWaits += 1
            while flight.result == nil { condition.wait() }
            condition.unlock()
            return Resolution(document: try flight.result!.get(), unsavedRow: nil)
        }
        let flight = Flight()
        flights[key] = flight
        let previous = cache.peek(did.text)
        condition.unlock()

        let (result, unsavedRow) = lookUp(did, forced: forceRefresh, previous: previous, deferSave: deferSave)

        condition.lock()
        flights[key] = nil
        flight.result = result
        condition.broadcast()
        condition.unlock()
        return Resolution(document: try result.get(), unsavedRow: unsavedRow)
    }

    /// Database, then network. Runs without the lock; writes its outcome to the cache.
    private func lookUp(_ did: DID, forced: Bool, previous: Entry?, deferSave: Bool)
        -> (Result<DIDDocument, DIDResolutionError>, StoredDIDDocument?) {
        let now = clock()
        let ttl = configuration.cacheTTLSeconds
        var fallback: Entry? = (try? previous?.outcome.get()) != nil ? previous : nil

        if let row = loadRow(did.text), let document = try? DIDDocument(did: did.text, json: Array(row.json.utf8)) {
            let entry = Entry(outcome: .success(document), validUntil: row.fetchedAt + ttl, fetchedAt: row.fetchedAt, isLocal: row.isLocal)
            let fresh = now < row.fetchedAt + ttl
            // On a forced refresh the row only helps when someone else (another API process,
            // mint-token) stored a different document since we cached ours.
            let differsFromMemory = (try? previous?.outcome.get())?.json != document.json
            if row.isLocal || (fresh && (!forced || differsFromMemory)) {
                count(\.databaseHits)
                // Local documents never expire from the network's point of view; memory still re-reads them after the TTL.
                remember(did.text, Entry(outcome: entry.outcome, validUntil: now + ttl, fetchedAt: row.fetchedAt, isLocal: row.isLocal))
                return (entry.outcome, nil)
            }
            if row.fetchedAt > (fallback?.fetchedAt ?? -1) { fallback = entry }
        }
        if fallback?.isLocal == true {
            return (fallback!.outcome, nil)
        }

        if forced, let fallback, !mayForceFetch(did.text, now: now) {
            return (fallback.outcome, nil)
        }
        return fetch(did, now: now, fallback: fallback, forced: forced, deferSave: deferSave)
    }

    private func fetch(_ did: DID, now: Double, fallback: Entry?, forced: Bool, deferSave: Bool)
        -> (Result<DIDDocument, DIDResolutionError>, StoredDIDDocument?) {
        if forced { noteForcedFetch(did.text, now: now) }
        let url = documentURL(did)
        guard beginFetch() else {
            return (fallback?.outcome ?? .failure(.unavailable(did: did.text, reason: "too many DID resolutions in progress")), nil)
        }
        defer { endFetch() }
        let failure: DIDResolutionError
        do {
            let response = try fetcher.get(url, timeoutMilliseconds: configuration.timeoutMilliseconds,
                                           maxBytes: configuration.maxDocumentBytes, destinations: destinations(for: did))
            switch response.status {
            case 200:
                do {
                    let document = try DIDDocument(did: did.text, json: response.body)
                    let fetchedAt = clock()
                    let row = StoredDIDDocument(did: did.text, json: document.json, fetchedAt: fetchedAt, isLocal: false)
                    if !deferSave { saveRow(row) }
                    remember(did.text, Entry(outcome: .success(document), validUntil: fetchedAt + configuration.cacheTTLSeconds,
                                             fetchedAt: fetchedAt, isLocal: false))
                    return (.success(document), deferSave ? row : nil)
                } catch {
                    failure = .invalidDocument(did: did.text, reason: error.description)
                }
            case 404, 410:
                failure = .notFound(did: did.text)
            default:
                failure = .unavailable(did: did.text, reason: "\(url) answered HTTP \(response.status)")
            }
        } catch .tooLarge(let limit) {
            failure = .invalidDocument(did: did.text, reason: "larger than \(limit) bytes")
        } catch .refusedAddress(let address) {
            // The document's location is the problem, not an outage: not worth an early retry.
            count(\.refusedAddresses)
            failure = .invalidDocument(did: did.text, reason: "\(url): \(FetchError.refusedAddress(address))")
        } catch {
            failure = .unavailable(did: did.text, reason: "\(url): \(error)")
        }

        if case .unavailable = failure, let fallback, now - fallback.fetchedAt < configuration.maxStaleSeconds {
            logger.warning("DID resolution failed, using the stored document", metadata: [
                "did": "\(did.text)", "error": "\(failure)", "ageSeconds": "\(Int(now - fallback.fetchedAt))"])
            var stale = fallback
            stale.validUntil = now + configuration.failureRetrySeconds
            remember(did.text, stale)
            return (stale.outcome, nil)
        }
        logger.notice("DID resolution failed", metadata: ["did": "\(did.text)", "error": "\(failure)"])
        let retry: Double
        switch failure {
        case .notFound, .invalidDocument: retry = configuration.notFoundTTLSeconds
        case .unavailable: retry = configuration.failureRetrySeconds
        }
        // Remembered even over an older document (a deleted or tombstoned DID must stop authenticating),
        // so the directory is asked again only after `retry`, not on every request.
        remember(did.text, Entry(outcome: .failure(failure), validUntil: now + retry, fetchedAt: 0, isLocal: false))
        return (.failure(failure), nil)
    }

    /// The PLC directory is configured by the operator; a did:web host is whatever the DID says.
    func destinations(for did: DID) -> FetchDestinations {
        switch did.method {
        case .plc: return .any
        case .web: return .forDataDerivedURLs(allowPrivateAddresses: configuration.allowPrivateAddresses)
        }
    }

    /// `https://plc.directory/<did>`, or `https://<host>/.well-known/did.json` (http for `localhost`
    /// only, as the reference resolver does).
    func documentURL(_ did: DID) -> String {
        switch did.method {
        case .plc:
            var base = configuration.plcURL
            while base.hasSuffix("/") { base.removeLast() }
            return base + "/" + did.text
        case .web(let host):
            let scheme = did.webHostname == "localhost" ? "http" : "https"
            return "\(scheme)://\(host)/.well-known/did.json"
        }
    }

    private func loadRow(_ did: String) -> StoredDIDDocument? {
        guard let store else { return nil }
        if let known = condition.withLock({ preloaded.removeValue(forKey: did) }),
           clock() - known.readAt < Self.preloadValiditySeconds {
            return known.row
        }
        do {
            count(\.databaseReads)
            return try store.load(did)
        } catch {
            logger.warning("could not read the stored DID document", metadata: ["did": "\(did)", "error": "\(error)"])
            return nil
        }
    }

    private func saveRow(_ row: StoredDIDDocument) {
        guard let store else { return }
        do {
            count(\.databaseWrites)
            try store.save(row)
        } catch {
            logger.warning("could not store the DID document", metadata: ["did": "\(row.did)", "error": "\(error)"])
        }
    }

    private func remember(_ did: String, _ entry: Entry) {
        condition.lock()
        cache.set(did, entry)
        condition.unlock()
    }

    private func count(_ counter: WritableKeyPath<Statistics, Int>) {
        condition.lock()
        counters[keyPath: counter] += 1
        condition.unlock()
    }

    private func beginFetch() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard fetchesInProgress < configuration.maxConcurrentFetches else {
            counters.fetchesRefused += 1
            return false
        }
        fetchesInProgress += 1
        counters.networkFetches += 1
        return true
    }

    private func endFetch() {
        condition.lock()
        fetchesInProgress -= 1
        condition.unlock()
    }

    private func mayForceFetch(_ did: String, now: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard let last = lastForcedFetch[did] else { return true }
        return now - last >= configuration.forcedRefreshIntervalSeconds
    }

    private func noteForcedFetch(_ did: String, now: Double) {
        condition.lock()
        defer { condition.unlock() }
        // Bounded like the cache: drop attempts old enough not to matter any more.
        if lastForcedFetch.count >= configuration.cacheSize {
            lastForcedFetch = lastForcedFetch.filter { now - $0.value < configuration.forcedRefreshIntervalSeconds }
        }
        lastForcedFetch[did] = now
    }
}
