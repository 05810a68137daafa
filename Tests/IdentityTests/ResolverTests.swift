import Foundation
import Storage
import Testing
import TestSupport
@testable import Identity

/// An injected fetcher: documents by DID, counted, optionally slow or failing.
final class FakeFetcher: HTTPFetcher, @unchecked Sendable {
    private let lock = NSLock()
    private var documents: [String: String] = [:]
    private var failure: FetchError?
    private var status: Int?
    private var calls: [String: Int] = [:]
    var delay: Double = 0

    func publish(_ did: String, _ json: String) {
        lock.withLock { documents[did] = json }
    }

    func fail(with error: FetchError?, status: Int? = nil) {
        lock.withLock {
            failure = error
            self.status = status
        }
    }

    func count(_ did: String) -> Int { lock.withLock { calls[did, default: 0] } }
    var total: Int { lock.withLock { calls.values.reduce(0, +) } }

    func get(_ url: String, timeoutMilliseconds: Int, maxBytes: Int) throws(FetchError) -> FetchResponse {
        let did = url.hasSuffix("/.well-known/did.json")
            ? "did:web:" + url.split(separator: "/")[1].replacingOccurrences(of: ":", with: "%3A")
            : String(url.split(separator: "/").last!)
        let (document, failure, status) = lock.withLock { () -> (String?, FetchError?, Int?) in
            calls[did, default: 0] += 1
            return (documents[did], self.failure, self.status)
        }
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        if let failure { throw failure }
        if let status { return FetchResponse(status: status, body: []) }
        guard let document else { return FetchResponse(status: 404, body: Array(#"{"message":"not found"}"#.utf8)) }
        return FetchResponse(status: 200, body: Array(document.utf8))
    }
}

/// A clock tests move by hand.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var seconds: Double = 1_800_000_000
    var now: Double { lock.withLock { seconds } }
    func advance(_ delta: Double) { lock.withLock { seconds += delta } }
}

func plcDID(_ index: Int) -> DID {
    let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
    var text = "did:plc:"
    var value = index
    for _ in 0..<24 {
        text.append(alphabet[value % 32])
        value /= 32
    }
    return DID(text)!
}

func documentJSON(_ did: DID, key: PublicKey) -> String {
    makeDIDDocument(did: did.text, handle: nil, key: key)
}

struct ResolverFixture {
    let fetcher = FakeFetcher()
    let clock = ManualClock()
    let resolver: DIDResolver

    init(cacheSize: Int = 100, ttl: Double = 600, store: DIDDocumentStore? = nil, maxConcurrentFetches: Int = 8) {
        var configuration = DIDResolver.Configuration()
        configuration.maxConcurrentFetches = maxConcurrentFetches
        configuration.cacheSize = cacheSize
        configuration.cacheTTLSeconds = ttl
        configuration.plcURL = "http://plc.invalid"
        let clock = self.clock
        resolver = DIDResolver(configuration: configuration, fetcher: fetcher, store: store, clock: { clock.now })
    }

    func publishNewKey(_ did: DID, curve: SigningCurve = .secp256k1) throws -> PublicKey {
        let key = try PrivateKey.generate(curve: curve).publicKey
        fetcher.publish(did.text, documentJSON(did, key: key))
        return key
    }
}

@Suite struct ResolverCacheTests {
    @Test func documentsAreCachedForTheTTL() throws {
        let fixture = ResolverFixture(ttl: 600)
        let did = plcDID(1)
        let key = try fixture.publishNewKey(did)
        #expect(try fixture.resolver.resolve(did).signingKey == key)
        #expect(try fixture.resolver.resolve(did).signingKey == key)
        #expect(fixture.fetcher.count(did.text) == 1)
        fixture.clock.advance(599)
        _ = try fixture.resolver.resolve(did)
        #expect(fixture.fetcher.count(did.text) == 1)
        fixture.clock.advance(2)
        let rotated = try fixture.publishNewKey(did)
        #expect(try fixture.resolver.resolve(did).signingKey == rotated)
        #expect(fixture.fetcher.count(did.text) == 2)
    }

    @Test func theCacheIsBoundedAndEvictsTheLeastRecentlyUsed() throws {
        let fixture = ResolverFixture(cacheSize: 3)
        let dids = (0..<5).map { plcDID(100 + $0) }
        for did in dids { _ = try fixture.publishNewKey(did) }
        for did in dids.prefix(3) { _ = try fixture.resolver.resolve(did) }
        _ = try fixture.resolver.resolve(dids[0]) // most recent now; dids[1] is the oldest
        _ = try fixture.resolver.resolve(dids[3])
        _ = try fixture.resolver.resolve(dids[4])
        #expect(fixture.resolver.cachedCount == 3)
        #expect(fixture.fetcher.total == 5)
        _ = try fixture.resolver.resolve(dids[0])
        #expect(fixture.fetcher.count(dids[0].text) == 1, "recently used, kept")
        _ = try fixture.resolver.resolve(dids[1])
        #expect(fixture.fetcher.count(dids[1].text) == 2, "evicted, fetched again")
    }

    @Test func lruCacheKeepsItsBoundUnderChurn() {
        var cache = LRUCache<Int, Int>(capacity: 8)
        for value in 0..<1000 {
            cache.set(value % 37, value)
            if value % 3 == 0 { _ = cache.get(value % 11) }
            #expect(cache.count <= 8)
        }
        cache.set(1, 1)
        #expect(cache.peek(1) == 1)
    }

    @Test func concurrentResolutionsOfOneDIDShareOneFetch() throws {
        let fixture = ResolverFixture()
        let did = plcDID(7)
        let key = try fixture.publishNewKey(did)
        fixture.fetcher.delay = 0.3
        let results = NSLock()
        nonisolated(unsafe) var keys: [PublicKey?] = []
        let threads = (0..<8).map { _ in
            Thread {
                let found = try? fixture.resolver.resolve(did).signingKey
                results.withLock { keys.append(found) }
            }
        }
        threads.forEach { $0.start() }
        let deadline = Date().addingTimeInterval(10)
        while results.withLock({ keys.count }) < 8 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(keys.count == 8)
        #expect(keys.allSatisfy { $0 == key })
        #expect(fixture.fetcher.count(did.text) == 1)
        #expect(fixture.resolver.statistics.sharedWaits >= 1)
    }

    @Test func concurrentFetchesAreCappedAndTheRestFailFast() throws {
        let fixture = ResolverFixture(maxConcurrentFetches: 2)
        let dids = (0..<5).map { plcDID(200 + $0) }
        for did in dids { _ = try fixture.publishNewKey(did) }
        fixture.fetcher.delay = 0.5
        let lock = NSLock()
        nonisolated(unsafe) var outcomes: [Bool] = []
        let started = Date()
        for did in dids {
            Thread {
                let resolved = (try? fixture.resolver.resolve(did)) != nil
                lock.withLock { outcomes.append(resolved) }
            }.start()
        }
        while lock.withLock({ outcomes.count }) < 5 && Date().timeIntervalSince(started) < 10 { Thread.sleep(forTimeInterval: 0.01) }
        #expect(outcomes.filter { $0 }.count == 2)
        #expect(fixture.resolver.statistics.fetchesRefused == 3)
        #expect(fixture.fetcher.total == 2)
        // Refusals are not remembered: once the fetches are done the next attempt goes through.
        fixture.fetcher.delay = 0
        for did in dids { _ = try fixture.resolver.resolve(did) }
    }

    @Test func unknownDIDsAreNotFoundAndRememberedBriefly() throws {
        let fixture = ResolverFixture()
        let did = plcDID(9)
        #expect(throws: DIDResolutionError.notFound(did: did.text)) { try fixture.resolver.resolve(did) }
        #expect(throws: DIDResolutionError.notFound(did: did.text)) { try fixture.resolver.resolve(did) }
        #expect(fixture.fetcher.count(did.text) == 1)
        fixture.clock.advance(61)
        _ = try fixture.publishNewKey(did)
        #expect(try fixture.resolver.resolve(did).did == did.text)
    }

    @Test func aDeletedDIDStopsResolvingAndIsNotRefetchedPerRequest() throws {
        let fixture = ResolverFixture(ttl: 60)
        let did = plcDID(14)
        _ = try fixture.publishNewKey(did)
        _ = try fixture.resolver.resolve(did)
        fixture.fetcher.fail(with: nil, status: 410) // tombstoned
        fixture.clock.advance(61)
        for _ in 0..<5 {
            #expect(throws: DIDResolutionError.notFound(did: did.text)) { try fixture.resolver.resolve(did) }
        }
        #expect(fixture.fetcher.count(did.text) == 2)
        fixture.clock.advance(61)
        #expect(throws: DIDResolutionError.notFound(did: did.text)) { try fixture.resolver.resolve(did) }
        #expect(fixture.fetcher.count(did.text) == 3)
    }

    @Test func outagesAreUnavailableAndAStaleDocumentIsUsedMeanwhile() throws {
        let fixture = ResolverFixture(ttl: 60)
        let known = plcDID(11)
        let key = try fixture.publishNewKey(known)
        _ = try fixture.resolver.resolve(known)
        fixture.fetcher.fail(with: .timeout)
        let unknown = plcDID(12)
        #expect {
            try fixture.resolver.resolve(unknown)
        } throws: { error in
            guard case .unavailable = error as? DIDResolutionError else { return false }
            return true
        }
        fixture.clock.advance(120) // expired: refetch fails, the stale document still answers
        #expect(try fixture.resolver.resolve(known).signingKey == key)
        fixture.fetcher.fail(with: nil, status: 503)
        fixture.clock.advance(10)
        #expect(try fixture.resolver.resolve(known).signingKey == key)
        #expect(throws: DIDResolutionError.self) { try fixture.resolver.resolve(plcDID(13)) }
    }

    @Test func oversizedAndForeignDocumentsAreInvalid() throws {
        let fixture = ResolverFixture()
        fixture.fetcher.fail(with: .tooLarge(limit: 65536))
        #expect {
            try fixture.resolver.resolve(plcDID(20))
        } throws: { error in
            guard case .invalidDocument = error as? DIDResolutionError else { return false }
            return true
        }
        fixture.fetcher.fail(with: nil)
        let key = try PrivateKey.generate(curve: .p256).publicKey
        fixture.fetcher.publish(plcDID(21).text, documentJSON(plcDID(22), key: key))
        #expect {
            try fixture.resolver.resolve(plcDID(21))
        } throws: { error in
            guard case .invalidDocument = error as? DIDResolutionError else { return false }
            return true
        }
    }

    @Test func forcedRefreshesReachTheNetworkAtMostOncePerInterval() throws {
        let fixture = ResolverFixture()
        let did = plcDID(30)
        let first = try fixture.publishNewKey(did)
        _ = try fixture.resolver.resolve(did)
        let second = try fixture.publishNewKey(did)
        #expect(try fixture.resolver.resolve(did).signingKey == first, "cached")
        #expect(try fixture.resolver.resolve(did, forceRefresh: true).signingKey == second)
        #expect(fixture.fetcher.count(did.text) == 2)
        _ = try fixture.publishNewKey(did)
        for _ in 0..<10 { #expect(try fixture.resolver.resolve(did, forceRefresh: true).signingKey == second) }
        #expect(fixture.fetcher.count(did.text) == 2, "rate-limited")
        fixture.clock.advance(31)
        #expect(try fixture.resolver.resolve(did, forceRefresh: true).signingKey != second)
        #expect(fixture.fetcher.count(did.text) == 3)
    }
}

