import ArgumentParser
import Foundation
import Storage

/// `appview-bench report`: turns a run directory (results.tsv, facts.tsv) into the markdown report.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Write the markdown report of a run directory and print it.")

    @Option(help: "Directory of this run.") var runDir: String
    @Option(help: "Output markdown file.") var out: String

    func run() throws {
        let runDirectory = URL(fileURLWithPath: runDir)
        let results = BenchResult.load(from: runDirectory)
        let facts = RunFacts.load(from: runDirectory)
        var dataset: DatasetSummary?
        if let url = ProcessInfo.processInfo.environment["DATABASE_URL"], let connection = try? PostgresConnection(conninfo: url) {
            dataset = try? DatasetSummary.load(connection)
            if let version = try? connection.query("SHOW server_version")[0].string(0) {
                try RunFacts.set("postgresql", version, in: runDirectory)
            }
            connection.close()
        }
        let markdown = ReportWriter(results: results, facts: RunFacts.load(from: runDirectory), dataset: dataset).markdown
        _ = facts
        try markdown.write(toFile: out, atomically: true, encoding: .utf8)
        print(markdown)
    }
}

/// Renders the report: service, ceiling and anchor tables, then the targets with verdicts.
struct ReportWriter {
    let results: [BenchResult]
    let facts: [String: String]
    let dataset: DatasetSummary?

    static let timelineP99TargetMs = 25.0
    static let anchorFactorTarget = 5.0
    static let ceilingRatioTarget = 0.6
    static let rssTargetMB = 150.0

    var markdown: String {
        var out = "# Read-path benchmark, \(facts["date"] ?? "")\n\n"
        out += machineSection + "\n"
        out += "## Dataset\n\n" + (dataset?.markdown ?? "_not available (DATABASE_URL unset or unreachable)_\n") + "\n"
        if let seconds = facts["generate_seconds"] { out += "Generation: \(seconds) s (`appview-bench generate`, \(facts["generate_note"] ?? "COPY + index rebuild + derive + VACUUM")).\n\n" }
        out += serviceSection + ceilingSection + anchorSection + targetSection + rerunSection
        return out
    }

    private var machineSection: String {
        var out = "## Machine\n\n| fact | value |\n|---|---|\n"
        for key in ["cpu", "nproc", "memory", "postgresql", "load_before", "commit", "note"] {
            if let value = facts[key] { out += "| \(key) | \(value) |\n" }
        }
        return out
    }

    private func ms(_ value: Double) -> String { value >= 100 ? String(format: "%.0f", value) : String(format: "%.2f", value) }

    private var serviceSection: String {
        let rows = results.filter { $0.kind == .service }
        var out = "## Service through nginx (wrk, `-t 2 -d \(facts["duration"] ?? "10")s --latency`)\n\n"
        guard !rows.isEmpty else {
            return out + "_not measured in this run: \(facts["service_status"] ?? "the API or nginx was not available")._\n\n"
        }
        out += "| endpoint | class | connections | req/s | p50 ms | p99 ms | requests | errors |\n|---|---|---:|---:|---:|---:|---:|---:|\n"
        for r in rows {
            out += "| \(r.name) | \(r.viewerClass) | \(r.clients) | \(String(format: "%.0f", r.requestsPerSecond)) | \(ms(r.p50)) | \(ms(r.p99)) | \(r.count) | \(r.errors) |\n"
        }
        if let peak = facts["api_rss_peak_kb"].flatMap(Int.init) {
            out += "\nAPI resident memory during the wrk runs: peak VmRSS \(peak / 1024) MB"
            if let hwm = facts["api_hwm_kb"].flatMap(Int.init) { out += ", VmHWM \(hwm / 1024) MB" }
            out += ".\n"
        }
        return out + "\n"
    }

    private var ceilingSection: String {
        let rows = results.filter { $0.kind == .ceiling }
        var out = "## Database ceiling (pgbench running the service's own SQL)\n\n"
        guard !rows.isEmpty else {
            return out + "_not measured in this run: \(facts["ceiling_status"] ?? "the API's SQL constants are not available to appview-bench yet")._\n\n"
        }
        out += "One transaction = the statements the service issues for one request (one page of 50: getTimeline below the dataset's "
        out += "newest item, as wrk asks; the others the first page), built from the API's "
        out += "SQL constants; the script of a class: `appview-bench print-sql --script <endpoint> --viewer-class <class>` "
        out += "(bench/README.md, \"Database ceiling\").\n\n"
        out += "| endpoint | class | clients | tx/s | p50 ms | p99 ms | rows min / median |\n|---|---|---:|---:|---:|---:|---|\n"
        for r in rows {
            out += "| \(r.name) | \(r.viewerClass) | \(r.clients) | \(String(format: "%.0f", r.requestsPerSecond)) | \(ms(r.p50)) | \(ms(r.p99)) | \(r.rowsMin < 0 ? "–" : "\(r.rowsMin) / \(r.rowsMedian)") |\n"
        }
        return out + "\n"
    }

