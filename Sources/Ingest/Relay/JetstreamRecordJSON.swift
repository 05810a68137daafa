import IPLD

/// Converts a record's DAG-CBOR into the JSON Jetstream emits for it, applying the atproto data
/// model's rules as Jetstream's Go library does (indigo `atproto/data`): the top level is a map;
/// links become `{"$link": cid}`, byte strings `{"$bytes": base64}`; a map with `$type: "blob"`
/// must be a 4-field blob and is written as `$type, ref, mimeType, size`; floats must be integral
/// (written as integers); array elements must share one type (nulls aside); map keys are sorted
/// bytewise. A record breaking a rule is refused: Jetstream skips such ops.
enum JetstreamRecordJSON {
    /// Atproto data-model limits (indigo `atproto/data/const.go`).
    static let maximumStringBytes = 1024 * 1024
    static let maximumContainerCount = 128 * 1024
    static let maximumKeyBytes = 8192

    struct ConversionError: Error {
        var reason: String
    }

    static func append(record value: DAGCBORValue, to writer: inout JetstreamJSONWriter) throws(ConversionError) {
        guard case .map(let entries) = value else { throw ConversionError(reason: "record is not a map") }
        try appendMap(entries, to: &writer)
    }

    static func appendAtom(_ value: DAGCBORValue, to writer: inout JetstreamJSONWriter) throws(ConversionError) {
        switch value {
        case .null:
            writer.raw("null")
        case .bool(let flag):
            writer.raw(flag ? "true" : "false")
        case .int(let number):
            writer.int(number)
        case .float(let number):
            writer.int(try integral(number))
        case .string(let text):
            guard text.utf8.count <= maximumStringBytes else { throw ConversionError(reason: "string too long") }
            writer.string(text)
        case .bytes(let data):
            writer.raw("{\"$bytes\":")
            writer.base64RawString(data)
            writer.byte(UInt8(ascii: "}"))
        case .link(let cid):
            appendLink(cid, to: &writer)
        case .array(let elements):
            guard elements.count <= maximumContainerCount else { throw ConversionError(reason: "array too long") }
            var previousType: Int?
            writer.byte(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                let type = typeCode(element)
                if let previousType, let type, previousType != type {
                    throw ConversionError(reason: "array elements of different types")
                }
                previousType = type
                if index > 0 { writer.byte(UInt8(ascii: ",")) }
                try appendAtom(element, to: &writer)
            }
            writer.byte(UInt8(ascii: "]"))
        case .map(let entries):
            try appendMap(entries, to: &writer)
        }
    }

    static func appendMap(_ entries: [DAGCBORMapEntry], to writer: inout JetstreamJSONWriter) throws(ConversionError) {
        guard entries.count <= maximumContainerCount else { throw ConversionError(reason: "map too large") }
        if let link = entries.first(where: { $0.key == "$link" }) {
            guard entries.count == 1, case .string(let text) = link.value, let cid = try? IPLD.CID(string: text) else {
                throw ConversionError(reason: "invalid $link object")
            }
            appendLink(cid, to: &writer)
            return
        }
        if let encoded = entries.first(where: { $0.key == "$bytes" }) {
            guard entries.count == 1, case .string(let text) = encoded.value,
                  let data = JetstreamJSONWriter.decodeBase64Raw(text) else {
                throw ConversionError(reason: "invalid $bytes object")
            }
            try appendAtom(.bytes(data), to: &writer)
            return
        }
        if let type = entries.first(where: { $0.key == "$type" }) {
            guard case .string(let typeName) = type.value, !typeName.isEmpty else {
                throw ConversionError(reason: "$type is not a non-empty string")
            }
            if typeName == "blob" {
                try appendBlob(entries, to: &writer)
                return
            }
        }
        for entry in entries where entry.key.utf8.count > maximumKeyBytes {
            throw ConversionError(reason: "map key too long")
        }
        // Go writes map keys sorted bytewise (Swift's String order is not bytewise).
        let sorted = entries.count < 2 ? entries : entries.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        writer.byte(UInt8(ascii: "{"))
        for (index, entry) in sorted.enumerated() {
            if index > 0 { writer.byte(UInt8(ascii: ",")) }
            writer.string(entry.key)
            writer.byte(UInt8(ascii: ":"))
            try appendAtom(entry.value, to: &writer)
        }
        writer.byte(UInt8(ascii: "}"))
    }

    static func appendBlob(_ entries: [DAGCBORMapEntry], to writer: inout JetstreamJSONWriter) throws(ConversionError) {
        guard entries.count == 4 else { throw ConversionError(reason: "blob without exactly 4 fields") }
        var size: Int64?
        var mimeType: String?
        var reference: IPLD.CID?
        for entry in entries {
            switch (entry.key, entry.value) {
            case ("size", .int(let number)): size = number
            case ("size", .float(let number)): size = try integral(number)
            case ("mimeType", .string(let text)): mimeType = text
            case ("ref", .link(let cid)): reference = cid
            case ("ref", .map(let inner)):
                guard inner.count == 1, inner[0].key == "$link", case .string(let text) = inner[0].value,
                      let cid = try? IPLD.CID(string: text) else { throw ConversionError(reason: "invalid blob ref") }
                reference = cid
            default: break
            }
        }
        guard let size, let mimeType, let reference else { throw ConversionError(reason: "invalid blob") }
        writer.raw("{\"$type\":\"blob\",\"ref\":")
        appendLink(reference, to: &writer)
        writer.raw(",\"mimeType\":")
        writer.string(mimeType)
        writer.raw(",\"size\":")
        writer.int(size)
        writer.byte(UInt8(ascii: "}"))
    }

    static func appendLink(_ cid: IPLD.CID, to writer: inout JetstreamJSONWriter) {
        writer.raw("{\"$link\":")
        writer.string(cid.string)
        writer.byte(UInt8(ascii: "}"))
    }

    /// A float the data model accepts only when it is a whole number (Go converts it to int64).
    static func integral(_ number: Double) throws(ConversionError) -> Int64 {
        guard number.isFinite, number >= -9.2e18, number <= 9.2e18, number == number.rounded(.towardZero) else {
            throw ConversionError(reason: "float is not an integer")
        }
        return Int64(number)
    }

    /// The Go type a decoded value had, for the homogeneous-array rule; nil for null.
    static func typeCode(_ value: DAGCBORValue) -> Int? {
        switch value {
        case .null: return nil
        case .bool: return 1
        case .int: return 2
        case .float: return 3
        case .string: return 4
        case .bytes: return 5
        case .link: return 6
        case .array: return 7
        case .map: return 8
        }
    }
}
