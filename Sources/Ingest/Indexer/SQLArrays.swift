import Storage

/// An array parameter whose elements may be NULL (`$n::text[]`, `$n::bigint[]`).
struct NullableArray<Element: PostgresBindable>: PostgresBindable {
    var elements: [Element?]
    init(_ elements: [Element?]) { self.elements = elements }
    var postgresText: String { PostgresArrayLiteral.encode(elements) }
}

/// SQL building blocks shared by the indexer's statements.
enum SQLFragment {
    /// Converts a bigint of Unix milliseconds to timestamptz exactly (no floating point).
    static func timestamp(_ milliseconds: String) -> String {
        "(timestamptz 'epoch' + \(milliseconds) * interval '1 millisecond')"
    }
}
