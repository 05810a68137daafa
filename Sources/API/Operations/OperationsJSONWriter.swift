import Foundation

/// A small hand-written JSON object builder for the operations endpoints (no `JSONEncoder`).
/// Keys are written in insertion order so the output is stable and easy to read in a terminal.
struct OperationsJSONWriter {
    private(set) var text = ""
    private var needsComma: [Bool] = []

    /// Opens an object, as the top-level value or as the value of `key`.
    mutating func beginObject(_ key: String? = nil) {
        if let key { writeKey(key) } else { separate() }
        text += "{"
        needsComma.append(false)
    }

    mutating func endObject() {
        text += "}"
        needsComma.removeLast()
    }

    mutating func field(_ key: String, _ value: String?) {
        writeKey(key)
        if let value { Self.appendQuoted(value, to: &text) } else { text += "null" }
    }

    mutating func field(_ key: String, _ value: Int?) {
        writeKey(key)
        text += value.map(String.init) ?? "null"
    }

    mutating func field(_ key: String, _ value: Int64?) {
        writeKey(key)
        text += value.map(String.init) ?? "null"
    }

    mutating func field(_ key: String, _ value: Bool?) {
        writeKey(key)
        text += value.map { $0 ? "true" : "false" } ?? "null"
    }

    /// A number with at most `fractionDigits` decimals; non-finite values become `null`.
    mutating func field(_ key: String, _ value: Double?, fractionDigits: Int = 3) {
        writeKey(key)
        guard let value, value.isFinite else {
            text += "null"
            return
        }
        text += Self.format(value, fractionDigits: fractionDigits)
    }

    var bytes: [UInt8] { Array(text.utf8) }

    private mutating func separate() {
        guard !needsComma.isEmpty else { return }
        if needsComma[needsComma.count - 1] { text += "," }
        needsComma[needsComma.count - 1] = true
    }

    private mutating func writeKey(_ key: String) {
        separate()
        Self.appendQuoted(key, to: &text)
        text += ":"
    }

    /// Fixed-point formatting without trailing zeros ("12.5", "3", "0.042").
    static func format(_ value: Double, fractionDigits: Int) -> String {
        var formatted = String(format: "%.\(fractionDigits)f", value)
        if formatted.contains(".") {
            while formatted.hasSuffix("0") { formatted.removeLast() }
            if formatted.hasSuffix(".") { formatted.removeLast() }
        }
        return formatted == "-0" ? "0" : formatted
    }

    static func appendQuoted(_ value: String, to text: inout String) {
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
}
