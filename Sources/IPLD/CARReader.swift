/// Bounds of one CAR read.
public struct CARLimits: Sendable, Equatable {
    /// Largest header, in bytes.
    public var maximumHeaderBytes: Int
    /// Largest section (CID + block), in bytes.
    public var maximumSectionBytes: Int
    /// Most blocks.
    public var maximumBlockCount: Int
    /// Check every block's bytes against its CID (sha2-256) while reading.
    public var verifyBlockHashes: Bool

    public init(maximumHeaderBytes: Int = 64 * 1024, maximumSectionBytes: Int = 2 * 1024 * 1024,
                maximumBlockCount: Int = 1_000_000, verifyBlockHashes: Bool = true) {
        self.maximumHeaderBytes = maximumHeaderBytes
        self.maximumSectionBytes = maximumSectionBytes
        self.maximumBlockCount = maximumBlockCount
        self.verifyBlockHashes = verifyBlockHashes
    }

    /// Header ≤ 64 KiB, sections ≤ 2 MiB (a record is ≤ 1 MiB), ≤ 1,000,000 blocks, hashes verified.
    public static let `default` = CARLimits()
}

/// One block of a CAR: its CID and its bytes (a slice of the CAR's storage, not a copy).
public struct CARBlock: Sendable {
    public let cid: CID
    public let bytes: ArraySlice<UInt8>
}

/// A decoded CAR v1 file: header roots and blocks in file order, with lookup by CID.
public struct CARFile: Sendable {
    /// The header's roots (a repository export or commit diff: the commit CID).
    public let roots: [CID]
    /// Every block, in file order (duplicates kept).
    public let blocks: [CARBlock]
    private let index: [CID: Int]

    init(roots: [CID], blocks: [CARBlock]) {
        self.roots = roots
        self.blocks = blocks
        var index: [CID: Int] = [:]
        index.reserveCapacity(blocks.count)
        for (position, block) in blocks.enumerated() where index[block.cid] == nil { index[block.cid] = position }
        self.index = index
    }

    /// The bytes of the block with this CID (the first one, if the CAR repeats it).
    public func block(_ cid: CID) -> ArraySlice<UInt8>? {
        guard let position = index[cid] else { return nil }
        return blocks[position].bytes
    }
}

/// Reads CAR v1: a varint-length-prefixed DAG-CBOR header `{roots: [CID…], version: 1}`, then
/// varint-length-prefixed sections of `CID bytes + block bytes` to the end of the input.
public struct CARReader: Sendable {
    public var limits: CARLimits

    public init(limits: CARLimits = .default) {
        self.limits = limits
    }

    public func read(_ car: [UInt8]) throws(IPLDError) -> CARFile {
        try read(car[...])
    }

    public func read(_ car: ArraySlice<UInt8>) throws(IPLDError) -> CARFile {
        let base = car.startIndex
        let parsed = car.withUnsafeBufferPointer { buffer in readResult(buffer) }
        let (roots, sections) = try parsed.get()
        var blocks: [CARBlock] = []
        blocks.reserveCapacity(sections.count)
        for section in sections {
            blocks.append(CARBlock(cid: section.cid, bytes: car[(base + section.range.lowerBound)..<(base + section.range.upperBound)]))
        }
        return CARFile(roots: roots, blocks: blocks)
    }

    private func readResult(_ input: UnsafeBufferPointer<UInt8>) -> Result<([CID], [(cid: CID, range: Range<Int>)]), IPLDError> {
        do throws(IPLDError) {
            var position = 0
            let headerLength = try Varint.readLength(input, at: &position)
            guard headerLength <= limits.maximumHeaderBytes else { throw .sizeLimitExceeded(offset: 0) }
            guard headerLength <= input.count - position else { throw .unexpectedEnd(offset: input.count) }
            let headerBytes = UnsafeBufferPointer(rebasing: input[position..<(position + headerLength)])
            let header: DAGCBORValue
            do throws(IPLDError) {
                header = try DAGCBORDecoder(limits: DAGCBORLimits(maximumDepth: 4, maximumValueCount: 10_000)).decode(headerBytes)
            } catch {
                throw .invalidCARHeader
            }
            guard header["version"]?.intValue == 1, let rootValues = header["roots"]?.arrayValue else {
                throw .invalidCARHeader
            }
            var roots: [CID] = []
            for value in rootValues {
                guard let root = value.linkValue else { throw .invalidCARHeader }
                roots.append(root)
            }
            position += headerLength
            var sections: [(cid: CID, range: Range<Int>)] = []
            while position < input.count {
                let sectionStart = position
                let sectionLength = try Varint.readLength(input, at: &position)
                guard sectionLength <= limits.maximumSectionBytes else { throw .sizeLimitExceeded(offset: sectionStart) }
                guard sectionLength <= input.count - position else { throw .unexpectedEnd(offset: input.count) }
                guard sections.count < limits.maximumBlockCount else { throw .sizeLimitExceeded(offset: sectionStart) }
                let sectionEnd = position + sectionLength
                let section = UnsafeBufferPointer(rebasing: input[position..<sectionEnd])
                var cidEnd = 0
                let cid: CID
                do throws(IPLDError) {
                    cid = try CID.read(section, at: &cidEnd, baseOffset: position)
                } catch {
                    throw .invalidCID(offset: position)
                }
                let blockRange = (position + cidEnd)..<sectionEnd
                if limits.verifyBlockHashes {
                    guard try cid.matches(UnsafeBufferPointer(rebasing: input[blockRange])) else {
                        throw .blockHashMismatch(cid)
                    }
                }
                sections.append((cid, blockRange))
                position = sectionEnd
            }
            return .success((roots, sections))
        } catch {
            return .failure(error)
        }
    }
}
