import Identity
import IPLD

/// The signed commit of a `#commit` frame, for checking its signature against the author's
/// `#atproto` key (the repository spec: ECDSA over SHA-256 of the commit's DAG-CBOR without `sig`).
public struct RelayCommitSignature: Sendable {
    /// The commit's `did` (must be the frame's `repo`).
    public var did: String
    public var rev: String
    /// The bytes the signature covers.
    public var unsignedBytes: [UInt8]
    public var signature: [UInt8]

    /// The signed commit of `frame`; nil for frames that are not commits or are `tooBig`.
    public static func extract(from frame: [UInt8], limits: RelayDecodingLimits = .default) throws(RelayDecodingError) -> RelayCommitSignature? {
        guard frame.count <= limits.maximumFrameBytes else {
            throw .frameTooLarge(byteCount: frame.count, limit: limits.maximumFrameBytes)
        }
        let parts = try frame.withUnsafeBufferPointer { buffer -> Result<(DAGCBORValue, DAGCBORValue), RelayDecodingError> in
            let decoder = DAGCBORDecoder(limits: limits.frame)
            do throws(IPLDError) {
                let header = try decoder.decodePrefix(buffer)
                do throws(IPLDError) {
                    return .success((header.value, try decoder.decode(UnsafeBufferPointer(rebasing: buffer[header.byteCount...]))))
                } catch {
                    return .failure(.body(error))
                }
            } catch {
                return .failure(.header(error))
            }
        }.get()
        let (header, body) = parts
        guard header["op"]?.intValue == 1, header["t"]?.stringValue == "#commit" else { return nil }
        if body["tooBig"]?.boolValue == true { return nil }
        guard let repo = body["repo"]?.stringValue else { throw .invalidField("#commit.repo") }
        guard let blocks = body["blocks"]?.bytesValue else { throw .invalidField("#commit.blocks") }
        do throws(IPLDError) {
            let car = try CARReader(limits: limits.car).read(blocks)
            guard let root = car.roots.first else { throw .invalidCARHeader }
            guard let block = car.block(root) else { throw .missingBlock(root) }
            let value = try DAGCBORDecoder(limits: limits.frame).decode(block)
            let commit = try RepoCommit(value: value)
            guard commit.did == repo else { throw .invalidRepositoryStructure("commit.did is not the frame's repo") }
            return RelayCommitSignature(did: commit.did, rev: commit.rev, unsignedBytes: try RepoCommit.unsignedBytes(of: value),
                                        signature: commit.signature)
        } catch {
            throw .blocks(error)
        }
    }

    /// Checks the signature with the author's signing key (low-S only).
    public func verify(with key: PublicKey) -> SignatureVerification {
        key.verify(signature: signature, message: unsignedBytes)
    }
}
