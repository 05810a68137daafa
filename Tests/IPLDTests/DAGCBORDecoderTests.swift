@testable import IPLD
import Testing

@Suite("DAG-CBOR decoding")
struct DAGCBORDecoderTests {
    let decoder = DAGCBORDecoder()

    @Test("scalars, strings, arrays, maps in wire order, links and floats decode")
    func wellFormed() throws {
        #expect(try decoder.decode([0x00]) == .int(0))
        #expect(try decoder.decode([0x18, 0x64]) == .int(100))
        #expect(try decoder.decode([0x20]) == .int(-1))
        #expect(try decoder.decode([0x3B, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]) == .int(Int64.min))
        #expect(try decoder.decode([0x1B, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]) == .int(Int64.max))
        #expect(try decoder.decode([0x43, 1, 2, 3]) == .bytes([1, 2, 3]))
        #expect(try decoder.decode([0x62, 0x68, 0x69]) == .string("hi"))
        #expect(try decoder.decode([0xF4]) == .bool(false))
        #expect(try decoder.decode([0xF5]) == .bool(true))
        #expect(try decoder.decode([0xF6]) == .null)
        #expect(try decoder.decode([0xFB, 0x3F, 0xF8, 0, 0, 0, 0, 0, 0]) == .float(1.5))
        #expect(try decoder.decode([0x82, 0x01, 0x61, 0x61]) == .array([.int(1), .string("a")]))
        let map = try decoder.decode([0xA2, 0x61, 0x62, 0x01, 0x61, 0x61, 0x02])
        #expect(map == .map([DAGCBORMapEntry(key: "b", value: .int(1)), DAGCBORMapEntry(key: "a", value: .int(2))]))
        #expect(map["a"] == .int(2))
        let cid = CID.sha256(of: [1, 2, 3])
        let encoded = DAGCBOREncoder.encode(.link(cid))
        #expect(Array(encoded.prefix(2)) == [0xD8, 0x2A])
        #expect(try decoder.decode(encoded) == .link(cid))
    }

    @Test("the encoder's output decodes to the same value and is canonical (keys by length, then bytes)")
    func roundTrip() throws {
        let value = DAGCBORValue.map([
            DAGCBORMapEntry(key: "bb", value: .array([.int(-500), .int(70_000), .int(5_000_000_000)])),
            DAGCBORMapEntry(key: "a", value: .bytes([0, 255])),
            DAGCBORMapEntry(key: "c", value: .string("héllo")),
            DAGCBORMapEntry(key: "d", value: .link(CID.sha256(of: [9]))),
        ])
        let encoded = DAGCBOREncoder.encode(value)
        let decoded = try decoder.decode(encoded)
        #expect(decoded.mapValue?.map(\.key) == ["a", "c", "d", "bb"])
        #expect(decoded["bb"] == value["bb"])
        #expect(decoded["d"] == value["d"])
        #expect(DAGCBOREncoder.encode(decoded) == encoded)
    }

    @Test("indefinite lengths are refused for every container type")
    func indefinite() {
        for initial: UInt8 in [0x5F, 0x7F, 0x9F, 0xBF] {
            #expect(throws: IPLDError.indefiniteLength(offset: 0)) { try decoder.decode([initial, 0xFF]) }
        }
        #expect(throws: IPLDError.unsupportedEncoding(offset: 0)) { try decoder.decode([0xFF]) }
    }

