/// Field encoding for `COPY ... FROM STDIN` in text format (the format `copyIn` sends).
public enum PostgresCopyText {
    /// One field: backslash, tab, newline and carriage return escaped; nil becomes `\N` (SQL NULL).
    public static func field(_ value: String?) -> String {
        guard let value else { return "\\N" }
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// One row: fields separated by tabs, terminated by a newline.
    public static func row(_ fields: [String?]) -> String {
        fields.map(field).joined(separator: "\t") + "\n"
    }
}
