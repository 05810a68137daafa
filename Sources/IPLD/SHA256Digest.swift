import COpenSSL

/// SHA-256 through libcrypto (already linked for signatures), used to check block CIDs. The
/// low-level context API on purpose: OpenSSL 3's one-shot `SHA256()` fetches the algorithm from
/// its provider on every call, which cost more than hashing a typical block (measured: 3× slower
/// frame decoding).
enum SHA256Digest {
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var context = SHA256_CTX()
        SHA256_Init(&context)
        if let base = bytes.baseAddress { SHA256_Update(&context, base, bytes.count) }
        digest.withUnsafeMutableBufferPointer { out in _ = SHA256_Final(out.baseAddress, &context) }
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