@Suite(.serialized) struct ResolverPersistenceTests {
    @Test func aNewResolverServesStoredDocumentsWithoutTheNetwork() throws {
        let database = try TestDatabase(name: "auth_identity_persistence")
        let store = DIDDocumentStore(pool: database.pool)
        let first = ResolverFixture(store: store)
        let did = plcDID(40)
        let key = try first.publishNewKey(did, curve: .p256)
        _ = try first.resolver.resolve(did)
        #expect(first.fetcher.count(did.text) == 1)

        // "Restart": a new resolver whose network is down.
        let second = ResolverFixture(store: store)
        second.fetcher.fail(with: .network("connection refused"))
        #expect(try second.resolver.resolve(did).signingKey == key)
        #expect(second.fetcher.total == 0)
        #expect(second.resolver.statistics.databaseHits == 1)

        // Past the TTL the row is refreshed from the network and rewritten.
        let third = ResolverFixture(ttl: 600, store: store)
        third.clock.advance(601)
        let rotated = try third.publishNewKey(did)
        #expect(try third.resolver.resolve(did).signingKey == rotated)
        #expect(third.fetcher.count(did.text) == 1)
        #expect(try store.load(did.text).map { try DIDDocument(did: did.text, json: Array($0.json.utf8)).signingKey } == rotated)
        database.pool.close()
    }

