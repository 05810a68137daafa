/// Unsigned LEB128 varints as multiformats use them (CIDs, CAR section lengths): at most 9 bytes,
/// 63 bits, shortest form only.
public enum Varint {
    /// Reads a varint at `position` and advances it past the varint.
    public static func read(_ input: UnsafeBufferPointer<UInt8>, at position: inout Int) throws(IPLDError) -> UInt64 {
        let start = position
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var index = position
        while true {
            guard index < input.count else { throw .unexpectedEnd(offset: index) }
            let byte = input[index]
            index += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                // A final zero byte after the first one is a non-minimal encoding.
                if byte == 0 && index - start > 1 { throw .invalidVarint(offset: start) }
                break
            }
            shift += 7
            if shift >= 63 { throw .invalidVarint(offset: start) }
        }
        position = index
        return value
    }

    /// Reads a varint that must fit an `Int` (a length or count).
    static func readLength(_ input: UnsafeBufferPointer<UInt8>, at position: inout Int) throws(IPLDError) -> Int {
        let start = position
        let value = try read(input, at: &position)
        guard value <= UInt64(Int.max) else { throw .invalidVarint(offset: start) }
        return Int(value)
    }

    /// The varint encoding of `value` (tests and CAR/CID writers).
    public static func encode(_ value: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        var rest = value
        repeat {
            var byte = UInt8(rest & 0x7F)
            rest >>= 7
            if rest != 0 { byte |= 0x80 }
            out.append(byte)
        } while rest != 0
        return out
    }
}
