/// Strict, bounded DAG-CBOR decoding: definite lengths only, text-string map keys without
/// duplicates, tag 42 (CID) as the only tag, 64-bit floats only, integers in the signed 64-bit range.
/// Shortest-form integers and canonical key order are not enforced (other implementations accept
/// both; neither is a safety issue).
public struct DAGCBORDecoder: Sendable {
    public var limits: DAGCBORLimits

    public init(limits: DAGCBORLimits = .default) {
        self.limits = limits
    }

    /// Decodes `input`, which must hold exactly one value.
    public func decode(_ input: [UInt8]) throws(IPLDError) -> DAGCBORValue {
        try input.withUnsafeBufferPointer { buffer in decodeResult(buffer) }.get()
    }

    /// Decodes `input`, which must hold exactly one value.
    public func decode(_ input: ArraySlice<UInt8>) throws(IPLDError) -> DAGCBORValue {
        try input.withUnsafeBufferPointer { buffer in decodeResult(buffer) }.get()
    }

    /// Decodes `input`, which must hold exactly one value.
    public func decode(_ input: UnsafeBufferPointer<UInt8>) throws(IPLDError) -> DAGCBORValue {
        try decodeResult(input).get()
    }

    /// Decodes the first value of `input` and returns it with the number of bytes it took (relay
    /// frames are two values back to back).
    public func decodePrefix(_ input: UnsafeBufferPointer<UInt8>) throws(IPLDError) -> (value: DAGCBORValue, byteCount: Int) {
        var reader = DAGCBORReader(input: input, limits: limits)
        let value = try reader.readValue(depth: 1)
        return (value, reader.position)
    }

    private func decodeResult(_ input: UnsafeBufferPointer<UInt8>) -> Result<DAGCBORValue, IPLDError> {
        do throws(IPLDError) {
            var reader = DAGCBORReader(input: input, limits: limits)
            let value = try reader.readValue(depth: 1)
            guard reader.position == input.count else { throw .trailingBytes(offset: reader.position) }
            return .success(value)
        } catch {
            return .failure(error)
        }
    }
}

/// The cursor of one decode.
struct DAGCBORReader {
    let input: UnsafeBufferPointer<UInt8>
    let limits: DAGCBORLimits
    var position = 0
    var valuesLeft: Int

    init(input: UnsafeBufferPointer<UInt8>, limits: DAGCBORLimits) {
        self.input = input
        self.limits = limits
        valuesLeft = limits.maximumValueCount
    }

    var remaining: Int { input.count - position }

    /// Reads the initial byte's argument: returns (major type, argument). Rejects indefinite lengths
    /// and reserved additional information.
    mutating func readHead() throws(IPLDError) -> (major: UInt8, argument: UInt64, additional: UInt8) {
        let start = position
        guard position < input.count else { throw .unexpectedEnd(offset: position) }
        let initial = input[position]
        position += 1
        let major = initial >> 5
        let additional = initial & 0x1F
        let argument: UInt64
        switch additional {
        case 0..<24:
            argument = UInt64(additional)
        case 24, 25, 26, 27:
            let width = 1 << Int(additional - 24)
            guard remaining >= width else { throw .unexpectedEnd(offset: input.count) }
            var value: UInt64 = 0
            for index in 0..<width { value = (value << 8) | UInt64(input[position + index]) }
            position += width
            argument = value
        case 31:
            if major == 7 { throw .unsupportedEncoding(offset: start) }
            throw .indefiniteLength(offset: start)
        default:
            throw .unsupportedEncoding(offset: start)
        }
        return (major, argument, additional)
    }

    /// A length argument as an Int no larger than the bytes left (each element or byte takes at
    /// least `bytesPerUnit` bytes), checked before anything is allocated.
    mutating func checkedLength(_ argument: UInt64, bytesPerUnit: Int, limit: Int, at offset: Int) throws(IPLDError) -> Int {
        if argument > UInt64(limit) { throw .sizeLimitExceeded(offset: offset) }
        let length = Int(argument)
        let (needed, overflow) = length.multipliedReportingOverflow(by: bytesPerUnit)
        if overflow || needed > remaining { throw .unexpectedEnd(offset: input.count) }
        return length
    }