    private var anchorSection: String {
        let rows = results.filter { $0.kind == .anchor }
        var out = "## Anchors: the replaced systems' timeline shapes (pgbench, same data, same run)\n\n"
        out += "(a) = `feed_items ⋈ follows(creator = viewer) ⋈ posts`, 2-day window behind the cursor, ∪ own items, "
        out += "`ORDER BY sort_at DESC, cid DESC LIMIT 50`; (b) = `posts WHERE author_did IN (follows) OR EXISTS (repost by a follow) "
        out += "ORDER BY created_at DESC LIMIT 50` (with a bench-only index on `posts(created_at DESC)`, as the replaced system had). "
        out += "Cursor = the dataset's newest instant. Rows = page size per viewer of the class (min / median of 20 viewers); "
        out += "a page under 50 rows while older items exist is a short page. "
        out += "With few transactions (slow shapes), p99 is close to the maximum.\n\n"
        guard !rows.isEmpty else { return out + "_not measured in this run._\n\n" }
        out += "| shape | class | clients | tx/s | p50 ms | p99 ms | transactions | rows min / median | short pages |\n|---|---|---:|---:|---:|---:|---:|---|---|\n"
        for r in rows {
            let short = r.rowsMin >= 0 && r.rowsMin < 50 ? "**yes**" : "no"
            out += "| \(r.name) | \(r.viewerClass) | \(r.clients) | \(String(format: "%.1f", r.requestsPerSecond)) | \(ms(r.p50)) | \(ms(r.p99)) | \(r.count) | \(r.rowsMin) / \(r.rowsMedian) | \(short) |\n"
        }
        return out + "\n"
    }

    private struct Verdict { var target: String; var figure: String; var verdict: String }

    private var targetSection: String {
        var verdicts: [Verdict] = []
        let service = results.filter { $0.kind == .service }
        let timeline8 = service.filter { $0.name == ServiceEndpoint.getTimeline.rawValue && $0.clients == 8 }
        if timeline8.isEmpty {
            verdicts.append(Verdict(target: "getTimeline p99 ≤ 25 ms in every class at 8 connections", figure: "not measured", verdict: "pending"))
        } else {
            for r in timeline8 {
                verdicts.append(Verdict(target: "getTimeline p99 ≤ 25 ms, \(r.viewerClass), 8 connections",
                                        figure: "\(ms(r.p99)) ms" + (r.errors > 0 ? " (\(r.errors) errors)" : ""),
                                        verdict: r.p99 <= Self.timelineP99TargetMs && r.errors == 0 ? "met" : "NOT met"))
            }
        }
        for shape in AnchorShape.allCases {
            // The shape's worst class: the highest p99 at the highest client count measured.
            let anchors = results.filter { $0.kind == .anchor && $0.name == shape.rawValue }
            guard let clients = anchors.map(\.clients).max(),
                  let worst = anchors.filter({ $0.clients == clients }).max(by: { $0.p99 < $1.p99 }) else { continue }
            let target = "≥ 5× lower p99 than anchor \(shape.rawValue) in its worst class (\(worst.viewerClass), \(clients) clients: \(ms(worst.p99)) ms)"
            let ours = timeline8.first { $0.viewerClass == worst.viewerClass }
                ?? service.first { $0.name == ServiceEndpoint.getTimeline.rawValue && $0.viewerClass == worst.viewerClass && $0.clients == clients }
            if let ours, ours.p99 > 0 {
                let factor = worst.p99 / ours.p99
                verdicts.append(Verdict(target: target, figure: String(format: "%.1f× (ours %@ ms at %d connections)", factor, ms(ours.p99), ours.clients),
                                        verdict: factor >= Self.anchorFactorTarget ? "met" : "NOT met"))
            } else {
                verdicts.append(Verdict(target: target, figure: "service not measured", verdict: "pending"))
            }
        }
        let ceilings = results.filter { $0.kind == .ceiling }
        if ceilings.isEmpty || service.isEmpty {
            verdicts.append(Verdict(target: "service throughput ≥ 0.6 × pgbench ceiling of its own SQL", figure: "not measured", verdict: "pending"))
        } else {
            for c in ceilings {
                guard let s = service.first(where: { $0.name == c.name && $0.viewerClass == c.viewerClass && $0.clients == c.clients }) else { continue }
                let ratio = s.requestsPerSecond / max(c.requestsPerSecond, 0.001)
                verdicts.append(Verdict(target: "\(c.name) \(c.viewerClass) at \(c.clients): service / ceiling ≥ 0.6",
                                        figure: String(format: "%.0f / %.0f = %.2f", s.requestsPerSecond, c.requestsPerSecond, ratio),
                                        verdict: ratio >= Self.ceilingRatioTarget ? "met" : "NOT met"))
            }
        }
        if let peak = facts["api_rss_peak_kb"].flatMap(Int.init) {
            let mb = Double(peak) / 1024
            verdicts.append(Verdict(target: "API resident memory ≤ 150 MB under load", figure: String(format: "%.0f MB peak VmRSS", mb),
                                    verdict: mb <= Self.rssTargetMB ? "met" : "NOT met"))
        } else {
            verdicts.append(Verdict(target: "API resident memory ≤ 150 MB under load", figure: "not measured", verdict: "pending"))
        }
        var out = "## Targets\n\n| target | figure | verdict |\n|---|---|---|\n"
        for v in verdicts { out += "| \(v.target) | \(v.figure) | \(v.verdict) |\n" }
        return out + "\n"
    }

    private var rerunSection: String {
        """
        ## How to rerun

        ```
        make bench                       # = scripts/bench.sh: build, cluster on :54331, generate (skipped when present), measure, report
        BENCH_SCALE=0.04 make bench      # a quick, smaller dataset
        BENCH_DATABASE_URL=… make bench  # an existing dataset (migrated, reused when the parameters match)
        DATABASE_URL=… appview-bench generate [--scale S] && appview-bench anchors --run-dir DIR && appview-bench report --run-dir DIR --out FILE
        ```

        """
    }
}
