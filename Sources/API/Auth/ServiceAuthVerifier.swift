import Foundation
import Identity
import Logging

/// atproto service auth: the viewer is the `iss` of a JWT signed with the `#atproto` key of that
/// DID's document, addressed to this service (`aud`), unexpired, and — when it names one — for the
/// called method (`lxm`). Runs on the FastCGI worker thread of the request (resolution blocks).
public struct ServiceAuthVerifier: ViewerAuthenticator {
    /// Header `typ`s of other token kinds that must never be accepted as service auth.
    static let forbiddenTypes: Set<String> = ["at+jwt", "refresh+jwt", "dpop+jwt"]

    public let configuration: ServiceAuthConfiguration
    let keys: any SigningKeySource
    let audiences: Set<String>
    let logger: Logger
    let clock: @Sendable () -> Double

    public init(
        configuration: ServiceAuthConfiguration, keys: any SigningKeySource,
        logger: Logger = Logger(label: "appview.api.auth"),
        clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.configuration = configuration
        self.keys = keys
        self.audiences = configuration.audiences
        self.logger = logger
        self.clock = clock
    }

    public func authenticate(_ request: HTTPRequest, method nsid: String) -> Result<String?, XRPCError> {
        guard let header = request.headers["authorization"], !header.isEmpty else { return .success(nil) }
        do {
            return .success(try verify(authorization: header, method: nsid))
        } catch {
            // Debug only: rejected tokens are the client's problem and a flood of them must not flood the log.
            logger.debug("service auth refused", metadata: ["method": "\(nsid)", "error": "\(error.name)", "reason": "\(error.message)"])
            return .failure(error)
        }
    }

    /// The viewer DID of a valid `Authorization` header value.
    func verify(authorization: String, method nsid: String) throws(XRPCError) -> String {
        guard authorization.utf8.count <= configuration.maxTokenBytes + 7 else {
            throw ServiceAuthError.invalid("token too large (\(authorization.utf8.count) bytes, at most \(configuration.maxTokenBytes))")
        }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw ServiceAuthError.invalid("the Authorization header must be \"Bearer <token>\"")
        }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        let jwt = try ServiceJWT(parsing: Substring(token))

        // Header.
        guard let algorithm = try jwt.string("alg", in: jwt.header) else { throw ServiceAuthError.invalid("malformed token: no alg") }
        guard let curve = SigningCurve(jwtAlgorithm: algorithm) else {
            throw ServiceAuthError.invalid("unsupported token alg \(algorithm): expected ES256K or ES256")
        }
        if let type = try jwt.string("typ", in: jwt.header), Self.forbiddenTypes.contains(type.lowercased()) {
            throw ServiceAuthError.invalid("a token of typ \(type) is not a service auth token")
        }

        // Claims: expiry first, so an expired token is reported as such whatever else is wrong.
        guard let expiry = try jwt.seconds("exp") else { throw ServiceAuthError.invalid("malformed token: no exp") }
        let now = clock()
        if Double(expiry + Int64(configuration.clockSkewSeconds)) < now {
            throw ServiceAuthError.expired("token expired at \(expiry) (now \(Int64(now)))")
        }
        guard let issuer = try jwt.string("iss", in: jwt.payload), !issuer.isEmpty else {
            throw ServiceAuthError.invalid("malformed token: no iss")
        }
        let issuerDID = issuer.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        guard let did = DID(String(issuerDID[0])) else {
            throw ServiceAuthError.invalid("token iss \(issuer) is not a did:plc or did:web DID")
        }
        // `did#atproto_labeler` tokens are signed with the labeler key; any other form with the account key.
        let keyFragment = issuerDID.count == 2 && issuerDID[1] == "atproto_labeler" ? "atproto_label" : "atproto"
        guard let audience = try jwt.string("aud", in: jwt.payload) else { throw ServiceAuthError.invalid("malformed token: no aud") }
        guard audiences.contains(audience) else {
            throw ServiceAuthError.invalid("token aud \(audience) is not this service (\(configuration.serviceDID))")
        }
        if let lxm = try jwt.string("lxm", in: jwt.payload), lxm != nsid {
            throw ServiceAuthError.invalid("token lxm \(lxm) does not match the called method \(nsid)")
        }
        guard jwt.signature.count == 64 else {
            throw ServiceAuthError.invalid("malformed token: the signature must be 64 bytes r‖s, got \(jwt.signature.count)")
        }

        // Signature, with one forced re-resolution in case the key was rotated since we cached it.
        var outcome = try check(jwt, did: did, fragment: keyFragment, curve: curve, forceRefresh: false)
        if outcome == .invalid || outcome == .unusableKey || outcome == .noKey || outcome == .wrongCurve {
            outcome = try check(jwt, did: did, fragment: keyFragment, curve: curve, forceRefresh: true)
        }
        switch outcome {
        case .valid:
            return did.text
        case .highS:
            throw ServiceAuthError.badSignature("high-S signature: only the low-S form is accepted")
        case .malformed:
            throw ServiceAuthError.badSignature("malformed signature (r or s out of range)")
        case .noKey:
            throw ServiceAuthError.invalid("the DID document of \(did) has no usable #\(keyFragment) key")
        case .wrongCurve:
            throw ServiceAuthError.badSignature("token alg \(algorithm) does not match the \(did) signing key's curve")
        case .invalid, .unusableKey:
            throw ServiceAuthError.badSignature("the signature does not verify with the signing key of \(did)")
        }
    }

    private enum Outcome: Equatable {
        case valid, invalid, highS, malformed, unusableKey, noKey, wrongCurve
    }

    private func check(_ jwt: ServiceJWT, did: DID, fragment: String, curve: SigningCurve, forceRefresh: Bool) throws(XRPCError) -> Outcome {
        let document: DIDDocument
        do {
            document = try keys.document(for: did, forceRefresh: forceRefresh)
        } catch {
            switch error {
            case .notFound:
                throw ServiceAuthError.invalid("could not resolve the token issuer: \(error)")
            case .invalidDocument:
                throw ServiceAuthError.invalid("could not use the token issuer's DID document: \(error)")
            case .unavailable:
                logger.warning("service auth: DID resolution unavailable", metadata: ["did": "\(did)", "error": "\(error)"])
                throw ServiceAuthError.resolverUnavailable("could not resolve the token issuer right now, retry shortly (\(error))")
            }
        }
        guard let key = document.keys[fragment] else { return .noKey }
        guard key.curve == curve else { return .wrongCurve }
        switch key.verify(signature: jwt.signature, message: jwt.signingInput) {
        case .valid: return .valid
        case .invalid: return .invalid
        case .highS: return .highS
        case .malformed: return .malformed
        case .unusableKey: return .unusableKey
        }
    }
}
