/// Turns the FastCGI parameters nginx sends (CGI/1.1 meta-variables) into an `HTTPRequest`.
/// Pure and separate from the socket code so it is testable without a server.
enum FastCGIRequestMapping {
    /// Builds the request from already-copied parameters (libfcgi frees its strings at the next accept).
    static func request(params: [String: String], body: [UInt8]) -> HTTPRequest {
        HTTPRequest(
            method: params["REQUEST_METHOD"].map { $0.uppercased() } ?? "GET",
            path: path(params),
            query: params["QUERY_STRING"] ?? "",
            headers: headers(params),
            body: body,
            remoteAddress: params["REMOTE_ADDR"] ?? "")
    }

    /// DOCUMENT_URI (nginx, already without the query), else SCRIPT_NAME + PATH_INFO, else REQUEST_URI
    /// without its query string.
    static func path(_ params: [String: String]) -> String {
        if let documentURI = params["DOCUMENT_URI"], !documentURI.isEmpty { return documentURI }
        let scriptName = params["SCRIPT_NAME"] ?? ""
        let pathInfo = params["PATH_INFO"] ?? ""
        if !scriptName.isEmpty || !pathInfo.isEmpty { return scriptName + pathInfo }
        if let requestURI = params["REQUEST_URI"], !requestURI.isEmpty {
            return String(requestURI.prefix { $0 != "?" })
        }
        return "/"
    }

    /// `HTTP_X_FOO` → `x-foo`; CONTENT_TYPE and CONTENT_LENGTH are not `HTTP_`-prefixed in CGI.
    static func headers(_ params: [String: String]) -> [String: String] {
        var headers: [String: String] = [:]
        for (name, value) in params where name.hasPrefix("HTTP_") {
            headers[headerName(fromParam: name)] = value
        }
        if let contentType = params["CONTENT_TYPE"], !contentType.isEmpty { headers["content-type"] = contentType }
        if let contentLength = params["CONTENT_LENGTH"], !contentLength.isEmpty { headers["content-length"] = contentLength }
        return headers
    }

    static func headerName(fromParam name: String) -> String {
        String(name.dropFirst("HTTP_".count).lowercased().map { $0 == "_" ? "-" : $0 })
    }

    /// The declared body length: nil when absent or unparsable (then the body is read until EOF).
    static func contentLength(_ params: [String: String]) -> Int? {
        guard let text = params["CONTENT_LENGTH"], !text.isEmpty, let length = Int(text), length >= 0 else { return nil }
        return length
    }
}
