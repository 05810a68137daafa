import Foundation
import Storage

/// The connection knobs both live WebSocket sources share (Jetstream, relay), read from the
/// `<PREFIX>_*` variables with one set of ranges, so the two sources validate alike.
struct WebSocketSourceKnobs: Equatable {
    var stallTimeoutSeconds: Int
    var reconnectMinimumMilliseconds: Int
    var reconnectMaximumMilliseconds: Int
    var pingIntervalSeconds: Int
    var bufferCapacity: Int
    var bufferMaximumBytes: Int
    var maximumMessageBytes: Int
    var trustedCertificatesFile: String?

    /// Reads `<prefix>_STALL_TIMEOUT_S`, `_RECONNECT_MIN_MS`, `_RECONNECT_MAX_MS`, `_PING_INTERVAL_S`,
    /// `_BUFFER_CAPACITY`, `_MAX_MESSAGE_BYTES`, `_BUFFER_MAX_BYTES` and `_CA_FILE` over `defaults`
    /// (unset or empty → default); throws `ConfigurationError` naming the variable and its range.
    static func read(prefix: String, from environment: [String: String], defaults: WebSocketSourceKnobs,
                     minimumMessageBytes: Int) throws -> WebSocketSourceKnobs {
        var knobs = defaults
        knobs.stallTimeoutSeconds = try integerVariable(
            environment, "\(prefix)_STALL_TIMEOUT_S", default: defaults.stallTimeoutSeconds, in: 1...3600)
        knobs.reconnectMinimumMilliseconds = try integerVariable(
            environment, "\(prefix)_RECONNECT_MIN_MS", default: defaults.reconnectMinimumMilliseconds, in: 1...60_000)
        knobs.reconnectMaximumMilliseconds = try integerVariable(
            environment, "\(prefix)_RECONNECT_MAX_MS", default: defaults.reconnectMaximumMilliseconds,
            in: knobs.reconnectMinimumMilliseconds...600_000)
        knobs.pingIntervalSeconds = try integerVariable(
            environment, "\(prefix)_PING_INTERVAL_S", default: defaults.pingIntervalSeconds, in: 1...3600)
        knobs.bufferCapacity = try integerVariable(
            environment, "\(prefix)_BUFFER_CAPACITY", default: defaults.bufferCapacity, in: 1...1_000_000)
        knobs.maximumMessageBytes = try integerVariable(
            environment, "\(prefix)_MAX_MESSAGE_BYTES", default: defaults.maximumMessageBytes,
            in: minimumMessageBytes...(64 << 20))
        knobs.bufferMaximumBytes = try integerVariable(
            environment, "\(prefix)_BUFFER_MAX_BYTES", default: max(defaults.bufferMaximumBytes, knobs.maximumMessageBytes),
            in: knobs.maximumMessageBytes...(4 << 30))
        if let file = environment["\(prefix)_CA_FILE"], !file.isEmpty {
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw ConfigurationError("\(prefix)_CA_FILE=\(file) is invalid: expected a readable PEM file of trusted certificates")
            }
            knobs.trustedCertificatesFile = file
        }
        return knobs
    }

    /// A `ws://` or `wss://` URL with a host and without query or fragment; else an error naming
    /// `variable` and what was `expected`.
    static func validatedURL(_ raw: String, variable: String, expected: String) throws -> String {
        guard let components = URLComponents(string: raw),
              let scheme = components.scheme?.lowercased(), scheme == "ws" || scheme == "wss",
              let host = components.host, !host.isEmpty,
              components.query == nil, components.fragment == nil
        else {
            throw ConfigurationError("\(variable)=\(raw) is invalid: expected \(expected)")
        }
        return raw
    }
}

/// An integer from the environment within `range`, or the default when unset or empty.
func integerVariable(_ environment: [String: String], _ name: String, default defaultValue: Int,
                     in range: ClosedRange<Int>) throws -> Int {
    guard let raw = environment[name], !raw.isEmpty else { return defaultValue }
    guard let value = Int(raw.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
        throw ConfigurationError("\(name)=\(raw) is invalid: expected an integer between \(range.lowerBound) and \(range.upperBound)")
    }
    return value
}

/// A live source's configuration holding the shared connection knobs.
protocol WebSocketSourceConfiguration {
    var stallTimeoutSeconds: Int { get set }
    var reconnectMinimumMilliseconds: Int { get set }
    var reconnectMaximumMilliseconds: Int { get set }
    var pingIntervalSeconds: Int { get set }
    var bufferCapacity: Int { get set }
    var bufferMaximumBytes: Int { get set }
    var maximumMessageBytes: Int { get set }
    var trustedCertificatesFile: String? { get set }
}

extension WebSocketSourceConfiguration {
    /// The shared knobs, read and written together.
    var connectionKnobs: WebSocketSourceKnobs {
        get {
            WebSocketSourceKnobs(stallTimeoutSeconds: stallTimeoutSeconds, reconnectMinimumMilliseconds: reconnectMinimumMilliseconds,
                                 reconnectMaximumMilliseconds: reconnectMaximumMilliseconds, pingIntervalSeconds: pingIntervalSeconds,
                                 bufferCapacity: bufferCapacity, bufferMaximumBytes: bufferMaximumBytes,
                                 maximumMessageBytes: maximumMessageBytes, trustedCertificatesFile: trustedCertificatesFile)
        }
        set {
            stallTimeoutSeconds = newValue.stallTimeoutSeconds
            reconnectMinimumMilliseconds = newValue.reconnectMinimumMilliseconds
            reconnectMaximumMilliseconds = newValue.reconnectMaximumMilliseconds
            pingIntervalSeconds = newValue.pingIntervalSeconds
            bufferCapacity = newValue.bufferCapacity
            bufferMaximumBytes = newValue.bufferMaximumBytes
            maximumMessageBytes = newValue.maximumMessageBytes
            trustedCertificatesFile = newValue.trustedCertificatesFile
        }
    }
}

extension JetstreamSourceConfiguration: WebSocketSourceConfiguration {}
extension RelaySourceConfiguration: WebSocketSourceConfiguration {}
