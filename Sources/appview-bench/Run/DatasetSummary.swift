import Storage

/// Row counts and on-disk sizes of the benchmark tables, for the report.
struct DatasetSummary {
    var fingerprint: String?
    var rows: [(table: String, rows: Int, bytes: Int)]
    var databaseBytes: Int

    static let tables = ["actors", "posts", "feed_items", "likes", "reposts", "follows", "notifications",
                         "post_aggregates", "actor_aggregates"]

    static func load(_ connection: PostgresConnection) throws -> DatasetSummary {
        var rows: [(String, Int, Int)] = []
        for table in tables {
            // Exact counts for the report (a few seconds on the full dataset).
            let result = try connection.query("SELECT count(*), pg_total_relation_size($1::regclass) FROM \(table)", [table])
            rows.append((table, result[0].int(0) ?? 0, result[0].int(1) ?? 0))
        }
        let size = try connection.query("SELECT pg_database_size(current_database())")[0].int(0) ?? 0
        return DatasetSummary(fingerprint: try DatasetGenerator.existingFingerprint(connection), rows: rows, databaseBytes: size)
    }

    var markdown: String {
        var out = "| table | rows | size (tables + indexes) |\n|---|---:|---:|\n"
        for row in rows { out += "| \(row.table) | \(row.rows) | \(Self.megabytes(row.bytes)) |\n" }
        out += "| **database** | | \(Self.megabytes(databaseBytes)) |\n"
        if let fingerprint { out += "\nParameters: `\(fingerprint)`\n" }
        return out
    }

    static func megabytes(_ bytes: Int) -> String { String(format: "%.0f MB", Double(bytes) / 1_048_576) }
}

import Foundation
