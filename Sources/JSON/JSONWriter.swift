#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends JSON straight into a UTF-8 byte buffer. Commas are placed automatically: call
/// `beginObject`/`key`/value…/`endObject` in order and the writer tracks whether a separator is due.
/// Strings are escaped per RFC 8259 (quotes, backslash, every control character); invalid UTF-8 in
/// raw byte input is replaced with U+FFFD so the output is always valid UTF-8 JSON.
///
/// The one JSON emitter of the project (XRPC responses, operations endpoints, pool metrics, demo
/// data). Its hot paths are `@inlinable` so callers in other modules keep the speed they had when
/// the writer lived beside them.
public struct JSONWriter {
    /// The JSON written so far.
    public var bytes: [UInt8] { storage }
    /// The JSON written so far, as a `String` (for callers that hand text on, not bytes).
    public var text: String { String(decoding: storage, as: UTF8.self) }

    @usableFromInline var storage: [UInt8]
    /// True when the next value or key at the current nesting level needs a leading comma.
    @usableFromInline var needsComma = false
    /// True right after `key(_:)`: the next value belongs to that key and takes no comma.
    @usableFromInline var afterKey = false

    /// - Parameter capacity: bytes reserved up front (a typical response fits without regrowing).
    @inlinable
    public init(capacity: Int = 4096) {
        storage = []
        storage.reserveCapacity(capacity)
    }

    // MARK: structure

    @inlinable
    public mutating func beginObject() {
        separate()
        storage.append(UInt8(ascii: "{"))
        needsComma = false
    }

    @inlinable
    public mutating func endObject() {
        storage.append(UInt8(ascii: "}"))
        needsComma = true
    }

    @inlinable
    public mutating func beginArray() {
        separate()
        storage.append(UInt8(ascii: "["))
        needsComma = false
    }

    @inlinable
    public mutating func endArray() {
        storage.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes an object key. `name` must be a plain ASCII identifier (no escaping is done for keys
    /// given as `StaticString`, which are string literals in the calling code).
    @inlinable
    public mutating func key(_ name: StaticString) {
        if needsComma { storage.append(UInt8(ascii: ",")) }
        storage.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { storage.append(contentsOf: $0) }
        storage.append(UInt8(ascii: "\""))
        storage.append(UInt8(ascii: ":"))
        afterKey = true
        needsComma = false
    }

    /// Writes an object key known only at run time (e.g. a record's property names); escaped like a
    /// string value. Prefer `key(_:)` with a literal on hot paths.
    @inlinable
    public mutating func dynamicKey(_ name: String) {
        if needsComma { storage.append(UInt8(ascii: ",")) }
        var name = name
        name.withUTF8 { appendEscaped($0) }
        storage.append(UInt8(ascii: ":"))
        afterKey = true
        needsComma = false
    }

    // MARK: values

    @inlinable
    public mutating func string(_ value: String) {
        separate()
        var value = value
        value.withUTF8 { appendEscaped($0) }
        needsComma = true
    }

    /// A string given as raw bytes (e.g. straight from a query result); invalid UTF-8 becomes U+FFFD.
    @inlinable
    public mutating func string(utf8 buffer: UnsafeBufferPointer<UInt8>) {
        separate()
        appendEscaped(buffer)
        needsComma = true
    }

    @inlinable
    public mutating func int(_ value: Int) {
        separate()
        appendDecimal(value)
        needsComma = true
    }

    @inlinable
    public mutating func bool(_ value: Bool) {
        separate()
        if value {
            storage.append(contentsOf: [0x74, 0x72, 0x75, 0x65])  // true
        } else {
            storage.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])  // false
        }
        needsComma = true
    }

