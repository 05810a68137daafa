/// Base58btc (Bitcoin alphabet), the text form of CIDv0. Quadratic, fine for 34-byte CIDs;
/// callers bound the input length.
enum Base58 {
    static let alphabet: [UInt8] = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var digits: [UInt8] = []  // base-58 digits, least significant first
        for byte in bytes {
            var carry = Int(byte)
            for index in digits.indices {
                carry += Int(digits[index]) << 8
                digits[index] = UInt8(carry % 58)
                carry /= 58
            }
            while carry > 0 {
                digits.append(UInt8(carry % 58))
                carry /= 58
            }
        }
        var out: [UInt8] = []
        for byte in bytes {
            guard byte == 0 else { break }
            out.append(alphabet[0])
        }
        for digit in digits.reversed() { out.append(alphabet[Int(digit)]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: [UInt8]) -> [UInt8]? {
        guard text.count <= 128 else { return nil }
        var bytes: [UInt8] = []  // least significant first
        for character in text {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            var carry = value
            for index in bytes.indices {
                carry += Int(bytes[index]) * 58
                bytes[index] = UInt8(carry & 0xFF)
                carry >>= 8
            }
            while carry > 0 {
                bytes.append(UInt8(carry & 0xFF))
                carry >>= 8
            }
        }
        var out: [UInt8] = []
        for character in text {
            guard character == alphabet[0] else { break }
            out.append(0)
        }
        out.append(contentsOf: bytes.reversed())
        return out
    }
}
