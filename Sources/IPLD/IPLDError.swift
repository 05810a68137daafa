/// Why bytes were refused by the IPLD decoders. Every malformed input ends as one of these values
/// (never a trap); `offset` is the byte position in the input where the problem was found.
public enum IPLDError: Error, Equatable, Sendable {
    /// The input ended inside an item (a truncated frame or block).
    case unexpectedEnd(offset: Int)
    /// A varint longer than 9 bytes, overflowing 63 bits, or not in its shortest form.
    case invalidVarint(offset: Int)
    /// Indefinite-length strings, arrays or maps (not DAG-CBOR).
    case indefiniteLength(offset: Int)
    /// Additional information 28–30, or a simple value DAG-CBOR does not have (undefined, 16/32-bit floats, …).
    case unsupportedEncoding(offset: Int)
    /// A CBOR tag other than 42 (CID).
    case unsupportedTag(UInt64, offset: Int)
    /// An integer outside the signed 64-bit range.
    case integerOutOfRange(offset: Int)
    /// A text string that is not valid UTF-8.
    case invalidUTF8(offset: Int)
    /// A map key that is not a text string.
    case nonStringMapKey(offset: Int)
    /// The same key twice in one map.
    case duplicateMapKey(String, offset: Int)
    /// Containers nested deeper than the limit.
    case depthLimitExceeded(offset: Int)
    /// A string, byte string, container, section or the whole input larger than its limit.
    case sizeLimitExceeded(offset: Int)
    /// A CID that cannot be parsed (bad version, prefix, multihash or length).
    case invalidCID(offset: Int)
    /// Bytes left after the value that should have ended the input.
    case trailingBytes(offset: Int)
    /// A CAR header that is not `{roots: [CID…], version: 1}`.
    case invalidCARHeader
    /// A block whose bytes do not hash to its CID.
    case blockHashMismatch(CID)
    /// A CID whose multihash this reader cannot verify (only sha2-256 and identity are known).
    case unsupportedMultihash(UInt64)
    /// A block the structure refers to is not in the CAR.
    case missingBlock(CID)
    /// A repository commit or MST node that does not have the shape the repository spec gives.
    case invalidRepositoryStructure(String)

    /// A short stable name for counting errors by kind (logs, fuzz reports).
    public var kind: String {
        switch self {
        case .unexpectedEnd: return "unexpectedEnd"
        case .invalidVarint: return "invalidVarint"
        case .indefiniteLength: return "indefiniteLength"
        case .unsupportedEncoding: return "unsupportedEncoding"
        case .unsupportedTag: return "unsupportedTag"
        case .integerOutOfRange: return "integerOutOfRange"
        case .invalidUTF8: return "invalidUTF8"
        case .nonStringMapKey: return "nonStringMapKey"
        case .duplicateMapKey: return "duplicateMapKey"
        case .depthLimitExceeded: return "depthLimitExceeded"
        case .sizeLimitExceeded: return "sizeLimitExceeded"
        case .invalidCID: return "invalidCID"
        case .trailingBytes: return "trailingBytes"
        case .invalidCARHeader: return "invalidCARHeader"
        case .blockHashMismatch: return "blockHashMismatch"
        case .unsupportedMultihash: return "unsupportedMultihash"
        case .missingBlock: return "missingBlock"
        case .invalidRepositoryStructure: return "invalidRepositoryStructure"
        }
    }
}
