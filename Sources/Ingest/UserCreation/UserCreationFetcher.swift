import Foundation
import Identity
import Logging

/// The network half of user creation for one DID: DID document (through the shared resolver, which
/// never holds a database connection while fetching), the handle checked back against the DID (DNS
/// TXT first, then HTTPS, as the reference resolver does), and the profile record from the PDS.
/// Blocking: runs on the user-creation worker threads (`prepare` on the dispatcher thread).
///
/// Hosts taken from data (the PDS endpoint and did:web host of a DID document, the handle) are
/// connected to only when they resolve to public addresses, unless `allowPrivateAddresses`.
public struct UserCreationFetcher: Sendable {
    /// `USER_CREATION_FETCH_TIMEOUT_MS`: limit of the handle check and of the profile GET.
    public var timeoutMilliseconds: Int
    /// `HANDLE_VERIFICATION_URL`: where a handle's DID is read over HTTP(S), `{handle}` replaced;
    /// the atproto HTTPS method by default.
    public var handleVerificationURL: String
    /// `FETCH_ALLOW_PRIVATE_ADDRESSES`.
    public var allowPrivateAddresses: Bool
    /// `_atproto.<handle>` TXT lookup (`HandleDNSResolver.lookUp`); nil: DNS is not asked.
    let dnsLookup: (@Sendable (String) -> HandleDNSResolver.Answer)?
    let resolver: DIDResolver
    let http: any HTTPFetcher
    let logger: Logger

    public static let defaultHandleVerificationURL = "https://{handle}/.well-known/atproto-did"

    public init(resolver: DIDResolver, http: any HTTPFetcher = CurlFetcher(), timeoutMilliseconds: Int = 5000,
                handleVerificationURL: String = Self.defaultHandleVerificationURL,
                dnsLookup: (@Sendable (String) -> HandleDNSResolver.Answer)? = nil, allowPrivateAddresses: Bool = false,
                logger: Logger = Logger(label: "appview.ingest.user-creation")) {
        self.resolver = resolver
        self.http = http
        self.timeoutMilliseconds = timeoutMilliseconds
        self.handleVerificationURL = handleVerificationURL
        self.dnsLookup = dnsLookup
        self.allowPrivateAddresses = allowPrivateAddresses
        self.logger = logger
    }

    /// The fetcher `appview-ingest run` uses: glibc's resolver for DNS, libcurl for HTTP(S).
    public init(resolver: DIDResolver, configuration: UserCreationConfiguration,
                handleVerificationURL: String = Self.defaultHandleVerificationURL) {
        let dnsLookup: (@Sendable (String) -> HandleDNSResolver.Answer)?
        switch configuration.handleDNS {
        case .off: dnsLookup = nil
        case .system:
            let dns = HandleDNSResolver(timeoutMilliseconds: configuration.fetchTimeoutMilliseconds)
            dnsLookup = { dns.lookUp(handle: $0) }
        case .server(let server):
            let dns = HandleDNSResolver(nameserver: server, timeoutMilliseconds: configuration.fetchTimeoutMilliseconds)
            dnsLookup = { dns.lookUp(handle: $0) }
        }
        self.init(resolver: resolver, timeoutMilliseconds: configuration.fetchTimeoutMilliseconds,
                  handleVerificationURL: handleVerificationURL, dnsLookup: dnsLookup,
                  allowPrivateAddresses: configuration.allowPrivateAddresses)
    }

    /// A batch is about to be fetched: reads the stored DID documents of all of it in one query.
    public func prepare(_ dids: [String]) {
        resolver.preload(dids.compactMap { Identity.DID($0) })
    }

    public func fetch(_ didText: String) -> UserCreationOutcome {
        guard let did = Identity.DID(didText) else {
            // Not resolvable by any method we know: nothing to wait for.
            return UserCreationOutcome(did: didText)
        }
        let document: DIDDocument
        var outcome = UserCreationOutcome(did: didText)
        do {
            let resolution = try resolver.resolveDeferringSave(did)
            document = resolution.document
            outcome.fetchedDocument = resolution.unsavedRow
        } catch {
            if error.isRefusedAddress { outcome.refusedAddresses += 1 }
            outcome.error = "DID document: \(error)"
            return outcome
        }
        if let handle = document.handle {
            let check = checkHandle(handle, did: didText, refused: &outcome.refusedAddresses)
            outcome.handleCheck = check
            if check == .verifiedByDNS || check == .verifiedByHTTPS { outcome.handle = handle }
        }
        guard let endpoint = document.pdsEndpoint else { return outcome }
        guard let pds = Self.usablePDSEndpoint(endpoint) else {
            // A malformed endpoint will not get better by retrying: settled without a profile.
            logger.notice("unusable PDS endpoint in DID document", metadata: ["did": "\(didText)", "endpoint": "\(endpoint)"])
            return outcome
        }
        switch fetchProfile(did: didText, pds: pds) {
        case .success(let profile): outcome.profile = profile
        case .failure(let error):
            if error.refusedAddress { outcome.refusedAddresses += 1 }
            outcome.error = "profile: \(error.message)"
        }
        return outcome
    }

