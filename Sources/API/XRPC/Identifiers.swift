/// Syntax checks for the identifier formats the lexicons use (atproto "did", "handle",
/// "at-identifier", "at-uri", "cid", "nsid"). Pure byte scans, no regular expressions.
public enum Identifiers {
    private static func isAlpha(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    private static func isAlnum(_ c: UInt8) -> Bool { isAlpha(c) || isDigit(c) }

    /// `did:<lowercase method>:<method-specific id>`; at most 2048 characters, the id may contain
    /// letters, digits, `._:%-` and must not end with `:` or `%`.
    public static func isDID(_ text: String) -> Bool {
        let b = Array(text.utf8)
        guard b.count >= 7, b.count <= 2048, b.starts(with: Array("did:".utf8)) else { return false }
        var index = 4
        let methodStart = index
        while index < b.count, b[index] >= 0x61, b[index] <= 0x7A { index += 1 }
        guard index > methodStart, index < b.count, b[index] == UInt8(ascii: ":") else { return false }
        index += 1
        guard index < b.count else { return false }
        for c in b[index...] {
            guard isAlnum(c) || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: ":")
                || c == UInt8(ascii: "%") || c == UInt8(ascii: "-") else { return false }
        }
        let last = b[b.count - 1]
        return last != UInt8(ascii: ":") && last != UInt8(ascii: "%")
    }

    /// A domain name of at least two labels; labels 1–63 characters of letters, digits and inner
    /// hyphens; the last label starts with a letter; at most 253 characters.
    public static func isHandle(_ text: String) -> Bool {
        let b = Array(text.utf8)
        guard !b.isEmpty, b.count <= 253 else { return false }
        var labels = 0
        var labelStart = 0
        var index = 0
        while index <= b.count {
            if index == b.count || b[index] == UInt8(ascii: ".") {
                let length = index - labelStart
                guard length >= 1, length <= 63 else { return false }
                guard isAlnum(b[labelStart]), isAlnum(b[index - 1]) else { return false }
                labels += 1
                if index == b.count && !isAlpha(b[labelStart]) { return false }
                labelStart = index + 1
            } else if !(isAlnum(b[index]) || b[index] == UInt8(ascii: "-")) {
                return false
            }
            index += 1
        }
        return labels >= 2
    }

    /// A DID or a handle.
    public static func isATIdentifier(_ text: String) -> Bool {
        text.hasPrefix("did:") ? isDID(text) : isHandle(text)
    }

    /// Namespaced identifier: at least three dot-separated segments, the last one alphabetic-led.
    public static func isNSID(_ text: String) -> Bool {
        let segments = text.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count >= 3, text.utf8.count <= 317 else { return false }
        for (position, segment) in segments.enumerated() {
            let b = Array(segment.utf8)
            guard !b.isEmpty, b.count <= 63 else { return false }
            let isLast = position == segments.count - 1
            for c in b {
                guard isAlnum(c) || (!isLast && c == UInt8(ascii: "-")) else { return false }
            }
            if isLast && !isAlpha(b[0]) { return false }
        }
        return true
    }

    /// Record key: 1–512 characters of letters, digits and `._:~-`, not `.` or `..`.
    public static func isRecordKey(_ text: String) -> Bool {
        let b = Array(text.utf8)
        guard !b.isEmpty, b.count <= 512, text != ".", text != ".." else { return false }
        return b.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_")
            || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "-") }
    }

    /// `at://<did|handle>[/<nsid>[/<rkey>]]`, at most 8 KB, no query or fragment.
    public static func isATURI(_ text: String) -> Bool {
        guard text.utf8.count <= 8192, text.hasPrefix("at://") else { return false }
        let parts = text.dropFirst(5).split(separator: "/", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count), isATIdentifier(String(parts[0])) else { return false }
        if parts.count >= 2 && !isNSID(String(parts[1])) { return false }
        if parts.count == 3 && !isRecordKey(String(parts[2])) { return false }
        return true
    }

    /// A CID as stored: base32 multibase (`b…`, lower-case letters and digits 2–7) or a CIDv0
    /// (`Qm…`, base58). Checked for alphabet and length only.
    public static func isCID(_ text: String) -> Bool {
        let b = Array(text.utf8)
        guard b.count >= 8, b.count <= 256 else { return false }
        return b.allSatisfy(isAlnum)
    }
}
