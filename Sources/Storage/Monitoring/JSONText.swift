import Foundation

/// Minimal hand-written JSON output for the monitor's snapshot (the API serves it verbatim).
struct JSONText {
    private(set) var text = ""

    mutating func raw(_ fragment: String) { text += fragment }

    /// `"key":` with the key escaped.
    mutating func key(_ name: String) {
        string(name)
        text += ":"
    }

    mutating func string(_ value: String) {
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }

    mutating func int(_ value: Int) { text += String(value) }

    /// Rounded to three decimals; non-finite values (never expected) become 0 to keep the JSON valid.
    mutating func double(_ value: Double) {
        guard value.isFinite else { text += "0"; return }
        let rounded = (value * 1000).rounded() / 1000
        if rounded == rounded.rounded() && abs(rounded) < 1e15 {
            text += String(Int64(rounded))
        } else {
            text += String(rounded)
        }
    }

    /// RFC 3339 UTC timestamp with milliseconds, e.g. `2026-07-04T12:00:00.123Z`.
    mutating func timestamp(_ date: Date) {
        string(Self.rfc3339(date))
    }

    static func rfc3339(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(milliseconds % 1000), 3))Z"
    }
}
