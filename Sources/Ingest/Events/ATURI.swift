/// A record URI `at://<did>/<collection>/<rkey>`. Only DID authorities are accepted: the indexer
/// derives authors and notification recipients from them.
public struct ATURI: Sendable, Hashable, CustomStringConvertible {
    public let did: String
    public let collection: String
    public let rkey: String

    /// Parses a record URI; nil unless it has a DID authority, a collection and a record key.
    public init?(_ text: String) {
        guard text.utf8.count <= 8192, text.hasPrefix("at://") else { return nil }
        let parts = text.dropFirst(5).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, DID.isValid(parts[0]), Self.isValidCollection(parts[1]), Self.isValidRecordKey(parts[2]) else {
            return nil
        }
        did = String(parts[0])
        collection = String(parts[1])
        rkey = String(parts[2])
    }

    /// Builds the URI of a record in a repository.
    public init(did: String, collection: String, rkey: String) {
        self.did = did
        self.collection = collection
        self.rkey = rkey
    }

    public var description: String { "at://\(did)/\(collection)/\(rkey)" }

    /// NSID-shaped: dot-separated segments of letters, digits and hyphens, at least three segments.
    static func isValidCollection(_ text: Substring) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 317 else { return false }
        var segments = 1
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "."): segments += 1
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"): continue
            default: return false
            }
        }
        return segments >= 3 && !text.hasPrefix(".") && !text.hasSuffix(".") && !text.contains("..")
    }

    /// Record keys: 1–512 characters of `A-Za-z0-9 . - _ : ~`, not `.` or `..`.
    static func isValidRecordKey(_ text: Substring) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 512, text != ".", text != ".." else { return false }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "~"): continue
            default: return false
            }
        }
        return true
    }
}

/// DID syntax (`did:<method>:<id>`), checked before a DID becomes an actor row.
public enum DID {
    public static func isValid<S: StringProtocol>(_ text: S) -> Bool {
        let utf8 = text.utf8
        guard utf8.count >= 7, utf8.count <= 2048, text.hasPrefix("did:") else { return false }
        var index = utf8.index(utf8.startIndex, offsetBy: 4)
        var methodLength = 0
        while index < utf8.endIndex, utf8[index] != UInt8(ascii: ":") {
            guard (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(utf8[index]) else { return false }
            methodLength += 1
            index = utf8.index(after: index)
        }
        guard methodLength > 0, index < utf8.endIndex else { return false }
        index = utf8.index(after: index)
        guard index < utf8.endIndex else { return false }
        var last: UInt8 = 0
        while index < utf8.endIndex {
            let byte = utf8[index]
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "%"): break
            default: return false
            }
            last = byte
            index = utf8.index(after: index)
        }
        return last != UInt8(ascii: ":") && last != UInt8(ascii: "%")
    }
}