    @Test("tags other than 42 and malformed CID links are refused")
    func tags() {
        #expect(throws: IPLDError.unsupportedTag(1, offset: 0)) { try decoder.decode([0xC1, 0x00]) }
        #expect(throws: IPLDError.unsupportedTag(43, offset: 0)) { try decoder.decode([0xD8, 0x2B, 0x40]) }
        let cid = CID.sha256(of: [1])
        // No leading 0x00.
        #expect(throws: IPLDError.self) { try decoder.decode([0xD8, 0x2A, 0x58, UInt8(cid.bytes.count)] + cid.bytes) }
        // A text string instead of bytes.
        #expect(throws: IPLDError.self) { try decoder.decode([0xD8, 0x2A, 0x61, 0x00]) }
        // A truncated CID inside a complete byte string.
        #expect(throws: IPLDError.self) { try decoder.decode([0xD8, 0x2A, 0x45, 0x00, 0x01, 0x71, 0x12, 0x20]) }
        // A CID followed by extra bytes inside the byte string.
        #expect(throws: IPLDError.self) {
            try decoder.decode([0xD8, 0x2A, 0x58, UInt8(cid.bytes.count + 2), 0x00] + cid.bytes + [0x00])
        }
    }

    @Test("maps: keys must be text strings, never repeated (small and large maps)")
    func mapKeys() {
        #expect(throws: IPLDError.nonStringMapKey(offset: 1)) { try decoder.decode([0xA1, 0x01, 0x02]) }
        #expect(throws: IPLDError.nonStringMapKey(offset: 1)) { try decoder.decode([0xA1, 0x41, 0x61, 0x02]) }
        #expect(throws: IPLDError.duplicateMapKey("a", offset: 4)) { try decoder.decode([0xA2, 0x61, 0x61, 0x01, 0x61, 0x61, 0x02]) }
        var large: [UInt8] = [0xB8, 40]
        for index in 0..<39 { large += DAGCBOREncoder.encode(.string("k\(index)")) + [0x00] }
        large += DAGCBOREncoder.encode(.string("k7")) + [0x00]
        #expect(throws: IPLDError.self) { try decoder.decode(large) }
    }

    @Test("a depth bomb stops at the depth limit, quickly and without exhausting the stack")
    func depthBomb() {
        let bomb = [UInt8](repeating: 0x81, count: 1_000_000) + [0x00]
        #expect(throws: IPLDError.depthLimitExceeded(offset: 63)) { try decoder.decode(bomb) }
        let mapBomb = [UInt8]((0..<100_000).flatMap { _ in [UInt8(0xA1), 0x61, 0x61] }) + [0x00]
        #expect(throws: IPLDError.self) { try decoder.decode(mapBomb) }
    }

    @Test("huge length fields over few bytes fail before allocating")
    func hugeLengths() {
        let eight: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        #expect(throws: IPLDError.sizeLimitExceeded(offset: 0)) { try decoder.decode([0x5B] + eight) }
        #expect(throws: IPLDError.sizeLimitExceeded(offset: 0)) { try decoder.decode([0x7B] + eight) }
        #expect(throws: IPLDError.sizeLimitExceeded(offset: 0)) { try decoder.decode([0x9B] + eight) }
        #expect(throws: IPLDError.sizeLimitExceeded(offset: 0)) { try decoder.decode([0xBB] + eight) }
        // Within the limits but longer than the input.
        #expect(throws: IPLDError.unexpectedEnd(offset: 5)) { try decoder.decode([0x5A, 0x00, 0x10, 0x00, 0x00]) }
        #expect(throws: IPLDError.unexpectedEnd(offset: 5)) { try decoder.decode([0x9A, 0x00, 0x01, 0x00, 0x00]) }
        #expect(throws: IPLDError.unexpectedEnd(offset: 3)) { try decoder.decode([0xB9, 0x01, 0x00]) }
    }

    @Test("out-of-range integers, invalid UTF-8, non-DAG simple values and floats, trailing bytes")
    func otherMalformations() {
        #expect(throws: IPLDError.integerOutOfRange(offset: 0)) { try decoder.decode([0x1B, 0x80, 0, 0, 0, 0, 0, 0, 0]) }
        #expect(throws: IPLDError.integerOutOfRange(offset: 0)) { try decoder.decode([0x3B, 0x80, 0, 0, 0, 0, 0, 0, 0]) }
        #expect(throws: IPLDError.invalidUTF8(offset: 0)) { try decoder.decode([0x62, 0xC3, 0x28]) }
        #expect(throws: IPLDError.unsupportedEncoding(offset: 0)) { try decoder.decode([0xF7]) }  // undefined
        #expect(throws: IPLDError.unsupportedEncoding(offset: 0)) { try decoder.decode([0xF9, 0x3C, 0x00]) }  // half float
        #expect(throws: IPLDError.unsupportedEncoding(offset: 0)) { try decoder.decode([0xFA, 0x3F, 0x80, 0, 0]) }  // single float
        #expect(throws: IPLDError.unsupportedEncoding(offset: 0)) { try decoder.decode([0xFB, 0x7F, 0xF8, 0, 0, 0, 0, 0, 0]) }  // NaN
        #expect(throws: IPLDError.unsupportedEncoding(offset: 0)) { try decoder.decode([0x1C]) }  // reserved
        #expect(throws: IPLDError.unsupportedEncoding(offset: 0)) { try decoder.decode([0xE0]) }  // simple value 0
        #expect(throws: IPLDError.trailingBytes(offset: 1)) { try decoder.decode([0x00, 0x00]) }
        #expect(throws: IPLDError.unexpectedEnd(offset: 0)) { try decoder.decode([]) }
        #expect(throws: IPLDError.unexpectedEnd(offset: 2)) { try decoder.decode([0x19, 0x01]) }
    }

    @Test("the value budget bounds memory whatever the shape")
    func valueBudget() {
        let small = DAGCBORDecoder(limits: DAGCBORLimits(maximumValueCount: 100))
        let array = [0x98, 200] + [UInt8](repeating: 0x00, count: 200)
        #expect(throws: IPLDError.self) { try small.decode(array) }
        #expect((try? DAGCBORDecoder().decode(array)) != nil)
        let shallow = DAGCBORDecoder(limits: DAGCBORLimits(maximumStringBytes: 4))
        #expect(throws: IPLDError.sizeLimitExceeded(offset: 0)) { try shallow.decode([0x65, 1, 2, 3, 4, 5]) }
    }
}
