import JSON

/// A JSON value for generated events (key order kept as written), serialized by the shared `JSONWriter`.
indirect enum DemoJSON {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case array([DemoJSON])
    case object([(String, DemoJSON)])

    /// The value as one line of JSON text.
    var text: String {
        var writer = JSONWriter(capacity: 1024)
        write(to: &writer)
        return writer.text
    }

    func write(to writer: inout JSONWriter) {
        switch self {
        case .string(let value): writer.string(value)
        case .int(let value): writer.int(Int(value))
        case .bool(let value): writer.bool(value)
        case .array(let values):
            writer.beginArray()
            for value in values { value.write(to: &writer) }
            writer.endArray()
        case .object(let members):
            writer.beginObject()
            for (name, value) in members {
                writer.dynamicKey(name)
                value.write(to: &writer)
            }
            writer.endObject()
        }
    }
}
