import Foundation

/// Where raw Jetstream events come from: a file, stdin or a live Jetstream connection. The ingest
/// pipeline reads a source from one dedicated thread, so a source applies backpressure simply by
/// not being read: a live source must then stop reading its socket once its own bounded buffer is full.
public protocol EventSource: AnyObject {
    /// The next raw event: one Jetstream JSON object, UTF-8, without the line terminator. Blocks
    /// until one is available; nil once the source has ended or `stop()` was called.
    func next() throws -> Data?
    /// Makes a blocked `next()` and every later one return nil promptly (SIGTERM). Any thread.
    func stop()
}
