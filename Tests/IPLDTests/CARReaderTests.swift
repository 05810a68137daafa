import Foundation
@testable import IPLD
import Testing

@Suite("CAR v1 and repository MST")
struct CARReaderTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/firehose-2026-07-04")

    static func repoCAR() throws -> [UInt8] {
        [UInt8](try Data(contentsOf: corpus.appendingPathComponent("repo.car")))
    }

    @Test("repo.car yields exactly the records of car_expected_records.tsv and the commit of car_expected_commit.txt")
    func repositoryExport() throws {
        let car = try CARReader().read(try Self.repoCAR())
        #expect(car.roots.count == 1)
        let root = try #require(car.roots.first)
        let commit = try RepoCommit(block: try #require(car.block(root)))

        let expectedCommit = try String(contentsOf: Self.corpus.appendingPathComponent("car_expected_commit.txt"), encoding: .utf8)
        var fields: [String: String] = [:]
        for line in expectedCommit.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        #expect(fields["DID"] == commit.did)
        #expect(fields["Data CID"] == commit.data.string)
        #expect(fields["Revision"] == commit.rev)
        #expect(fields["ATProto Repo Spec Version"] == String(commit.version))
        #expect(fields["Prev CID"] == "<nil>")
        #expect(commit.prev == nil)
        #expect(commit.signature.count == 64)

        let tree = MerkleSearchTree(blocks: car, root: commit.data)
        let records = try tree.entries().map { "\($0.key)\t\($0.cid.string)" }
        let expected = try String(contentsOf: Self.corpus.appendingPathComponent("car_expected_records.tsv"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        #expect(records == expected)
        #expect(records.count == 23)
        // Every record also resolves by lookup, and keys that are absent do not.
        for record in try tree.entries() {
            #expect(try tree.lookup(record.key) == record.cid)
            #expect(car.block(record.cid) != nil)
        }
        #expect(try tree.lookup("app.bsky.feed.like/0000000000000") == nil)
        #expect(try tree.lookup("zzz.unknown/self") == nil)
    }

    @Test("every block of repo.car hashes to its CID; every block re-encodes canonically to its bytes")
    func blockHashes() throws {
        let bytes = try Self.repoCAR()
        let car = try CARReader(limits: CARLimits(verifyBlockHashes: false)).read(bytes)
        #expect(car.blocks.count > 20)
        for block in car.blocks {
            #expect(CID.sha256(of: Array(block.bytes), codec: block.cid.codec) == block.cid)
            let value = try DAGCBORDecoder().decode(block.bytes)
            #expect(DAGCBOREncoder.encode(value) == Array(block.bytes))
        }
        // A flipped byte in the last block's content is caught by the verifying reader.
        var tampered = bytes
        tampered[tampered.count - 1] ^= 0x01
        #expect(throws: IPLDError.self) { try CARReader().read(tampered) }
        #expect((try? CARReader(limits: CARLimits(verifyBlockHashes: false)).read(tampered)) != nil)
    }

    func car(header: DAGCBORValue, sections: [[UInt8]] = []) -> [UInt8] {
        let headerBytes = DAGCBOREncoder.encode(header)
        var out = Varint.encode(UInt64(headerBytes.count)) + headerBytes
        for section in sections { out += Varint.encode(UInt64(section.count)) + section }
        return out
    }

    @Test("CARs with a bad header, truncated or oversized sections are errors")
    func badCARs() throws {
        let block: [UInt8] = DAGCBOREncoder.encode(.map([DAGCBORMapEntry(key: "a", value: .int(1))]))
        let cid = CID.sha256(of: block)
        let good = car(header: .map([DAGCBORMapEntry(key: "roots", value: .array([.link(cid)])),
                                     DAGCBORMapEntry(key: "version", value: .int(1))]),
                       sections: [cid.bytes + block])
        let file = try CARReader().read(good)
        #expect(file.roots == [cid])
        #expect(file.block(cid).map(Array.init) == block)

        let wrongVersion = car(header: .map([DAGCBORMapEntry(key: "roots", value: .array([.link(cid)])),
                                             DAGCBORMapEntry(key: "version", value: .int(2))]))
        #expect(throws: IPLDError.invalidCARHeader) { try CARReader().read(wrongVersion) }
        let rootsNotLinks = car(header: .map([DAGCBORMapEntry(key: "roots", value: .array([.string("x")])),
                                              DAGCBORMapEntry(key: "version", value: .int(1))]))
        #expect(throws: IPLDError.invalidCARHeader) { try CARReader().read(rootsNotLinks) }
        #expect(throws: IPLDError.invalidCARHeader) { try CARReader().read(car(header: .array([]))) }
        #expect(throws: IPLDError.invalidCARHeader) { try CARReader().read([0x02, 0xFF, 0xFF]) }
        #expect(throws: IPLDError.sizeLimitExceeded(offset: 0)) { try CARReader().read(Varint.encode(1 << 40) + [0xA0]) }
        #expect(throws: IPLDError.self) { try CARReader().read([]) }
        #expect(throws: IPLDError.self) { try CARReader().read([0x80]) }
        // Every truncation of a good CAR fails or yields fewer blocks; none traps.
        for length in 0..<good.count {
            if let partial = try? CARReader().read(Array(good[..<length])) { #expect(partial.blocks.isEmpty) }
        }
        // A section length beyond the input, a section too large, a section with a bad CID.
        let headerOnly = Array(good[..<(good.count - cid.bytes.count - block.count - 1)])
        #expect(throws: IPLDError.self) { try CARReader().read(headerOnly + Varint.encode(1000) + [1, 2]) }
        #expect(throws: IPLDError.sizeLimitExceeded(offset: headerOnly.count)) {
            try CARReader(limits: CARLimits(maximumSectionBytes: 10)).read(good)
        }
        #expect(throws: IPLDError.self) { try CARReader().read(headerOnly + [0x03, 0x05, 0x05, 0x05]) }
    }

    func entry(_ prefix: Int64, _ suffix: String, _ value: CID, right: CID? = nil) -> DAGCBORValue {
        .map([DAGCBORMapEntry(key: "k", value: .bytes(Array(suffix.utf8))), DAGCBORMapEntry(key: "p", value: .int(prefix)),
              DAGCBORMapEntry(key: "t", value: right.map { .link($0) } ?? .null), DAGCBORMapEntry(key: "v", value: .link(value))])
    }

    func tree(_ nodes: [DAGCBORValue], root: Int = 0) throws -> MerkleSearchTree {
        let encoded = nodes.map { DAGCBOREncoder.encode($0) }
        let cids = encoded.map { CID.sha256(of: $0) }
        let header = DAGCBOREncoder.encode(.map([DAGCBORMapEntry(key: "roots", value: .array([.link(cids[root])])),
                                                 DAGCBORMapEntry(key: "version", value: .int(1))]))
        var bytes = Varint.encode(UInt64(header.count)) + header
        for (cid, block) in zip(cids, encoded) { bytes += Varint.encode(UInt64(cid.bytes.count + block.count)) + cid.bytes + block }
        return MerkleSearchTree(blocks: try CARReader().read(bytes), root: cids[root])
    }

    @Test("MST lookups descend left and right subtrees and refuse malformed nodes and missing blocks")
    func treeLookups() throws {
        let record = CID.sha256(of: [1])
        let other = CID.sha256(of: [2])
        let leaf = DAGCBORValue.map([DAGCBORMapEntry(key: "e", value: .array([entry(0, "a/m", other)])),
                                     DAGCBORMapEntry(key: "l", value: .null)])
        let leafCID = CID.sha256(of: DAGCBOREncoder.encode(leaf))
        let root = DAGCBORValue.map([DAGCBORMapEntry(key: "e", value: .array([entry(0, "a/c", record, right: leafCID), entry(2, "z", record)])),
                                     DAGCBORMapEntry(key: "l", value: .null)])
        let good = try tree([root, leaf])
        #expect(try good.lookup("a/c") == record)
        #expect(try good.lookup("a/z") == record)
        #expect(try good.lookup("a/m") == other)
        #expect(try good.lookup("a/a") == nil)
        #expect(try good.entries().map(\.key) == ["a/c", "a/m", "a/z"])
        // The subtree holding a/m is missing from the blocks.
        let missing = try tree([root])
        #expect(throws: IPLDError.missingBlock(leafCID)) { try missing.lookup("a/m") }
        #expect(try missing.lookup("a/c") == record)
        // A prefix longer than the previous key, a node without entries, an entry without v.
        let badPrefix = DAGCBORValue.map([DAGCBORMapEntry(key: "e", value: .array([entry(5, "x", record)])), DAGCBORMapEntry(key: "l", value: .null)])
        #expect(throws: IPLDError.self) { try tree([badPrefix]).lookup("x") }
        #expect(throws: IPLDError.self) { try tree([.map([DAGCBORMapEntry(key: "l", value: .null)])]).lookup("x") }
        let noValue = DAGCBORValue.map([DAGCBORMapEntry(key: "e", value: .array([.map([DAGCBORMapEntry(key: "k", value: .bytes([0x78])),
                                                                                         DAGCBORMapEntry(key: "p", value: .int(0))])]))])
        #expect(throws: IPLDError.self) { try tree([noValue]).lookup("x") }
        #expect(throws: IPLDError.self) { try tree([.array([])]).lookup("x") }
    }
}
