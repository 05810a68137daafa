import Foundation
import Identity
import Storage
import Testing
import TestSupport
@testable import Ingest

/// Documents from a table, handles that answer their own DID, profiles absent; counted per URL.
private final class ServingFetcher: HTTPFetcher, @unchecked Sendable {
    private let lock = NSLock()
    private var documents: [String: String] = [:]
    private var calls: [String] = []

    func publish(_ did: String, _ json: String) { lock.withLock { documents[did] = json } }
    var documentRequests: Int { lock.withLock { calls.filter { $0.hasPrefix("https://plc.example/") }.count } }

    func get(_ url: String, timeoutMilliseconds: Int, maxBytes: Int) throws(FetchError) -> FetchResponse {
        lock.lock()
        calls.append(url)
        let documents = self.documents
        lock.unlock()
        if url.hasPrefix("https://plc.example/") {
            let did = String(url.dropFirst("https://plc.example/".count))
            guard let json = documents[did] else { return FetchResponse(status: 404, body: []) }
            return FetchResponse(status: 200, body: Array(json.utf8))
        }
        if url.hasSuffix("/.well-known/atproto-did"), let host = url.split(separator: "/").dropFirst().first,
           let index = Int(host.split(separator: ".")[0].dropFirst()) {
            return FetchResponse(status: 200, body: Array(UserCreationBatchTests.did(index).utf8))
        }
        return FetchResponse(status: 400, body: Array(#"{"error":"RecordNotFound"}"#.utf8))
    }
}

@Suite(.serialized) struct UserCreationBatchTests {
    static func did(_ index: Int) -> String { "did:plc:" + String(format: "%024d", index).replacingOccurrences(of: "0", with: "a").replacingOccurrences(of: "1", with: "b") }
    static func document(_ index: Int) -> String {
        ##"{"id":"\##(did(index))","alsoKnownAs":["at://u\##(index).pds.test"],"service":[{"id":"#atproto_pds","type":"AtprotoPersonalDataServer","serviceEndpoint":"https://pds.example.com"}]}"##
    }

    static func rows(_ pool: ConnectionPool, _ sql: String) throws -> [String] {
        try pool.withConnection { try $0.query(sql).rows.map { $0.string(0) ?? "NULL" } }
    }

    /// Half the DIDs have a stored document: the whole batch is read in one query, the other half is
    /// fetched and written by the result writer, and no lookup queries did_documents on its own.
    @Test func aBatchReadsStoredDocumentsInOneQueryAndWritesFetchedOnesWithItsResults() throws {
        let database = try TestDatabase(name: "usercreation_batch_documents")
        let store = DIDDocumentStore(pool: database.pool)
        let http = ServingFetcher()
        let indices = [10, 11, 100, 101, 110, 111, 1000, 1001, 1010, 1011, 1100, 1101]
        for (position, index) in indices.enumerated() {
            if position % 2 == 0 {
                try store.save(StoredDIDDocument(did: Self.did(index), json: Self.document(index), fetchedAt: Date().timeIntervalSince1970, isLocal: false))
            } else {
                http.publish(Self.did(index), Self.document(index))
            }
        }
        var resolverConfiguration = DIDResolver.Configuration()
        resolverConfiguration.plcURL = "https://plc.example"
        let resolver = DIDResolver(configuration: resolverConfiguration, fetcher: http, store: store)
        let fetcher = UserCreationFetcher(resolver: resolver, http: http)
        var configuration = UserCreationServiceTests.configuration()
        configuration.maxConcurrent = 3
        let service = UserCreationService(configuration: configuration, store: UserCreationStore(pool: database.pool),
                                          fetch: { fetcher.fetch($0) }, prepare: { fetcher.prepare($0) })
        let indexer = Indexer(pool: database.pool)
        indexer.onCreatedActors { service.enqueue($0) }
        service.start()
        defer { service.stop() }
        try indexer.apply(try UserCreationServiceTests.events(indices.enumerated().map { EventLines.post(Self.did($1), "p", time: Int64(1_000 + $0)) }))

        #expect(try UserCreationServiceTests.eventually { try Self.rows(database.pool, "SELECT count(*) FROM user_creation_pending") == ["0"] })
        #expect(try Self.rows(database.pool, "SELECT count(*) FROM actors WHERE handle LIKE 'u%.pds.test'") == ["12"])
        #expect(try Self.rows(database.pool, "SELECT count(*) FROM did_documents") == ["12"])
        let statistics = resolver.statistics
        #expect(statistics.databaseReads == 1, "reads of did_documents: \(statistics.databaseReads)")
        #expect(statistics.databaseWrites == 0, "the resolver wrote rows one by one")
        #expect(statistics.databaseHits == 6)
        #expect(http.documentRequests == 6)
        #expect(service.statistics.handlesVerifiedByHTTPS == 12)
    }
}

@Suite struct PendingUserCreationsBatchTakeTests {
    @Test func aBatchIsTheOldestInOrderAllMarkedInProgress() {
        let pending = PendingUserCreations(limit: 10)
        pending.enqueue(["a", "b", "c", "d", "e"])
        pending.enqueue(["b"]) // seen again: now the most recent
        let first = pending.take(maximum: 3, timeout: 0.1).map(\.did)
        #expect(first == ["a", "c", "d"])
        #expect(pending.counts.inProgress == 3)
        #expect(pending.counts.queued == 2)
        // A DID in progress offered again is a de-duplication hit, not queued twice.
        pending.enqueue(["a"])
        #expect(pending.counts.deduplicated == 2)
        #expect(pending.take(maximum: 10, timeout: 0.1).map(\.did) == ["e", "b"])
        #expect(pending.take(maximum: 10, timeout: 0.1).isEmpty)
        for did in ["a", "c", "d", "e", "b"] { pending.finish(did) }
        #expect(pending.counts.inProgress == 0)
    }
}
