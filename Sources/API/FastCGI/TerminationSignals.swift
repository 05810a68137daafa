#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM, SIGINT and SIGUSR1 (libfcgi's own "graceful stop" signal), received synchronously.
/// `block()` must run on the main thread before any other thread starts, so every thread inherits the
/// mask and no signal lands on a worker; then one thread calls `wait()`.
public struct TerminationSignals: Sendable {
    private let signals: [Int32] = [SIGTERM, SIGINT, SIGUSR1]

    public init() {}

    private func makeSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        return set
    }

    /// Blocks the signals in the calling thread (and in every thread it creates afterwards).
    public func block() {
        var set = makeSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Waits for one of the signals and returns its number.
    public func wait() -> Int32 {
        var set = makeSet()
        var received: Int32 = 0
        while sigwait(&set, &received) != 0 {}
        return received
    }

    /// `SIGTERM` → "SIGTERM", for logs.
    public static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGTERM: return "SIGTERM"
        case SIGINT: return "SIGINT"
        case SIGUSR1: return "SIGUSR1"
        default: return "signal \(signal)"
        }
    }
}
