import JSON
import Storage

/// `app.bsky.feed.getTimeline`: items originated by the viewer's follows and the viewer, newest first.
///
/// Query design: the follow list is read once, blocked and inactive accounts removed, the viewer
/// added. Then:
/// 1. Large follow sets (≥ `denseFollowThreshold`) first walk at most `recentScanBudget` of the
///    newest items of the whole table (`TimelineQuery.recentScan`, one index descent, a follows probe
///    per row): when the followed accounts produce a noticeable share of all activity this fills the
///    page after a few hundred rows, whereas a per-account scan costs one index descent per followed
///    account (~5 µs each, 2,000 follows ≈ 10 ms) and planning a 2,000-element array ≈ 10 ms more.
/// 2. Otherwise, or to continue below the walked region, `TimelineQuery.page` pages over
///    `feed_items_originator_sort_idx` restricted to a time window behind the keyset position; when
///    the window runs dry the next attempt continues strictly below it with a window 8× wider, the
///    last attempt unbounded — so sparse graphs still get full pages.
/// Every step continues strictly below the region the previous one exhausted: no row is read twice.
struct GetTimeline: XRPCMethod {
    static let nsid = "app.bsky.feed.getTimeline"
    static let requiresViewer = true

    let viewer: String
    let limit: Int
    let cursor: FeedCursor?
    let now: Int64

    init(_ input: XRPCInput) throws(XRPCError) {
        viewer = try input.requiredViewer()
        limit = try input.parameters.limit()
        cursor = try input.cursor()
        now = input.nowMilliseconds
        if let algorithm = try input.parameters.single("algorithm"), !algorithm.isEmpty,
           algorithm != "reverse-chronological" {
            throw .invalidRequest("Unsupported algorithm: \(algorithm)")
        }
    }

    func run(on connection: PostgresConnection, environment: XRPCEnvironment) throws -> [UInt8] {
        let graph = try connection.query(TimelineQuery.followsAndBlocks, [viewer])
        var follows = Set<String>()
        var blocked = Set<String>()
        var inactive = Set<String>()
        for index in 0..<graph.rowCount {
            let row = graph[index]
            guard let did = row.string(1) else { continue }
            switch row.string(0) {
            case "f": follows.insert(did)
            case "b": blocked.insert(did)
            default: inactive.insert(did)
            }
        }
        follows.insert(viewer)
        let originators = Array(follows.subtracting(blocked).subtracting(inactive))
        let blockedList = Array(blocked)

        let rows = try Self.fetchPage(viewer: viewer, originators: originators, blocked: blockedList,
                                      excluded: Array(blocked.union(inactive)), cursor: cursor,
                                      limit: limit, now: now, on: connection)
        return try FeedPageWriter.render(rows: rows, limit: limit, viewer: viewer,
                                         profiles: environment.profiles, on: connection)
    }

    /// The adaptive-window paging loop (at most `TimelineQuery.windowAttempts` executions of `TimelineQuery.page`).
    /// `excluded`: blocked either way or inactive followed accounts (for the recent-items walk).
    static func fetchPage(viewer: String, originators: [String], blocked: [String], excluded: [String],
                          cursor: FeedCursor?, limit: Int, now: Int64,
                          denseThreshold: Int = TimelineQuery.denseFollowThreshold, budget: Int = TimelineQuery.recentScanBudget,
                          on connection: PostgresConnection) throws -> [FeedItemRow]
    {
        var rows: [FeedItemRow] = []
        var position = cursor.sqlParameters
        var upper = min(cursor?.sortAtMilliseconds ?? now, now)
        if originators.count >= denseThreshold {
            let walked = try connection.query(TimelineQuery.recentScan, [
                viewer, excluded, position[0], position[1], position[2], budget, limit,
            ])
            rows = FeedItemRow.read(walked)
            if rows.count >= limit { return rows }
            // Not full: every match in the walked region was returned; continue strictly below it.
            let floor = try connection.query(TimelineQuery.recentScanFloor, [
                position[0], position[1], position[2], budget,
            ])
            guard floor.rowCount > 0, let floorMillis = floor[0].int64(0), let floorCID = floor[0].string(1),
                  let floorURI = floor[0].string(2) else { return rows }  // the walk reached the oldest item
            position = [Timestamp.iso8601(epochMilliseconds: floorMillis), floorCID, floorURI]
            upper = min(upper, floorMillis)
        }
        var window = TimelineQuery.initialWindow(originatorCount: originators.count)
        for attempt in 0..<TimelineQuery.windowAttempts {
            let isLast = attempt == TimelineQuery.windowAttempts - 1
            let lower = upper - window
            let lowerParameter = isLast ? "-infinity" : Timestamp.iso8601(epochMilliseconds: lower)
            let result = try connection.query(TimelineQuery.page, [
                originators, blocked, lowerParameter, position[0], position[1], position[2], limit - rows.count,
            ])
            rows.append(contentsOf: FeedItemRow.read(result))
            if rows.count >= limit || isLast { break }
            // The window is exhausted: continue strictly below its start (every row at or after
            // `lower` was eligible above), so the next, wider window never re-reads these rows.
            position = [lowerParameter, "", ""]
            window *= TimelineQuery.windowGrowth
        }
        return rows
    }
}
