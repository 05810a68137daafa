/// Datetimes as the API speaks them: RFC 3339 with milliseconds and `Z`
/// (`2026-07-04T14:38:08.999Z`), converted from and to epoch milliseconds without Foundation
/// (proleptic Gregorian calendar arithmetic, exact for years 0…9999).
public enum Timestamp {
    /// Appends `YYYY-MM-DDTHH:MM:SS.mmmZ` for the given epoch milliseconds.
    public static func appendISO8601(epochMilliseconds: Int64, to bytes: inout [UInt8]) {
        var days = epochMilliseconds / 86_400_000
        var millisOfDay = epochMilliseconds % 86_400_000
        if millisOfDay < 0 {
            millisOfDay += 86_400_000
            days -= 1
        }
        let (year, month, day) = civilFromDays(days)
        let clampedYear = Int(max(0, min(9999, year)))
        append(clampedYear, width: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        append(Int(month), width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        append(Int(day), width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        let seconds = Int(millisOfDay / 1000)
        append(seconds / 3600, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        append((seconds / 60) % 60, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        append(seconds % 60, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        append(Int(millisOfDay % 1000), width: 3, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// The ISO 8601 string for epoch milliseconds.
    public static func iso8601(epochMilliseconds: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        appendISO8601(epochMilliseconds: epochMilliseconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses an RFC 3339 datetime (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, `T`/`t` and `Z`/`z`
    /// accepted) into epoch milliseconds; fractions beyond milliseconds are truncated.
    /// Returns nil for anything else, including impossible dates (Feb 30, hour 24).
    public static func parseISO8601(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        guard b.count >= 20, b.count <= 64 else { return nil }
        func digits(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= b.count else { return nil }
            var value = 0
            for i in start..<(start + count) {
                let d = Int(b[i]) - 48
                guard d >= 0 && d <= 9 else { return nil }
                value = value * 10 + d
            }
            return value
        }
        guard let year = digits(0, 4), b[4] == UInt8(ascii: "-"), let month = digits(5, 2),
              b[7] == UInt8(ascii: "-"), let day = digits(8, 2),
              b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
              let hour = digits(11, 2), b[13] == UInt8(ascii: ":"), let minute = digits(14, 2),
              b[16] == UInt8(ascii: ":"), let second = digits(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
              hour <= 23, minute <= 59, second <= 60 else { return nil }
        var index = 19
        var millis = 0
        if index < b.count && b[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            while index < b.count, b[index] >= 48, b[index] <= 57 {
                if index - fractionStart < 3 { millis = millis * 10 + Int(b[index]) - 48 }
                index += 1
            }
            let fractionLength = index - fractionStart
            guard fractionLength > 0 else { return nil }
            if fractionLength < 3 { for _ in fractionLength..<3 { millis *= 10 } }
        }
        guard index < b.count else { return nil }
        var offsetMinutes = 0
        if b[index] == UInt8(ascii: "Z") || b[index] == UInt8(ascii: "z") {
            index += 1
        } else if b[index] == UInt8(ascii: "+") || b[index] == UInt8(ascii: "-") {
            let sign = b[index] == UInt8(ascii: "-") ? -1 : 1
            guard let offsetHours = digits(index + 1, 2), index + 3 < b.count, b[index + 3] == UInt8(ascii: ":"),
                  let offsetMins = digits(index + 4, 2), offsetHours <= 23, offsetMins <= 59 else { return nil }
            offsetMinutes = sign * (offsetHours * 60 + offsetMins)
            index += 6
        } else {
            return nil
        }
        guard index == b.count else { return nil }
        let days = daysFromCivil(year: Int64(year), month: Int64(month), day: Int64(day))
        let secondsOfDay = Int64(hour * 3600 + minute * 60 + min(second, 59))
        return (days * 86_400 + secondsOfDay - Int64(offsetMinutes * 60)) * 1000 + Int64(millis)
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 for a civil date (H. Hinnant's algorithm).
    public static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Civil date for days since 1970-01-01 (inverse of `daysFromCivil`).
    static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func append(_ value: Int, width: Int, to bytes: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var remaining = value
        while divisor > 0 {
            bytes.append(UInt8(48 + (remaining / divisor) % 10))
            remaining %= divisor
            divisor /= 10
        }
    }
}
