/// Appends JSON straight into a UTF-8 byte buffer. Commas are placed automatically: call
/// `beginObject`/`key`/value…/`endObject` in order and the writer tracks whether a separator is due.
/// Strings are escaped per RFC 8259 (quotes, backslash, every control character); invalid UTF-8 in
/// raw byte input is replaced with U+FFFD so the output is always valid UTF-8 JSON.
public struct JSONWriter {
    public private(set) var bytes: [UInt8]
    /// True when the next value or key at the current nesting level needs a leading comma.
    private var needsComma = false
    /// True right after `key(_:)`: the next value belongs to that key and takes no comma.
    private var afterKey = false

    public init(capacity: Int = 4096) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    // MARK: structure

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes an object key. `name` must be a plain ASCII identifier (no escaping is done for keys
    /// given as `StaticString`, which are compile-time constants of this module).
    public mutating func key(_ name: StaticString) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
        needsComma = false
    }

    // MARK: values

    public mutating func string(_ value: String) {
        separate()
        var value = value
        value.withUTF8 { appendEscaped($0) }
        needsComma = true
    }

    /// A string given as raw bytes (e.g. straight from a query result); invalid UTF-8 becomes U+FFFD.
    public mutating func string(utf8 buffer: UnsafeBufferPointer<UInt8>) {
        separate()
        appendEscaped(buffer)
        needsComma = true
    }

    public mutating func int(_ value: Int) {
        separate()
        appendDecimal(value)
        needsComma = true
    }

    public mutating func bool(_ value: Bool) {
        separate()
        if value {
            bytes.append(contentsOf: [0x74, 0x72, 0x75, 0x65])  // true
        } else {
            bytes.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])  // false
        }
        needsComma = true
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])  // null
        needsComma = true
    }

    /// An ISO 8601 datetime with milliseconds and `Z`, from epoch milliseconds.
    public mutating func datetime(epochMilliseconds: Int64) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        Timestamp.appendISO8601(epochMilliseconds: epochMilliseconds, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// Splices an already-encoded JSON value (e.g. a `jsonb` column's text) unchanged. The caller
    /// guarantees it is one valid JSON value — PostgreSQL's `jsonb` output always is.
    public mutating func rawJSON(_ encoded: UnsafeBufferPointer<UInt8>) {
        separate()
        bytes.append(contentsOf: encoded)
        needsComma = true
    }

    public mutating func rawJSON(_ encoded: [UInt8]) {
        encoded.withUnsafeBufferPointer { rawJSON($0) }
    }

    // MARK: conveniences

    public mutating func field(_ name: StaticString, _ value: String) {
        key(name)
        string(value)
    }

    public mutating func field(_ name: StaticString, _ value: Int) {
        key(name)
        int(value)
    }

    public mutating func field(_ name: StaticString, _ value: Bool) {
        key(name)
        bool(value)
    }

    /// Writes the field only when the value is present (optional lexicon properties are omitted, never null).
    public mutating func optionalField(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        field(name, value)
    }

    // MARK: internals

    private mutating func separate() {
        if afterKey {
            afterKey = false
        } else if needsComma {
            bytes.append(UInt8(ascii: ","))
        }
    }

    private mutating func appendDecimal(_ value: Int) {
        if value == 0 {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        var magnitude = value.magnitude
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
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
            for index in stride(from: count - 1, through: 0, by: -1) { bytes.append(buffer[index]) }
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Escapes and appends a quoted string, validating UTF-8 as it goes.
    private mutating func appendEscaped(_ input: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        var index = 0
        let count = input.count
        var runStart = 0
        @inline(__always) func flush(_ end: Int, _ bytes: inout [UInt8]) {
            if end > runStart { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: input[runStart..<end])) }
        }
        while index < count {
            let byte = input[index]
            if byte >= 0x20 && byte < 0x80 && byte != 0x22 && byte != 0x5C {
                index += 1
                continue
            }
            if byte < 0x80 {
                flush(index, &bytes)
                switch byte {
                case 0x22: bytes.append(contentsOf: [0x5C, 0x22])
                case 0x5C: bytes.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: bytes.append(contentsOf: [0x5C, 0x6E])
                case 0x0D: bytes.append(contentsOf: [0x5C, 0x72])
                case 0x09: bytes.append(contentsOf: [0x5C, 0x74])
                case 0x08: bytes.append(contentsOf: [0x5C, 0x62])
                case 0x0C: bytes.append(contentsOf: [0x5C, 0x66])
                default:
                    bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30])  // \u00
                    bytes.append(Self.hexDigits[Int(byte >> 4)])
                    bytes.append(Self.hexDigits[Int(byte & 0x0F)])
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
            flush(index, &bytes)
            bytes.append(contentsOf: [0xEF, 0xBF, 0xBD])  // U+FFFD
            index += 1
            runStart = index
        }
        flush(count, &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Length of the well-formed UTF-8 sequence starting at `index` (lead byte ≥ 0x80), or 0 when
    /// ill-formed (overlong forms, surrogates, > U+10FFFF and truncated sequences are rejected).
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
