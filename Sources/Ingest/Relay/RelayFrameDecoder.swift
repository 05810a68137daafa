import Foundation
import IPLD

/// Decodes relay frames (`com.atproto.sync.subscribeRepos` WebSocket binary messages: a DAG-CBOR
/// header `{op, t}` followed by a DAG-CBOR body) into the Jetstream v1 events Jetstream would have
/// produced from them. Stateless and `Sendable`: one decoder can serve any number of threads.
public struct RelayFrameDecoder: Sendable {
    /// Collections whose ops are converted (`nil` = all). Entries are NSIDs or `prefix.*`.
    public let wantedCollections: Set<String>?
    public let limits: RelayDecodingLimits
    let wantedPrefixes: [String]

    public init(wantedCollections: Set<String>? = nil, limits: RelayDecodingLimits = .default) {
        self.wantedCollections = wantedCollections
        self.limits = limits
        wantedPrefixes = (wantedCollections ?? []).filter { $0.hasSuffix(".*") }.map { String($0.dropLast()) }
    }

    /// Decodes one frame.
    /// `timeMicroseconds`: the `time_us` stamped on the frame's events (the receiver's clock, as Jetstream does).
    public func decode(_ frame: [UInt8], timeMicroseconds: Int64) throws(RelayDecodingError) -> RelayFrame {
        guard frame.count <= limits.maximumFrameBytes else {
            throw .frameTooLarge(byteCount: frame.count, limit: limits.maximumFrameBytes)
        }
        let parts = try frame.withUnsafeBufferPointer { buffer in splitFrame(buffer) }.get()
        return try decode(header: parts.header, body: parts.body, timeMicroseconds: timeMicroseconds)
    }

    private func splitFrame(_ buffer: UnsafeBufferPointer<UInt8>) -> Result<(header: DAGCBORValue, body: DAGCBORValue), RelayDecodingError> {
        let decoder = DAGCBORDecoder(limits: limits.frame)
        let header: DAGCBORValue
        let headerLength: Int
        do throws(IPLDError) {
            (header, headerLength) = try decoder.decodePrefix(buffer)
        } catch {
            return .failure(.header(error))
        }
        do throws(IPLDError) {
            let body = try decoder.decode(UnsafeBufferPointer(rebasing: buffer[headerLength...]))
            return .success((header, body))
        } catch {
            return .failure(.body(error.shifted(by: headerLength)))
        }
    }

    func decode(header: DAGCBORValue, body: DAGCBORValue, timeMicroseconds: Int64) throws(RelayDecodingError) -> RelayFrame {
        guard case .map = header, let op = header["op"]?.intValue else { throw .invalidField("header.op") }
        guard case .map = body else { throw .invalidField("body") }
        switch op {
        case -1:
            guard let name = body["error"]?.stringValue else { throw .invalidField("error.error") }
            return RelayFrame(kind: .error, message: try joined(name, optionalString(body, "message", "error.message")))
        case 1:
            break
        default:
            throw .invalidField("header.op")
        }
        guard let type = header["t"]?.stringValue else { throw .invalidField("header.t") }
        switch type {
        case "#commit":
            return try decodeCommit(body, timeMicroseconds: timeMicroseconds)
        case "#identity":
            return try decodeIdentity(body, timeMicroseconds: timeMicroseconds)
        case "#account":
            return try decodeAccount(body, timeMicroseconds: timeMicroseconds)
        case "#sync":
            let did = try string(body, "did", "#sync.did")
            let seq = try integer(body, "seq", "#sync.seq")
            return RelayFrame(kind: .sync, seq: seq, repo: did)
        case "#info":
            let name = try string(body, "name", "#info.name")
            return RelayFrame(kind: .info, message: joined(name, try optionalString(body, "message", "#info.message")))
        default:
            return RelayFrame(kind: .unknown(type))
        }
    }

    // MARK: identity and account

    private func decodeIdentity(_ body: DAGCBORValue, timeMicroseconds: Int64) throws(RelayDecodingError) -> RelayFrame {
        let did = try string(body, "did", "#identity.did")
        let seq = try integer(body, "seq", "#identity.seq")
        let time = try string(body, "time", "#identity.time")
        let handle = try optionalString(body, "handle", "#identity.handle")
        var writer = JetstreamJSONWriter(capacity: 256)
        writeEnvelope(&writer, did: did, timeMicroseconds: timeMicroseconds, kind: "identity")
        writer.raw(",\"identity\":{\"did\":")
        writer.string(did)
        if let handle {
            writer.raw(",\"handle\":")
            writer.string(handle)
        }
        writer.raw(",\"seq\":")
        writer.int(seq)
        writer.raw(",\"time\":")
        writer.string(time)
        writer.raw("}}")
        return RelayFrame(kind: .identity, seq: seq, repo: did, events: [Data(writer.bytes)])
    }