    @Test func aForcedRefreshSkipsARowThatOnlyRepeatsTheCachedDocument() throws {
        let database = try TestDatabase(name: "auth_identity_forced")
        let fixture = ResolverFixture(store: DIDDocumentStore(pool: database.pool))
        // PostgreSQL keeps microseconds: a fetch time just below a microsecond boundary is stored
        // rounded up, so the row looks newer than the very document it holds.
        fixture.clock.advance(0.0000008)
        for index in 0..<20 {
            let did = plcDID(60 + index)
            _ = try fixture.publishNewKey(did)
            _ = try fixture.resolver.resolve(did)
            let rotated = try fixture.publishNewKey(did)
            // The row we wrote ourselves is fresh but holds the old key: the network must be asked.
            #expect(try fixture.resolver.resolve(did, forceRefresh: true).signingKey == rotated)
            #expect(fixture.fetcher.count(did.text) == 2)
        }
        database.pool.close()
    }

    @Test func localDocumentsAreNeverFetchedAndReMintedKeysArePickedUp() throws {
        let database = try TestDatabase(name: "auth_identity_local")
        let store = DIDDocumentStore(pool: database.pool)
        let fixture = ResolverFixture(ttl: 60, store: store)
        let did = plcDID(50)
        let now = Date().timeIntervalSince1970
        let minted = try PrivateKey.generate(curve: .secp256k1).publicKey
        try store.save(StoredDIDDocument(did: did.text, json: documentJSON(did, key: minted), fetchedAt: now - 86_400 * 30, isLocal: true))
        #expect(try fixture.resolver.resolve(did).signingKey == minted)
        fixture.clock.advance(3600)
        #expect(try fixture.resolver.resolve(did).signingKey == minted)

        // Re-minted: memory still holds the old key; a forced refresh re-reads the row (no network, no rate limit).
        let reminted = try PrivateKey.generate(curve: .p256).publicKey
        try store.save(StoredDIDDocument(did: did.text, json: documentJSON(did, key: reminted), fetchedAt: now, isLocal: true))
        #expect(try fixture.resolver.resolve(did).signingKey == minted)
        #expect(try fixture.resolver.resolve(did, forceRefresh: true).signingKey == reminted)
        let third = try PrivateKey.generate(curve: .p256).publicKey
        try store.save(StoredDIDDocument(did: did.text, json: documentJSON(did, key: third), fetchedAt: now + 1, isLocal: true))
        #expect(try fixture.resolver.resolve(did, forceRefresh: true).signingKey == third)
        #expect(fixture.fetcher.total == 0)

        // A fetched document never replaces a local one.
        let fetched = try PrivateKey.generate(curve: .p256).publicKey
        try store.save(StoredDIDDocument(did: did.text, json: documentJSON(did, key: fetched), fetchedAt: now + 2, isLocal: false))
        #expect(try store.load(did.text)?.isLocal == true)
        database.pool.close()
    }
}
