import CCurl
#if canImport(Glibc)
import Glibc
#endif

/// `HTTPFetcher` on libcurl's easy interface: one handle per request (DID fetches are rare thanks to
/// the cache), no redirects, http/https only, no signals (safe on many threads). With
/// `.publicOnly` destinations every address curl is about to connect to is checked first
/// (`CURLOPT_OPENSOCKETFUNCTION`): a non-public one gets no socket, so nothing is ever sent to it,
/// and a host that has only such addresses fails with `.refusedAddress`.
public struct CurlFetcher: HTTPFetcher {
    /// `curl_global_init` is not thread-safe: run it exactly once, before the first handle.
    private static let globalInit: Void = { _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    public let userAgent: String

    public init(userAgent: String = "appview-identity/1") {
        self.userAgent = userAgent
        _ = Self.globalInit
    }

    /// Collects the body; refuses to grow past `limit`. Also the context of the socket check.
    private final class Sink {
        var body: [UInt8] = []
        let limit: Int
        var overflowed = false
        let publicOnly: Bool
        /// The first address the socket check refused.
        var refusedAddress: String?
        init(limit: Int, publicOnly: Bool) {
            self.limit = limit
            self.publicOnly = publicOnly
        }
    }

    public func get(_ url: String, timeoutMilliseconds: Int, maxBytes: Int) throws(FetchError) -> FetchResponse {
        try get(url, timeoutMilliseconds: timeoutMilliseconds, maxBytes: maxBytes, destinations: .any)
    }

    public func get(_ url: String, timeoutMilliseconds: Int, maxBytes: Int, destinations: FetchDestinations) throws(FetchError) -> FetchResponse {
        guard let handle = curl_easy_init() else { throw .network("curl_easy_init failed") }
        defer { curl_easy_cleanup(handle) }
        let sink = Sink(limit: maxBytes, publicOnly: destinations == .publicOnly)
        let context = Unmanaged.passUnretained(sink).toOpaque()
        let headers = curl_slist_append(nil, "Accept: application/did+ld+json, application/json")
        defer { curl_slist_free_all(headers) }

        _ = ccurl_setopt_string(handle, CURLOPT_URL, url)
        _ = ccurl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        _ = ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeoutMilliseconds)
        _ = ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, timeoutMilliseconds)
        _ = ccurl_setopt_long(handle, CURLOPT_MAXFILESIZE, maxBytes)
        _ = ccurl_setopt_string(handle, CURLOPT_USERAGENT, userAgent)
        _ = ccurl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, "")
        _ = ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)
        if sink.publicOnly {
            // Direct connections only: through a proxy the checked address would be the proxy's.
            _ = ccurl_setopt_string(handle, CURLOPT_NOPROXY, "*")
            _ = ccurl_setopt_pointer(handle, CURLOPT_OPENSOCKETDATA, context)
            _ = ccurl_setopt_opensocket_function(handle) { context, _, address in
                let sink = Unmanaged<Sink>.fromOpaque(context!).takeUnretainedValue()
                guard let address else { return CURL_SOCKET_BAD }
                if let refused = CurlFetcher.nonPublicAddress(address) {
                    if sink.refusedAddress == nil { sink.refusedAddress = refused }
                    return CURL_SOCKET_BAD // curl tries the host's next address, if any
                }
                return socket(address.pointee.family, address.pointee.socktype, address.pointee.protocol)
            }
        }
        _ = ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
        _ = ccurl_setopt_write_function(handle) { data, size, count, context in
            let sink = Unmanaged<Sink>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            guard sink.body.count + length <= sink.limit else {
                sink.overflowed = true
                return 0 // makes curl abort with CURLE_WRITE_ERROR
            }
            if let data, length > 0 {
                data.withMemoryRebound(to: UInt8.self, capacity: length) {
                    sink.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
                }
            }
            return length
        }

        let code = withExtendedLifetime(sink) { curl_easy_perform(handle) }
        if sink.overflowed || code == CURLE_FILESIZE_EXCEEDED { throw .tooLarge(limit: maxBytes) }
        if code != CURLE_OK, let refused = sink.refusedAddress { throw .refusedAddress(refused) }
        if code == CURLE_OPERATION_TIMEDOUT { throw .timeout }
        guard code == CURLE_OK else { throw .network(String(cString: curl_easy_strerror(code))) }
        var status = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return FetchResponse(status: status, body: sink.body)
    }

    /// The text of `address` when it is not a public internet address (or not IP at all); nil when public.
    /// curl allocates room for a whole `sockaddr_in6` behind `addr`, so reading one there is safe.
    static func nonPublicAddress(_ address: UnsafeMutablePointer<curl_sockaddr>) -> String? {
        let offset = MemoryLayout<curl_sockaddr>.offset(of: \curl_sockaddr.addr)!
        let raw = UnsafeRawPointer(address).advanced(by: offset)
        switch address.pointee.family {
        case AF_INET:
            var ipv4 = raw.loadUnaligned(as: sockaddr_in.self).sin_addr
            let bytes = withUnsafeBytes(of: &ipv4) { ($0[0], $0[1], $0[2], $0[3]) }
            return PublicAddress.isPublic(ipv4: bytes) ? nil : text(family: AF_INET, &ipv4)
        case AF_INET6:
            var ipv6 = raw.loadUnaligned(as: sockaddr_in6.self).sin6_addr
            let bytes = withUnsafeBytes(of: &ipv6) { Array($0) }
            return PublicAddress.isPublic(ipv6: bytes) ? nil : text(family: AF_INET6, &ipv6)
        default:
            return "an address of family \(address.pointee.family)"
        }
    }

    private static func text<Address>(family: Int32, _ address: inout Address) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family, &address, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
        return String(cString: buffer)
    }
}
