/// Writes JSON the way Jetstream (Go, goccy/go-json with encoding/json's defaults) writes it, byte
/// for byte: `<`, `>`, `&` as `\u003c` `\u003e` `\u0026`, U+2028/U+2029 escaped, control
/// characters other than `\n` `\r` `\t` as `\u00XX`, invalid UTF-8 as `\ufffd`, integers in decimal.
/// Separators are the caller's: this writer appends exactly what it is told.
struct JetstreamJSONWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 1024) {
        bytes.reserveCapacity(capacity)
    }

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func byte(_ value: UInt8) {
        bytes.append(value)
    }

    mutating func int(_ value: Int64) {
        if value == 0 {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        var magnitude = value.magnitude
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var digits: [UInt8] = []
        digits.reserveCapacity(20)
        while magnitude > 0 {
            digits.append(UInt8(truncatingIfNeeded: magnitude % 10) + 48)
            magnitude /= 10
        }
        bytes.append(contentsOf: digits.reversed())
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    mutating func string(_ value: String) {
        var copy = value
        copy.withUTF8 { string(utf8: $0) }
    }

    mutating func string(utf8 input: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        var index = 0
        var runStart = 0
        let count = input.count
        while index < count {
            let byte = input[index]
            if byte >= 0x20 && byte < 0x80 {
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "&"):
                    break
                default:
                    index += 1
                    continue
                }
            }
            if byte < 0x80 {
                flush(input, from: runStart, to: index)
                switch byte {
                case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
                case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: bytes.append(contentsOf: [0x5C, 0x6E])
                case 0x0D: bytes.append(contentsOf: [0x5C, 0x72])
                case 0x09: bytes.append(contentsOf: [0x5C, 0x74])
                default: unicodeEscape(UInt16(byte))
                }
                index += 1
                runStart = index
                continue
            }
            let length = Self.validSequenceLength(input, at: index)
            if length == 0 {
                flush(input, from: runStart, to: index)
                bytes.append(contentsOf: Array("\\ufffd".utf8))
                index += 1
                runStart = index
                continue
            }
            // U+2028 and U+2029 (E2 80 A8/A9) break JavaScript string literals: Go escapes them.
            if length == 3 && byte == 0xE2 && input[index + 1] == 0x80 && (input[index + 2] == 0xA8 || input[index + 2] == 0xA9) {
                flush(input, from: runStart, to: index)
                unicodeEscape(input[index + 2] == 0xA8 ? 0x2028 : 0x2029)
                index += 3
                runStart = index
                continue
            }
            index += length
        }
        flush(input, from: runStart, to: count)
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func flush(_ input: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) {
        if end > start { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: input[start..<end])) }
    }

    private mutating func unicodeEscape(_ unit: UInt16) {
        bytes.append(contentsOf: [0x5C, 0x75])
        bytes.append(Self.hexDigits[Int((unit >> 12) & 0xF)])
        bytes.append(Self.hexDigits[Int((unit >> 8) & 0xF)])
        bytes.append(Self.hexDigits[Int((unit >> 4) & 0xF)])
        bytes.append(Self.hexDigits[Int(unit & 0xF)])
    }

    /// Length of the well-formed UTF-8 sequence at `index` (lead byte ≥ 0x80), 0 when ill-formed.
    static func validSequenceLength(_ input: UnsafeBufferPointer<UInt8>, at index: Int) -> Int {
        let lead = input[index]
        let remaining = input.count - index
        func isContinuation(_ byte: UInt8) -> Bool { byte & 0xC0 == 0x80 }
        switch lead {
        case 0xC2...0xDF:
            return remaining >= 2 && isContinuation(input[index + 1]) ? 2 : 0
        case 0xE0...0xEF:
            guard remaining >= 3 else { return 0 }
            let second = input[index + 1]
            let lower: UInt8 = lead == 0xE0 ? 0xA0 : 0x80
            let upper: UInt8 = lead == 0xED ? 0x9F : 0xBF
            return second >= lower && second <= upper && isContinuation(input[index + 2]) ? 3 : 0
        case 0xF0...0xF4:
            guard remaining >= 4 else { return 0 }
            let second = input[index + 1]
            let lower: UInt8 = lead == 0xF0 ? 0x90 : 0x80
            let upper: UInt8 = lead == 0xF4 ? 0x8F : 0xBF
            return second >= lower && second <= upper && isContinuation(input[index + 2])
                && isContinuation(input[index + 3]) ? 4 : 0
        default:
            return 0
        }
    }

    static let base64Alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// A JSON string of `data` in standard base64 without padding (Go's `base64.RawStdEncoding`,
    /// what the atproto data model uses for `$bytes`).
    mutating func base64RawString(_ data: [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        let alphabet = Self.base64Alphabet
        var index = 0
        while index + 3 <= data.count {
            let chunk = UInt32(data[index]) << 16 | UInt32(data[index + 1]) << 8 | UInt32(data[index + 2])
            bytes.append(alphabet[Int(chunk >> 18 & 0x3F)])
            bytes.append(alphabet[Int(chunk >> 12 & 0x3F)])
            bytes.append(alphabet[Int(chunk >> 6 & 0x3F)])
            bytes.append(alphabet[Int(chunk & 0x3F)])
            index += 3
        }
        let rest = data.count - index
        if rest == 1 {
            let chunk = UInt32(data[index]) << 16
            bytes.append(alphabet[Int(chunk >> 18 & 0x3F)])
            bytes.append(alphabet[Int(chunk >> 12 & 0x3F)])
        } else if rest == 2 {
            let chunk = UInt32(data[index]) << 16 | UInt32(data[index + 1]) << 8
            bytes.append(alphabet[Int(chunk >> 18 & 0x3F)])
            bytes.append(alphabet[Int(chunk >> 12 & 0x3F)])
            bytes.append(alphabet[Int(chunk >> 6 & 0x3F)])
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Decodes standard base64 without padding as Go's `RawStdEncoding` does (lenient about the
    /// unused low bits); nil for anything else.
    static func decodeBase64Raw(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        var count = 0
        for character in text.utf8 {
            let value: UInt32
            switch character {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(character - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(character - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(character - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            default: return nil
            }
            count += 1
            buffer = (buffer << 6) | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            }
            buffer &= (1 << UInt32(bits)) - 1
        }
        // A single character left over cannot encode a byte.
        guard count % 4 != 1 else { return nil }
        return out
    }
}
