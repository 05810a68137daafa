extension MerkleSearchTree {
    /// The record CID stored under `key` (`collection/rkey`), or nil when the tree does not hold it.
    /// Reads each node on the path straight from its bytes, without building its value tree (the
    /// per-frame hot path of the relay decoder); the node is still checked as strictly as `entries()`.
    public func lookup(_ key: String) throws(IPLDError) -> CID? {
        let target = Array(key.utf8)
        var keyBuffer: [UInt8] = []
        keyBuffer.reserveCapacity(256)
        var current: CID? = root
        var height = 0
        while let cid = current {
            height += 1
            guard height <= maximumHeight else { throw .invalidRepositoryStructure("mst height") }
            guard let bytes = blocks.block(cid) else { throw .missingBlock(cid) }
            let step = try bytes.withUnsafeBufferPointer { buffer in
                Result { () throws(IPLDError) in try scanNode(buffer, target: target, keyBuffer: &keyBuffer) }
            }.get()
            if let found = step.found { return found }
            current = step.next
        }
        return nil
    }

    /// One node: the record CID when `target` is in it, else the subtree that would hold it.
    private func scanNode(_ input: UnsafeBufferPointer<UInt8>, target: [UInt8],
                          keyBuffer: inout [UInt8]) throws(IPLDError) -> (found: CID?, next: CID?) {
        var reader = DAGCBORReader(input: input, limits: nodeLimits)
        let fieldCount = try reader.readCount(major: 5, bytesPerUnit: 2, structure: "mst node")
        var left: Range<Int>?
        var sawLeft = false
        var sawEntries = false
        var found: Range<Int>?
        var lastSmallerRight: Range<Int>?
        var anySmaller = false
        for _ in 0..<fieldCount {
            let name = try reader.readKeyBytes()
            if name == [UInt8(ascii: "l")] {
                guard !sawLeft else { throw .duplicateMapKey("l", offset: reader.position) }
                sawLeft = true
                left = try reader.readLinkOrNull(structure: "mst.l")
            } else if name == [UInt8(ascii: "e")] {
                guard !sawEntries else { throw .duplicateMapKey("e", offset: reader.position) }
                sawEntries = true
                let count = try reader.readCount(major: 4, bytesPerUnit: 1, structure: "mst.e")
                keyBuffer.removeAll(keepingCapacity: true)
                for _ in 0..<count {
                    let entry = try reader.readEntry()
                    guard entry.prefix <= keyBuffer.count else { throw .invalidRepositoryStructure("mst.e entry") }
                    guard entry.prefix + entry.suffix.count <= maximumKeyBytes else {
                        throw .invalidRepositoryStructure("mst key length")
                    }
                    keyBuffer.removeSubrange(entry.prefix...)
                    keyBuffer.append(contentsOf: UnsafeBufferPointer(rebasing: input[entry.suffix]))
                    guard found == nil else { continue }
                    if keyBuffer == target {
                        found = entry.value
                    } else if keyBuffer.lexicographicallyPrecedes(target) {
                        anySmaller = true
                        lastSmallerRight = entry.right
                    }
                }
            } else {
                _ = try reader.readValue(depth: 2)  // a field the spec does not have: ignored, as entries() does
            }
        }
        guard reader.position == input.count else { throw .trailingBytes(offset: reader.position) }
        guard sawEntries else { throw .invalidRepositoryStructure("mst.e") }
        func cid(_ range: Range<Int>?) throws(IPLDError) -> CID? {
            guard let range else { return nil }
            return try CID(bytes: Array(input[range]))
        }
        if let found { return (try cid(found), nil) }
        // Entries are sorted: the target sits right of the last smaller key, or left of them all.
        return (nil, try cid(anySmaller ? lastSmallerRight : left))
    }
}

extension DAGCBORReader {
    /// A container head of `major` type; its count, checked against the bytes left.
    mutating func readCount(major: UInt8, bytesPerUnit: Int, structure: String) throws(IPLDError) -> Int {
        let start = position
        let head = try readHead()
        guard head.major == major else { throw .invalidRepositoryStructure(structure) }
        return try checkedLength(head.argument, bytesPerUnit: bytesPerUnit, limit: limits.maximumContainerCount, at: start)
    }

    /// A map key's UTF-8 bytes (node keys are one letter: compared as bytes, no String made).
    mutating func readKeyBytes() throws(IPLDError) -> ArraySlice<UInt8> {
        let start = position
        let head = try readHead()
        guard head.major == 3 else { throw .nonStringMapKey(offset: start) }
        let length = try checkedLength(head.argument, bytesPerUnit: 1, limit: limits.maximumStringBytes, at: start)
        let slice = UnsafeBufferPointer(rebasing: input[position..<(position + length)])
        guard UTF8Validation.isValid(slice) else { throw .invalidUTF8(offset: start) }
        position += length
        return ArraySlice(slice)
    }

    /// The range of a tag-42 CID's bytes (validated), or nil for null.
    mutating func readLinkOrNull(structure: String) throws(IPLDError) -> Range<Int>? {
        if position < input.count && input[position] == 0xF6 {
            position += 1
            return nil
        }
        return try readLinkRange(structure: structure)
    }

    mutating func readLinkRange(structure: String) throws(IPLDError) -> Range<Int> {
        guard case .link(let cid) = try readValue(depth: 1) else { throw .invalidRepositoryStructure(structure) }
        // The CID's bytes end where the value ends.
        return (position - cid.bytes.count)..<position
    }

    /// One MST entry `{p, k, v, t}` as ranges into the input.
    mutating func readEntry() throws(IPLDError) -> (prefix: Int, suffix: Range<Int>, value: Range<Int>, right: Range<Int>?) {
        let count = try readCount(major: 5, bytesPerUnit: 2, structure: "mst.e entry")
        var prefix: Int?
        var suffix: Range<Int>?
        var value: Range<Int>?
        var right: Range<Int>?
        var sawRight = false
        for _ in 0..<count {
            let keyStart = position
            let name = try readKeyBytes()
            func duplicate() -> IPLDError { .duplicateMapKey(String(decoding: name, as: UTF8.self), offset: keyStart) }
            switch name.count == 1 ? name.first : nil {
            case UInt8(ascii: "p"):
                guard prefix == nil else { throw duplicate() }
                guard case .int(let number) = try readValue(depth: 3), number >= 0, number <= 1 << 20 else {
                    throw .invalidRepositoryStructure("mst.e entry")
                }
                prefix = Int(number)
            case UInt8(ascii: "k"):
                guard suffix == nil else { throw duplicate() }
                let start = position
                let head = try readHead()
                guard head.major == 2 else { throw .invalidRepositoryStructure("mst.e entry") }
                let length = try checkedLength(head.argument, bytesPerUnit: 1, limit: limits.maximumStringBytes, at: start)
                suffix = position..<(position + length)
                position += length
            case UInt8(ascii: "v"):
                guard value == nil else { throw duplicate() }
                value = try readLinkRange(structure: "mst.e entry")
            case UInt8(ascii: "t"):
                guard !sawRight else { throw duplicate() }
                sawRight = true
                right = try readLinkOrNull(structure: "mst.t")
            default:
                _ = try readValue(depth: 3)
            }
        }
        guard let prefix, let suffix, let value else { throw .invalidRepositoryStructure("mst.e entry") }
        return (prefix, suffix, value, right)
    }
}
