/// Canonical DAG-CBOR encoding: shortest-form heads, map keys sorted by length then bytewise, CIDs
/// as tag 42. Used to re-encode a commit without its signature (signature checks) and by tests to
/// build frames.
public enum DAGCBOREncoder {
    public static func encode(_ value: DAGCBORValue) -> [UInt8] {
        var out: [UInt8] = []
        append(value, to: &out)
        return out
    }

    public static func append(_ value: DAGCBORValue, to out: inout [UInt8]) {
        switch value {
        case .int(let number):
            if number >= 0 {
                head(0, UInt64(number), &out)
            } else {
                head(1, UInt64(-(number + 1)), &out)
            }
        case .bytes(let bytes):
            head(2, UInt64(bytes.count), &out)
            out.append(contentsOf: bytes)
        case .string(let text):
            head(3, UInt64(text.utf8.count), &out)
            out.append(contentsOf: text.utf8)
        case .array(let elements):
            head(4, UInt64(elements.count), &out)
            for element in elements { append(element, to: &out) }
        case .map(let entries):
            head(5, UInt64(entries.count), &out)
            let sorted = entries.sorted { left, right in
                let leftCount = left.key.utf8.count
                let rightCount = right.key.utf8.count
                if leftCount != rightCount { return leftCount < rightCount }
                return left.key.utf8.lexicographicallyPrecedes(right.key.utf8)
            }
            for entry in sorted {
                append(.string(entry.key), to: &out)
                append(entry.value, to: &out)
            }
        case .bool(let flag):
            out.append(flag ? 0xF5 : 0xF4)
        case .null:
            out.append(0xF6)
        case .float(let number):
            out.append(0xFB)
            let bits = number.bitPattern
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
        case .link(let cid):
            head(6, 42, &out)
            head(2, UInt64(cid.bytes.count + 1), &out)
            out.append(0x00)
            out.append(contentsOf: cid.bytes)
        }
    }

    static func head(_ major: UInt8, _ argument: UInt64, _ out: inout [UInt8]) {
        let type = major << 5
        switch argument {
        case 0..<24:
            out.append(type | UInt8(argument))
        case 24...0xFF:
            out.append(type | 24)
            out.append(UInt8(argument))
        case 0x100...0xFFFF:
            out.append(type | 25)
            for shift in [8, 0] { out.append(UInt8(truncatingIfNeeded: argument >> UInt64(shift))) }
        case 0x1_0000...0xFFFF_FFFF:
            out.append(type | 26)
            for shift in [24, 16, 8, 0] { out.append(UInt8(truncatingIfNeeded: argument >> UInt64(shift))) }
        default:
            out.append(type | 27)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: argument >> UInt64(shift))) }
        }
    }
}
