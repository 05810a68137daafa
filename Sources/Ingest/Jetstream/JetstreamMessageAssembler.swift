import Foundation

/// Turns WebSocket data frames into Jetstream messages: joins fragmented text messages, and
/// drops — without holding them — messages over the size limit and binary messages (Jetstream
/// sends JSON text unless compression is asked for, which this client never does). A value type
/// with no I/O, so every case is tested without a network.
struct JetstreamMessageAssembler {
    /// What one frame completed.
    enum Outcome: Equatable {
        /// The frame continues a message.
        case incomplete
        /// A whole text message.
        case message(Data)
        /// A message over the limit ended: its size and its first bytes (to log its time_us).
        case oversized(size: Int, prefix: Data)
        /// A binary message ended (not JSON text): its size.
        case binary(size: Int)
        /// A continuation without a start, or a new message inside one: the connection is broken.
        case protocolViolation
    }

    /// The frame kinds the assembler sees (the WebSocket data opcodes).
    enum FrameKind { case text, binary, continuation }

    /// Bytes kept of an oversized message for its log line.
    static let prefixLength = 256

    let maximumMessageBytes: Int
    private var inMessage = false
    private var isBinary = false
    private var size = 0
    private var parts = Data()
    private var oversizedPrefix: Data?

    init(maximumMessageBytes: Int) {
        self.maximumMessageBytes = maximumMessageBytes
    }

    mutating func consume(kind: FrameKind, payload: Data, fin: Bool) -> Outcome {
        switch kind {
        case .text, .binary:
            guard !inMessage else { return .protocolViolation }
            inMessage = true
            isBinary = kind == .binary
            size = 0
            parts = Data()
            oversizedPrefix = nil
        case .continuation:
            guard inMessage else { return .protocolViolation }
        }
        size += payload.count
        if isBinary {
            // never stored
        } else if oversizedPrefix != nil {
            // already over the limit: only counting
        } else if size > maximumMessageBytes {
            var prefix = parts.prefix(Self.prefixLength)
            prefix.append(payload.prefix(Self.prefixLength - prefix.count))
            oversizedPrefix = prefix
            parts = Data()
        } else if parts.isEmpty && fin {
            parts = payload
        } else {
            parts.append(payload)
        }
        guard fin else { return .incomplete }
        inMessage = false
        defer { parts = Data(); oversizedPrefix = nil }
        if isBinary { return .binary(size: size) }
        if let prefix = oversizedPrefix { return .oversized(size: size, prefix: prefix) }
        return .message(parts)
    }
}
