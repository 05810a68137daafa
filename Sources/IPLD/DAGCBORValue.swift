/// One decoded DAG-CBOR data-model value.
public indirect enum DAGCBORValue: Equatable, Sendable {
    case int(Int64)
    case bytes([UInt8])
    case string(String)
    case array([DAGCBORValue])
    /// Entries in wire order (DAG-CBOR's canonical order: shorter keys first, then bytewise).
    case map([DAGCBORMapEntry])
    case bool(Bool)
    case null
    case float(Double)
    case link(CID)

    /// The value of `key` when this is a map holding it.
    public subscript(key: String) -> DAGCBORValue? {
        guard case .map(let entries) = self else { return nil }
        for entry in entries where entry.key == key { return entry.value }
        return nil
    }

    /// The string payload, if this is a string.
    public var stringValue: String? { if case .string(let value) = self { return value } else { return nil } }
    /// The integer payload, if this is an int.
    public var intValue: Int64? { if case .int(let value) = self { return value } else { return nil } }
    /// The boolean payload, if this is a bool.
    public var boolValue: Bool? { if case .bool(let value) = self { return value } else { return nil } }
    /// The byte-string payload, if this is bytes.
    public var bytesValue: [UInt8]? { if case .bytes(let value) = self { return value } else { return nil } }
    /// The CID, if this is a link.
    public var linkValue: CID? { if case .link(let value) = self { return value } else { return nil } }
    /// The elements, if this is an array.
    public var arrayValue: [DAGCBORValue]? { if case .array(let value) = self { return value } else { return nil } }
    /// The entries, if this is a map.
    public var mapValue: [DAGCBORMapEntry]? { if case .map(let value) = self { return value } else { return nil } }
    /// True for `.null`.
    public var isNull: Bool { if case .null = self { return true } else { return false } }
}

/// One key/value pair of a DAG-CBOR map.
public struct DAGCBORMapEntry: Equatable, Sendable {
    public var key: String
    public var value: DAGCBORValue

    public init(key: String, value: DAGCBORValue) {
        self.key = key
        self.value = value
    }
}
