import Foundation
import Testing
import Storage
import TestSupport

/// Values travel as parameters and come back unchanged; COPY streams rows.
@Suite(.serialized) struct ParameterTests {
    let database: TestDatabase

    /// One database for the suite (a suite's `init` runs for every test).
    private static let sharedDatabase = Result {
        let database = try TestDatabase(name: "storage_parameters", applyMigrations: false)
        try database.pool.withConnection { connection in
            try connection.execute("CREATE TABLE items (id bigint PRIMARY KEY, label text)")
        }
        return database
    }

    init() throws {
        database = try Self.sharedDatabase.get()
    }

    @Test func injectionLookingStringRoundTripsAsData() throws {
        let hostile = "x'); DROP TABLE items; -- \\' \" $1 ; SELECT pg_sleep(10)"
        let stored = try database.pool.withConnection { connection -> String? in
            try connection.query("INSERT INTO items (id, label) VALUES ($1::bigint, $2) ON CONFLICT (id) DO UPDATE SET label = EXCLUDED.label", [1, hostile])
            return try connection.query("SELECT label FROM items WHERE label = $1", [hostile])[0].string(0)
        }
        #expect(stored == hostile)
        let tableStillThere = try database.pool.withConnection { try $0.query("SELECT to_regclass('items') IS NOT NULL")[0].bool(0) }
        #expect(tableStillThere == true)
    }

    @Test func textArraysWithQuotesCommasBackslashesAndNullRoundTrip() throws {
        let elements: [String?] = ["plain", "with \"quotes\"", "a,b", "back\\slash", nil, "NULL", "", "{braces}", " spaced ", "ünï 🦋"]
        let rows = try database.pool.withConnection { connection in
            try connection.query(
                "SELECT element, element IS NULL FROM unnest($1::text[]) WITH ORDINALITY AS t(element, position) ORDER BY position",
                [PostgresArrayLiteral.encode(elements)]
            ).rows
        }
        #expect(rows.map { $0.string(0) } == elements)
        #expect(rows.map { $0.bool(1) } == elements.map { $0 == nil })
    }

    @Test func swiftArraysBindAsArrayLiterals() throws {
        let numbers: [Int] = [1, -2, Int.max]
        let labels = ["x,y", "q\"uote"]
        let result = try database.pool.withConnection { connection in
            try connection.query("SELECT array_length($1::bigint[], 1), ($1::bigint[])[3], ($2::text[])[2], $3::bool, $4::float8",
                                 [numbers, labels, true, 2.5])[0]
        }
        #expect(result.int(0) == 3)
        #expect(result.int(1) == Int.max)
        #expect(result.string(2) == "q\"uote")
        #expect(result.bool(3) == true)
        #expect(result.double(4) == 2.5)
    }

    @Test func nilParameterIsSQLNull() throws {
        let isNull = try database.pool.withConnection { try $0.query("SELECT $1::text IS NULL", [nil])[0].bool(0) }
        #expect(isNull == true)
    }

    @Test func copyInLoadsRowsWithEscapedFields() throws {
        let labels: [String?] = ["tab\there", "new\nline", "back\\slash", nil, "plain"]
        let copied = try database.pool.withConnection { connection -> Int in
            try connection.execute("TRUNCATE items")
            return try connection.copyIn("COPY items (id, label) FROM STDIN") { send in
                for (index, label) in labels.enumerated() {
                    try send(PostgresCopyText.row([String(index + 100), label]))
                }
            }
        }
        #expect(copied == labels.count)
        let stored = try database.pool.withConnection { connection in
            try connection.query("SELECT label FROM items WHERE id >= 100 ORDER BY id").rows.map { $0.string(0) }
        }
        #expect(stored == labels)
    }

    @Test func copyAbortedByTheSenderLoadsNothingAndKeepsTheConnection() throws {
        struct SenderFailed: Error {}
        try database.pool.withConnection { connection in
            try connection.execute("TRUNCATE items")
            #expect(throws: SenderFailed.self) {
                try connection.copyIn("COPY items (id, label) FROM STDIN") { send in
                    try send(PostgresCopyText.row(["1", "first"]))
                    throw SenderFailed()
                }
            }
            #expect(try connection.query("SELECT count(*) FROM items")[0].int(0) == 0)
        }
    }

    @Test func badSQLIsAQueryErrorWithSQLState() throws {
        do {
            try database.pool.withConnection { try $0.query("SELECT * FROM no_such_table") }
            Issue.record("must fail")
        } catch let error as PostgresError {
            #expect(error.kind == .query)
            #expect(error.sqlState == "42P01")
            #expect(error.message.contains("no_such_table"))
        }
    }
}
