extension Identifiers {
    /// A generic URI as the lexicon `uri` format wants it: `scheme:rest` (RFC 3986 scheme, something
    /// after the colon), no whitespace or control characters, at most 8 KB.
    static func isURI(_ text: String) -> Bool {
        let b = Array(text.utf8)
        guard b.count <= 8192, let colon = b.firstIndex(of: UInt8(ascii: ":")), colon > 0, colon + 1 < b.count else {
            return false
        }
        let isLetter = { (c: UInt8) in (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
        let isDigit = { (c: UInt8) in c >= 0x30 && c <= 0x39 }
        guard isLetter(b[0]), b[1..<colon].allSatisfy({ isLetter($0) || isDigit($0) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E })
        else { return false }
        return b.allSatisfy { $0 > 0x20 && $0 != 0x7F }
    }
}
