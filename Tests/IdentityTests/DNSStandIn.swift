import Foundation
@testable import Identity
#if canImport(Glibc)
import Glibc
#endif

/// DNS wire format for tests: names, TXT record data and whole answers.
enum DNSWire {
    static func name(_ text: String) -> [UInt8] {
        text.split(separator: ".").flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0]
    }

    /// TXT record data: each string as a length byte and its bytes.
    static func txt(_ strings: [String]) -> [UInt8] {
        strings.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
    }

    static func u16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xff), UInt8(value & 0xff)] }

    /// A response to `question` (its header id and question section, as sent) with `records`
    /// (type, data) in the answer section, each named by a pointer to the question's name.
    static func response(to question: [UInt8], rcode: UInt8 = 0, records: [(type: Int, data: [UInt8])],
                         claimedAnswers: Int? = nil) -> [UInt8] {
        var message = Array(question.prefix(2)) + [0x81, 0x80 | rcode] + u16(1) + u16(claimedAnswers ?? records.count) + u16(0) + u16(0)
        message += question.dropFirst(12)
        for record in records {
            message += [0xc0, 0x0c] + u16(record.type) + u16(1) + [0, 0, 0, 60] + u16(record.data.count) + record.data
        }
        return message
    }

    /// A query as a resolver sends it (for parsing tests that need a question section).
    static func query(_ name: String, id: Int = 0x1234) -> [UInt8] {
        u16(id) + [0x01, 0x00] + u16(1) + u16(0) + u16(0) + u16(0) + self.name(name) + u16(16) + u16(1)
    }

    /// The header and question of a received query (EDNS records after it dropped).
    static func questionPart(of query: [UInt8]) -> (name: String, bytes: [UInt8])? {
        var offset = 12
        var labels: [String] = []
        while offset < query.count {
            let length = Int(query[offset])
            if length == 0 { break }
            guard offset + 1 + length < query.count else { return nil }
            labels.append(String(decoding: query[(offset + 1)...(offset + length)], as: UTF8.self))
            offset += 1 + length
        }
        let end = offset + 1 + 4
        guard end <= query.count else { return nil }
        var header = Array(query.prefix(12))
        header[10] = 0; header[11] = 0 // no additional records in the echo
        return (labels.joined(separator: ".").lowercased(), header + query[12..<end])
    }
}

/// A UDP DNS server on 127.0.0.1 answering from a table: name → reply. Unknown names: NXDOMAIN.
final class DNSStandIn: @unchecked Sendable {
    enum Reply {
        case txt([[String]])
        case rcode(UInt8)
        /// No answer at all (a timeout for the client).
        case silence
        /// Bytes built from the question part (header and question of the query).
        case raw(([UInt8]) -> [UInt8])
    }

    let port: UInt16
    private let socketDescriptor: Int32
    private let lock = NSLock()
    private var replies: [String: Reply] = [:]
    private var queries: [String] = []
    private var running = true

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        socketDescriptor = descriptor
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    var nameserver: DNSNameserver { DNSNameserver("127.0.0.1:\(port)")! }

    func set(_ name: String, _ reply: Reply) { lock.withLock { replies[name] = reply } }
    var receivedQueries: [String] { lock.withLock { queries } }

    func stop() { lock.withLock { running = false } }

    private func serve() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while lock.withLock({ running }) {
            var peer = sockaddr_storage()
            var peerLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let count = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(socketDescriptor, &buffer, buffer.count, 0, $0, &peerLength) }
            }
            guard count > 0, let question = DNSWire.questionPart(of: Array(buffer.prefix(count))) else { continue }
            let reply = lock.withLock { () -> Reply in
                queries.append(question.name)
                return replies[question.name] ?? .rcode(3)
            }
            let answer: [UInt8]
            switch reply {
            case .silence: continue
            case .rcode(let rcode): answer = DNSWire.response(to: question.bytes, rcode: rcode, records: [])
            case .txt(let records): answer = DNSWire.response(to: question.bytes, records: records.map { (16, DNSWire.txt($0)) })
            case .raw(let build): answer = build(question.bytes)
            }
            _ = withUnsafePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(socketDescriptor, answer, answer.count, 0, $0, peerLength) }
            }
        }
        close(socketDescriptor)
    }
}
