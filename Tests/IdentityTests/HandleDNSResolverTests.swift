import Foundation
import Testing
@testable import Identity

@Suite struct HandleDNSAnswerParsingTests {
    static let question = DNSWire.query("_atproto.alice.example.com")
    static let did = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"

    static func answer(_ records: [(type: Int, data: [UInt8])]) -> HandleDNSResolver.Answer {
        HandleDNSResolver.didRecord(inAnswer: DNSWire.response(to: question, records: records))
    }

    @Test func theOneDidRecordAmongOtherTXTRecordsIsTheAnswer() {
        #expect(Self.answer([(16, DNSWire.txt(["v=spf1 -all"])), (16, DNSWire.txt(["did=" + Self.did]))]) == .did(Self.did))
        // A record's strings are joined (long values are split in 255-byte strings).
        #expect(Self.answer([(16, DNSWire.txt(["did=did:plc:", "aaaaaaaaaaaaaaaaaaaaaaaa"]))]) == .did(Self.did))
        // A CNAME before the TXT record is skipped.
        #expect(Self.answer([(5, DNSWire.name("other.example.com")), (16, DNSWire.txt(["did=" + Self.did]))]) == .did(Self.did))
    }

    @Test func noneOrSeveralDidRecordsAreNoAnswer() {
        #expect(Self.answer([]) == .noAnswer(reason: "no did= TXT record"))
        #expect(Self.answer([(16, DNSWire.txt(["hello"]))]) == .noAnswer(reason: "no did= TXT record"))
        #expect(Self.answer([(16, DNSWire.txt(["did=" + Self.did])), (16, DNSWire.txt(["did=did:plc:bbbbbbbbbbbbbbbbbbbbbbbb"]))])
                == .noAnswer(reason: "2 did= TXT records"))
    }

    @Test func malformedAnswersAreNoAnswerNeverACrash() {
        let good = DNSWire.response(to: Self.question, records: [(16, DNSWire.txt(["did=" + Self.did]))])
        // Every truncation of a valid answer.
        for length in 0..<good.count {
            if case .did = HandleDNSResolver.didRecord(inAnswer: Array(good.prefix(length))) {
                Issue.record("a truncated answer (\(length) bytes) was accepted")
            }
        }
        // A string length running past its record: that record is skipped.
        #expect(Self.answer([(16, [40] + Array("did=x".utf8))]) == .noAnswer(reason: "no did= TXT record"))
        // More answers claimed than present, a record length past the end, a compression loop.
        #expect(HandleDNSResolver.didRecord(inAnswer: DNSWire.response(to: Self.question, records: [], claimedAnswers: 3))
                == .noAnswer(reason: "malformed DNS answer"))
        var overlong = good
        overlong[overlong.count - (5 + Self.did.count) - 1] = 0xff
        #expect(HandleDNSResolver.didRecord(inAnswer: overlong) != .did(Self.did))
        let loop = Array(Self.question.prefix(2)) + [0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0] + [0xc0, 12, 0, 16, 0, 1]
            + [0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 1, 0]
        #expect(HandleDNSResolver.didRecord(inAnswer: loop) != .did(Self.did))
        // Random bytes.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let bytes = (0..<Int.random(in: 0..<300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = HandleDNSResolver.didRecord(inAnswer: bytes)
        }
    }

    @Test func nameserverSettingsParse() {
        #expect(DNSNameserver("127.0.0.1:5353") == DNSNameserver("127.0.0.1:5353"))
        #expect(DNSNameserver("127.0.0.1:5353")?.port == 5353)
        #expect(DNSNameserver("10.0.0.2")?.port == 53)
        for bad in ["", "localhost", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:70000", "::1", "1.2.3:53", "1.2.3.4:53:1"] {
            #expect(DNSNameserver(bad) == nil, "\(bad)")
        }
    }
}

/// glibc's resolver against a DNS server on loopback (`HANDLE_DNS_SERVER`).
@Suite struct HandleDNSLookupTests {
    static let did = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"

    @Test func answersComeFromTheConfiguredNameserver() throws {
        let server = try DNSStandIn()
        defer { server.stop() }
        server.set("_atproto.alice.example.com", .txt([["did=" + Self.did]]))
        server.set("_atproto.empty.example.com", .rcode(0))
        server.set("_atproto.broken.example.com", .rcode(2))
        let resolver = HandleDNSResolver(nameserver: server.nameserver, timeoutMilliseconds: 1000)
        #expect(resolver.lookUp(handle: "alice.example.com") == .did(Self.did))
        #expect(resolver.lookUp(handle: "nobody.example.com") == .noAnswer(reason: "NXDOMAIN"))
        #expect(resolver.lookUp(handle: "empty.example.com") == .noAnswer(reason: "no TXT record"))
        #expect(resolver.lookUp(handle: "broken.example.com") == .noAnswer(reason: "DNS timeout or server failure"))
        #expect(server.receivedQueries.contains("_atproto.alice.example.com"))
    }

    @Test func aSilentServerIsATimeoutWithinItsBound() throws {
        let server = try DNSStandIn()
        defer { server.stop() }
        server.set("_atproto.slow.example.com", .silence)
        let resolver = HandleDNSResolver(nameserver: server.nameserver, timeoutMilliseconds: 1000)
        let started = Date()
        #expect(resolver.lookUp(handle: "slow.example.com") == .noAnswer(reason: "DNS timeout or server failure"))
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed >= 0.9 && elapsed < 4, "took \(elapsed) s")
    }

    @Test func malformedAndOversizedAnswersOnTheWireAreNoAnswer() throws {
        let server = try DNSStandIn()
        defer { server.stop() }
        server.set("_atproto.lying.example.com", .raw { DNSWire.response(to: $0, records: [], claimedAnswers: 4) })
        server.set("_atproto.huge.example.com", .txt((0..<40).map { _ in [String(repeating: "x", count: 200)] } + [["did=" + Self.did]]))
        server.set("_atproto.bad.example.com", .raw { DNSWire.response(to: $0, records: [(16, [99] + Array("did=x".utf8))]) })
        let resolver = HandleDNSResolver(nameserver: server.nameserver, timeoutMilliseconds: 1000)
        #expect(resolver.lookUp(handle: "lying.example.com") == .noAnswer(reason: "malformed DNS answer"))
        #expect(resolver.lookUp(handle: "bad.example.com") == .noAnswer(reason: "no did= TXT record"))
        // ~8 KB answer: cut at the bound, so the record behind the cut is never read.
        if case .did = resolver.lookUp(handle: "huge.example.com") { Issue.record("an answer past the size bound was read") }
    }
}
