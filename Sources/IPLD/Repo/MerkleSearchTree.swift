/// Read access to a repository's Merkle search tree stored in CAR blocks: nodes
/// `{l: CID?, e: [{p: prefix length, k: key suffix bytes, v: record CID, t: CID?}]}`, keys
/// `collection/rkey` prefix-compressed against the previous entry of the same node.
/// Bounded: tree height, key length and visited nodes are limited; a node missing from the blocks
/// is an error (`missingBlock`).
public struct MerkleSearchTree: Sendable {
    /// Where nodes come from (a commit diff or a full repository export).
    public let blocks: CARFile
    public let root: CID
    /// Deepest tree accepted (a balanced MST of billions of records is < 20 levels).
    public var maximumHeight = 64
    /// Longest key (the repository spec's limit is 1024 bytes).
    public var maximumKeyBytes = 1024
    /// Decoding limits of one node.
    public var nodeLimits = DAGCBORLimits(maximumDepth: 4, maximumStringBytes: 64 * 1024)

    public init(blocks: CARFile, root: CID) {
        self.blocks = blocks
        self.root = root
    }

    /// One decoded node: its left subtree and entries with full keys.
    struct Node {
        var left: CID?
        var entries: [(key: [UInt8], value: CID, right: CID?)]
    }

    func node(_ cid: CID) throws(IPLDError) -> Node {
        guard let bytes = blocks.block(cid) else { throw .missingBlock(cid) }
        let value = try DAGCBORDecoder(limits: nodeLimits).decode(bytes)
        var left: CID?
        switch value["l"] {
        case nil, .null?: left = nil
        case .link(let cid)?: left = cid
        default: throw .invalidRepositoryStructure("mst.l")
        }
        guard let rawEntries = value["e"]?.arrayValue else { throw .invalidRepositoryStructure("mst.e") }
        var entries: [(key: [UInt8], value: CID, right: CID?)] = []
        entries.reserveCapacity(rawEntries.count)
        var previousKey: [UInt8] = []
        for entry in rawEntries {
            guard let prefix = entry["p"]?.intValue, prefix >= 0, prefix <= Int64(previousKey.count),
                  let suffix = entry["k"]?.bytesValue, let recordCID = entry["v"]?.linkValue else {
                throw .invalidRepositoryStructure("mst.e entry")
            }
            var right: CID?
            switch entry["t"] {
            case nil, .null?: right = nil
            case .link(let cid)?: right = cid
            default: throw .invalidRepositoryStructure("mst.t")
            }
            guard Int(prefix) + suffix.count <= maximumKeyBytes else { throw .invalidRepositoryStructure("mst key length") }
            let key = Array(previousKey[0..<Int(prefix)]) + suffix
            entries.append((key, recordCID, right))
            previousKey = key
        }
        return Node(left: left, entries: entries)
    }

    /// Every `(key, record CID)` of the tree in key order. `maximumEntries` bounds the walk.
    public func entries(maximumEntries: Int = 10_000_000) throws(IPLDError) -> [(key: String, cid: CID)] {
        var out: [(key: String, cid: CID)] = []
        var visited = 0
        try walk(root, height: 1, into: &out, visited: &visited, maximumEntries: maximumEntries)
        return out
    }

    private func walk(_ cid: CID, height: Int, into out: inout [(key: String, cid: CID)], visited: inout Int,
                      maximumEntries: Int) throws(IPLDError) {
        guard height <= maximumHeight else { throw .invalidRepositoryStructure("mst height") }
        visited += 1
        guard visited <= blocks.blocks.count else { throw .invalidRepositoryStructure("mst revisits nodes") }
        let node = try node(cid)
        if let left = node.left { try walk(left, height: height + 1, into: &out, visited: &visited, maximumEntries: maximumEntries) }
        for entry in node.entries {
            guard out.count < maximumEntries else { throw .sizeLimitExceeded(offset: 0) }
            guard let key = String(validating: entry.key, as: UTF8.self) else { throw .invalidRepositoryStructure("mst key utf-8") }
            out.append((key, entry.value))
            if let right = entry.right { try walk(right, height: height + 1, into: &out, visited: &visited, maximumEntries: maximumEntries) }
        }
    }
}
