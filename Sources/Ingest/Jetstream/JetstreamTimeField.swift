import Foundation

/// Reads `"time_us":<digits>` from a Jetstream message without decoding it: the source records the
/// newest event time and logs the position of a skipped message, on every message, so it must be cheap.
enum JetstreamTimeField {
    private static let key = Array(#""time_us":"#.utf8)
    /// Jetstream writes time_us right after the DID, so it is searched for in this many leading bytes.
    static let searchWindow = 512

    static func timeMicroseconds(in message: Data) -> Int64? {
        message.withUnsafeBytes { raw in
            key.withUnsafeBufferPointer { key in scan(raw.bindMemory(to: UInt8.self), for: key) }
        }
    }

    private static func scan(_ bytes: UnsafeBufferPointer<UInt8>, for key: UnsafeBufferPointer<UInt8>) -> Int64? {
        let end = min(bytes.count, searchWindow)
        var index = 0
        while index + key.count <= end {
            if bytes[index] == key[0], matches(bytes, key, at: index) {
                var position = index + key.count
                var value: Int64 = 0
                var digits = 0
                while position < bytes.count, digits < 18, bytes[position] >= 48, bytes[position] <= 57 {
                    value = value * 10 + Int64(bytes[position] - 48)
                    position += 1
                    digits += 1
                }
                return digits > 0 ? value : nil
            }
            index += 1
        }
        return nil
    }

    private static func matches(_ bytes: UnsafeBufferPointer<UInt8>, _ key: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        for offset in 1..<key.count where bytes[index + offset] != key[offset] { return false }
        return true
    }
}
