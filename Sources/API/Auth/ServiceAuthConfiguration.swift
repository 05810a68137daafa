import Foundation
import Identity
import Storage

/// Service-auth settings of `appview-api` (environment variables in `APIConfiguration.usage`).
public struct ServiceAuthConfiguration: Sendable {
    /// `SERVICE_DID`: the `aud` tokens must carry.
    public var serviceDID: String
    /// `SERVICE_DID_ALTERNATES`: further accepted `aud` values (e.g. a former DID).
    public var alternateDIDs: [String]
    /// `AUTH_CLOCK_SKEW_S`: how long after `exp` a token is still accepted.
    public var clockSkewSeconds: Int
    /// Tokens longer than this are refused before any parsing (real ones are ~600 bytes).
    public var maxTokenBytes: Int
    /// `PLC_URL`, `DID_CACHE_TTL_S`, `DID_CACHE_SIZE`, `DID_RESOLVE_TIMEOUT_MS`.
    public var resolver: DIDResolver.Configuration

    public static let defaultClockSkewSeconds = 10
    public static let defaultMaxTokenBytes = 4096
    public static let defaultCacheTTLSeconds = 3600
    public static let defaultCacheSize = 10_000
    public static let defaultResolveTimeoutMilliseconds = 3000

    public init(serviceDID: String, alternateDIDs: [String] = [], clockSkewSeconds: Int = defaultClockSkewSeconds,
                maxTokenBytes: Int = defaultMaxTokenBytes, resolver: DIDResolver.Configuration = DIDResolver.Configuration()) {
        self.serviceDID = serviceDID
        self.alternateDIDs = alternateDIDs
        self.clockSkewSeconds = clockSkewSeconds
        self.maxTokenBytes = maxTokenBytes
        self.resolver = resolver
    }

    /// The accepted audiences.
    public var audiences: Set<String> { Set([serviceDID] + alternateDIDs) }

    /// nil when `SERVICE_DID` is unset (then every token is refused); throws `ConfigurationError`
    /// naming the variable when a value is invalid.
    public static func fromEnvironment(_ environment: [String: String]) throws -> ServiceAuthConfiguration? {
        var resolver = DIDResolver.Configuration()
        if let plc = environment["PLC_URL"], !plc.isEmpty {
            guard plc.hasPrefix("https://") || plc.hasPrefix("http://"), plc.count > 8, !plc.contains(" ") else {
                throw ConfigurationError("PLC_URL=\(plc) is invalid: expected an http(s) URL such as https://plc.directory")
            }
            resolver.plcURL = plc
        }
        resolver.cacheTTLSeconds = Double(try environment.positiveInt("DID_CACHE_TTL_S", default: defaultCacheTTLSeconds, max: 7 * 86_400))
        resolver.cacheSize = try environment.positiveInt("DID_CACHE_SIZE", default: defaultCacheSize, max: 10_000_000)
        resolver.timeoutMilliseconds = try environment.positiveInt("DID_RESOLVE_TIMEOUT_MS", default: defaultResolveTimeoutMilliseconds, max: 60_000)
        // A token's did:web host is the caller's choice: never a private address unless allowed (tests, local stacks).
        resolver.allowPrivateAddresses = try FetchDestinations.allowPrivateAddresses(environment)
        var skew = defaultClockSkewSeconds
        if let raw = environment["AUTH_CLOCK_SKEW_S"], !raw.isEmpty {
            guard let value = Int(raw), (0...300).contains(value) else {
                throw ConfigurationError("AUTH_CLOCK_SKEW_S=\(raw) is invalid: expected an integer between 0 and 300")
            }
            skew = value
        }

        guard let serviceDID = environment["SERVICE_DID"], !serviceDID.isEmpty else { return nil }
        guard isDIDSyntax(serviceDID) else {
            throw ConfigurationError("SERVICE_DID=\(serviceDID) is invalid: expected a DID such as did:web:appview.example.com")
        }
        let alternates = (environment["SERVICE_DID_ALTERNATES"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        // An alternate may carry a service fragment (`did:web:api.example.com#bsky_appview`) for
        // clients that put the service id into `aud`; SERVICE_DID itself is the bare DID.
        for alternate in alternates {
            let parts = alternate.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
            let fragmentIsValid = parts.count == 1 || parts[1].range(of: #"^[a-zA-Z0-9._-]+$"#, options: .regularExpression) != nil
            guard isDIDSyntax(String(parts[0])), fragmentIsValid else {
                throw ConfigurationError("SERVICE_DID_ALTERNATES contains \(alternate), which is not a DID (optionally with #fragment)")
            }
        }
        return ServiceAuthConfiguration(serviceDID: serviceDID, alternateDIDs: alternates, clockSkewSeconds: skew, resolver: resolver)
    }

    /// `did:<method>:<id>` per the DID syntax (service DIDs may use any method; a fragment is not allowed).
    static func isDIDSyntax(_ text: String) -> Bool {
        text.range(of: #"^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$"#, options: .regularExpression) != nil && text.count <= 2048
    }
}
