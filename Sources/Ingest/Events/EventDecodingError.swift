/// Why a Jetstream line was rejected. A value, so the importer can count rejections by kind and go on.
public struct EventDecodingError: Error, Sendable, CustomStringConvertible {
    /// Rejection classes, counted separately in import summaries.
    public enum Kind: String, Sendable, CaseIterable {
        /// Not a JSON object.
        case invalidJSON = "invalid_json"
        /// A required envelope field is absent.
        case missingField = "missing_field"
        /// An envelope field has the wrong type or an invalid value (bad DID, unknown operation…).
        case invalidField = "invalid_field"
        /// The record is not what its collection's lexicon requires (missing subject, bad URI…).
        case invalidRecord = "invalid_record"
    }

    public var kind: Kind
    public var reason: String

    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public var description: String { "\(kind.rawValue): \(reason)" }
}
