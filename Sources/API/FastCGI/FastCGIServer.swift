import CFastCGI
import Foundation
import Logging
import Storage

#if canImport(Glibc)
import Glibc
#endif

/// Serves a `RequestHandler` over FastCGI with libfcgi, on `threads` dedicated POSIX threads (never the
/// Swift concurrency pool: handlers block on the database).
///
/// libfcgi facts this relies on (REFERENCE §7): `FCGX_Init` once per process; each worker owns a
/// heap-allocated `FCGX_Request` that never moves; the parameter strings die at the next accept, so they
/// are copied at once; the whole body is read (capped) or the kept-alive connection breaks; and a
/// kept-alive nginx connection pins its worker until nginx closes it, so nginx must open at most
/// `threads` connections (`max_conns`).
///
/// Shutdown (`shutdown(gracePeriod:)`): refuse new work, `shutdown(listenFd, SHUT_RDWR)` so blocked
/// accepts fail, and interrupt idle workers parked in `read()` on kept-alive connections with a no-op
/// signal (`SIGUSR2`, installed without `SA_RESTART`); busy workers finish their request, then exit.
public final class FastCGIServer: @unchecked Sendable {
    /// How the server listens and bounds work.
    public struct Configuration: Sendable {
        public var listen: FastCGIListenAddress
        /// Worker threads (`API_THREADS`): the most requests served at once, and the most
        /// connections nginx may keep open.
        public var threads: Int
        /// Request bodies above this are answered 413 without calling the handler (10 MB).
        public var maxBodyBytes: Int
        /// `listen(2)` backlog: connections the kernel queues while every worker is busy.
        public var backlog: Int
        /// Requests slower than this are logged at warning.
        public var slowRequestMilliseconds: Double

        public init(
            listen: FastCGIListenAddress, threads: Int, maxBodyBytes: Int = 10 * 1024 * 1024,
            backlog: Int = 1024, slowRequestMilliseconds: Double = 1000
        ) {
            self.listen = listen
            self.threads = threads
            self.maxBodyBytes = maxBodyBytes
            self.backlog = backlog
            self.slowRequestMilliseconds = slowRequestMilliseconds
        }
    }

    /// Where each worker thread is, so shutdown knows whom to wake and whom to wait for.
    enum WorkerState: Equatable {
        case starting
        /// Inside `FCGX_Accept_r`: waiting for a connection, or for the next request on a kept-alive one.
        case idle
        /// Running a request; shutdown waits for it.
        case busy
        case exited
    }

    /// Sent to idle workers during shutdown. Its handler does nothing; the delivery interrupts the
    /// blocking read on a kept-alive connection, which `shutdown(listenFd)` cannot reach.
    static let wakeupSignal = SIGUSR2

    /// Bodies are drained (read and discarded) up to this size after a 413 so the kept-alive connection
    /// stays usable; beyond it the connection is closed instead.
    static let maximumDrainBytes = 64 * 1024 * 1024

    /// `FCGX_Init` must run once per process before any other libfcgi call; a static let runs it lazily, once.
    private static let libraryStatus: Int32 = FCGX_Init()

    public let configuration: Configuration
    let handler: RequestHandler
    let logger: Logger

    private let stateChanged = NSCondition()
    private var workerStates: [WorkerState] = []
    private var workerThreads: [pthread_t?] = []
    private var stopping = false
    private var listenFd: Int32 = -1

    public init(configuration: Configuration, handler: RequestHandler, logger: Logger = Logger(label: "appview.api.fastcgi")) {
        self.configuration = configuration
        self.handler = handler
        self.logger = logger
    }

