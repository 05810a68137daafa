/// AT Protocol-shaped identifiers for synthetic rows: DIDs, record keys (TIDs) and CIDs, as bytes
/// ready to be appended to COPY data.
enum SyntheticIdentifiers {
    static let base32Sortable = Array("234567abcdefghijklmnopqrstuvwxyz".utf8)
    static let base32Lower = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    /// `did:plc:` + 24 base32 characters: 16 from a hash (so DIDs do not sort by rank) and 8 that
    /// encode the actor number (so they are unique).
    static func did(actor: Int, hash: DeterministicHash) -> [UInt8] {
        var out = Array("did:plc:".utf8)
        out.reserveCapacity(32)
        let scramble = hash.bits(.actorDid, actor)
        for i in 0..<12 { out.append(base32Lower[Int((scramble >> UInt64(5 * i)) & 31)]) }
        let more = hash.bits(.actorDid, actor &+ 0x4000_0000)
        for i in 0..<4 { out.append(base32Lower[Int((more >> UInt64(5 * i)) & 31)]) }
        var value = actor
        var tail = [UInt8](repeating: 0, count: 8)
        for i in stride(from: 7, through: 0, by: -1) {
            tail[i] = base32Lower[value & 31]
            value >>= 5
        }
        out.append(contentsOf: tail)
        return out
    }

    /// A TID record key: 13 base32-sortable characters of (microseconds << 10 | clock id).
    @inline(__always)
    static func appendTID(_ buffer: inout [UInt8], micros: Int64, clockID: Int) {
        let value = (UInt64(micros) << 10) | UInt64(clockID & 1023)
        buffer.append(base32Sortable[Int((value >> 60) & 15)])
        var shift: UInt64 = 55
        for _ in 0..<12 {
            buffer.append(base32Sortable[Int((value >> shift) & 31)])
            shift &-= 5
        }
    }

    /// A CIDv1 (dag-cbor, sha-256) lookalike: `bafyrei` + 52 base32 characters from the hash stream.
    @inline(__always)
    static func appendCID(_ buffer: inout [UInt8], hash: DeterministicHash, stream: DeterministicHash.Stream, index: Int) {
        buffer.append(contentsOf: cidPrefix)
        var produced = 0
        var part = 0
        while produced < 52 {
            var word = hash.bits(stream, index &* 5 &+ part)
            part += 1
            for _ in 0..<12 where produced < 52 {
                buffer.append(base32Lower[Int(word & 31)])
                word >>= 5
                produced += 1
            }
        }
    }

    static let cidPrefix = Array("bafyrei".utf8)
}
