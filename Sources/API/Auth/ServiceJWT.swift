import Foundation
import Identity

/// A compact JWT split and decoded, before any claim or signature check. Parsing is strict: exactly
/// three unpadded base64url parts, a JSON object in the first two, 64 signature bytes are checked later.
struct ServiceJWT {
    var header: [String: Any]
    var payload: [String: Any]
    /// ASCII `header.payload`, what the signature covers.
    var signingInput: [UInt8]
    var signature: [UInt8]

    init(parsing token: Substring) throws(XRPCError) {
        let parts = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
            throw ServiceAuthError.invalid("malformed token: expected three base64url parts separated by dots")
        }
        guard let headerBytes = Base64URL.decode(parts[0]), let payloadBytes = Base64URL.decode(parts[1]),
              let signature = Base64URL.decode(parts[2]) else {
            throw ServiceAuthError.invalid("malformed token: a part is not unpadded base64url")
        }
        guard let header = Self.object(headerBytes) else { throw ServiceAuthError.invalid("malformed token: the header is not a JSON object") }
        guard let payload = Self.object(payloadBytes) else { throw ServiceAuthError.invalid("malformed token: the payload is not a JSON object") }
        self.header = header
        self.payload = payload
        self.signingInput = Array(token.utf8[parts[0].startIndex..<parts[1].endIndex])
        self.signature = signature
    }

    private static func object(_ bytes: [UInt8]) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }

    /// A string claim; nil when absent, an error when present with another type.
    func string(_ name: String, in object: [String: Any]) throws(XRPCError) -> String? {
        guard let value = object[name] else { return nil }
        guard let text = value as? String else { throw ServiceAuthError.invalid("malformed token: \(name) must be a string") }
        return text
    }

    /// A numeric claim in whole seconds; nil when absent.
    func seconds(_ name: String) throws(XRPCError) -> Int64? {
        guard let value = payload[name] else { return nil }
        guard let number = value as? NSNumber, number.doubleValue.isFinite, abs(number.doubleValue) < 1e15 else {
            throw ServiceAuthError.invalid("malformed token: \(name) must be a number of seconds")
        }
        return Int64(number.doubleValue.rounded(.down))
    }
}
