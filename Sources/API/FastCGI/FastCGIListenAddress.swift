import Foundation
import Storage

/// Where the FastCGI server listens (`FCGI_LISTEN`): a unix socket path, or `host:port` / `:port`.
public enum FastCGIListenAddress: Equatable, Sendable, CustomStringConvertible {
    case unixSocket(path: String)
    /// `host` empty means every interface.
    case tcp(host: String, port: Int)

    /// Longest path a `sockaddr_un` holds on Linux (108 bytes including the terminating NUL).
    static let maximumUnixPathLength = 107

    /// Parses `FCGI_LISTEN`. Anything containing `/` or without a `:` is a socket path; otherwise the
    /// text after the last `:` must be a port number.
    public static func parse(_ text: String) throws -> FastCGIListenAddress {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else {
            throw ConfigurationError("FCGI_LISTEN is empty: give a unix socket path or host:port")
        }
        if trimmed.contains("/") || !trimmed.contains(":") {
            guard trimmed.utf8.count <= maximumUnixPathLength else {
                throw ConfigurationError(
                    "FCGI_LISTEN=\(trimmed) is too long for a unix socket path (at most \(maximumUnixPathLength) bytes)")
            }
            return .unixSocket(path: trimmed)
        }
        let colon = trimmed.lastIndex(of: ":")!
        let host = String(trimmed[..<colon])
        let portText = trimmed[trimmed.index(after: colon)...]
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw ConfigurationError("FCGI_LISTEN=\(trimmed) has no valid port (expected host:port or :port, port 1-65535)")
        }
        return .tcp(host: host, port: port)
    }

    /// The form `FCGX_OpenSocket` expects.
    var libfcgiPath: String {
        switch self {
        case .unixSocket(let path): return path
        case .tcp(let host, let port): return "\(host):\(port)"
        }
    }

    public var description: String {
        switch self {
        case .unixSocket(let path): return "unix:\(path)"
        case .tcp(let host, let port): return "\(host.isEmpty ? "*" : host):\(port)"
        }
    }
}
