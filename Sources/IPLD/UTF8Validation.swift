/// Strict UTF-8 validation (no overlongs, surrogates or code points above U+10FFFF), with a fast
/// path for ASCII runs: text strings are most of a record.
enum UTF8Validation {
    static func isValid(_ input: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        let count = input.count
        while index < count {
            // Eight ASCII bytes at a time.
            if count - index >= 8 {
                let word = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(input)[index..<(index + 8)])
                    .loadUnaligned(as: UInt64.self)
                if word & 0x8080_8080_8080_8080 == 0 {
                    index += 8
                    continue
                }
            }
            let lead = input[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let remaining = count - index
            func isContinuation(_ byte: UInt8) -> Bool { byte & 0xC0 == 0x80 }
            switch lead {
            case 0xC2...0xDF:
                guard remaining >= 2, isContinuation(input[index + 1]) else { return false }
                index += 2
            case 0xE0...0xEF:
                guard remaining >= 3 else { return false }
                let second = input[index + 1]
                let lower: UInt8 = lead == 0xE0 ? 0xA0 : 0x80
                let upper: UInt8 = lead == 0xED ? 0x9F : 0xBF
                guard second >= lower, second <= upper, isContinuation(input[index + 2]) else { return false }
                index += 3
            case 0xF0...0xF4:
                guard remaining >= 4 else { return false }
                let second = input[index + 1]
                let lower: UInt8 = lead == 0xF0 ? 0x90 : 0x80
                let upper: UInt8 = lead == 0xF4 ? 0x8F : 0xBF
                guard second >= lower, second <= upper, isContinuation(input[index + 2]),
                      isContinuation(input[index + 3]) else { return false }
                index += 4
            default:
                return false
            }
        }
        return true
    }
}
