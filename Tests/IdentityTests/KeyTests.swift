import Foundation
import Testing
@testable import Identity

/// Standard base64 without padding, as the atproto interop fixtures write messages and signatures.
func base64(_ text: String) -> [UInt8] {
    let padded = text + String(repeating: "=", count: (4 - text.count % 4) % 4)
    return [UInt8](Data(base64Encoded: padded)!)
}

/// The atproto interop signature fixtures: message {"hello":"world"} as DAG-CBOR.
enum InteropVectors {
    static let message = base64("oWVoZWxsb2V3b3JsZA")
    static let p256Key = "zDnaembgSGUhZULN2Caob4HLJPaxBh92N7rtH21TErzqf8HQo"
    static let p256LowS = base64("2vZNsG3UKvvO/CDlrdvyZRISOFylinBh0Jupc6KcWoJWExHptCfduPleDbG3rko3YZnn9Lw0IjpixVmexJDegg")
    static let p256HighS = base64("2vZNsG3UKvvO/CDlrdvyZRISOFylinBh0Jupc6KcWoKp7O4VS9giSAah8k5IUbXIW00SuOrjfEqQ9HEkN9JGzw")
    static let k256Key = "zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc"
    static let k256LowS = base64("5WpdIuEUUfVUYaozsi8G0B3cWO09cgZbIIwg1t2YKdUn/FEznOndsz/qgiYb89zwxYCbB71f7yQK5Lr7NasfoA")
    static let k256HighS = base64("5WpdIuEUUfVUYaozsi8G0B3cWO09cgZbIIwg1t2YKdXYA67MYxYiTMAVfdnkDCMN9S5B3vHosRe07aORmoshoQ")
    static let p256DERKey = "zDnaeT6hL2RnTdUhAPLij1QBkhYZnmuKyM7puQLW1tkF4Zkt8"
    static let p256DER = base64("MEQCIFxYelWJ9lNcAVt+jK0y/T+DC/X4ohFZ+m8f9SEItkY1AiACX7eXz5sgtaRrz/SdPR8kprnbHMQVde0T2R8yOTBweA")
    static let k256DERKey = "zQ3shnriYMXc8wvkbJqfNWh5GXn2bVAeqTC92YuNbek4npqGF"
    static let k256DER = base64("MEUCIQCWumUqJqOCqInXF7AzhIRg2MhwRz2rWZcOEsOjPmNItgIgXJH7RnqfYY6M0eg33wU0sFYDlprwdOcpRn78Sz5ePgk")
    // The same keys in the legacy (2019 verification-method) encodings of older DID documents.
    static let p256Legacy = "zxdM8dSstjrpZaRUwBmDvjGXweKuEMVN95A9oJBFjkWMh"
    static let k256LegacyKeyDID = "zQ3shueETAVp1HCdE7pcrUD1wEHNhfaQiDJmWeJgCxZRmDJuy"
    static let k256Legacy = "zRvvEWNhRDxCYpkWWKzvrCP5Sca54yhgXjLcSgfJsWW9Jk8Wq79d5h2PTW3BQDmNQv4prqGjRkXiEDwnfpq2tTsmp"
    static let k256LegacySignature = base64("FbKI9u/VoY9SFHvtsuYsZULkt3QiNRrPUP3N4bX0xTxfWIUccyoNJ7egTITlaD1xBhXAvDdBnbyC6aOZ0jyjEA")
}

@Suite struct KeyTests {
    @Test func multikeysDecodeToTheirCurveAndRoundTrip() throws {
        let p256 = try PublicKey(multikey: InteropVectors.p256Key)
        #expect(p256.curve == .p256)
        #expect(p256.point.count == 33 && [0x02, 0x03].contains(p256.point[0]))
        #expect(p256.multikey == InteropVectors.p256Key)
        #expect(p256.didKey == "did:key:" + InteropVectors.p256Key)
        let k256 = try PublicKey(multikey: InteropVectors.k256Key)
        #expect(k256.curve == .secp256k1)
        #expect(k256.point.count == 33)
        #expect(k256.multikey == InteropVectors.k256Key)
        // The multicodec varints themselves.
        #expect(Base58.decode(String(InteropVectors.k256Key.dropFirst()))!.prefix(2) == [0xe7, 0x01])
        #expect(Base58.decode(String(InteropVectors.p256Key.dropFirst()))!.prefix(2) == [0x80, 0x24])
    }

