import Storage

/// A text array parameter (`$n::text[]`), NULL elements allowed. Encoded byte-wise: the indexer
/// sends every column of a batch this way, so the encoding is on the hot path.
struct TextArray: PostgresBindable {
    var elements: [String?]
    init(_ elements: [String?]) { self.elements = elements }
    init(_ elements: [String]) { self.elements = elements.map { $0 } }

    var postgresText: String {
        var out: [UInt8] = []
        out.reserveCapacity(elements.reduce(2) { $0 + ($1?.utf8.count ?? 4) + 3 })
        out.append(UInt8(ascii: "{"))
        for (index, element) in elements.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            guard var element else {
                out.append(contentsOf: "NULL".utf8)
                continue
            }
            out.append(UInt8(ascii: "\""))
            element.withUTF8 { bytes in
                for byte in bytes {
                    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
                    out.append(byte)
                }
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }
}

/// A bigint or boolean array parameter (`$n::bigint[]`, `$n::bool[]`), NULL elements allowed.
struct ScalarArray: PostgresBindable {
    var texts: [String]
    init(_ values: [Int64]) { texts = values.map { String($0) } }
    init(_ values: [Int64?]) { texts = values.map { $0.map { String($0) } ?? "NULL" } }
    init(_ values: [Bool]) { texts = values.map { $0 ? "t" : "f" } }
    var postgresText: String { "{" + texts.joined(separator: ",") + "}" }
}

/// SQL building blocks shared by the indexer's statements.
enum SQLFragment {
    /// Converts a bigint of Unix milliseconds to timestamptz exactly (no floating point).
    static func timestamp(_ milliseconds: String) -> String {
        "(timestamptz 'epoch' + \(milliseconds) * interval '1 millisecond')"
    }
}
