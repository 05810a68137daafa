/// Base58 with the Bitcoin alphabet (`base58btc`, multibase prefix `z`), as used by
/// `publicKeyMultibase` and `did:key`.
public enum Base58 {
    static let alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)
    static let values: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, character) in alphabet.enumerated() { table[Int(character)] = Int8(index) }
        return table
    }()

    /// The bytes of `text`, nil when it holds a character outside the alphabet or is empty.
    public static func decode(_ text: String) -> [UInt8]? {
        let input = Array(text.utf8)
        guard !input.isEmpty else { return nil }
        let leadingZeros = input.prefix { $0 == alphabet[0] }.count
        // Big-endian base-256 accumulator; each digit multiplies it by 58 and adds the digit.
        var number: [UInt8] = []
        number.reserveCapacity(input.count)
        for character in input.dropFirst(leadingZeros) {
            let digit = values[Int(character)]
            guard digit >= 0 else { return nil }
            var carry = Int(digit)
            for index in stride(from: number.count - 1, through: 0, by: -1) {
                carry += Int(number[index]) * 58
                number[index] = UInt8(carry & 0xff)
                carry >>= 8
            }
            while carry > 0 {
                number.insert(UInt8(carry & 0xff), at: 0)
                carry >>= 8
            }
        }
        return [UInt8](repeating: 0, count: leadingZeros) + number
    }

    /// The base58btc text of `bytes`.
    public static func encode(_ bytes: [UInt8]) -> String {
        let leadingZeros = bytes.prefix { $0 == 0 }.count
        var digits: [UInt8] = [] // little-endian base-58 digits
        for byte in bytes.dropFirst(leadingZeros) {
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
        let characters = [UInt8](repeating: alphabet[0], count: leadingZeros) + digits.reversed().map { alphabet[Int($0)] }
        return String(decoding: characters, as: UTF8.self)
    }
}
