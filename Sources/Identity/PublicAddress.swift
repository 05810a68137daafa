/// Whether an IP address belongs to the public internet. Addresses taken from data (a DID
/// document's PDS endpoint, a did:web host, a handle) must be public before we connect to them:
/// otherwise anyone could make the AppView request its own loopback services, the cloud metadata
/// endpoint (169.254.169.254) or the private network it sits in (SSRF).
public enum PublicAddress {
    /// IPv4 in network byte order as four bytes.
    public static func isPublic(ipv4 bytes: (UInt8, UInt8, UInt8, UInt8)) -> Bool {
        let (a, b, c, _) = bytes
        switch a {
        case 0, 10, 127: return false                      // "this network", private, loopback
        case 100 where (64...127).contains(b): return false // shared address space (carrier-grade NAT)
        case 169 where b == 254: return false              // link-local, cloud metadata
        case 172 where (16...31).contains(b): return false // private
        case 192 where b == 168: return false              // private
        case 192 where b == 0 && (c == 0 || c == 2): return false // IETF protocol assignments, TEST-NET-1
        case 192 where b == 88 && c == 99: return false    // 6to4 relay anycast (deprecated)
        case 198 where b == 18 || b == 19: return false    // benchmarking
        case 198 where b == 51 && c == 100: return false   // TEST-NET-2
        case 203 where b == 0 && c == 113: return false    // TEST-NET-3
        case 224...255: return false                       // multicast, reserved, broadcast
        default: return true
        }
    }

    /// IPv6 as sixteen bytes in network order. IPv4-mapped, NAT64 and 6to4 addresses are judged by
    /// the IPv4 address they carry.
    public static func isPublic(ipv6 bytes: [UInt8]) -> Bool {
        guard bytes.count == 16 else { return false }
        func v4(at offset: Int) -> (UInt8, UInt8, UInt8, UInt8) {
            (bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3])
        }
        let prefix80IsZero = bytes[0..<10].allSatisfy { $0 == 0 }
        if prefix80IsZero && bytes[10] == 0xff && bytes[11] == 0xff { return isPublic(ipv4: v4(at: 12)) } // ::ffff:a.b.c.d
        if prefix80IsZero && bytes[10] == 0 && bytes[11] == 0 { return false } // ::, ::1, IPv4-compatible (deprecated)
        // 64:ff9b::/96 (well-known NAT64 prefix) carries an IPv4 address; 64:ff9b:1::/48 is local use.
        if bytes[0] == 0x00 && bytes[1] == 0x64 && bytes[2] == 0xff && bytes[3] == 0x9b {
            if bytes[4...11].allSatisfy({ $0 == 0 }) { return isPublic(ipv4: v4(at: 12)) }
            return false
        }
        if bytes[0] == 0x01 && bytes[1] == 0x00 && bytes[2...7].allSatisfy({ $0 == 0 }) { return false } // 100::/64 discard
        if bytes[0] == 0x20 && bytes[1] == 0x01 {
            if bytes[2] == 0x0d && bytes[3] == 0xb8 { return false } // 2001:db8::/32 documentation
            if bytes[2] < 0x02 { return false }                    // 2001::/23 protocol assignments (Teredo, ORCHID, …)
        }
        if bytes[0] == 0x20 && bytes[1] == 0x02 { return isPublic(ipv4: v4(at: 2)) } // 6to4
        if bytes[0] & 0xfe == 0xfc { return false }                  // fc00::/7 unique local
        if bytes[0] == 0xfe && bytes[1] & 0xc0 == 0x80 { return false } // fe80::/10 link-local
        if bytes[0] == 0xfe && bytes[1] & 0xc0 == 0xc0 { return false } // fec0::/10 site-local (deprecated)
        if bytes[0] == 0xff { return false }                           // multicast
        return true
    }
}