    private func decodeAccount(_ body: DAGCBORValue, timeMicroseconds: Int64) throws(RelayDecodingError) -> RelayFrame {
        let did = try string(body, "did", "#account.did")
        let seq = try integer(body, "seq", "#account.seq")
        let time = try string(body, "time", "#account.time")
        guard let active = body["active"]?.boolValue else { throw .invalidField("#account.active") }
        let status = try optionalString(body, "status", "#account.status")
        var writer = JetstreamJSONWriter(capacity: 256)
        writeEnvelope(&writer, did: did, timeMicroseconds: timeMicroseconds, kind: "account")
        writer.raw(",\"account\":{\"active\":")
        writer.raw(active ? "true" : "false")
        writer.raw(",\"did\":")
        writer.string(did)
        writer.raw(",\"seq\":")
        writer.int(seq)
        if let status {
            writer.raw(",\"status\":")
            writer.string(status)
        }
        writer.raw(",\"time\":")
        writer.string(time)
        writer.raw("}}")
        return RelayFrame(kind: .account, seq: seq, repo: did, events: [Data(writer.bytes)])
    }

    /// `{"did":…,"time_us":…,"kind":…` — the event's common head, left open.
    func writeEnvelope(_ writer: inout JetstreamJSONWriter, did: String, timeMicroseconds: Int64, kind: StaticString) {
        writer.raw("{\"did\":")
        writer.string(did)
        writer.raw(",\"time_us\":")
        writer.int(timeMicroseconds)
        writer.raw(",\"kind\":\"")
        writer.raw(kind)
        writer.byte(UInt8(ascii: "\""))
    }

    // MARK: field access

    func string(_ body: DAGCBORValue, _ key: String, _ name: String) throws(RelayDecodingError) -> String {
        guard let value = body[key]?.stringValue else { throw .invalidField(name) }
        return value
    }

    func integer(_ body: DAGCBORValue, _ key: String, _ name: String) throws(RelayDecodingError) -> Int64 {
        guard let value = body[key]?.intValue else { throw .invalidField(name) }
        return value
    }

    /// Absent or null → nil; a string → it; anything else → error.
    func optionalString(_ body: DAGCBORValue, _ key: String, _ name: String) throws(RelayDecodingError) -> String? {
        switch body[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        default: throw .invalidField(name)
        }
    }

    func joined(_ name: String, _ message: String?) -> String {
        guard let message, !message.isEmpty else { return name }
        return name + ": " + message
    }

    func wants(_ collection: String) -> Bool {
        guard let wantedCollections else { return true }
        if wantedCollections.contains(collection) { return true }
        return wantedPrefixes.contains { collection.hasPrefix($0) }
    }
}

extension IPLDError {
    /// The same error with its offset moved by `delta` (the body starts after the header).
    func shifted(by delta: Int) -> IPLDError {
        switch self {
        case .unexpectedEnd(let offset): return .unexpectedEnd(offset: offset + delta)
        case .invalidVarint(let offset): return .invalidVarint(offset: offset + delta)
        case .indefiniteLength(let offset): return .indefiniteLength(offset: offset + delta)
        case .unsupportedEncoding(let offset): return .unsupportedEncoding(offset: offset + delta)
        case .unsupportedTag(let tag, let offset): return .unsupportedTag(tag, offset: offset + delta)
        case .integerOutOfRange(let offset): return .integerOutOfRange(offset: offset + delta)
        case .invalidUTF8(let offset): return .invalidUTF8(offset: offset + delta)
        case .nonStringMapKey(let offset): return .nonStringMapKey(offset: offset + delta)
        case .duplicateMapKey(let key, let offset): return .duplicateMapKey(key, offset: offset + delta)
        case .depthLimitExceeded(let offset): return .depthLimitExceeded(offset: offset + delta)
        case .sizeLimitExceeded(let offset): return .sizeLimitExceeded(offset: offset + delta)
        case .invalidCID(let offset): return .invalidCID(offset: offset + delta)
        case .trailingBytes(let offset): return .trailingBytes(offset: offset + delta)
        default: return self
        }
    }
}
