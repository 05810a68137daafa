import Foundation

/// Decodes one Jetstream JSON line into a `JetstreamEvent`. Records of collections the indexer does
/// not store are never decoded; indexed records keep their raw JSON text where it is stored.
public enum JetstreamEventDecoder {
    /// Decodes one line (without its newline).
    public static func decode(_ line: Data) -> Result<JetstreamEvent, EventDecodingError> {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: line, options: [])
        } catch {
            return .failure(EventDecodingError(.invalidJSON, "not valid JSON"))
        }
        guard let envelope = object as? [String: Any] else {
            return .failure(EventDecodingError(.invalidJSON, "the line is not a JSON object"))
        }
        do {
            return .success(try decode(envelope: envelope, line: line))
        } catch let error as EventDecodingError {
            return .failure(error)
        } catch {
            return .failure(EventDecodingError(.invalidJSON, "\(error)"))
        }
    }

    /// Convenience for tests and tools.
    public static func decode(_ line: String) -> Result<JetstreamEvent, EventDecodingError> {
        decode(Data(line.utf8))
    }

    static func decode(envelope: [String: Any], line: Data) throws -> JetstreamEvent {
        guard let didValue = envelope["did"] else { throw EventDecodingError(.missingField, "no \"did\"") }
        guard let did = didValue as? String, DID.isValid(did) else {
            throw EventDecodingError(.invalidField, "\"did\" is not a DID")
        }
        guard let timeValue = envelope["time_us"] else { throw EventDecodingError(.missingField, "no \"time_us\"") }
        guard let time = integer(timeValue), time > 0 else {
            throw EventDecodingError(.invalidField, "\"time_us\" is not a positive integer")
        }
        guard let kindValue = envelope["kind"] else { throw EventDecodingError(.missingField, "no \"kind\"") }
        guard let kind = kindValue as? String else { throw EventDecodingError(.invalidField, "\"kind\" is not a string") }

        switch kind {
        case "commit":
            guard let commitValue = envelope["commit"] else { throw EventDecodingError(.missingField, "commit event without \"commit\"") }
            guard let commit = commitValue as? [String: Any] else {
                throw EventDecodingError(.invalidField, "\"commit\" is not an object")
            }
            return JetstreamEvent(did: did, timeMicroseconds: time, payload: .commit(try decodeCommit(commit, did: did, line: line)))
        case "identity":
            let identity = envelope["identity"] as? [String: Any]
            var handle: String?
            if let value = identity?["handle"] {
                guard let text = value as? String else { throw EventDecodingError(.invalidField, "\"identity.handle\" is not a string") }
                let lowered = text.lowercased()
                handle = lowered == "handle.invalid" || lowered.isEmpty ? nil : Text.storable(lowered)
            }
            return JetstreamEvent(did: did, timeMicroseconds: time, payload: .identity(IdentityChange(handle: handle)))
        case "account":
            guard let accountValue = envelope["account"] else { throw EventDecodingError(.missingField, "account event without \"account\"") }
            guard let account = accountValue as? [String: Any], let active = account["active"] as? Bool else {
                throw EventDecodingError(.invalidField, "\"account.active\" is not a boolean")
            }
            let status = (account["status"] as? String).map { Text.storable($0.lowercased()) }
            return JetstreamEvent(did: did, timeMicroseconds: time, payload: .account(AccountChange(active: active, status: active ? nil : status)))
        default:
            return JetstreamEvent(did: did, timeMicroseconds: time, payload: .unsupported(kind: kind))
        }
    }

    static func decodeCommit(_ commit: [String: Any], did: String, line: Data) throws -> CommitOperation {
        guard let operationValue = commit["operation"] else { throw EventDecodingError(.missingField, "no \"commit.operation\"") }
        guard let operationName = operationValue as? String, let action = CommitOperation.Action(rawValue: operationName) else {
            throw EventDecodingError(.invalidField, "\"commit.operation\" is not create, update or delete")
        }
        guard let collectionValue = commit["collection"] else { throw EventDecodingError(.missingField, "no \"commit.collection\"") }
        guard let collection = collectionValue as? String, ATURI.isValidCollection(Substring(collection)) else {
            throw EventDecodingError(.invalidField, "\"commit.collection\" is not an NSID")
        }
        guard let rkeyValue = commit["rkey"] else { throw EventDecodingError(.missingField, "no \"commit.rkey\"") }
        guard let rkey = rkeyValue as? String, ATURI.isValidRecordKey(Substring(rkey)) else {
            throw EventDecodingError(.invalidField, "\"commit.rkey\" is not a record key")
        }
        let uri = ATURI(did: did, collection: collection, rkey: rkey).description
        guard action != .delete, let indexed = IndexedCollection(rawValue: collection) else {
            return CommitOperation(action: action, collection: collection, rkey: rkey, uri: uri, cid: commit["cid"] as? String, record: nil)
        }
        guard let cidValue = commit["cid"] else { throw EventDecodingError(.missingField, "\(action.rawValue) without \"commit.cid\"") }
        guard let cid = cidValue as? String, CID.isPlausible(cid) else { throw EventDecodingError(.invalidField, "\"commit.cid\" is not a CID") }
        guard let recordValue = commit["record"] else { throw EventDecodingError(.missingField, "\(action.rawValue) without \"commit.record\"") }
        guard let record = recordValue as? [String: Any] else { throw EventDecodingError(.invalidRecord, "\"commit.record\" is not an object") }
        let decoded = try RecordDecoder.decode(record, collection: indexed) {
            line.withUnsafeBytes { raw in
                RawJSONValue.text(in: raw.bindMemory(to: UInt8.self), path: ["commit", "record"])
            }
        }
        return CommitOperation(action: action, collection: collection, rkey: rkey, uri: uri, cid: cid, record: decoded)
    }

    static func integer(_ value: Any) -> Int64? {
        if let number = value as? Int64 { return number }
        if let number = value as? Int { return Int64(number) }
        return nil
    }
}

/// Content identifiers are checked for shape only (base32 CIDv1 `b…` or base58 CIDv0 `Qm…`).
enum CID {
    static func isPlausible(_ text: String) -> Bool {
        let count = text.utf8.count
        guard count >= 8, count <= 256 else { return false }
        return text.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
    }
}

/// Strings bound for PostgreSQL text columns: libpq parameters are C strings, so NUL is replaced.
enum Text {
    static func storable(_ text: String) -> String {
        guard text.utf8.contains(0) else { return text }
        return text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}")
    }
}
