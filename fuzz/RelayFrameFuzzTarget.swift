// libFuzzer entry point for the relay frame decoder (IPLD + Sources/Ingest/Relay, compiled together
// by scripts/fuzz-relay.sh with -sanitize=fuzzer,address). Any trap, sanitizer report, leak or
// timeout is a crash; every input must end as an event list or a RelayDecodingError. Error kinds
// are tallied and printed when libFuzzer exits.
import Foundation
import IPLD

#if canImport(Glibc)
import Glibc
#endif

nonisolated(unsafe) var errorKinds: [String: Int] = [:]
nonisolated(unsafe) var decodedFrames = 0
nonisolated(unsafe) var producedEvents = 0
nonisolated(unsafe) var inputs = 0
nonisolated(unsafe) var reportRegistered = false

let fuzzDecoder = RelayFrameDecoder()
/// Mutated blocks almost never hash to their CIDs: a second decoder that skips the check lets the
/// fuzzer reach the tree walk and the record conversion behind it.
let unverifiedDecoder = RelayFrameDecoder(limits: RelayDecodingLimits(
    car: CARLimits(maximumSectionBytes: 2 * 1024 * 1024, maximumBlockCount: 100_000, verifyBlockHashes: false)))

func printReport() {
    var lines = ["fuzz-report inputs=\(inputs) decoded=\(decodedFrames) events=\(producedEvents) errors=\(inputs - decodedFrames)"]
    for (kind, count) in errorKinds.sorted(by: { $0.value > $1.value }) { lines.append("fuzz-error \(kind)=\(count)") }
    FileHandle.standardError.write((lines.joined(separator: "\n") + "\n").data(using: .utf8)!)
}

/// Every event must be valid JSON.
func check(_ decoded: RelayFrame) {
    producedEvents += decoded.events.count
    for event in decoded.events where (try? JSONSerialization.jsonObject(with: event)) == nil {
        fatalError("invalid JSON event: \(String(decoding: event, as: UTF8.self))")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func relayFrameFuzzTarget(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if !reportRegistered {
        reportRegistered = true
        atexit { printReport() }
    }
    inputs += 1
    let frame = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        try check(fuzzDecoder.decode(frame, timeMicroseconds: 1_783_175_888_000_000))
        decodedFrames += 1
    } catch {
        errorKinds[error.kind, default: 0] += 1
        if case .blocks(.blockHashMismatch) = error {
            do {
                try check(unverifiedDecoder.decode(frame, timeMicroseconds: 1))
                errorKinds["(unverified: decoded)", default: 0] += 1
            } catch {
                errorKinds["(unverified) " + error.kind, default: 0] += 1
            }
        }
    }
    return 0
}
