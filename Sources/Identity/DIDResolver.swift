import Foundation
import Logging

/// Resolves DIDs to documents, shared by all threads of a process.
///
/// Lookup order: a bounded in-memory LRU (entries valid for the TTL), then `did_documents` in
/// PostgreSQL (so a restart does not refetch), then the network (`did:plc` from the PLC directory,
/// `did:web` from `/.well-known/did.json`). Concurrent resolutions of one DID share one lookup; the
/// database connection is released before any network call. Blocking: call from dedicated threads.
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
    }

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
        let key = FlightKey(did: did.text, forced: forceRefresh)
        condition.lock()
        if !forceRefresh, let entry = cache.get(did.text), clock() < entry.validUntil {
            counters.memoryHits += 1
            condition.unlock()
            return try entry.outcome.get()
        }
        if let flight = flights[key] {
            counters.sharedWaits += 1
            while flight.result == nil { condition.wait() }
            condition.unlock()
            return try flight.result!.get()
        }
        let flight = Flight()
        flights[key] = flight
        let previous = cache.peek(did.text)
        condition.unlock()

        let result = lookUp(did, forced: forceRefresh, previous: previous)

        condition.lock()
        flights[key] = nil
        flight.result = result
        condition.broadcast()
        condition.unlock()
        return try result.get()
    }

    /// Database, then network. Runs without the lock; writes its outcome to the cache.
    private func lookUp(_ did: DID, forced: Bool, previous: Entry?) -> Result<DIDDocument, DIDResolutionError> {
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
                return entry.outcome
            }
            if row.fetchedAt > (fallback?.fetchedAt ?? -1) { fallback = entry }
        }
        if fallback?.isLocal == true {
            return fallback!.outcome
        }

        if forced, let fallback, !mayForceFetch(did.text, now: now) {
            return fallback.outcome
        }
        return fetch(did, now: now, fallback: fallback, forced: forced)
    }

    private func fetch(_ did: DID, now: Double, fallback: Entry?, forced: Bool) -> Result<DIDDocument, DIDResolutionError> {
        if forced { noteForcedFetch(did.text, now: now) }
        let url = documentURL(did)
        guard beginFetch() else {
            return fallback?.outcome ?? .failure(.unavailable(did: did.text, reason: "too many DID resolutions in progress"))
        }
        defer { endFetch() }
        let failure: DIDResolutionError
        do {
            let response = try fetcher.get(url, timeoutMilliseconds: configuration.timeoutMilliseconds, maxBytes: configuration.maxDocumentBytes)
            switch response.status {
            case 200:
                do {
                    let document = try DIDDocument(did: did.text, json: response.body)
                    let fetchedAt = clock()
                    saveRow(StoredDIDDocument(did: did.text, json: document.json, fetchedAt: fetchedAt, isLocal: false))
                    remember(did.text, Entry(outcome: .success(document), validUntil: fetchedAt + configuration.cacheTTLSeconds,
                                             fetchedAt: fetchedAt, isLocal: false))
                    return .success(document)
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
        } catch {
            failure = .unavailable(did: did.text, reason: "\(url): \(error)")
        }

        if case .unavailable = failure, let fallback, now - fallback.fetchedAt < configuration.maxStaleSeconds {
            logger.warning("DID resolution failed, using the stored document", metadata: [
                "did": "\(did.text)", "error": "\(failure)", "ageSeconds": "\(Int(now - fallback.fetchedAt))"])
            var stale = fallback
            stale.validUntil = now + configuration.failureRetrySeconds
            remember(did.text, stale)
            return stale.outcome
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
        return .failure(failure)
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
        do {
            return try store.load(did)
        } catch {
            logger.warning("could not read the stored DID document", metadata: ["did": "\(did)", "error": "\(error)"])
            return nil
        }
    }

    private func saveRow(_ row: StoredDIDDocument) {
        guard let store else { return }
        do {
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
