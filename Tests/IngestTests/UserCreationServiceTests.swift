import Foundation
import Storage
import Testing
import TestSupport
@testable import Ingest

/// A fetch the test controls: answers from a table, fails while `down`, or blocks until released.
private final class FakeNetwork: @unchecked Sendable {
    private let condition = NSCondition()
    var down = false
    var blocked = false
    private(set) var calls: [String] = []

    func fetch(_ did: String) -> UserCreationOutcome {
        condition.lock()
        calls.append(did)
        while blocked { condition.wait() }
        let isDown = down
        condition.unlock()
        if isDown { return UserCreationOutcome(did: did, error: "PLC unreachable") }
        let name = did.split(separator: ":").last.map(String.init) ?? did
        let record = ProfileRecord(rawJSON: #"{"$type":"app.bsky.actor.profile","displayName":"Fetched \#(name)"}"#,
                                   displayName: "Fetched \(name)", description: nil, avatarCID: nil, bannerCID: nil,
                                   createdAtMilliseconds: nil)
        return UserCreationOutcome(did: did, handle: "\(name).test", profile: FetchedProfile(cid: "bafyfetched\(name)", record: record))
    }

    func set(down: Bool? = nil, blocked: Bool? = nil) {
        condition.withLock {
            if let down { self.down = down }
            if let blocked { self.blocked = blocked }
            condition.broadcast()
        }
    }

    var callCount: Int { condition.withLock { calls.count } }
}

@Suite(.serialized) struct UserCreationServiceTests {
    static func events(_ lines: [String]) throws -> [JetstreamEvent] {
        try lines.map { try JetstreamEventDecoder.decode($0).get() }
    }

    static func rows(_ pool: ConnectionPool, _ sql: String) throws -> [String] {
        try pool.withConnection { try $0.query(sql).rows.map { $0.string(0) ?? "NULL" } }
    }

    static func eventually(_ seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return try condition()
    }

    static func configuration(sweep: Double = 0.2, waitTimeout: Double = 30, limit: Int = 100) -> UserCreationConfiguration {
        var configuration = UserCreationConfiguration()
        configuration.maxConcurrent = 2
        configuration.sweepIntervalSeconds = sweep
        configuration.waitTimeoutSeconds = waitTimeout
        configuration.queueLimit = limit
        configuration.writeDelaySeconds = 0.05
        return configuration
    }

    @Test func aBatchReportsTheActorsItCreatedOnceAndMarksThem() throws {
        let database = try TestDatabase(name: "usercreation_markers")
        let indexer = Indexer(pool: database.pool)
        let reported = LockedList()
        indexer.onCreatedActors { reported.append($0) }
        let a = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", b = "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb", c = "did:plc:cccccccccccccccccccccccc"
        let lines = [
            EventLines.post(a, "p1", time: 1_000),
            EventLines.follow(a, "f1", time: 1_001, subject: b),
            // c arrives with its identity and profile: nothing left to fetch.
            EventLines.identity(c, time: 1_002, handle: "carol.test"),
            EventLines.profile(c, time: 1_003, displayName: "Carol"),
        ]
        try indexer.apply(try Self.events(lines))
        #expect(reported.all == [[a, b]])
        #expect(try Self.rows(database.pool, "SELECT did FROM user_creation_pending ORDER BY did") == [a, b])
        // A replay creates nothing and reports nothing.
        try indexer.apply(try Self.events(lines))
        #expect(reported.all == [[a, b]])
        // a's identity and profile arrive from the firehose: its marker goes.
        try indexer.apply(try Self.events([EventLines.identity(a, time: 2_000, handle: "alice.test"),
                                           EventLines.profile(a, time: 2_001, displayName: "Alice")]))
        #expect(try Self.rows(database.pool, "SELECT did FROM user_creation_pending") == [b])
    }

