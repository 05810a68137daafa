@testable import IPLD
import Testing

@Suite("varints and CIDs")
struct VarintAndCIDTests {
    /// `[value, bytes read]`.
    func readVarint(_ bytes: [UInt8]) throws(IPLDError) -> [UInt64] {
        try bytes.withUnsafeBufferPointer { buffer -> Result<[UInt64], IPLDError> in
            var position = 0
            do throws(IPLDError) {
                let value = try Varint.read(buffer, at: &position)
                return .success([value, UInt64(position)])
            } catch {
                return .failure(error)
            }
        }.get()
    }

    @Test("varints decode, round-trip and refuse overlong, non-minimal and truncated forms")
    func varints() throws {
        #expect(try readVarint([0x00]) == [0, 1])
        #expect(try readVarint([0x7F]) == [127, 1])
        #expect(try readVarint([0x80, 0x01]) == [128, 2])
        #expect(try readVarint([0xAC, 0x02, 0xFF]) == [300, 2])
        for value: UInt64 in [0, 1, 127, 128, 300, 16_384, 1 << 40, (1 << 63) - 1] {
            #expect(try readVarint(Varint.encode(value))[0] == value)
        }
        #expect(throws: IPLDError.unexpectedEnd(offset: 1)) { try readVarint([0x80]) }
        #expect(throws: IPLDError.unexpectedEnd(offset: 0)) { try readVarint([]) }
        #expect(throws: IPLDError.invalidVarint(offset: 0)) { try readVarint([0x80, 0x00]) }
        #expect(throws: IPLDError.invalidVarint(offset: 0)) { try readVarint([UInt8](repeating: 0xFF, count: 9) + [0x01]) }
    }

    @Test("a CIDv1 parses from text and bytes and prints back as base32 b…")
    func cidV1() throws {
        let text = "bafyreidigqr65jj2zsmitco3fcuag6pi7std6quxa2bcp2xrpin44ikzsy"
        let cid = try CID(string: text)
        #expect(cid.version == 1)
        #expect(cid.codec == CID.dagCBORCodec)
        #expect(cid.hashCode == CID.sha256Code)
        #expect(cid.digest.count == 32)
        #expect(cid.string == text)
        #expect(try CID(bytes: cid.bytes) == cid)
        let raw = try CID(string: "bafkreias7oxbr6swsuggccmtnqpoeami4jza5x4w3urltn6gzhqf4k6k2e")
        #expect(raw.codec == CID.rawCodec)
    }

    @Test("a CIDv0 (bare sha2-256 multihash) reads and prints as base58btc Qm…")
    func cidV0() throws {
        let digest = [UInt8](repeating: 0xAB, count: 32)
        let cid = try CID(bytes: [0x12, 0x20] + digest)
        #expect(cid.version == 0)
        #expect(cid.string.hasPrefix("Qm"))
        #expect(cid.string.count == 46)
        #expect(try CID(string: cid.string) == cid)
    }

    @Test("bad CIDs are errors: version, truncation, oversize digests, trailing bytes, bad text")
    func badCIDs() {
        #expect(throws: IPLDError.self) { try CID(bytes: [0x02, 0x71, 0x12, 0x20] + [UInt8](repeating: 0, count: 32)) }
        #expect(throws: IPLDError.self) { try CID(bytes: [0x01, 0x71, 0x12, 0x20] + [UInt8](repeating: 0, count: 31)) }
        #expect(throws: IPLDError.self) { try CID(bytes: [0x01, 0x71, 0x12, 0x7F] + [UInt8](repeating: 0, count: 127)) }
        #expect(throws: IPLDError.self) { try CID(bytes: [0x01, 0x71, 0x12, 0x01, 0x00, 0x00]) }
        #expect(throws: IPLDError.self) { try CID(bytes: [0x01]) }
        #expect(throws: IPLDError.self) { try CID(bytes: []) }
        #expect(throws: IPLDError.self) { try CID(string: "") }
        #expect(throws: IPLDError.self) { try CID(string: "bafy!!") }
        #expect(throws: IPLDError.self) { try CID(string: "zQm") }
        #expect(throws: IPLDError.self) { try CID(string: "b") }
    }

    @Test("sha256(of:) matches the block and a changed byte does not")
    func blockHash() throws {
        let block: [UInt8] = Array("hello".utf8)
        let cid = CID.sha256(of: block)
        #expect(cid.string == "bafyreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq")
        #expect(try block.withUnsafeBufferPointer { buffer throws(IPLDError) in try cid.matches(buffer) })
        let changed: [UInt8] = Array("hellp".utf8)
        #expect(try !changed.withUnsafeBufferPointer { buffer throws(IPLDError) in try cid.matches(buffer) })
    }
}
