import Foundation
@testable import Ingest
import Storage
import Testing

/// The relay source's parts that need no network: configuration, the seq ordering and cursor
/// assignment, the header peek.
@Suite("relay source parts")
struct RelaySourceUnitTests {
    // MARK: configuration

    @Test("defaults: bsky.network's firehose endpoint, the indexed collections, bounded buffer")
    func defaults() throws {
        let configuration = try RelaySourceConfiguration.fromEnvironment([:])
        #expect(configuration.url == "wss://bsky.network/xrpc/com.atproto.sync.subscribeRepos")
        #expect(configuration.wantedCollections == Set(IndexedCollection.allCases.map(\.rawValue)))
        #expect(configuration.bufferCapacity == 4096)
        #expect(configuration.maximumMessageBytes == 4 << 20)
        #expect(configuration.subscribeURL(cursor: nil) == configuration.url)
        #expect(configuration.subscribeURL(cursor: 31527015322) == configuration.url + "?cursor=31527015322")
    }

    @Test("RELAY_URL: a base URL gets the XRPC path, the full endpoint is kept; every variable is read")
    func reads() throws {
        let base = try RelaySourceConfiguration.fromEnvironment(["RELAY_URL": "ws://127.0.0.1:6008/"])
        #expect(base.url == "ws://127.0.0.1:6008/xrpc/com.atproto.sync.subscribeRepos")
        let configuration = try RelaySourceConfiguration.fromEnvironment([
            "RELAY_URL": "wss://relay.example/xrpc/com.atproto.sync.subscribeRepos",
            "RELAY_STALL_TIMEOUT_S": "7", "RELAY_RECONNECT_MIN_MS": "100", "RELAY_RECONNECT_MAX_MS": "150",
            "RELAY_PING_INTERVAL_S": "3", "RELAY_BUFFER_CAPACITY": "10",
            "RELAY_MAX_MESSAGE_BYTES": "65536", "RELAY_BUFFER_MAX_BYTES": "131072",
        ])
        #expect(configuration.url == "wss://relay.example/xrpc/com.atproto.sync.subscribeRepos")
        #expect(configuration.stallTimeoutSeconds == 7)
        #expect(configuration.reconnectMinimumMilliseconds == 100)
        #expect(configuration.reconnectMaximumMilliseconds == 150)
        #expect(configuration.pingIntervalSeconds == 3)
        #expect(configuration.bufferCapacity == 10)
        #expect(configuration.maximumMessageBytes == 65536)
        #expect(configuration.bufferMaximumBytes == 131072)
    }

    @Test("an invalid value is rejected with the variable and what it accepts", arguments: [
        ("RELAY_URL", "https://bsky.network", "ws://"),
        ("RELAY_URL", "wss://bsky.network?cursor=5", "without a query string"),
        ("RELAY_STALL_TIMEOUT_S", "0", "between 1 and 3600"),
        ("RELAY_RECONNECT_MIN_MS", "x", "between 1 and 60000"),
        ("RELAY_BUFFER_CAPACITY", "0", "between 1 and 1000000"),
        ("RELAY_MAX_MESSAGE_BYTES", "1000", "between 65536 and 67108864"),
        ("RELAY_CA_FILE", "/nonexistent/ca.pem", "readable PEM file"),
    ])
    func invalid(variable: String, value: String, expected: String) {
        do {
            _ = try RelaySourceConfiguration.fromEnvironment([variable: value])
            Issue.record("\(variable)=\(value) accepted")
        } catch let error as ConfigurationError {
            #expect(error.description.contains(variable))
            #expect(error.description.contains(expected), "\(error.description)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    // MARK: seq ordering and cursors

    @Test("the events of one frame: all but the last carry the previous seq, the last carries the frame's")
    func cursorsOfAFrame() {
        var sequencer = RelaySourceSequencer(resumeCursor: 100)
        let events = [Data("a".utf8), Data("b".utf8), Data("c".utf8)]
        #expect(sequencer.admit(seq: 105, events: events, connection: 1)
            == .accept([SourceEvent(json: events[0], cursor: 100), SourceEvent(json: events[1], cursor: 100),
                        SourceEvent(json: events[2], cursor: 105)]))
        #expect(sequencer.admit(seq: 106, events: [events[0]], connection: 1) == .accept([SourceEvent(json: events[0], cursor: 106)]))
        // A frame without events (collections not indexed, #sync, tooBig) is a position alone.
        #expect(sequencer.admit(seq: 107, events: [], connection: 1) == .accept([.position(107)]))
        #expect(sequencer.highestSeq == 107)
    }

    @Test("a seq not above the last: skipped, as a replay on a newer connection, as out of order on the same one")
    func repeatedSeq() {
        var sequencer = RelaySourceSequencer(resumeCursor: nil)
        #expect(sequencer.admit(seq: 10, events: [], connection: 1) == .accept([.position(10)]))
        #expect(sequencer.admit(seq: 11, events: [], connection: 1) == .accept([.position(11)]))
        #expect(sequencer.admit(seq: 11, events: [], connection: 1) == .outOfOrder(previous: 11))
        #expect(sequencer.admit(seq: 9, events: [], connection: 1) == .outOfOrder(previous: 11))
        // Reconnected at the committed cursor 9: 10 and 11 come again.
        #expect(sequencer.admit(seq: 10, events: [], connection: 2) == .replayed)
        #expect(sequencer.admit(seq: 11, events: [], connection: 2) == .replayed)
        #expect(sequencer.admit(seq: 12, events: [Data("x".utf8)], connection: 2) == .accept([SourceEvent(json: Data("x".utf8), cursor: 12)]))
        #expect(sequencer.admit(seq: 12, events: [], connection: 2) == .outOfOrder(previous: 12))
        // Frames at or below the cursor a run resumed from count as already delivered.
        var resumed = RelaySourceSequencer(resumeCursor: 50)
        #expect(resumed.admit(seq: 50, events: [], connection: 1) == .replayed)
        #expect(resumed.admit(seq: 51, events: [Data("y".utf8)], connection: 1) == .accept([SourceEvent(json: Data("y".utf8), cursor: 51)]))
    }

    // MARK: header peek

    @Test("the header's op is read without decoding: 1 for every corpus frame, -1 for an error frame, nil for garbage")
    func headerOperation() throws {
        let frames = RelayCorpus.frames
        try #require(frames.count == 150)
        #expect(frames.allSatisfy { RelayFrameHeader.operation(of: Data($0)) == 1 })
        // {op: -1} {error: "FutureCursor"}
        let error: [UInt8] = [0xA1, 0x62, 0x6F, 0x70, 0x20, 0xA1, 0x65] + Array("error".utf8) + [0x6C] + Array("FutureCursor".utf8)
        #expect(RelayFrameHeader.operation(of: Data(error)) == -1)
        #expect(RelayFrameHeader.operation(of: Data()) == nil)
        #expect(RelayFrameHeader.operation(of: Data([0xA2, 0x61, 0x74])) == nil)
        #expect(RelayFrameHeader.operation(of: Data("{\"op\":-1}".utf8)) == nil)
        #expect(RelayFrameHeader.operation(of: Data([0xA1, 0x62, 0x6F, 0x70, 0x38, 0x63])) == -100)
    }
}
