import Foundation

/// Turns WebSocket data frames into messages of the kind a source expects (Jetstream: text, JSON;
/// the relay: binary, DAG-CBOR): joins fragmented messages, and drops — without holding them —
/// messages over the size limit and messages of the other kind. A value type with no I/O, so every
/// case is tested without a network.
struct WebSocketMessageAssembler {
    /// What one frame completed.
    enum Outcome: Equatable {
        /// The frame continues a message.
        case incomplete
        /// A whole message of the expected kind.
        case message(Data)
        /// A message over the limit ended: its size and its first bytes (to log its position).
        case oversized(size: Int, prefix: Data)
        /// A message of the other kind ended (binary for a text source, text for a binary one): its size.
        case unexpectedKind(size: Int)
        /// A continuation without a start, or a new message inside one: the connection is broken.
        case protocolViolation
    }

    /// The frame kinds the assembler sees (the WebSocket data opcodes).
    enum FrameKind { case text, binary, continuation }

    /// Bytes kept of an oversized message for its log line.
    static let prefixLength = 256

    let maximumMessageBytes: Int
    /// `.text` or `.binary`: the messages delivered; the other kind is only counted.
    let expectedKind: FrameKind
    private var inMessage = false
    private var isUnexpected = false
    private var size = 0
    private var parts = Data()
    private var oversizedPrefix: Data?

    init(maximumMessageBytes: Int, expecting expectedKind: FrameKind = .text) {
        precondition(expectedKind != .continuation)
        self.maximumMessageBytes = maximumMessageBytes
        self.expectedKind = expectedKind
    }

    mutating func consume(kind: FrameKind, payload: Data, fin: Bool) -> Outcome {
        switch kind {
        case .text, .binary:
            guard !inMessage else { return .protocolViolation }
            inMessage = true
            isUnexpected = kind != expectedKind
            size = 0
            parts = Data()
            oversizedPrefix = nil
        case .continuation:
            guard inMessage else { return .protocolViolation }
        }
        size += payload.count
        if isUnexpected {
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
        if isUnexpected { return .unexpectedKind(size: size) }
        if let prefix = oversizedPrefix { return .oversized(size: size, prefix: prefix) }
        return .message(parts)
    }
}
