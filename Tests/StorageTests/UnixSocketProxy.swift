import Foundation

/// A byte-forwarding proxy from a unix socket of its own to the test cluster's socket. Stopping it
/// cuts every forwarded connection and removes the socket, as a server restart or a network failure
/// would look to libpq; starting it again brings "the server" back.
final class UnixSocketProxy: @unchecked Sendable {
    /// The directory to give libpq as `host` (the socket is `<directory>/.s.PGSQL.<port>`).
    let directory: String
    let port: Int
    private let upstreamPath: String
    private let lock = NSLock()
    private var listener: Int32 = -1
    private var acceptLoopDone: DispatchGroup?
    private var forwarded: Set<Int32> = []
    private var upstreams: Set<Int32> = []
    private var holdClientsOnCut = false

    init(upstreamDirectory: String, port: Int) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("storage-proxy-\(UUID().uuidString.prefix(8))").path
        self.port = port
        upstreamPath = "\(upstreamDirectory)/.s.PGSQL.\(port)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private var socketPath: String { "\(directory)/.s.PGSQL.\(port)" }

    func start() throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ProxyError("socket failed") }
        unlink(socketPath)
        var address = Self.address(socketPath)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw ProxyError("bind/listen on \(socketPath) failed: errno \(errno)")
        }
        let done = DispatchGroup()
        done.enter()
        lock.lock()
        listener = fd
        acceptLoopDone = done
        lock.unlock()
        Thread { [self] in
            acceptLoop(fd)
            done.leave()
        }.start()
    }

    /// Removes the socket and cuts every forwarded connection.
    func stop() {
        lock.lock()
        let fd = listener
        let done = acceptLoopDone
        listener = -1
        acceptLoopDone = nil
        let open = forwarded
        lock.unlock()
        guard fd >= 0 else { return }
        unlink(socketPath)
        shutdown(fd, Int32(SHUT_RDWR))
        done?.wait()
        close(fd)
        for connection in open { shutdown(connection, Int32(SHUT_RDWR)) }
    }

    /// Ends every server-side connection but leaves the clients' sockets silent and open until they
    /// send: a client sees nothing while idle and learns of the loss only on its next statement.
    func cutServerSideSilently() {
        lock.lock()
        holdClientsOnCut = true
        let servers = upstreams
        lock.unlock()
        for server in servers { shutdown(server, Int32(SHUT_RDWR)) }
    }

    private var holdsClientsOnCut: Bool {
        lock.lock(); defer { lock.unlock() }
        return holdClientsOnCut
    }

    private func acceptLoop(_ listener: Int32) {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            let upstream = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.address(upstreamPath)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard connected == 0 else {
                close(upstream)
                close(client)
                continue
            }
            lock.lock()
            forwarded.insert(client)
            forwarded.insert(upstream)
            upstreams.insert(upstream)
            lock.unlock()
            Thread { [self] in pump(client, upstream) }.start()
        }
    }

    private func pump(_ a: Int32, _ b: Int32) {
        var descriptors = [pollfd(fd: a, events: Int16(POLLIN), revents: 0), pollfd(fd: b, events: Int16(POLLIN), revents: 0)]
        var buffer = [UInt8](repeating: 0, count: 65536)
        loop: while poll(&descriptors, 2, -1) >= 0 {
            for (index, descriptor) in descriptors.enumerated() where descriptor.revents != 0 {
                let source = descriptor.fd
                let target = index == 0 ? b : a
                let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
                if count <= 0 && source == b && holdsClientsOnCut {
                    // The server side is gone but the client is not told until it sends something,
                    // like a connection whose peer vanished without a FIN.
                    var client = pollfd(fd: a, events: Int16(POLLIN), revents: 0)
                    _ = poll(&client, 1, -1)
                    break loop
                }
                guard count > 0 else { break loop }
                var sent = 0
                while sent < count {
                    let written = buffer.withUnsafeBytes { write(target, $0.baseAddress! + sent, count - sent) }
                    guard written > 0 else { break loop }
                    sent += written
                }
            }
        }
        lock.lock()
        forwarded.remove(a)
        forwarded.remove(b)
        upstreams.remove(b)
        lock.unlock()
        close(a)
        close(b)
    }

    /// A socket that accepts connections into its backlog and never answers: a server that hangs.
    /// Returns the descriptor to close when done.
    static func silentListener(directory: String, port: Int) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = address("\(directory)/.s.PGSQL.\(port)")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard fd >= 0, bound == 0, listen(fd, 16) == 0 else { throw ProxyError("silent listener failed: errno \(errno)") }
        return fd
    }

    private static func address(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            precondition(bytes.count < raw.count, "socket path too long: \(path)")
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }

    struct ProxyError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
