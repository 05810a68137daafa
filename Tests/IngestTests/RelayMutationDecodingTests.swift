import Foundation
@testable import Ingest
import IPLD
import Testing

/// A short deterministic mutation fuzz of the relay decoder in the test suite (the long run is
/// scripts/fuzz-relay.sh, libFuzzer): real frames bit-flipped, truncated, spliced and with length
/// fields inflated. Every mutant must decode or throw a RelayDecodingError; nothing may trap.
@Suite("relay frame decoding under mutation")
struct RelayMutationDecodingTests {
    /// SplitMix64: the same mutants on every run.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func mutate(_ frames: [[UInt8]], _ random: inout Generator) -> [UInt8] {
        var frame = frames[Int.random(in: 0..<frames.count, using: &random)]
        guard !frame.isEmpty else { return frame }
        switch Int.random(in: 0..<5, using: &random) {
        case 0:  // bit flips
            for _ in 0..<Int.random(in: 1...8, using: &random) {
                let index = Int.random(in: 0..<frame.count, using: &random)
                frame[index] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
            }
        case 1:  // truncation
            frame = Array(frame[..<Int.random(in: 0..<frame.count, using: &random)])
        case 2:  // splice: the head of one frame, the tail of another
            let other = frames[Int.random(in: 0..<frames.count, using: &random)]
            let cut = Int.random(in: 0..<frame.count, using: &random)
            let otherCut = Int.random(in: 0..<max(1, other.count), using: &random)
            frame = Array(frame[..<cut]) + Array(other[min(otherCut, other.count)...])
        case 3:  // length inflation: a CBOR head's argument replaced by a huge one
            let index = Int.random(in: 0..<frame.count, using: &random)
            let major = frame[index] & 0xE0
            let width = [UInt8(0x19), 0x1A, 0x1B].randomElement(using: &random)!
            var inflated: [UInt8] = [major | width]
            let count = width == 0x19 ? 2 : (width == 0x1A ? 4 : 8)
            for _ in 0..<count { inflated.append(UInt8.random(in: 0x7F...0xFF, using: &random)) }
            frame.replaceSubrange(index..<(index + 1), with: inflated)
        default:  // random bytes overwritten
            let index = Int.random(in: 0..<frame.count, using: &random)
            let length = min(frame.count - index, Int.random(in: 1...16, using: &random))
            for offset in 0..<length { frame[index + offset] = UInt8.random(in: 0...255, using: &random) }
        }
        return frame
    }

    @Test("5,000 mutants of real frames: each decodes or is a typed error, events stay valid JSON")
    func mutants() throws {
        let frames = RelayCorpus.frames
        try #require(frames.count == 150)
        let verifying = RelayFrameDecoder()
        // Without hash checks mutants reach the tree walk and record conversion.
        let unverified = RelayFrameDecoder(limits: RelayDecodingLimits(car: CARLimits(verifyBlockHashes: false)))
        var random = Generator(state: 20_260_704)
        var decoded = 0
        var errors: [String: Int] = [:]
        for _ in 0..<5_000 {
            let mutant = Self.mutate(frames, &random)
            for decoder in [verifying, unverified] {
                do {
                    let frame = try decoder.decode(mutant, timeMicroseconds: 1)
                    decoded += 1
                    for event in frame.events {
                        #expect((try? JSONSerialization.jsonObject(with: event)) != nil)
                    }
                } catch {
                    errors[error.kind, default: 0] += 1
                }
            }
        }
        // Both outcomes occur: the mutations are neither all harmless nor all fatal.
        #expect(decoded > 100)
        #expect(errors.values.reduce(0, +) > 1_000)
        #expect(errors.count > 5, "\(errors)")
    }
}