    @Test func badMultikeysAreRefused() {
        #expect(throws: KeyDecodingError.unsupportedMultibase("Q")) { try PublicKey(multikey: String(InteropVectors.k256Key.dropFirst())) }
        #expect(throws: KeyDecodingError.invalidBase58) { try PublicKey(multikey: "z0OIl") }
        // ed25519 (multicodec 0xed 0x01) is not an atproto signing key.
        #expect(throws: KeyDecodingError.unsupportedMulticodec([0xed, 0x01])) {
            try PublicKey(multikey: "z" + Base58.encode([0xed, 0x01] + [UInt8](repeating: 7, count: 32)))
        }
        // Right prefix, wrong length or point tag.
        #expect(throws: KeyDecodingError.invalidPoint(.secp256k1)) {
            try PublicKey(multikey: "z" + Base58.encode([0xe7, 0x01] + [UInt8](repeating: 2, count: 32)))
        }
        #expect(throws: KeyDecodingError.invalidPoint(.p256)) {
            try PublicKey(multikey: "z" + Base58.encode([0x80, 0x24, 0x04] + [UInt8](repeating: 2, count: 32)))
        }
    }

    @Test func interopSignaturesVerifyOnBothCurvesAndHighSIsRefused() throws {
        let p256 = try PublicKey(multikey: InteropVectors.p256Key)
        let k256 = try PublicKey(multikey: InteropVectors.k256Key)
        #expect(p256.verify(signature: InteropVectors.p256LowS, message: InteropVectors.message) == .valid)
        #expect(k256.verify(signature: InteropVectors.k256LowS, message: InteropVectors.message) == .valid)
        #expect(p256.verify(signature: InteropVectors.p256HighS, message: InteropVectors.message) == .highS)
        #expect(k256.verify(signature: InteropVectors.k256HighS, message: InteropVectors.message) == .highS)
        // DER-encoded signatures are not the r‖s form.
        #expect(try PublicKey(multikey: InteropVectors.p256DERKey).verify(signature: InteropVectors.p256DER, message: InteropVectors.message) == .malformed)
        #expect(try PublicKey(multikey: InteropVectors.k256DERKey).verify(signature: InteropVectors.k256DER, message: InteropVectors.message) == .malformed)
        // Another message, another key, a swapped curve.
        #expect(p256.verify(signature: InteropVectors.p256LowS, message: Array("tampered".utf8)) == .invalid)
        #expect(k256.verify(signature: InteropVectors.p256LowS, message: InteropVectors.message) == .invalid)
        #expect(PublicKey(curve: .secp256k1, point: p256.point).verify(signature: InteropVectors.p256LowS, message: InteropVectors.message) != .valid)
    }

    @Test func legacyMultibaseKeysVerifyTheirSignatures() throws {
        let p256 = try PublicKey(legacyMultibase: InteropVectors.p256Legacy, curve: .p256)
        #expect(p256 == (try PublicKey(multikey: InteropVectors.p256Key)))
        #expect(p256.verify(signature: InteropVectors.p256LowS, message: InteropVectors.message) == .valid)
        let k256 = try PublicKey(legacyMultibase: InteropVectors.k256Legacy, curve: .secp256k1)
        #expect(k256.point.count == 65)
        #expect(k256.verify(signature: InteropVectors.k256LegacySignature, message: InteropVectors.message) == .valid)
        #expect(try PublicKey(multikey: InteropVectors.k256LegacyKeyDID).verify(
            signature: InteropVectors.k256LegacySignature, message: InteropVectors.message) == .valid)
    }

    @Test(arguments: SigningCurve.allCases)
    func signVerifyRoundTripsAlwaysLowS(curve: SigningCurve) throws {
        let key = try PrivateKey.generate(curve: curve)
        #expect(key.publicKey.curve == curve)
        #expect(try PublicKey(multikey: key.publicKey.multikey) == key.publicKey)
        let other = try PrivateKey.generate(curve: curve)
        for index in 0..<40 {
            let message = Array("message \(index)".utf8)
            let signature = try key.sign(message)
            #expect(signature.count == 64)
            #expect(key.publicKey.verify(signature: signature, message: message) == .valid)
            let twin = try #require(highSVariant(of: signature, curve: curve))
            #expect(key.publicKey.verify(signature: twin, message: message) == .highS)
            #expect(other.publicKey.verify(signature: signature, message: message) == .invalid)
            var flipped = signature
            flipped[5] ^= 0x40
            #expect(key.publicKey.verify(signature: flipped, message: message) != .valid)
        }
    }

    @Test(arguments: SigningCurve.allCases)
    func aKnownSecretGivesTheSamePublicKey(curve: SigningCurve) throws {
        let key = try PrivateKey.generate(curve: curve)
        #expect(try PrivateKey(curve: curve, secret: key.secret).publicKey == key.publicKey)
        #expect(throws: SigningError.invalidSecret) { try PrivateKey(curve: curve, secret: [UInt8](repeating: 0, count: 32)) }
        #expect(throws: SigningError.invalidSecret) { try PrivateKey(curve: curve, secret: [UInt8](repeating: 0xff, count: 32)) }
        #expect(throws: SigningError.invalidSecret) { try PrivateKey(curve: curve, secret: [1, 2, 3]) }
    }

    @Test func outOfRangeSignaturesAreMalformed() throws {
        let key = try PublicKey(multikey: InteropVectors.k256Key)
        #expect(key.verify(signature: [UInt8](repeating: 0, count: 64), message: InteropVectors.message) == .malformed)
        #expect(key.verify(signature: [UInt8](repeating: 0xff, count: 64), message: InteropVectors.message) == .malformed)
        #expect(key.verify(signature: Array(InteropVectors.k256LowS.prefix(63)), message: InteropVectors.message) == .malformed)
        let offCurve = PublicKey(curve: .secp256k1, point: [0x02] + [UInt8](repeating: 0, count: 32))
        #expect(offCurve.verify(signature: InteropVectors.k256LowS, message: InteropVectors.message) == .unusableKey)
    }

    @Test func mintedTokensVerifyWithTheDocumentKey() throws {
        let key = try PrivateKey.generate(curve: .p256)
        let token = try ServiceTokenMinter(key: key).mint(
            issuer: "did:plc:ewvi7nxzyoun6zhxrhs64oiz", audience: "did:web:appview.test", method: "app.bsky.feed.getTimeline",
            issuedAt: 1_700_000_000, lifetimeSeconds: 60)
        let parts = token.split(separator: ".").map { Array($0.utf8) }
        #expect(parts.count == 3)
        let header = try #require(Base64URL.decode(parts[0]))
        #expect(String(decoding: header, as: UTF8.self) == #"{"typ":"JWT","alg":"ES256"}"#)
        let payload = try JSONSerialization.jsonObject(with: Data(try #require(Base64URL.decode(parts[1])))) as! [String: Any]
        #expect(payload["exp"] as? Int == 1_700_000_060)
        #expect(payload["lxm"] as? String == "app.bsky.feed.getTimeline")
        let document = try DIDDocument(did: "did:plc:ewvi7nxzyoun6zhxrhs64oiz", json: Array(makeDIDDocument(
            did: "did:plc:ewvi7nxzyoun6zhxrhs64oiz", handle: "alice.test", key: key.publicKey).utf8))
        let signingInput = Array(token.utf8.prefix(parts[0].count + 1 + parts[1].count))
        #expect(document.signingKey?.verify(signature: try #require(Base64URL.decode(parts[2])), message: signingInput) == .valid)
    }
}
