import JSON

/// The decoded query string of a request. Keys may repeat (array parameters such as
/// `?uris=a&uris=b`); `+` decodes to a space and `%XX` to its byte, as in URL form encoding.
public struct QueryParameters: Sendable {
    private var values: [String: [String]] = [:]

    /// Decodes `query` (without `?`). Malformed percent-encoding or invalid UTF-8 is a 400.
    public init(parsing query: String) throws(XRPCError) {
        guard !query.isEmpty else { return }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let keyEnd = pair.firstIndex(of: "=") ?? pair.endIndex
            let key = try Self.percentDecode(pair[..<keyEnd])
            let value = keyEnd == pair.endIndex ? "" : try Self.percentDecode(pair[pair.index(after: keyEnd)...])
            values[key, default: []].append(value)
        }
    }

    /// All values of a key, in order of appearance.
    public func all(_ key: String) -> [String] { values[key] ?? [] }

    /// The single value of a scalar parameter; giving it twice is a 400.
    public func single(_ key: String) throws(XRPCError) -> String? {
        guard let list = values[key] else { return nil }
        guard list.count == 1 else { throw .invalidRequest("Parameter \(key) must be given once") }
        return list[0]
    }

    /// `limit`: an integer within `range`, `defaultValue` when absent.
    public func limit(default defaultValue: Int = 50, range: ClosedRange<Int> = 1...100) throws(XRPCError) -> Int {
        guard let text = try single("limit") else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw .invalidRequest("limit must be an integer between \(range.lowerBound) and \(range.upperBound)")
        }
        return value
    }

    /// A required DID-or-handle parameter.
    public func requiredActor(_ key: String = "actor") throws(XRPCError) -> String {
        guard let text = try single(key), !text.isEmpty else {
            throw .invalidRequest("Error: Params must have the property \"\(key)\"")
        }
        guard Identifiers.isATIdentifier(text) else {
            throw .invalidRequest("\(key) must be a valid did or a handle")
        }
        return text
    }

    /// A required array parameter: at least one and at most `maxCount` values, each accepted by
    /// `isValid`; otherwise a 400 saying "`key` must contain `expected`".
    public func requiredList(
        _ key: String, maxCount: Int, expected: String, isValid: (String) -> Bool
    ) throws(XRPCError) -> [String] {
        let list = all(key)
        guard !list.isEmpty else { throw .invalidRequest("Error: Params must have the property \"\(key)\"") }
        guard list.count <= maxCount else { throw .invalidRequest("\(key) must not have more than \(maxCount) elements") }
        for value in list where !isValid(value) {
            throw .invalidRequest("\(key) must contain \(expected)")
        }
        return list
    }

    /// An optional datetime parameter as epoch milliseconds.
    public func datetime(_ key: String) throws(XRPCError) -> Int64? {
        guard let text = try single(key) else { return nil }
        guard let value = Timestamp.parseISO8601(text) else {
            throw .invalidRequest("\(key) must be a valid datetime (RFC 3339)")
        }
        return value
    }

    static func percentDecode(_ text: Substring) throws(XRPCError) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    throw .invalidRequest("Malformed percent-encoding in the query string")
                }
                bytes.append(high << 4 | low)
            default:
                bytes.append(byte)
            }
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw .invalidRequest("The query string is not valid UTF-8")
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x41 + 10
        case 0x61...0x66: return byte - 0x61 + 10
        default: return nil
        }
    }
}
