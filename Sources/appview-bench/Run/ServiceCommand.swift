import API
import ArgumentParser
import Foundation
import Storage

/// `appview-bench service`: drives the API through nginx with wrk for each endpoint × viewer
/// class × connection count, sampling the API's resident memory meanwhile.
struct ServiceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "service",
        abstract: "wrk runs through nginx (getTimeline, getAuthorFeed, listNotifications); append to <run-dir>/results.tsv.")

    @Option(help: "Directory of this run.") var runDir: String
    @Option(help: "nginx base URL.") var baseURL = "http://127.0.0.1:18090"
    @Option(help: "PID of appview-api, for RSS sampling (/proc/<pid>/status).") var apiPid: Int32?
    @Option(help: "Seconds per wrk run.") var duration = 10
    @Option(help: "Connection counts, comma-separated.") var connections = "1,8,32"
    @Option(help: "wrk threads.") var threads = 2
    @Option(help: "The wrk Lua script.") var script = "bench/wrk/viewer-requests.lua"
    @Option(help: "Endpoints, comma-separated.") var endpoints = ServiceEndpoint.allCases.map(\.rawValue).joined(separator: ",")
    @Option(help: "Classes, comma-separated.") var classes = ViewerClass.allCases.map(\.rawValue).joined(separator: ",")

    func run() throws {
        let url = try BenchEnvironment.databaseURL()
        let runDirectory = URL(fileURLWithPath: runDir)
        let targetsDirectory = runDirectory.appendingPathComponent("wrk")
        try FileManager.default.createDirectory(at: targetsDirectory, withIntermediateDirectories: true)
        guard let wrk = ["/usr/bin/wrk", "/usr/local/bin/wrk"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw BenchError("wrk not found: apt-get install wrk")
        }
        let connection = try PostgresConnection(conninfo: url)
        let viewers = try BenchViewers.load(connection)
        let targets = try ServiceTargets(connection: connection, viewers: viewers)
        connection.close()

        let sampler = apiPid.map { RSSSampler(pid: $0) }
        sampler?.start()
        defer { sampler?.stop() }
        let connectionCounts = try BenchViewers.parseList(connections).compactMap(Int.init)
        for endpointName in try BenchViewers.parseList(endpoints) {
            guard let endpoint = ServiceEndpoint(rawValue: endpointName) else { throw ValidationError("unknown endpoint \(endpointName)") }
            for className in try BenchViewers.parseList(classes) {
                let file = targetsDirectory.appendingPathComponent("\(endpoint.rawValue)-\(className).tsv")
                try targets.lines(endpoint, className).joined(separator: "\n").appending("\n").write(to: file, atomically: true, encoding: .utf8)
                for count in connectionCounts {
                    let output = try Subprocess.run(wrk, ["-t", String(min(threads, count)), "-c", String(count), "-d", "\(duration)s",
                                                          "--latency", "-s", script, baseURL, "--", file.path, "42"])
                    try output.text.write(to: targetsDirectory.appendingPathComponent("\(endpoint.rawValue)-\(className)-c\(count).out"),
                                          atomically: true, encoding: .utf8)
                    guard output.status == 0, let parsed = WrkOutput(output.text) else {
                        throw BenchError("wrk failed for \(endpoint.rawValue) \(className) c=\(count): \(output.text.suffix(1500))")
                    }
                    var result = BenchResult(kind: .service, name: endpoint.rawValue, viewerClass: className, clients: count,
                                             requestsPerSecond: parsed.requestsPerSecond, p50: parsed.p50, p99: parsed.p99,
                                             count: parsed.requests)
                    result.errors = parsed.errors
                    try BenchResult.append([result], to: runDirectory)
                    print(String(format: "service %@ %@ c=%d: %.0f req/s, p50 %.2f ms, p99 %.2f ms, errors %d",
                                 endpoint.rawValue, className, count, result.requestsPerSecond, result.p50, result.p99, result.errors))
                }
            }
        }
        if let sampler {
            let peak = sampler.stop()
            try RunFacts.set("api_rss_peak_kb", String(peak.peakRSSKilobytes), in: runDirectory)
            try RunFacts.set("api_hwm_kb", String(peak.highWaterMarkKilobytes), in: runDirectory)
            print("API RSS peak \(peak.peakRSSKilobytes / 1024) MB (VmHWM \(peak.highWaterMarkKilobytes / 1024) MB)")
        }
    }
}

enum ServiceEndpoint: String, CaseIterable, Sendable {
    case getTimeline, getAuthorFeed, listNotifications
}

/// The request lines wrk picks from: per class, every viewer of the class; getAuthorFeed asks for
/// accounts the viewer follows (active ones for dense classes, rare posters for sparse).
/// getTimeline asks for the page below `timelineCursor`, the dataset's newest item: the generated
/// activity ends at a fixed date (`end_at`), so without a cursor the service's clock would sit
/// months after the last item and every time window behind "now" would be empty. The cursor
/// puts the request at the dataset's "now", as the anchors' cursor does.
struct ServiceTargets {
    let viewers: [String: [String]]
    let followed: [String: [String]]
    let timelineCursor: FeedCursor

