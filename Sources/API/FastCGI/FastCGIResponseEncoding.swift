/// The CGI response header block libfcgi sends ahead of the body: `Status:` plus the headers.
enum FastCGIResponseEncoding {
    /// `Status: N Reason\r\n`, the response's headers, `Content-Length`, blank line.
    /// A status outside 100...599 is a handler bug: it is answered as 500 rather than passed on.
    static func headerBlock(for response: HTTPResponse) -> [UInt8] {
        let status = (100...599).contains(response.status) ? response.status : 500
        var text = "Status: \(status) \(reasonPhrase(status))\r\n"
        var hasContentType = false
        for (name, value) in response.headers {
            let lowered = name.lowercased()
            // Content-Length is always ours (the body we actually write); Status cannot be overridden.
            if lowered == "content-length" || lowered == "status" { continue }
            if lowered == "content-type" { hasContentType = true }
            text += "\(sanitized(name)): \(sanitized(value))\r\n"
        }
        if !hasContentType { text += "Content-Type: application/json; charset=utf-8\r\n" }
        text += "Content-Length: \(response.body.count)\r\n\r\n"
        return Array(text.utf8)
    }

    /// Strips CR/LF so a header value can never split the header block.
    static func sanitized(_ text: String) -> String {
        guard text.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else { return text }
        return String(text.filter { $0 != "\r" && $0 != "\n" && $0 != "\r\n" })
    }

    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 413: return "Payload Too Large"
        case 415: return "Unsupported Media Type"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default:
            switch status / 100 {
            case 1: return "Informational"
            case 2: return "Success"
            case 3: return "Redirection"
            case 4: return "Client Error"
            default: return "Server Error"
            }
        }
    }
}
