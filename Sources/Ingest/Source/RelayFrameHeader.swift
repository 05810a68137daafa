import Foundation

/// Reads a relay frame's header `op` without decoding the frame: the connection task looks at every
/// frame to notice error frames (`op: -1`) and close the connection itself, so it must be cheap. The
/// full decoding (and the error's name and message) happens on the pipeline's reader thread.
enum RelayFrameHeader {
    /// The header's `op` when the frame starts with a small DAG-CBOR map of short text keys and small
    /// integer or short text values (every header the protocol defines); nil otherwise.
    static func operation(of frame: Data) -> Int64? {
        frame.withUnsafeBytes { raw -> Int64? in
            let bytes = raw.bindMemory(to: UInt8.self)
            guard let first = bytes.first, first >> 5 == 5, first & 31 < 24 else { return nil }
            var index = 1
            var operation: Int64?
            for _ in 0..<Int(first & 31) {
                guard let key = text(bytes, &index) else { return nil }
                guard index < bytes.count else { return nil }
                let head = bytes[index]
                switch head >> 5 {
                case 0, 1:
                    guard let value = argument(bytes, &index) else { return nil }
                    let signed = head >> 5 == 0 ? Int64(value) : -1 - Int64(value)
                    if key == "op" { operation = signed }
                case 3:
                    guard text(bytes, &index) != nil else { return nil }
                default:
                    return nil
                }
            }
            return operation
        }
    }

    /// A small unsigned argument (inline or one byte) at `index`, advancing past it.
    private static func argument(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) -> UInt8? {
        guard index < bytes.count else { return nil }
        let info = bytes[index] & 31
        if info < 24 {
            index += 1
            return info
        }
        guard info == 24, index + 1 < bytes.count else { return nil }
        index += 2
        return bytes[index - 1]
    }

    /// A short text string at `index`, advancing past it.
    private static func text(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) -> String? {
        guard index < bytes.count, bytes[index] >> 5 == 3, let length = argument(bytes, &index),
              index + Int(length) <= bytes.count else { return nil }
        let value = String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<index + Int(length)]), as: UTF8.self)
        index += Int(length)
        return value
    }
}