    init(connection: PostgresConnection, viewers: [String: [String]]) throws {
        self.viewers = viewers
        let newest = try connection.query("""
            SELECT floor(extract(epoch FROM sort_at) * 1000)::bigint, cid, uri FROM feed_items
            ORDER BY sort_at DESC, cid DESC, uri DESC LIMIT 1
            """)
        guard newest.rowCount == 1, let millis = newest[0].int64(0), let cid = newest[0].string(1), let uri = newest[0].string(2) else {
            throw BenchError("feed_items is empty: generate the dataset first")
        }
        // One millisecond after the newest item, so the page starts with it.
        timelineCursor = FeedCursor(sortAtMilliseconds: millis + 1, cid: cid, uri: uri)
        var followed: [String: [String]] = [:]
        let all = viewers.values.flatMap { $0 }
        let result = try connection.query("""
            SELECT v.did, f.subject_did
              FROM unnest($1::text[]) AS v(did)
              CROSS JOIN LATERAL (SELECT subject_did FROM follows WHERE creator_did = v.did ORDER BY subject_did LIMIT 10) f
            """, [all])
        for row in result.rows { followed[row.string(0)!, default: []].append(row.string(1)!) }
        self.followed = followed
    }

    func lines(_ endpoint: ServiceEndpoint, _ viewerClass: String) -> [String] {
        let dids = viewers[viewerClass] ?? []
        switch endpoint {
        case .getTimeline:
            let cursor = timelineCursor.encoded.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            return dids.map { "\($0)\t/xrpc/app.bsky.feed.getTimeline?limit=50&cursor=\(cursor)" }
        case .listNotifications:
            return dids.map { "\($0)\t/xrpc/app.bsky.notification.listNotifications?limit=50" }
        case .getAuthorFeed:
            return dids.flatMap { viewer in
                (followed[viewer] ?? []).map { "\(viewer)\t/xrpc/app.bsky.feed.getAuthorFeed?actor=\($0)&limit=50" }
            }
        }
    }
}

/// The figures of a `wrk --latency` run.
struct WrkOutput {
    var requestsPerSecond: Double
    var p50: Double
    var p99: Double
    var requests: Int
    var errors: Int

    init?(_ text: String) {
        var rps: Double?, p50: Double?, p99: Double?, requests = 0, errors = 0
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if line.hasPrefix("Requests/sec:"), fields.count >= 2 { rps = Double(fields[1]) }
            if line.hasPrefix("50%"), fields.count >= 2 { p50 = Self.milliseconds(String(fields[1])) }
            if line.hasPrefix("99%"), fields.count >= 2 { p99 = Self.milliseconds(String(fields[1])) }
            if line.contains("requests in"), let n = Int(fields.first ?? "") { requests = n }
            if line.hasPrefix("Non-2xx or 3xx responses:"), let n = Int(fields.last ?? "") { errors += n }
            if line.hasPrefix("Socket errors:") {
                // Socket errors: connect 0, read 0, write 0, timeout 0
                for part in line.dropFirst("Socket errors:".count).split(separator: ",") {
                    errors += Int(part.split(separator: " ").last ?? "") ?? 0
                }
            }
        }
        guard let rps, let p50, let p99 else { return nil }
        self.requestsPerSecond = rps
        self.p50 = p50
        self.p99 = p99
        self.requests = requests
        self.errors = errors
    }

    /// wrk prints latencies as e.g. `812.00us`, `1.23ms`, `1.02s`.
    static func milliseconds(_ text: String) -> Double? {
        for (suffix, factor) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60_000.0)] where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { $0 * factor }
        }
        return nil
    }
}

/// Samples VmRSS/VmHWM of a process every 200 ms on its own thread.
final class RSSSampler: @unchecked Sendable {
    struct Peak { var peakRSSKilobytes = 0; var highWaterMarkKilobytes = 0 }
    private let pid: Int32
    private let lock = NSLock()
    private var peak = Peak()
    private var running = false

    init(pid: Int32) { self.pid = pid }

    func start() {
        lock.lock(); running = true; lock.unlock()
        Thread.detachNewThread { [self] in
            while isRunning {
                sample()
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
    }

    private var isRunning: Bool { lock.lock(); defer { lock.unlock() }; return running }

    @discardableResult
    func stop() -> Peak {
        sample()
        lock.lock(); defer { lock.unlock() }
        running = false
        return peak
    }

    private func sample() {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return }
        var rss = 0, hwm = 0
        for line in status.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if line.hasPrefix("VmRSS:"), fields.count >= 2 { rss = Int(fields[1]) ?? 0 }
            if line.hasPrefix("VmHWM:"), fields.count >= 2 { hwm = Int(fields[1]) ?? 0 }
        }
        lock.lock()
        peak.peakRSSKilobytes = max(peak.peakRSSKilobytes, rss)
        peak.highWaterMarkKilobytes = max(peak.highWaterMarkKilobytes, hwm)
        lock.unlock()
    }
}
