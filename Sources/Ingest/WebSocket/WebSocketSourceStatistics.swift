import Foundation

/// The connection and buffer figures both live sources report (Jetstream, relay), filled in one place.
protocol WebSocketSourceStatistics {
    var connects: Int { get set }
    var reconnects: Int { get set }
    var connectFailures: Int { get set }
    var stalls: Int { get set }
    var oversizedMessages: Int { get set }
    var invalidMessages: Int { get set }
    var messages: Int { get set }
    var bytes: Int { get set }
    var connected: Bool { get set }
    var lastMessageReceivedAt: Date? { get set }
    var lastConnectCursor: Int64? { get set }
    var bufferDepth: Int { get set }
    var bufferBytes: Int { get set }
    var bufferMaximumDepth: Int { get set }
    var backpressured: Bool { get set }
}

extension WebSocketSourceStatistics {
    /// Copies the connection's counters and the buffer's state.
    mutating func record(connection: WebSocketStatistics,
                         buffer state: (depth: Int, bytes: Int, maximumDepth: Int, producerWaiting: Bool)) {
        connects = connection.connects
        reconnects = connection.reconnects
        connectFailures = connection.connectFailures
        stalls = connection.stalls
        oversizedMessages = connection.oversizedMessages
        invalidMessages = connection.invalidMessages
        messages = connection.messages
        bytes = connection.bytes
        connected = connection.connected
        lastMessageReceivedAt = connection.lastMessageReceivedAt
        lastConnectCursor = connection.lastConnectCursor
        bufferDepth = state.depth
        bufferBytes = state.bytes
        bufferMaximumDepth = state.maximumDepth
        backpressured = state.producerWaiting
    }
}

extension JetstreamSourceStatistics: WebSocketSourceStatistics {}
extension RelaySourceStatistics: WebSocketSourceStatistics {}
