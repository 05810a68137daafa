/// Fast text rendering of millisecond timestamps (no Foundation formatters in the hot loop).
enum TimestampText {
    /// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    @inline(__always)
    static func civil(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// Days since the epoch for a civil date (inverse of `civil`).
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// `2026-07-04T12:34:56.789Z` (iso = true) or `2026-07-04 12:34:56.789+00` (PostgreSQL input).
    @inline(__always)
    static func append(_ buffer: inout [UInt8], millis: Int64, iso: Bool) {
        let days = millis >= 0 ? millis / 86_400_000 : (millis - 86_399_999) / 86_400_000
        let msOfDay = millis - days * 86_400_000
        let (y, m, d) = civil(days)
        digits(&buffer, y, 4); buffer.append(UInt8(ascii: "-"))
        digits(&buffer, m, 2); buffer.append(UInt8(ascii: "-"))
        digits(&buffer, d, 2); buffer.append(iso ? UInt8(ascii: "T") : UInt8(ascii: " "))
        digits(&buffer, msOfDay / 3_600_000, 2); buffer.append(UInt8(ascii: ":"))
        digits(&buffer, (msOfDay / 60_000) % 60, 2); buffer.append(UInt8(ascii: ":"))
        digits(&buffer, (msOfDay / 1000) % 60, 2); buffer.append(UInt8(ascii: "."))
        digits(&buffer, msOfDay % 1000, 3)
        if iso {
            buffer.append(UInt8(ascii: "Z"))
        } else {
            buffer.append(UInt8(ascii: "+")); buffer.append(UInt8(ascii: "0")); buffer.append(UInt8(ascii: "0"))
        }
    }

    @inline(__always)
    static func digits(_ buffer: inout [UInt8], _ value: Int64, _ width: Int) {
        var divisor: Int64 = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            buffer.append(UInt8(48 + (rest / divisor) % 10))
            rest %= divisor
            divisor /= 10
        }
    }

    /// The same rendering as a String (for SQL parameters and reports).
    static func string(millis: Int64, iso: Bool) -> String {
        var buffer: [UInt8] = []
        append(&buffer, millis: millis, iso: iso)
        return String(decoding: buffer, as: UTF8.self)
    }
}
