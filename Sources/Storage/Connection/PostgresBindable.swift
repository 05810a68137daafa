import Foundation

/// A value that can be sent as a statement parameter, in PostgreSQL's text format.
/// Cast in SQL where the type is not obvious: `$1::bigint`, `$2::text[]`, `$3::timestamptz`.
public protocol PostgresBindable {
    var postgresText: String { get }
}

extension String: PostgresBindable {
    public var postgresText: String { self }
}

extension Substring: PostgresBindable {
    public var postgresText: String { String(self) }
}

extension Int: PostgresBindable {
    public var postgresText: String { String(self) }
}

extension Int64: PostgresBindable {
    public var postgresText: String { String(self) }
}

extension Int32: PostgresBindable {
    public var postgresText: String { String(self) }
}

extension Double: PostgresBindable {
    public var postgresText: String { String(self) }
}

extension Bool: PostgresBindable {
    public var postgresText: String { self ? "t" : "f" }
}

/// Arrays go as array literals: `{"a","b"}`, each element quoted and escaped; nil elements as NULL.
extension Array: PostgresBindable where Element: PostgresBindable {
    public var postgresText: String { PostgresArrayLiteral.encode(self.map { Optional($0) }) }
}

public enum PostgresArrayLiteral {
    /// Encodes elements as a one-dimensional array literal.
    public static func encode<E: PostgresBindable>(_ elements: [E?]) -> String {
        var out = "{"
        out.reserveCapacity(elements.count * 16 + 2)
        for (index, element) in elements.enumerated() {
            if index > 0 { out.append(",") }
            guard let element else {
                out.append("NULL")
                continue
            }
            out.append("\"")
            for character in element.postgresText.unicodeScalars {
                if character == "\"" || character == "\\" { out.append("\\") }
                out.unicodeScalars.append(character)
            }
            out.append("\"")
        }
        out.append("}")
        return out
    }
}

/// Timestamps travel as microseconds since the epoch; SQL converts with `to_timestamp($1::bigint / 1e6)`
/// or, exactly, `timestamptz 'epoch' + $1::bigint * interval '1 microsecond'`.
public struct EpochMicroseconds: PostgresBindable, Sendable, Hashable {
    public var value: Int64
    public init(_ value: Int64) { self.value = value }
    public var postgresText: String { String(value) }
}
