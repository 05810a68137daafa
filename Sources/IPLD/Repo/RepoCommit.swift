/// A signed repository commit (atproto repository spec, versions 2 and 3):
/// `{did, version, data, rev, prev, sig}`.
public struct RepoCommit: Sendable, Equatable {
    public var did: String
    public var version: Int64
    /// Root of the Merkle search tree of the records.
    public var data: CID
    public var rev: String
    /// Previous commit (nullable; always null in version 3).
    public var prev: CID?
    /// Signature over the DAG-CBOR of the commit without `sig`.
    public var signature: [UInt8]

    /// Decodes a commit block.
    public init(block: ArraySlice<UInt8>, limits: DAGCBORLimits = .default) throws(IPLDError) {
        let value = try DAGCBORDecoder(limits: limits).decode(block)
        try self.init(value: value)
    }

    /// Reads the fields of a decoded commit object.
    public init(value: DAGCBORValue) throws(IPLDError) {
        guard let did = value["did"]?.stringValue else { throw .invalidRepositoryStructure("commit.did") }
        guard let version = value["version"]?.intValue, version == 2 || version == 3 else {
            throw .invalidRepositoryStructure("commit.version")
        }
        guard let data = value["data"]?.linkValue else { throw .invalidRepositoryStructure("commit.data") }
        guard let rev = value["rev"]?.stringValue else { throw .invalidRepositoryStructure("commit.rev") }
        guard let signature = value["sig"]?.bytesValue else { throw .invalidRepositoryStructure("commit.sig") }
        var prev: CID?
        switch value["prev"] {
        case nil, .null?: prev = nil
        case .link(let cid)?: prev = cid
        default: throw .invalidRepositoryStructure("commit.prev")
        }
        self.did = did
        self.version = version
        self.data = data
        self.rev = rev
        self.prev = prev
        self.signature = signature
    }
}

extension RepoCommit {
    /// The bytes the commit's signature covers: the commit object without `sig`, re-encoded as
    /// canonical DAG-CBOR (the encoder reproduces canonical input byte for byte).
    public static func unsignedBytes(of commit: DAGCBORValue) throws(IPLDError) -> [UInt8] {
        guard case .map(let entries) = commit, entries.contains(where: { $0.key == "sig" }) else {
            throw .invalidRepositoryStructure("commit.sig")
        }
        return DAGCBOREncoder.encode(.map(entries.filter { $0.key != "sig" }))
    }
}
