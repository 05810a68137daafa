import CLibPQ

/// The rows a statement returned. Values are read straight from libpq's buffer (text format);
/// the result is freed when the last reference goes away.
public final class QueryResult: @unchecked Sendable {
    let handle: OpaquePointer?

    /// Number of rows returned.
    public let rowCount: Int
    /// Number of columns returned.
    public let columnCount: Int
    /// Rows affected by INSERT/UPDATE/DELETE (`PQcmdTuples`), 0 when not applicable.
    public let affectedRows: Int

    init(handle: OpaquePointer?) {
        self.handle = handle
        if let handle {
            rowCount = Int(PQntuples(handle))
            columnCount = Int(PQnfields(handle))
            affectedRows = Int(String(cString: PQcmdTuples(handle))) ?? 0
        } else {
            rowCount = 0
            columnCount = 0
            affectedRows = 0
        }
    }

    deinit {
        if let handle { PQclear(handle) }
    }

    /// Column index for a name, or nil.
    public func columnIndex(_ name: String) -> Int? {
        guard let handle else { return nil }
        let index = Int(PQfnumber(handle, name))
        return index >= 0 ? index : nil
    }

    /// Column names in order.
    public var columnNames: [String] {
        guard let handle else { return [] }
        return (0..<columnCount).map { String(cString: PQfname(handle, Int32($0))) }
    }

    public subscript(row: Int) -> Row { Row(result: self, index: row) }

    /// All rows, in order.
    public var rows: [Row] { (0..<rowCount).map { Row(result: self, index: $0) } }

    func isNull(_ row: Int, _ column: Int) -> Bool {
        PQgetisnull(handle, Int32(row), Int32(column)) == 1
    }

    func withBytes<T>(_ row: Int, _ column: Int, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T? {
        guard let handle, !isNull(row, column) else { return nil }
        let length = Int(PQgetlength(handle, Int32(row), Int32(column)))
        guard let pointer = PQgetvalue(handle, Int32(row), Int32(column)) else { return nil }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            body(UnsafeBufferPointer(start: $0, count: length))
        }
    }
}

/// One row of a `QueryResult`. Getters return nil for SQL NULL.
public struct Row {
    public let result: QueryResult
    public let index: Int

    public func isNull(_ column: Int) -> Bool { result.isNull(index, column) }

    public func string(_ column: Int) -> String? {
        result.withBytes(index, column) { String(decoding: $0, as: UTF8.self) }
    }

    /// Raw UTF-8 bytes of the value in text format, e.g. to splice stored JSON into a response unchanged.
    public func withUTF8<T>(_ column: Int, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T? {
        result.withBytes(index, column, body)
    }

    public func int(_ column: Int) -> Int? {
        result.withBytes(index, column) { Self.parseInt($0) } ?? nil
    }

    public func int64(_ column: Int) -> Int64? { int(column).map(Int64.init) }

    public func double(_ column: Int) -> Double? { string(column).flatMap(Double.init) }

    /// PostgreSQL's text form of boolean is `t` / `f`.
    public func bool(_ column: Int) -> Bool? {
        result.withBytes(index, column) { $0.first == UInt8(ascii: "t") }
    }

    public func string(_ name: String) -> String? { result.columnIndex(name).flatMap { string($0) } }
    public func int(_ name: String) -> Int? { result.columnIndex(name).flatMap { int($0) } }
    public func bool(_ name: String) -> Bool? { result.columnIndex(name).flatMap { bool($0) } }

    static func parseInt(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard !bytes.isEmpty else { return nil }
        var value = 0
        var negative = false
        var start = 0
        if bytes[0] == UInt8(ascii: "-") { negative = true; start = 1 }
        guard start < bytes.count else { return nil }
        for i in start..<bytes.count {
            let digit = Int(bytes[i]) - 48
            guard digit >= 0 && digit <= 9 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(digit)
            if o1 || o2 { return nil }
            value = s
        }
        return negative ? -value : value
    }
}
