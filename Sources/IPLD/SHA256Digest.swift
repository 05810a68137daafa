import COpenSSL

/// SHA-256 through libcrypto (already linked for signatures), used to check block CIDs.
enum SHA256Digest {
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        digest.withUnsafeMutableBufferPointer { out in
            _ = SHA256(bytes.baseAddress, bytes.count, out.baseAddress)
        }
        return digest
    }
}

extension CID {
    /// True when `block` hashes to this CID's digest. Throws for hash functions other than
    /// sha2-256 and identity, which this reader cannot check.
    public func matches(_ block: UnsafeBufferPointer<UInt8>) throws(IPLDError) -> Bool {
        switch hashCode {
        case CID.sha256Code:
            guard digest.count == 32 else { return false }
            return SHA256Digest.hash(block).elementsEqual(digest)
        case 0x00:  // identity: the digest is the content
            return block.elementsEqual(digest)
        default:
            throw .unsupportedMultihash(hashCode)
        }
    }

    /// A CIDv1 (sha2-256) of `block` with `codec`.
    public static func sha256(of block: [UInt8], codec: UInt64 = CID.dagCBORCodec) -> CID {
        let digest = block.withUnsafeBufferPointer { SHA256Digest.hash($0) }
        let prefix = Varint.encode(1) + Varint.encode(codec) + Varint.encode(sha256Code) + Varint.encode(32)
        return CID(bytes: prefix + digest, version: 1, codec: codec, hashCode: sha256Code, digestStart: prefix.count)
    }
}
