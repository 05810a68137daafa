import CResolv
#if canImport(Glibc)
import Glibc
#endif

/// Handle resolution by DNS (atproto): the TXT record `did=<did>` at `_atproto.<handle>`, through
/// glibc's stub resolver (`res_nquery`, then `ns_initparse`/`ns_parserr` to read the answer).
/// Blocking, bounded in time (whole seconds: glibc's unit) and in answer size: call it from
/// dedicated worker threads, never from Swift's cooperative pool.
public struct HandleDNSResolver: Sendable {
    /// What DNS says about a handle.
    public enum Answer: Sendable, Equatable {
        /// Exactly one `did=` TXT record: the DID it names (not necessarily a well-formed one).
        case did(String)
        /// Nothing usable (NXDOMAIN, no TXT, none or several `did=` records, timeout, malformed
        /// answer): the other resolution method decides.
        case noAnswer(reason: String)
    }

    /// The nameserver to ask; nil: those of /etc/resolv.conf.
    public var nameserver: DNSNameserver?
    /// Limit of one lookup, rounded up to whole seconds (one attempt per nameserver).
    public var timeoutMilliseconds: Int

    /// Larger answers are cut here (an atproto TXT answer is well under 512 bytes).
    public static let maxAnswerBytes = 4096

    public init(nameserver: DNSNameserver? = nil, timeoutMilliseconds: Int = 5000) {
        self.nameserver = nameserver
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// Looks up `_atproto.<handle>`. `handle` must already be a syntactically valid handle.
    public func lookUp(handle: String) -> Answer {
        let name = "_atproto." + handle
        let seconds = Int32(min(60, max(1, (timeoutMilliseconds + 999) / 1000)))
        var answer = [UInt8](repeating: 0, count: Self.maxAnswerBytes)
        var hostError: Int32 = 0
        let length = answer.withUnsafeMutableBufferPointer { buffer -> Int32 in
            if var server = nameserver?.socketAddress {
                return cresolv_query_txt(name, &server, seconds, buffer.baseAddress, Int32(buffer.count), &hostError)
            }
            return cresolv_query_txt(name, nil, seconds, buffer.baseAddress, Int32(buffer.count), &hostError)
        }
        guard length > 0 else { return .noAnswer(reason: Self.describe(hostError: hostError)) }
        return Self.didRecord(inAnswer: Array(answer.prefix(Int(length))))
    }

    /// The one `did=` TXT record of a DNS answer message (what the reference resolver accepts:
    /// each record's strings joined, exactly one record starting with `did=`).
    public static func didRecord(inAnswer message: [UInt8]) -> Answer {
        message.withUnsafeBufferPointer { buffer -> Answer in
            guard let base = buffer.baseAddress, buffer.count > 0 else { return .noAnswer(reason: "empty DNS answer") }
            var parsed = ns_msg()
            guard ns_initparse(base, Int32(buffer.count), &parsed) == 0 else { return .noAnswer(reason: "malformed DNS answer") }
            var dids: [String] = []
            for index in 0..<cresolv_answer_count(&parsed) {
                var record = ns_rr()
                guard ns_parserr(&parsed, ns_s_an, index, &record) == 0 else { return .noAnswer(reason: "malformed DNS record") }
                guard UInt32(record.type) == ns_t_txt.rawValue, UInt32(record.rr_class) == ns_c_in.rawValue,
                      let rdata = record.rdata else { continue }
                // ns_parserr checked that rdlength bytes lie inside the message.
                guard let text = joinedStrings(UnsafeBufferPointer(start: rdata, count: Int(record.rdlength))) else { continue }
                if text.hasPrefix("did=") { dids.append(String(text.dropFirst(4))) }
            }
            guard dids.count == 1 else {
                return .noAnswer(reason: dids.isEmpty ? "no did= TXT record" : "\(dids.count) did= TXT records")
            }
            return .did(dids[0])
        }
    }

    /// A TXT record's character-strings (each a length byte and that many bytes) joined; nil when
    /// a length runs past the record.
    static func joinedStrings(_ rdata: UnsafeBufferPointer<UInt8>) -> String? {
        var bytes: [UInt8] = []
        var offset = 0
        while offset < rdata.count {
            let length = Int(rdata[offset])
            guard offset + 1 + length <= rdata.count else { return nil }
            bytes.append(contentsOf: rdata[(offset + 1)..<(offset + 1 + length)])
            offset += 1 + length
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func describe(hostError: Int32) -> String {
        switch hostError {
        case HOST_NOT_FOUND: return "NXDOMAIN"
        case NO_DATA: return "no TXT record"
        case TRY_AGAIN: return "DNS timeout or server failure"
        case NO_RECOVERY: return "DNS query refused or malformed"
        default: return "DNS resolver error \(hostError)"
        }
    }
}

/// An IPv4 nameserver and port (`HANDLE_DNS_SERVER`), e.g. `127.0.0.1:5353`; port 53 when omitted.
public struct DNSNameserver: Sendable, Equatable, CustomStringConvertible {
    public var address: String
    public var port: UInt16

    /// Nil unless `text` is `a.b.c.d` or `a.b.c.d:port`.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2 else { return nil }
        var probe = in_addr()
        guard inet_pton(AF_INET, String(parts[0]), &probe) == 1 else { return nil }
        address = String(parts[0])
        if parts.count == 2 {
            guard let port = UInt16(parts[1]), port > 0 else { return nil }
            self.port = port
        } else {
            port = 53
        }
    }

    public var description: String { "\(address):\(port)" }

    var socketAddress: sockaddr_in {
        var socketAddress = sockaddr_in()
        socketAddress.sin_family = sa_family_t(AF_INET)
        socketAddress.sin_port = port.bigEndian
        _ = inet_pton(AF_INET, address, &socketAddress.sin_addr)
        return socketAddress
    }
}
