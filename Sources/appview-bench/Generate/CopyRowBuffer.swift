import Storage

/// Accumulates COPY text-format rows as bytes and hands them to `copyIn` in large chunks, so a
/// table of millions of rows streams through a fixed amount of memory.
struct CopyRowBuffer {
    private(set) var bytes: [UInt8] = []
    private let send: (String) throws -> Void
    private let flushThreshold: Int
    private(set) var rows = 0

    init(send: @escaping (String) throws -> Void, flushThreshold: Int = 512 * 1024) {
        self.send = send
        self.flushThreshold = flushThreshold
        bytes.reserveCapacity(flushThreshold + 64 * 1024)
    }

    @inline(__always) mutating func field(_ value: [UInt8]) { bytes.append(contentsOf: value) }
    @inline(__always) mutating func field(_ value: StaticString) {
        value.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }
    @inline(__always) mutating func field(_ value: String) { bytes.append(contentsOf: value.utf8) }
    @inline(__always) mutating func field(_ value: Int) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { raw in
            repeat {
                raw[count] = UInt8(48 + magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for i in stride(from: count - 1, through: 0, by: -1) { bytes.append(raw[i]) }
        }
    }
    @inline(__always) mutating func timestamp(_ millis: Int64) {
        TimestampText.append(&bytes, millis: millis, iso: false)
    }
    @inline(__always) mutating func bool(_ value: Bool) { bytes.append(value ? UInt8(ascii: "t") : UInt8(ascii: "f")) }
    @inline(__always) mutating func null() { bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "N")) }
    @inline(__always) mutating func tab() { bytes.append(9) }

    /// Ends the current row; flushes when the buffer is large.
    @inline(__always) mutating func endRow() throws {
        bytes.append(10)
        rows += 1
        if bytes.count >= flushThreshold { try flush() }
    }

    /// Appends raw bytes inside a field (caller guarantees no tab, newline or backslash).
    @inline(__always) mutating func raw(_ body: (inout [UInt8]) -> Void) { body(&bytes) }

    mutating func flush() throws {
        guard !bytes.isEmpty else { return }
        try send(String(decoding: bytes, as: UTF8.self))
        bytes.removeAll(keepingCapacity: true)
    }
}