    @inlinable
    public mutating func null() {
        separate()
        storage.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])  // null
        needsComma = true
    }

    /// A number rounded to at most `fractionDigits` (0…9) decimals, trailing zeros dropped
    /// (`2.5`, `3`, `0.042`); halves round away from zero. JSON has no NaN or infinity: those
    /// become `null`.
    @inlinable
    public mutating func number(_ value: Double, fractionDigits: Int) {
        guard value.isFinite else { return null() }
        separate()
        appendFixed(value, fractionDigits: fractionDigits)
        needsComma = true
    }

    /// An ISO 8601 datetime with milliseconds and `Z`, from epoch milliseconds.
    @inlinable
    public mutating func datetime(epochMilliseconds: Int64) {
        separate()
        storage.append(UInt8(ascii: "\""))
        Timestamp.appendISO8601(epochMilliseconds: epochMilliseconds, to: &storage)
        storage.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// Splices an already-encoded JSON value (e.g. a `jsonb` column's text) unchanged. The caller
    /// guarantees it is one valid JSON value — PostgreSQL's `jsonb` output always is.
    @inlinable
    public mutating func rawJSON(_ encoded: UnsafeBufferPointer<UInt8>) {
        separate()
        storage.append(contentsOf: encoded)
        needsComma = true
    }

    @inlinable
    public mutating func rawJSON(_ encoded: [UInt8]) {
        encoded.withUnsafeBufferPointer { rawJSON($0) }
    }

    // MARK: conveniences

    @inlinable
    public mutating func field(_ name: StaticString, _ value: String) {
        key(name)
        string(value)
    }

    @inlinable
    public mutating func field(_ name: StaticString, _ value: Int) {
        key(name)
        int(value)
    }

    @inlinable
    public mutating func field(_ name: StaticString, _ value: Bool) {
        key(name)
        bool(value)
    }

    @inlinable
    public mutating func field(_ name: StaticString, _ value: Double, fractionDigits: Int) {
        key(name)
        number(value, fractionDigits: fractionDigits)
    }

    /// Writes the field only when the value is present (optional lexicon properties are omitted, never null).
    @inlinable
    public mutating func optionalField(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        field(name, value)
    }

    /// Writes the field always, with `null` when the value is absent (for reports whose readers
    /// expect every key, unlike lexicon views where `optionalField` omits it).
    @inlinable
    public mutating func nullableField(_ name: StaticString, _ value: String?) {
        key(name)
        if let value { string(value) } else { null() }
    }

    @inlinable
    public mutating func nullableField(_ name: StaticString, _ value: Int?) {
        key(name)
        if let value { int(value) } else { null() }
    }

    @inlinable
    public mutating func nullableField(_ name: StaticString, _ value: Bool?) {
        key(name)
        if let value { bool(value) } else { null() }
    }

    @inlinable
    public mutating func nullableField(_ name: StaticString, _ value: Double?, fractionDigits: Int) {
        key(name)
        if let value { number(value, fractionDigits: fractionDigits) } else { null() }
    }

    // MARK: internals

    @inlinable
    mutating func separate() {
        if afterKey {
            afterKey = false
        } else if needsComma {
            storage.append(UInt8(ascii: ","))
        }
    }

    @inlinable
    mutating func appendDecimal(_ value: Int) {
        if value == 0 {
            storage.append(UInt8(ascii: "0"))
            return
        }
        var magnitude = value.magnitude
        if value < 0 { storage.append(UInt8(ascii: "-")) }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[count] = UInt8(truncatingIfNeeded: magnitude % 10) + 48
                magnitude /= 10
                count += 1
            }
            for index in stride(from: count - 1, through: 0, by: -1) { storage.append(buffer[index]) }
        }
    }

    /// Fixed-point digits of `value` (finite): C's `%.*f`, which rounds the exact binary value
    /// correctly, then trailing zeros and a bare point dropped, and `-0` written as `0`.
    @usableFromInline
    mutating func appendFixed(_ value: Double, fractionDigits: Int) {
        let digits = Int32(max(0, min(9, fractionDigits)))
        // The largest double has 309 integer digits: 320 bytes hold any result with its sign and fraction.
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 320) { buffer in
            let written = withVaList([digits, value]) { vsnprintf(buffer.baseAddress!, buffer.count, "%.*f", $0) }
            var end = Int(max(0, min(written, Int32(buffer.count - 1))))
            if digits > 0 {
                while end > 0 && buffer[end - 1] == CChar(UInt8(ascii: "0")) { end -= 1 }
                if end > 0 && buffer[end - 1] == CChar(UInt8(ascii: ".")) { end -= 1 }
            }
            if end == 2 && buffer[0] == CChar(UInt8(ascii: "-")) && buffer[1] == CChar(UInt8(ascii: "0")) {
                storage.append(UInt8(ascii: "0"))
                return
            }
            for index in 0..<end { storage.append(UInt8(bitPattern: buffer[index])) }
        }
    }

    @usableFromInline static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Escapes and appends a quoted string, validating UTF-8 as it goes.
    @inlinable
    mutating func appendEscaped(_ input: UnsafeBufferPointer<UInt8>) {
        storage.append(UInt8(ascii: "\""))
        var index = 0
        let count = input.count
        var runStart = 0
        @inline(__always) func flush(_ end: Int, _ storage: inout [UInt8]) {
            if end > runStart { storage.append(contentsOf: UnsafeBufferPointer(rebasing: input[runStart..<end])) }
        }
        while index < count {
            let byte = input[index]
            if byte >= 0x20 && byte < 0x80 && byte != 0x22 && byte != 0x5C {
                index += 1
                continue
            }
            if byte < 0x80 {
                flush(index, &storage)
                switch byte {
                case 0x22: storage.append(contentsOf: [0x5C, 0x22])
                case 0x5C: storage.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: storage.append(contentsOf: [0x5C, 0x6E])
                case 0x0D: storage.append(contentsOf: [0x5C, 0x72])
                case 0x09: storage.append(contentsOf: [0x5C, 0x74])
                case 0x08: storage.append(contentsOf: [0x5C, 0x62])
                case 0x0C: storage.append(contentsOf: [0x5C, 0x66])
                default:
                    storage.append(contentsOf: [0x5C, 0x75, 0x30, 0x30])  // \u00
                    storage.append(Self.hexDigits[Int(byte >> 4)])
                    storage.append(Self.hexDigits[Int(byte & 0x0F)])
                }
                index += 1
                runStart = index
                continue
            }
            let length = Self.validUTF8SequenceLength(input, at: index)
            if length > 0 {
                index += length
                continue
            }
            flush(index, &storage)
            storage.append(contentsOf: [0xEF, 0xBF, 0xBD])  // U+FFFD
            index += 1
            runStart = index
        }
        flush(count, &storage)
        storage.append(UInt8(ascii: "\""))
    }

    /// Length of the well-formed UTF-8 sequence starting at `index` (lead byte ≥ 0x80), or 0 when
    /// ill-formed (overlong forms, surrogates, > U+10FFFF and truncated sequences are rejected).
    @inlinable
    static func validUTF8SequenceLength(_ input: UnsafeBufferPointer<UInt8>, at index: Int) -> Int {
        let lead = input[index]
        let remaining = input.count - index
        @inline(__always) func isContinuation(_ byte: UInt8) -> Bool { byte & 0xC0 == 0x80 }
        switch lead {
        case 0xC2...0xDF:
            return remaining >= 2 && isContinuation(input[index + 1]) ? 2 : 0
        case 0xE0...0xEF:
            guard remaining >= 3 else { return 0 }
            let second = input[index + 1]
            let lower: UInt8 = lead == 0xE0 ? 0xA0 : 0x80
            let upper: UInt8 = lead == 0xED ? 0x9F : 0xBF
            guard second >= lower && second <= upper && isContinuation(input[index + 2]) else { return 0 }
            return 3
        case 0xF0...0xF4:
            guard remaining >= 4 else { return 0 }
            let second = input[index + 1]
            let lower: UInt8 = lead == 0xF0 ? 0x90 : 0x80
            let upper: UInt8 = lead == 0xF4 ? 0x8F : 0xBF
            guard second >= lower && second <= upper && isContinuation(input[index + 2])
                && isContinuation(input[index + 3]) else { return 0 }
            return 4
        default:
            return 0
        }
    }
}
