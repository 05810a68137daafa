import CCurl

/// `HTTPFetcher` on libcurl's easy interface: one handle per request (DID fetches are rare thanks to
/// the cache), no redirects, http/https only, no signals (safe on many threads).
public struct CurlFetcher: HTTPFetcher {
    /// `curl_global_init` is not thread-safe: run it exactly once, before the first handle.
    private static let globalInit: Void = { _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    public let userAgent: String

    public init(userAgent: String = "appview-identity/1") {
        self.userAgent = userAgent
        _ = Self.globalInit
    }

    /// Collects the body; refuses to grow past `limit`.
    private final class Sink {
        var body: [UInt8] = []
        let limit: Int
        var overflowed = false
        init(limit: Int) { self.limit = limit }
    }

    public func get(_ url: String, timeoutMilliseconds: Int, maxBytes: Int) throws(FetchError) -> FetchResponse {
        guard let handle = curl_easy_init() else { throw .network("curl_easy_init failed") }
        defer { curl_easy_cleanup(handle) }
        let sink = Sink(limit: maxBytes)
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
        if code == CURLE_OPERATION_TIMEDOUT { throw .timeout }
        guard code == CURLE_OK else { throw .network(String(cString: curl_easy_strerror(code))) }
        var status = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return FetchResponse(status: status, body: sink.body)
    }
}