    /// Opens the listening socket and starts the worker threads; returns at once.
    public func start() throws {
        guard configuration.threads > 0 else { throw ConfigurationError("the FastCGI server needs at least one thread") }
        guard Self.libraryStatus == 0 else { throw ConfigurationError("FCGX_Init failed (\(Self.libraryStatus))") }
        // A client that went away must not kill the process on the next write.
        signal(SIGPIPE, SIG_IGN)
        guard appview_fcgi_install_wakeup_handler(Self.wakeupSignal) == 0 else {
            throw ConfigurationError("cannot install the worker wake-up signal handler: \(String(cString: strerror(errno)))")
        }
        listenFd = try FastCGIListenSocket.open(configuration.listen, backlog: configuration.backlog)

        stateChanged.lock()
        workerStates = Array(repeating: .starting, count: configuration.threads)
        workerThreads = Array(repeating: nil, count: configuration.threads)
        stateChanged.unlock()
        for index in 0..<configuration.threads {
            let context = Unmanaged.passRetained(WorkerContext(server: self, index: index)).toOpaque()
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { raw in
                let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                context.server.runWorker(index: context.index)
                return nil
            }, context)
            guard status == 0 else {
                Unmanaged<WorkerContext>.fromOpaque(context).release()
                _ = shutdown(gracePeriod: 1)
                throw ConfigurationError("cannot start FastCGI worker thread \(index): \(String(cString: strerror(status)))")
            }
            stateChanged.lock()
            workerThreads[index] = thread
            stateChanged.unlock()
        }
        logger.info("FastCGI server listening", metadata: [
            "listen": "\(configuration.listen)", "threads": "\(configuration.threads)", "backlog": "\(configuration.backlog)",
        ])
    }

    /// Stops accepting, lets running requests finish for up to `gracePeriod` seconds, joins the workers
    /// and closes the socket. Returns false when some request was still running at the deadline (its
    /// thread is then abandoned; the caller is about to exit anyway).
    @discardableResult
    public func shutdown(gracePeriod: TimeInterval = 10) -> Bool {
        stateChanged.lock()
        if stopping {
            stateChanged.unlock()
            return true
        }
        stopping = true
        let busyAtStart = workerStates.filter { $0 == .busy }.count
        stateChanged.unlock()
        logger.info("FastCGI server stopping", metadata: ["inFlight": "\(busyAtStart)"])

        // Shutting the listening socket down makes a blocked accept() fail (EINVAL), which libfcgi
        // reports as an accept error. FCGX_ShutdownPending() is deliberately NOT called: in libfcgi
        // 2.4.2 (Debian 12) OS_Accept then skips accept() but reuses the previous, already closed fd,
        // and spins forever once a connection failed its AF_UNIX "keeper" check (observed with strace).
        if listenFd >= 0 { _ = Glibc.shutdown(listenFd, Int32(SHUT_RDWR)) }

        let deadline = Date(timeIntervalSinceNow: gracePeriod)
        stateChanged.lock()
        while workerStates.contains(where: { $0 != .exited }) && Date() < deadline {
            // Idle workers may sit in read() on a kept-alive connection: interrupt them, repeatedly,
            // since a signal can land just before the read starts.
            for (index, state) in workerStates.enumerated() where state == .idle || state == .starting {
                if let thread = workerThreads[index] { pthread_kill(thread, Self.wakeupSignal) }
            }
            _ = stateChanged.wait(until: min(deadline, Date(timeIntervalSinceNow: 0.05)))
        }
        let unfinished = workerStates.filter { $0 != .exited }.count
        let threads = workerThreads
        stateChanged.unlock()

        if unfinished == 0 {
            for case let thread? in threads { pthread_join(thread, nil) }
        } else {
            logger.warning("FastCGI workers still busy at the shutdown deadline", metadata: [
                "busy": "\(unfinished)", "graceSeconds": "\(gracePeriod)",
            ])
        }
        if listenFd >= 0 {
            close(listenFd)
            listenFd = -1
        }
        FastCGIListenSocket.removeSocketFile(configuration.listen)
        logger.info("FastCGI server stopped", metadata: ["abandonedRequests": "\(unfinished)"])
        return unfinished == 0
    }

    /// Requests currently being handled (for tests and logs).
    public var inFlightRequests: Int {
        stateChanged.lock()
        defer { stateChanged.unlock() }
        return workerStates.filter { $0 == .busy }.count
    }

    // MARK: - Worker

    private final class WorkerContext {
        let server: FastCGIServer
        let index: Int
        init(server: FastCGIServer, index: Int) {
            self.server = server
            self.index = index
        }
    }

    /// Moves a worker to `state`; refuses (returns false) to go idle once shutdown started.
    private func transition(_ index: Int, to state: WorkerState) -> Bool {
        stateChanged.lock()
        defer {
            stateChanged.broadcast()
            stateChanged.unlock()
        }
        if state == .idle && stopping { return false }
        workerStates[index] = state
        return true
    }

    private func runWorker(index: Int) {
        appview_fcgi_name_thread("fcgi-\(index)")
        // Heap-allocated and never moved: libfcgi keeps pointers into it between calls.
        let request = UnsafeMutablePointer<FCGX_Request>.allocate(capacity: 1)
        request.initialize(to: FCGX_Request())
        defer {
            FCGX_Free(request, 1)
            request.deinitialize(count: 1)
            request.deallocate()
            _ = transition(index, to: .exited)
        }
        guard FCGX_InitRequest(request, listenFd, 0) == 0 else {
            logger.error("FCGX_InitRequest failed", metadata: ["worker": "\(index)"])
            return
        }
        var readBuffer = [CChar](repeating: 0, count: 64 * 1024)
        var consecutiveFailures = 0
        while transition(index, to: .idle) {
            let status = FCGX_Accept_r(request)
            guard status >= 0 else {
                if isStopping { break }
                consecutiveFailures += 1
                logger.error("FCGX_Accept_r failed", metadata: [
                    "worker": "\(index)", "status": "\(status)", "error": "\(String(cString: strerror(-status)))",
                ])
                // Back off so a persistent error (e.g. EMFILE) does not spin a core.
                usleep(UInt32(min(consecutiveFailures, 50)) * 20_000)
                continue
            }
            consecutiveFailures = 0
            _ = transition(index, to: .busy)
            serve(request, worker: index, readBuffer: &readBuffer)
            FCGX_Finish_r(request)
        }
    }

    private var isStopping: Bool {
        stateChanged.lock()
        defer { stateChanged.unlock() }
        return stopping
    }

    /// One request: copy the params, read the body (capped), call the handler, write the response.
    private func serve(_ request: UnsafeMutablePointer<FCGX_Request>, worker: Int, readBuffer: inout [CChar]) {
        let started = ContinuousClock.now
        let params = Self.copyParams(request.pointee.envp)
        let body = readBody(request.pointee.in, declaredLength: FastCGIRequestMapping.contentLength(params), buffer: &readBuffer)

        let httpRequest = FastCGIRequestMapping.request(params: params, body: body.bytes)
        let response: HTTPResponse
        if body.tooLarge {
            response = .json(413, Array(
                #"{"error":"PayloadTooLarge","message":"Request body larger than \#(configuration.maxBodyBytes / (1024 * 1024)) MB"}"#.utf8))
            if !body.drained {
                // The rest of the body is still on the connection: it cannot carry another request.
                request.pointee.keepConnection = 0
            }
        } else {
            response = handler.handle(httpRequest)
        }
        write(response, to: request.pointee.out)

        let elapsed = started.duration(to: .now)
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        if milliseconds >= configuration.slowRequestMilliseconds {
            logger.warning("slow request", metadata: [
                "method": "\(httpRequest.method)", "path": "\(httpRequest.path)", "status": "\(response.status)",
                "ms": "\(Int(milliseconds))", "worker": "\(worker)",
            ])
        } else {
            logger.trace("request", metadata: [
                "method": "\(httpRequest.method)", "path": "\(httpRequest.path)", "status": "\(response.status)",
                "ms": "\(milliseconds)",
            ])
        }
    }

    /// Copies every `NAME=value` parameter now: libfcgi frees them at the next accept.
    static func copyParams(_ envp: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> [String: String] {
        var params: [String: String] = [:]
        guard var cursor = envp else { return params }
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                params[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            cursor += 1
        }
        return params
    }

    struct Body {
        var bytes: [UInt8]
        var tooLarge: Bool
        /// The stream was read to its end (the connection can carry the next request).
        var drained: Bool
    }

    /// Reads the whole body up to `maxBodyBytes`. A larger body (declared or actual) is drained up to
    /// `maximumDrainBytes` and discarded; the handler never sees it.
    private func readBody(_ stream: UnsafeMutablePointer<FCGX_Stream>?, declaredLength: Int?, buffer: inout [CChar]) -> Body {
        guard let stream else { return Body(bytes: [], tooLarge: false, drained: true) }
        let limit = configuration.maxBodyBytes
        var bytes: [UInt8] = []
        var tooLarge = (declaredLength ?? 0) > limit
        if !tooLarge, let declaredLength, declaredLength > 0 { bytes.reserveCapacity(declaredLength) }
        var total = 0
        let capacity = Int32(buffer.count)
        while true {
            let count = buffer.withUnsafeMutableBufferPointer { FCGX_GetStr($0.baseAddress, capacity, stream) }
            guard count > 0 else { break }
            total += Int(count)
            if !tooLarge {
                if total > limit {
                    tooLarge = true
                    bytes = []
                } else {
                    buffer.withUnsafeBufferPointer { pointer in
                        pointer.baseAddress!.withMemoryRebound(to: UInt8.self, capacity: Int(count)) {
                            bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: Int(count)))
                        }
                    }
                }
            }
            if tooLarge && total > Self.maximumDrainBytes {
                return Body(bytes: [], tooLarge: true, drained: false)
            }
        }
        let drained = FCGX_GetError(stream) == 0
        return Body(bytes: tooLarge ? [] : bytes, tooLarge: tooLarge, drained: drained)
    }

    private func write(_ response: HTTPResponse, to stream: UnsafeMutablePointer<FCGX_Stream>?) {
        guard let stream else { return }
        Self.put(FastCGIResponseEncoding.headerBlock(for: response), to: stream)
        Self.put(response.body, to: stream)
    }

    private static func put(_ bytes: [UInt8], to stream: UnsafeMutablePointer<FCGX_Stream>) {
        bytes.withUnsafeBufferPointer { pointer in
            guard let base = pointer.baseAddress, !pointer.isEmpty else { return }
            base.withMemoryRebound(to: CChar.self, capacity: pointer.count) { chars in
                var offset = 0
                while offset < pointer.count {
                    let chunk = Int32(min(pointer.count - offset, 1 << 20))
                    guard FCGX_PutStr(chars + offset, chunk, stream) == chunk else { return }
                    offset += Int(chunk)
                }
            }
        }
    }
}