    /// Whether `handle` names `did` (the bidirectional check). DNS first: its answer, when there is
    /// exactly one `did=` record, decides; without one, the HTTPS well-known decides. A handle
    /// left unverified does not fail the resolution.
    func checkHandle(_ handle: String, did: String, refused: inout Int) -> HandleCheck {
        guard Self.isPlausibleHandle(handle) else { return .unverified(reason: "not a valid handle") }
        var dnsReason = "DNS not asked"
        if let dnsLookup {
            switch dnsLookup(handle) {
            case .did(let found): return found == did ? .verifiedByDNS : .namesAnotherDID
            case .noAnswer(let reason): dnsReason = reason
            }
        }
        let url = handleVerificationURL.replacingOccurrences(of: "{handle}", with: handle)
        let response: FetchResponse
        do {
            response = try http.get(url, timeoutMilliseconds: timeoutMilliseconds, maxBytes: 2048, destinations: handleURLDestinations)
        } catch {
            if case .refusedAddress = error { refused += 1 }
            return .unverified(reason: "\(dnsReason); \(url): \(error)")
        }
        guard response.status == 200 else { return .unverified(reason: "\(dnsReason); \(url) answered HTTP \(response.status)") }
        let found = String(decoding: response.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return found == did ? .verifiedByHTTPS : .namesAnotherDID
    }

    /// The handle URL's host is data when `{handle}` is part of it (the default); a fixed host in
    /// `HANDLE_VERIFICATION_URL` is the operator's choice.
    var handleURLDestinations: FetchDestinations {
        let afterScheme = handleVerificationURL.range(of: "://").map { handleVerificationURL[$0.upperBound...] } ?? Substring(handleVerificationURL)
        let authority = afterScheme.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return authority.contains("{handle}") ? .forDataDerivedURLs(allowPrivateAddresses: allowPrivateAddresses) : .any
    }

    /// Letters, digits, `-` and `.` in at least two labels of 1–63 characters, no label starting or
    /// ending with `-`, a top-level label starting with a letter (so never an IP address), and not
    /// one of the top-level domains atproto disallows for handles: nothing that could change the
    /// URL's meaning or name a local host.
    static func isPlausibleHandle(_ handle: String) -> Bool {
        let bytes = handle.utf8
        guard bytes.count <= 253, bytes.allSatisfy({ $0 == 0x2d || $0 == 0x2e || (0x30...0x39).contains($0) || (0x61...0x7a).contains($0) })
        else { return false }
        let labels = handle.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ (1...63).contains($0.utf8.count) && !$0.hasPrefix("-") && !$0.hasSuffix("-") }),
              let top = labels.last, let first = top.utf8.first, (0x61...0x7a).contains(first) else { return false }
        return !disallowedTopLevelDomains.contains(String(top))
    }

    /// atproto's handle specification: these never resolve on the public internet.
    static let disallowedTopLevelDomains: Set<String> = ["alt", "arpa", "example", "internal", "invalid", "local", "localhost", "onion"]

    /// `serviceEndpoint` without a trailing `/`, when it is a bare `http(s)://host[:port]` URL:
    /// anything more (credentials, a query, a fragment, a path) could redirect the request.
    static func usablePDSEndpoint(_ endpoint: String) -> String? {
        guard let components = URLComponents(string: endpoint), let scheme = components.scheme?.lowercased(),
              scheme == "https" || scheme == "http", let host = components.host, !host.isEmpty,
              components.user == nil, components.password == nil, components.query == nil, components.fragment == nil,
              components.path.isEmpty || components.path == "/" else { return nil }
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    struct ProfileFetchError: Error {
        var message: String
        var refusedAddress = false
    }

    /// The profile record; `nil` when the account has none (RecordNotFound).
    func fetchProfile(did: String, pds: String) -> Result<FetchedProfile?, ProfileFetchError> {
        let repo = did.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: ":.-_"))) ?? did
        let url = "\(pds)/xrpc/com.atproto.repo.getRecord?repo=\(repo)&collection=app.bsky.actor.profile&rkey=self"
        let response: FetchResponse
        do {
            response = try http.get(url, timeoutMilliseconds: timeoutMilliseconds, maxBytes: 256 * 1024,
                                    destinations: .forDataDerivedURLs(allowPrivateAddresses: allowPrivateAddresses))
        } catch {
            var failure = ProfileFetchError(message: "\(url): \(error)")
            if case .refusedAddress = error { failure.refusedAddress = true }
            return .failure(failure)
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
