/// A content identifier: CIDv1 (`version, codec, multihash`) or CIDv0 (a bare sha2-256 multihash).
/// Kept as its binary form; printed as base32 lower-case with the `b` prefix (v1) or base58btc (v0),
/// the way the AT Protocol writes CIDs in JSON.
public struct CID: Hashable, Sendable, CustomStringConvertible {
    /// The binary CID (for v0, the 34-byte multihash).
    public let bytes: [UInt8]
    /// 0 or 1.
    public let version: Int
    /// Multicodec of the content: 0x71 dag-cbor, 0x55 raw (v0 is always dag-pb, 0x70).
    public let codec: UInt64
    /// Multihash function code: 0x12 sha2-256.
    public let hashCode: UInt64
    /// Position of the digest inside `bytes`.
    let digestStart: Int

    /// Multicodec dag-cbor.
    public static let dagCBORCodec: UInt64 = 0x71
    /// Multicodec raw (blobs).
    public static let rawCodec: UInt64 = 0x55
    /// Multihash sha2-256.
    public static let sha256Code: UInt64 = 0x12
    /// Longest CID accepted (the atproto data model's limit).
    public static let maximumByteCount = 100

    /// The hash digest.
    public var digest: ArraySlice<UInt8> { bytes[digestStart...] }

    /// Parses a whole binary CID (`bytes` holds exactly one CID).
    public init(bytes: [UInt8]) throws(IPLDError) {
        let parsed = try bytes.withUnsafeBufferPointer { buffer -> Result<(CID, Int), IPLDError> in
            var position = 0
            do throws(IPLDError) {
                let cid = try CID.read(buffer, at: &position, baseOffset: 0)
                return .success((cid, position))
            } catch {
                return .failure(error)
            }
        }.get()
        guard parsed.1 == bytes.count else { throw .invalidCID(offset: parsed.1) }
        self = parsed.0
    }

    init(bytes: [UInt8], version: Int, codec: UInt64, hashCode: UInt64, digestStart: Int) {
        self.bytes = bytes
        self.version = version
        self.codec = codec
        self.hashCode = hashCode
        self.digestStart = digestStart
    }

    /// Reads one binary CID starting at `position` (CAR sections: a CID followed by the block) and
    /// advances `position` past it. `baseOffset` is added to offsets reported in errors.
    public static func read(_ input: UnsafeBufferPointer<UInt8>, at position: inout Int,
                            baseOffset: Int = 0) throws(IPLDError) -> CID {
        let start = position
        let remaining = input.count - start
        guard remaining >= 2 else { throw .unexpectedEnd(offset: baseOffset + input.count) }
        // CIDv0: a sha2-256 multihash, 0x12 0x20 + 32 bytes.
        if input[start] == 0x12 && input[start + 1] == 0x20 {
            guard remaining >= 34 else { throw .unexpectedEnd(offset: baseOffset + input.count) }
            position = start + 34
            return CID(bytes: Array(input[start..<(start + 34)]), version: 0, codec: 0x70,
                       hashCode: sha256Code, digestStart: 2)
        }
        var cursor = start
        func varint(_ cursor: inout Int) throws(IPLDError) -> UInt64 {
            do throws(IPLDError) {
                return try Varint.read(input, at: &cursor)
            } catch {
                if case .unexpectedEnd = error { throw .unexpectedEnd(offset: baseOffset + input.count) }
                throw .invalidCID(offset: baseOffset + start)
            }
        }
        let version = try varint(&cursor)
        guard version == 1 else { throw .invalidCID(offset: baseOffset + start) }
        let codec = try varint(&cursor)
        let hashCode = try varint(&cursor)
        let digestLength = try varint(&cursor)
        let digestStart = cursor - start
        guard digestLength <= UInt64(maximumByteCount), digestStart + Int(digestLength) <= maximumByteCount else {
            throw .invalidCID(offset: baseOffset + start)
        }
        guard Int(digestLength) <= input.count - cursor else { throw .unexpectedEnd(offset: baseOffset + input.count) }
        let end = cursor + Int(digestLength)
        position = end
        return CID(bytes: Array(input[start..<end]), version: 1, codec: codec, hashCode: hashCode,
                   digestStart: digestStart)
    }

    /// Parses the text form: `b` + base32 lower-case (v1) or a base58btc `Qm…` (v0).
    public init(string: String) throws(IPLDError) {
        var utf8 = Array(string.utf8)
        if utf8.count == 46, utf8.first == UInt8(ascii: "Q"), let decoded = Base58.decode(utf8) {
            try self.init(bytes: decoded)
            guard version == 0 else { throw .invalidCID(offset: 0) }
            return
        }
        guard utf8.first == UInt8(ascii: "b") else { throw .invalidCID(offset: 0) }
        utf8.removeFirst()
        guard let decoded = Base32.decodeLowercase(utf8) else { throw .invalidCID(offset: 0) }
        try self.init(bytes: decoded)
        guard version == 1 else { throw .invalidCID(offset: 0) }
    }

    /// The text form: `b…` base32 for v1, base58btc for v0.
    public var string: String {
        if version == 0 { return Base58.encode(bytes) }
        return "b" + Base32.encodeLowercase(bytes)
    }

    public var description: String { string }

    public static func == (lhs: CID, rhs: CID) -> Bool { lhs.bytes == rhs.bytes }
    /// The digest's bytes in one call (hashing `[UInt8]` element by element is slow).
    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
