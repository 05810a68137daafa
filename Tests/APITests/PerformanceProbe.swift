@testable import API
import Foundation
import Storage
import Testing
import TestSupport

/// Local timing probe, not a regular test: `API_PERF_ITEMS=1000000` builds (once, kept in database
/// `api_perf_probe`; `API_PERF_REBUILD=1` to rebuild) a power-law dataset and times getTimeline
/// through the in-process service for each viewer class, printing p50/p99.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["API_PERF_ITEMS"] != nil))
struct PerformanceProbe {
    @Test func timelineLatencyPerViewerClass() throws {
        let environment = ProcessInfo.processInfo.environment
        let items = Int(environment["API_PERF_ITEMS"] ?? "") ?? 1_000_000
        let name = "api_perf_probe"
        let adminURL = try TestDatabase.adminURL()
        let url = adminURL.replacingOccurrences(of: "/postgres?", with: "/\(name)?")
        let exists = try PostgresConnection(conninfo: adminURL).query(
            "SELECT 1 FROM pg_database WHERE datname = $1", [name]).rowCount > 0
        let pool: ConnectionPool
        var database: TestDatabase?
        if !exists || environment["API_PERF_REBUILD"] != nil {
            let built = try TestDatabase(name: name, poolSize: 2, statementTimeoutMilliseconds: 3_600_000)
            let started = Date()
            try built.pool.withConnection { connection in
                try BulkDataset.build(.init(actors: max(5000, items / 10), posts: items * 9 / 10, reposts: items / 10,
                                            likes: items, randomFollows: items), on: connection)
            }
            print("built \(items) feed items in \(Int(Date().timeIntervalSince(started))) s")
            database = built
            pool = built.pool
        } else {
            pool = ConnectionPool(configuration: DatabaseConfiguration(url: url, poolSize: 2))
        }
        _ = database
        let router = XRPCRouter(pool: pool, authenticator: FixedViewer(viewer: nil))
        for viewer in ["did:plc:viewer_sparse", "did:plc:viewer_dense500", "did:plc:viewer_dense2000"] {
            let service = AppViewService(pool: pool, xrpc: XRPCRouter(pool: pool, authenticator: FixedViewer(viewer: viewer)),
                                         operations: OperationsEndpoints(pool: pool))
            // Page 1 (no cursor) 40 times, then a walk of 40 consecutive pages with the cursor.
            var firstPage: [Double] = []
            var deepPage: [Double] = []
            var cursor: String?
            for round in 0..<80 {
                let walking = round >= 40
                let started = DispatchTime.now().uptimeNanoseconds
                let answer = service.call("app.bsky.feed.getTimeline", "limit=50" + (walking ? cursor.map { "&cursor=\(q($0))" } ?? "" : ""))
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
                #expect(answer.status == 200)
                if walking { deepPage.append(elapsed); cursor = answer.cursor } else { firstPage.append(elapsed) }
            }
            func summary(_ values: [Double]) -> String {
                let sorted = values.sorted()
                return String(format: "p50 %.1f ms  p99 %.1f ms  max %.1f ms", sorted[sorted.count / 2],
                              sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))], sorted.last ?? 0)
            }
            print("\(viewer) (\(service.call("app.bsky.feed.getTimeline", "limit=50").feed.count) items on page 1): page 1: \(summary(firstPage)); pages 1–40 walked: \(summary(deepPage))")
        }
        _ = router
    }
}
