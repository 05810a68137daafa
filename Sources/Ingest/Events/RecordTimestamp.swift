import JSON

/// Parses record timestamps (`createdAt`: RFC 3339 / ISO 8601 with a zone) into Unix milliseconds,
/// truncating sub-millisecond digits, with the shared hand-written `Timestamp` (it runs for every
/// record; Foundation's formatters are slow and reject shapes the network produces, such as
/// `+00:00` or 1–9 fraction digits). Records get two allowances more than API parameters.
public enum RecordTimestamp {
    /// Unix milliseconds, or nil when the text is not a full date-time with a zone in years 1…9999.
    public static func milliseconds(_ text: String) -> Int64? {
        // Year 0 is not a date a record means; it would sort before everything real.
        guard !text.hasPrefix("0000") else { return nil }
        // Accept a space instead of `T`, as PostgreSQL and RFC 3339 §5.6 note do.
        let utf8 = text.utf8
        if utf8.count > 10, utf8[utf8.index(utf8.startIndex, offsetBy: 10)] == UInt8(ascii: " ") {
            var bytes = Array(utf8)
            bytes[10] = UInt8(ascii: "T")
            return Timestamp.parseISO8601(String(decoding: bytes, as: UTF8.self))
        }
        return Timestamp.parseISO8601(text)
    }
}
