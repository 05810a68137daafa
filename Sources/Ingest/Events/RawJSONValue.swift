/// Locates a nested value inside JSON text without building objects, so a record is stored exactly
/// as it was received. Expects text that a JSON parser has already accepted.
enum RawJSONValue {
    /// The text of the value at `path` (a chain of object keys), or nil when absent.
    /// `\u0000` escapes become `\ufffd`: PostgreSQL's jsonb cannot store NUL characters.
    static func text(in bytes: UnsafeBufferPointer<UInt8>, path: [StaticString]) -> String? {
        var scanner = Scanner(bytes: bytes)
        guard let range = scanner.find(path: path) else { return nil }
        let nulEscapes = scanner.nulEscapes.filter { range.contains($0) }
        if nulEscapes.isEmpty {
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        }
        var copy = Array(bytes[range])
        for position in nulEscapes {
            let offset = position - range.lowerBound
            copy.replaceSubrange((offset + 2)..<(offset + 6), with: Array("fffd".utf8))
        }
        return String(decoding: copy, as: UTF8.self)
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        /// Positions of the backslash of each `\u0000` escape seen.
        var nulEscapes: [Int] = []

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        mutating func find(path: [StaticString]) -> Range<Int>? {
            for (depth, key) in path.enumerated() {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return nil }
                index += 1
                var found = false
                while !found {
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
                    let keyStart = index + 1
                    guard skipString() else { return nil }
                    let keyRange = keyStart..<(index - 1)
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                    index += 1
                    skipWhitespace()
                    if matches(keyRange, key) {
                        found = true
                        if depth == path.count - 1 {
                            let start = index
                            guard skipValue() else { return nil }
                            return start..<index
                        }
                    } else {
                        guard skipValue() else { return nil }
                        skipWhitespace()
                        guard index < bytes.count, bytes[index] == UInt8(ascii: ",") else { return nil }
                        index += 1
                    }
                }
            }
            return nil
        }

        func matches(_ range: Range<Int>, _ key: StaticString) -> Bool {
            guard range.count == key.utf8CodeUnitCount else { return false }
            let keyBytes = UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
            return zip(bytes[range], keyBytes).allSatisfy { $0 == $1 }
        }

        mutating func skipWhitespace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
                index += 1
            }
        }

        /// From an opening quote to just past the closing one.
        mutating func skipString() -> Bool {
            index += 1
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    index += 1
                    return true
                case UInt8(ascii: "\\"):
                    if index + 5 < bytes.count, bytes[index + 1] == UInt8(ascii: "u"), bytes[index + 2] == UInt8(ascii: "0"),
                       bytes[index + 3] == UInt8(ascii: "0"), bytes[index + 4] == UInt8(ascii: "0"), bytes[index + 5] == UInt8(ascii: "0") {
                        nulEscapes.append(index)
                    }
                    index += 2
                default:
                    index += 1
                }
            }
            return false
        }

        mutating func skipValue() -> Bool {
            guard index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                return skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while index < bytes.count {
                    switch bytes[index] {
                    case UInt8(ascii: "\""):
                        guard skipString() else { return false }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["):
                        depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 {
                            index += 1
                            return true
                        }
                    default:
                        break
                    }
                    index += 1
                }
                return false
            default:
                while index < bytes.count {
                    switch bytes[index] {
                    case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x0A, 0x0D, 0x09: return true
                    default: index += 1
                    }
                }
                return true
            }
        }
    }
}
