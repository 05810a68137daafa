import CFastCGI
import Foundation
import Storage

#if canImport(Glibc)
import Glibc
#endif

/// Opens the listening socket for `FCGX_InitRequest`. For a unix socket: creates the directory,
/// replaces a stale socket file (refusing when another process still listens on it), and makes the
/// socket connectable by nginx workers running as another user (0666).
enum FastCGIListenSocket {
    static func open(_ address: FastCGIListenAddress, backlog: Int) throws -> Int32 {
        if case .unixSocket(let path) = address {
            try prepareUnixSocketPath(path)
        }
        let fd = FCGX_OpenSocket(address.libfcgiPath, Int32(backlog))
        guard fd >= 0 else {
            throw ConfigurationError("cannot listen on FCGI_LISTEN=\(address.libfcgiPath): \(String(cString: strerror(errno)))")
        }
        if case .unixSocket(let path) = address {
            guard chmod(path, 0o666) == 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw ConfigurationError("cannot chmod 0666 the FastCGI socket \(path): \(reason)")
            }
        }
        // Workers must not inherit it into anything we might exec; harmless if it fails.
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return fd
    }

    /// Removes the socket file at shutdown so a later start does not mistake it for a live server.
    static func removeSocketFile(_ address: FastCGIListenAddress) {
        guard case .unixSocket(let path) = address, isSocket(path) else { return }
        unlink(path)
    }

    private static func prepareUnixSocketPath(_ path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ConfigurationError("cannot create the directory \(directory) for FCGI_LISTEN: \(error.localizedDescription)")
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { return }  // nothing there
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw ConfigurationError("FCGI_LISTEN=\(path) exists and is not a socket; refusing to replace it")
        }
        if acceptsConnections(path) {
            throw ConfigurationError("another process is already serving on FCGI_LISTEN=\(path)")
        }
        guard unlink(path) == 0 else {
            throw ConfigurationError("cannot remove the stale socket \(path): \(String(cString: strerror(errno)))")
        }
    }

    private static func isSocket(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFSOCK
    }

    /// True when something listens on the unix socket (a stale file refuses the connection).
    private static func acceptsConnections(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0
    }
}
