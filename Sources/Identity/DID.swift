/// A syntactically checked DID of a method this AppView can resolve: `did:plc` or host-level `did:web`.
public struct DID: Sendable, Hashable, CustomStringConvertible {
    public enum Method: Sendable, Hashable {
        case plc
        /// The host, with `:port` when the DID carries a percent-encoded port (`did:web:localhost%3A8080`).
        case web(host: String)
    }

    public let text: String
    public let method: Method

    public var description: String { text }

    /// nil when `text` is not a `did:plc:<24 base32 chars>` or a `did:web:<host>[%3A<port>]`.
    public init?(_ text: String) {
        guard text.utf8.count <= 256 else { return nil }
        if text.hasPrefix("did:plc:") {
            let identifier = text.utf8.dropFirst("did:plc:".count)
            guard identifier.count == 24,
                  identifier.allSatisfy({ (0x61...0x7a).contains($0) || (0x32...0x37).contains($0) }) else { return nil }
            self.text = text
            self.method = .plc
            return
        }
        if text.hasPrefix("did:web:") {
            let identifier = String(text.dropFirst("did:web:".count))
            guard let host = Self.webHost(identifier) else { return nil }
            self.text = text
            self.method = .web(host: host)
            return
        }
        return nil
    }

    /// `host` or `host:port` from the method-specific id; nil for paths (`:` separators, not used by
    /// atproto), bad characters or a bad port.
    private static func webHost(_ identifier: String) -> String? {
        var host = identifier
        var port: String?
        if let range = identifier.range(of: "%3A", options: .caseInsensitive) {
            host = String(identifier[..<range.lowerBound])
            port = String(identifier[range.upperBound...])
        }
        let hostCharacters = host.utf8.allSatisfy { $0 == 0x2d || $0 == 0x2e || (0x30...0x39).contains($0) || (0x61...0x7a).contains($0) || (0x41...0x5a).contains($0) }
        guard !host.isEmpty, host.utf8.count <= 253, hostCharacters, !host.hasPrefix("."), !host.hasPrefix("-") else { return nil }
        if let port {
            guard let number = Int(port), (1...65535).contains(number), port.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
            return host.lowercased() + ":" + port
        }
        return host.lowercased()
    }

    /// The hostname of a `did:web` without its port (nil for `did:plc`).
    public var webHostname: String? {
        guard case .web(let host) = method else { return nil }
        return host.split(separator: ":", maxSplits: 1).first.map(String.init)
    }

    /// A DID this process may mint keys for: `did:web` on `localhost`, `*.localhost` or `*.test`
    /// (names that can never be registered publicly, RFC 2606 / RFC 6761).
    public var isLocalServiceDID: Bool {
        guard let hostname = webHostname else { return false }
        return hostname == "localhost" || hostname.hasSuffix(".localhost") || hostname.hasSuffix(".test")
    }
}
