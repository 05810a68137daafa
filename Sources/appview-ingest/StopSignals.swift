import Dispatch
import Foundation

/// SIGTERM and SIGINT call `onStop` (on a dispatch queue, once each signal) instead of killing the
/// process, so the ingest can drain, commit and persist its cursor before exiting.
final class StopSignals {
    private var sources: [DispatchSourceSignal] = []

    init(onStop: @escaping @Sendable () -> Void) {
        let queue = DispatchQueue(label: "appview-ingest.signals")
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            source.setEventHandler {
                FileHandle.standardError.write(Data("appview-ingest: signal \(signalNumber): stopping, draining what was read\n".utf8))
                onStop()
            }
            source.resume()
            sources.append(source)
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
        sources.removeAll()
    }
}