    mutating func readValue(depth: Int) throws(IPLDError) -> DAGCBORValue {
        let start = position
        if valuesLeft <= 0 { throw .sizeLimitExceeded(offset: start) }
        valuesLeft -= 1
        let head = try readHead()
        switch head.major {
        case 0:
            guard head.argument <= UInt64(Int64.max) else { throw .integerOutOfRange(offset: start) }
            return .int(Int64(head.argument))
        case 1:
            guard head.argument <= UInt64(Int64.max) else { throw .integerOutOfRange(offset: start) }
            return .int(-1 - Int64(head.argument))
        case 2:
            let length = try checkedLength(head.argument, bytesPerUnit: 1, limit: limits.maximumStringBytes, at: start)
            let bytes = Array(input[position..<(position + length)])
            position += length
            return .bytes(bytes)
        case 3:
            return .string(try readStringBody(head.argument, start: start))
        case 4:
            guard depth < limits.maximumDepth else { throw .depthLimitExceeded(offset: start) }
            let count = try checkedLength(head.argument, bytesPerUnit: 1, limit: limits.maximumContainerCount, at: start)
            var elements: [DAGCBORValue] = []
            elements.reserveCapacity(count)
            for _ in 0..<count { elements.append(try readValue(depth: depth + 1)) }
            return .array(elements)
        case 5:
            guard depth < limits.maximumDepth else { throw .depthLimitExceeded(offset: start) }
            let count = try checkedLength(head.argument, bytesPerUnit: 2, limit: limits.maximumContainerCount, at: start)
            var entries: [DAGCBORMapEntry] = []
            entries.reserveCapacity(count)
            // Small maps (records) check duplicates by scanning; large ones through a set.
            var seen: Set<String>? = count > 16 ? Set(minimumCapacity: count) : nil
            for _ in 0..<count {
                let keyStart = position
                if valuesLeft <= 0 { throw .sizeLimitExceeded(offset: keyStart) }
                valuesLeft -= 1
                let keyHead = try readHead()
                guard keyHead.major == 3 else { throw .nonStringMapKey(offset: keyStart) }
                let key = try readStringBody(keyHead.argument, start: keyStart)
                if seen != nil {
                    if seen!.insert(key).inserted == false { throw .duplicateMapKey(key, offset: keyStart) }
                } else if entries.contains(where: { $0.key == key }) {
                    throw .duplicateMapKey(key, offset: keyStart)
                }
                let value = try readValue(depth: depth + 1)
                entries.append(DAGCBORMapEntry(key: key, value: value))
            }
            return .map(entries)
        case 6:
            guard head.argument == 42 else { throw .unsupportedTag(head.argument, offset: start) }
            let contentStart = position
            let content = try readHead()
            guard content.major == 2 else { throw .invalidCID(offset: contentStart) }
            let length = try checkedLength(content.argument, bytesPerUnit: 1, limit: CID.maximumByteCount + 1, at: contentStart)
            guard length >= 2, input[position] == 0x00 else { throw .invalidCID(offset: contentStart) }
            let cidBuffer = UnsafeBufferPointer(rebasing: input[(position + 1)..<(position + length)])
            var cidPosition = 0
            let cid: CID
            do throws(IPLDError) {
                cid = try CID.read(cidBuffer, at: &cidPosition, baseOffset: position + 1)
            } catch {
                throw .invalidCID(offset: contentStart)
            }
            guard cidPosition == cidBuffer.count else { throw .invalidCID(offset: contentStart) }
            position += length
            return .link(cid)
        default:  // 7: simple values and floats
            switch head.additional {
            case 20: return .bool(false)
            case 21: return .bool(true)
            case 22: return .null
            case 27:
                // DAG-CBOR forbids NaN and the infinities.
                let value = Double(bitPattern: head.argument)
                guard value.isFinite else { throw .unsupportedEncoding(offset: start) }
                return .float(value)
            default: throw .unsupportedEncoding(offset: start)
            }
        }
    }

    mutating func readStringBody(_ argument: UInt64, start: Int) throws(IPLDError) -> String {
        let length = try checkedLength(argument, bytesPerUnit: 1, limit: limits.maximumStringBytes, at: start)
        let slice = UnsafeBufferPointer(rebasing: input[position..<(position + length)])
        guard UTF8Validation.isValid(slice) else { throw .invalidUTF8(offset: start) }
        position += length
        // Validated above: decoding repairs nothing and takes the fast path.
        return String(decoding: slice, as: UTF8.self)
    }
}
