import Foundation
import Identity

/// The network half of user creation for one DID: DID document (through the shared resolver, which
/// never holds a database connection while fetching), the handle checked back against the DID, and
/// the profile record from the PDS. Blocking: runs on the user-creation worker threads.
public struct UserCreationFetcher: Sendable {
    /// `USER_CREATION_FETCH_TIMEOUT_MS`: limit of the handle check and of the profile GET.
    public var timeoutMilliseconds: Int
    /// `HANDLE_VERIFICATION_URL`: where a handle's DID is read, `{handle}` replaced; the atproto
    /// HTTPS method by default. (DNS TXT `_atproto.<handle>` is not checked: handles proven only by
    /// DNS stay `handle.invalid` until the relay's identity event names them.)
    public var handleVerificationURL: String
    let resolver: DIDResolver
    let http: any HTTPFetcher

    public static let defaultHandleVerificationURL = "https://{handle}/.well-known/atproto-did"

    public init(resolver: DIDResolver, http: any HTTPFetcher = CurlFetcher(), timeoutMilliseconds: Int = 5000,
                handleVerificationURL: String = Self.defaultHandleVerificationURL) {
        self.resolver = resolver
        self.http = http
        self.timeoutMilliseconds = timeoutMilliseconds
        self.handleVerificationURL = handleVerificationURL
    }

    public func fetch(_ didText: String) -> UserCreationOutcome {
        guard let did = Identity.DID(didText) else {
            // Not resolvable by any method we know: nothing to wait for.
            return UserCreationOutcome(did: didText)
        }
        let document: DIDDocument
        do {
            document = try resolver.resolve(did)
        } catch {
            return UserCreationOutcome(did: didText, error: "DID document: \(error)")
        }
        var outcome = UserCreationOutcome(did: didText)
        if let handle = document.handle, verifies(handle: handle, did: didText) { outcome.handle = handle }
        guard let pds = document.pdsEndpoint else { return outcome }
        switch fetchProfile(did: didText, pds: pds) {
        case .success(let profile): outcome.profile = profile
        case .failure(let error): outcome.error = "profile: \(error.message)"
        }
        return outcome
    }

    /// Whether `handle` names `did` (the bidirectional check). Any other answer, or none, leaves the
    /// handle unverified rather than failing the resolution.
    func verifies(handle: String, did: String) -> Bool {
        guard Self.isPlausibleHandle(handle) else { return false }
        let url = handleVerificationURL.replacingOccurrences(of: "{handle}", with: handle)
        guard let response = try? http.get(url, timeoutMilliseconds: timeoutMilliseconds, maxBytes: 2048),
              response.status == 200 else { return false }
        return String(decoding: response.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == did
    }

    /// Letters, digits, `-` and `.`, at least two labels: nothing that could change the URL's meaning.
    static func isPlausibleHandle(_ handle: String) -> Bool {
        let bytes = handle.utf8
        guard bytes.count <= 253, handle.contains("."), !handle.hasPrefix("."), !handle.hasSuffix(".") else { return false }
        return bytes.allSatisfy { $0 == 0x2d || $0 == 0x2e || (0x30...0x39).contains($0) || (0x61...0x7a).contains($0) }
    }

    struct ProfileFetchError: Error { var message: String }

    /// The profile record; `nil` when the account has none (RecordNotFound).
    func fetchProfile(did: String, pds: String) -> Result<FetchedProfile?, ProfileFetchError> {
        var base = pds
        while base.hasSuffix("/") { base.removeLast() }
        let repo = did.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: ":.-_"))) ?? did
        let url = "\(base)/xrpc/com.atproto.repo.getRecord?repo=\(repo)&collection=app.bsky.actor.profile&rkey=self"
        let response: FetchResponse
        do {
            response = try http.get(url, timeoutMilliseconds: timeoutMilliseconds, maxBytes: 256 * 1024)
        } catch {
            return .failure(ProfileFetchError(message: "\(url): \(error)"))
        }
        // A missing record is an answer: 400 RecordNotFound (the XRPC convention) or 404.
        if response.status == 400 || response.status == 404 { return .success(nil) }
        guard response.status == 200 else { return .failure(ProfileFetchError(message: "\(url) answered HTTP \(response.status)")) }
        return Self.decodeProfile(response.body).mapError { ProfileFetchError(message: "\(url): \($0.message)") }
    }

    /// `{"uri", "cid", "value"}` of getRecord → the profile; the record text is kept as received.
    static func decodeProfile(_ body: [UInt8]) -> Result<FetchedProfile?, ProfileFetchError> {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let cid = object["cid"] as? String, let value = object["value"] as? [String: Any] else {
            return .failure(ProfileFetchError(message: "not a getRecord answer"))
        }
        let raw = body.withUnsafeBufferPointer { RawJSONValue.text(in: $0, path: ["value"]) }
        do {
            guard case .profile(let record) = try RecordDecoder.decode(value, collection: .profile, rawJSON: { raw }) else {
                return .failure(ProfileFetchError(message: "not a profile record"))
            }
            return .success(FetchedProfile(cid: cid, record: record))
        } catch {
            return .failure(ProfileFetchError(message: "invalid profile record: \(error)"))
        }
    }
}
