import Foundation
import Testing
@testable import Identity

@Suite struct EncodingTests {
    @Test func base58MatchesKnownVectors() {
        #expect(Base58.encode(Array("Hello World!".utf8)) == "2NEpo7TZRRrLZSi2U")
        #expect(Base58.decode("2NEpo7TZRRrLZSi2U") == Array("Hello World!".utf8))
        #expect(Base58.encode([0, 0, 0x28, 0x7f, 0xb4, 0xcd]) == "11233QC4")
        #expect(Base58.decode("11233QC4") == [0, 0, 0x28, 0x7f, 0xb4, 0xcd])
        #expect(Base58.decode("1") == [0])
    }

    @Test func base58RefusesCharactersOutsideTheAlphabet() {
        for text in ["", "0", "O", "I", "l", "abc+", "2NEpo7TZRRrLZSi2U "] {
            #expect(Base58.decode(text) == nil, "\(text)")
        }
    }

    @Test func base58RoundTripsRandomBytes() {
        for length in [1, 2, 33, 35, 65] {
            for _ in 0..<20 {
                var bytes = (0..<length).map { _ in UInt8.random(in: 0...255) }
                if Bool.random() { bytes[0] = 0 }
                #expect(Base58.decode(Base58.encode(bytes)) == bytes)
            }
        }
    }

    @Test func base64URLIsStrict() {
        #expect(Base64URL.decode(Array("YQ".utf8)) == Array("a".utf8))
        #expect(Base64URL.decode(Array("_-8".utf8)) == [0xff, 0xef])
        #expect(Base64URL.encode([0xff, 0xef]) == "_-8")
        for bad in ["YQ==", "YR", "a+b/", "a b", "YQ=", "abcde", "ab.c", "ab\n"] {
            #expect(Base64URL.decode(Array(bad.utf8)) == nil, "\(bad)")
        }
        for length in 0..<40 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255) }
            #expect(Base64URL.decode(Array(Base64URL.encode(bytes).utf8)) == bytes)
        }
    }
}
