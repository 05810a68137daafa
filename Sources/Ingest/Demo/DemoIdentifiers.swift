/// Deterministic pseudo-random numbers (SplitMix64): the same seed gives the same demo data everywhere.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `0..<bound`.
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }

    /// True with probability `percent` / 100.
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }

    mutating func pick<T>(_ values: [T]) -> T { values[below(values.count)] }
}

/// Identifiers shaped like the network's: `did:plc:…`, TID record keys, CIDv1 strings.
enum DemoIdentifiers {
    static let base32Alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)
    static let tidAlphabet = Array("234567abcdefghijklmnopqrstuvwxyz".utf8)

    /// RFC 4648 base32, lower case, no padding (the multibase `b` encoding).
    static func base32(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                out.append(base32Alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { out.append(base32Alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func randomBytes(_ count: Int, _ random: inout SplitMix64) -> [UInt8] {
        var bytes: [UInt8] = []
        while bytes.count < count {
            var word = random.next()
            for _ in 0..<8 where bytes.count < count {
                bytes.append(UInt8(truncatingIfNeeded: word))
                word >>= 8
            }
        }
        return bytes
    }

    static func did(_ random: inout SplitMix64) -> String {
        "did:plc:" + String(base32(randomBytes(15, &random)).prefix(24))
    }

    /// CIDv1, sha2-256 multihash of random bytes; `codec` 0x71 (dag-cbor records) or 0x55 (raw blobs).
    static func cid(codec: UInt8, _ random: inout SplitMix64) -> String {
        "b" + base32([0x01, codec, 0x12, 0x20] + randomBytes(32, &random))
    }

    /// A TID: 53 bits of microseconds and 10 bits of clock id, base32-sortable, 13 characters.
    static func tid(microseconds: Int64, clockID: UInt64) -> String {
        let value = (UInt64(microseconds) << 10) | (clockID & 0x3FF)
        var out: [UInt8] = []
        for index in 0..<13 {
            out.append(tidAlphabet[Int((value >> UInt64(60 - 5 * index)) & 31)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