    @Test func newActorsGetTheirHandleAndProfileWithoutOverridingTheFirehose() throws {
        let database = try TestDatabase(name: "usercreation_fill")
        let network = FakeNetwork()
        let service = UserCreationService(configuration: Self.configuration(), store: UserCreationStore(pool: database.pool),
                                          fetch: { network.fetch($0) })
        let indexer = Indexer(pool: database.pool)
        indexer.onCreatedActors { service.enqueue($0) }
        service.start()
        defer { service.stop() }
        let a = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", b = "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb"
        network.set(blocked: true)
        try indexer.apply(try Self.events([EventLines.post(a, "p1", time: 1_000), EventLines.post(b, "p1", time: 1_001)]))
        // While the fetch is in flight, the firehose delivers b's identity and profile: they win.
        #expect(Self.eventually { network.callCount == 2 })
        try indexer.apply(try Self.events([EventLines.identity(b, time: 2_000, handle: "bob.relay.test"),
                                           EventLines.profile(b, time: 2_001, displayName: "Bob from the firehose")]))
        network.set(blocked: false)
        #expect(try Self.eventually { try Self.rows(database.pool, "SELECT count(*) FROM user_creation_pending") == ["0"] })
        #expect(try Self.rows(database.pool, "SELECT handle || '|' || display_name FROM actors ORDER BY did") ==
                ["aaaaaaaaaaaaaaaaaaaaaaaa.test|Fetched aaaaaaaaaaaaaaaaaaaaaaaa", "bob.relay.test|Bob from the firehose"])
        let statistics = service.statistics
        #expect(statistics.completed == 2)
        #expect(statistics.pending == 0)
        #expect(statistics.active == 0)
    }

    /// A pool of ONE connection: while every worker is stuck on the network, the indexer still
    /// commits batches, so no database connection is held while waiting on the network.
    @Test func noConnectionIsHeldWhileWaitingOnTheNetwork() throws {
        let database = try TestDatabase(name: "usercreation_pool1")
        let pool = ConnectionPool(configuration: database.configuration(poolSize: 1, acquireTimeoutMilliseconds: 2000))
        defer { pool.close() }
        let network = FakeNetwork()
        network.set(blocked: true)
        let service = UserCreationService(configuration: Self.configuration(), store: UserCreationStore(pool: pool),
                                          fetch: { network.fetch($0) })
        let indexer = Indexer(pool: pool)
        indexer.onCreatedActors { service.enqueue($0) }
        service.start()
        defer { service.stop() }
        for round in 0..<20 {
            let did = "did:plc:" + String(repeating: Character(UnicodeScalar(UInt8(97 + round))), count: 24)
            try indexer.apply(try Self.events([EventLines.post(did, "p\(round)", time: Int64(1_000 + round))]))
        }
        #expect(Self.eventually { service.statistics.active == 2 })
        #expect(try Self.rows(pool, "SELECT count(*) FROM posts") == ["20"])
        #expect(service.statistics.pending == 20)
        network.set(blocked: false)
        #expect(try Self.eventually { try Self.rows(pool, "SELECT count(*) FROM actors WHERE handle IS NOT NULL") == ["20"] })
    }

    @Test func failuresKeepTheMarkerAndTheSweepRetriesOnceTheNetworkIsBack() throws {
        let database = try TestDatabase(name: "usercreation_retry")
        let network = FakeNetwork()
        network.set(down: true)
        var configuration = Self.configuration()
        configuration.retryBaseSeconds = 1
        let service = UserCreationService(configuration: configuration,
                                          store: UserCreationStore(pool: database.pool, baseBackoffSeconds: 1),
                                          fetch: { network.fetch($0) })
        let indexer = Indexer(pool: database.pool)
        indexer.onCreatedActors { service.enqueue($0) }
        service.start()
        defer { service.stop() }
        let a = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"
        try indexer.apply(try Self.events([EventLines.post(a, "p1", time: 1_000)]))
        #expect(try Self.eventually { try Self.rows(database.pool, "SELECT attempts FROM user_creation_pending") == ["1"] })
        #expect(try Self.rows(database.pool, "SELECT coalesce(handle, 'NULL') FROM actors") == ["NULL"])
        #expect(service.statistics.failed >= 1)
        network.set(down: false)
        #expect(try Self.eventually { try Self.rows(database.pool, "SELECT handle FROM actors") == ["aaaaaaaaaaaaaaaaaaaaaaaa.test"] })
        #expect(try Self.rows(database.pool, "SELECT count(*) FROM user_creation_pending") == ["0"])
        #expect(service.statistics.requeuedBySweep >= 1)
    }

    /// Evicted and timed-out DIDs are not lost: their markers stay, and the sweep brings them back.
    @Test func evictedAndDeferredDIDsComeBackThroughTheirMarkers() throws {
        let database = try TestDatabase(name: "usercreation_evict")
        let network = FakeNetwork()
        network.set(blocked: true)
        let service = UserCreationService(configuration: Self.configuration(sweep: 0.2, waitTimeout: 0.3, limit: 3),
                                          store: UserCreationStore(pool: database.pool), fetch: { network.fetch($0) })
        let indexer = Indexer(pool: database.pool)
        indexer.onCreatedActors { service.enqueue($0) }
        service.start()
        defer { service.stop() }
        let dids = (0..<10).map { "did:plc:" + String(repeating: Character(UnicodeScalar(UInt8(97 + $0))), count: 24) }
        try indexer.apply(try Self.events(dids.enumerated().map { EventLines.post($1, "p", time: Int64(1_000 + $0)) }))
        #expect(Self.eventually { service.statistics.evicted >= 5 && service.statistics.deferred >= 1 })
        // Their markers were made due at once (not after the grace period of a new marker).
        #expect(try Self.eventually {
            try Self.rows(database.pool, "SELECT count(*) FROM user_creation_pending WHERE next_attempt_at <= now()") == ["8"]
        })
        network.set(blocked: false)
        #expect(try Self.eventually(20) { try Self.rows(database.pool, "SELECT count(*) FROM actors WHERE handle IS NOT NULL") == ["10"] })
        #expect(try Self.rows(database.pool, "SELECT count(*) FROM user_creation_pending") == ["0"])
    }
}

extension UserCreationServiceTests {
    /// A due marker of a DID already in progress is not queued again: counted as a de-duplication hit.
    @Test func theSweepDoesNotDuplicateWorkInProgress() throws {
        let database = try TestDatabase(name: "usercreation_dedup")
        let network = FakeNetwork()
        network.set(blocked: true)
        let service = UserCreationService(configuration: Self.configuration(sweep: 3600), store: UserCreationStore(pool: database.pool),
                                          fetch: { network.fetch($0) })
        let indexer = Indexer(pool: database.pool)
        indexer.onCreatedActors { service.enqueue($0) }
        service.start()
        defer { service.stop() }
        let a = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"
        try indexer.apply(try Self.events([EventLines.post(a, "p1", time: 1_000)]))
        #expect(Self.eventually { network.callCount == 1 })
        _ = try Self.rows(database.pool, "UPDATE user_creation_pending SET next_attempt_at = now() RETURNING did")
        #expect(service.sweep() == 0)
        #expect(service.statistics.deduplicated == 1)
        network.set(blocked: false)
        #expect(try Self.eventually { try Self.rows(database.pool, "SELECT count(*) FROM user_creation_pending") == ["0"] })
        #expect(network.callCount == 1)
    }
}

final class LockedList: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [[String]] = []
    func append(_ value: [String]) { lock.withLock { values.append(value) } }
    var all: [[String]] { lock.withLock { values } }
}
