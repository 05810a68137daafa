import Foundation
import Testing
@testable import Identity

@Suite struct PublicAddressTests {
    static func v4(_ text: String) -> (UInt8, UInt8, UInt8, UInt8) {
        let parts = text.split(separator: ".").map { UInt8($0)! }
        return (parts[0], parts[1], parts[2], parts[3])
    }

    static func v6(_ text: String) -> [UInt8] {
        var address = in6_addr()
        precondition(inet_pton(AF_INET6, text, &address) == 1, text)
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    @Test func ipv4() {
        for address in ["127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
                        "0.0.0.0", "100.64.0.1", "192.0.2.5", "198.18.0.1", "203.0.113.9", "224.0.0.1", "255.255.255.255", "240.0.0.1"] {
            #expect(!PublicAddress.isPublic(ipv4: Self.v4(address)), "\(address)")
        }
        for address in ["8.8.8.8", "1.1.1.1", "172.15.0.1", "172.32.0.1", "100.128.0.1", "192.169.0.1", "169.255.0.1", "93.184.216.34"] {
            #expect(PublicAddress.isPublic(ipv4: Self.v4(address)), "\(address)")
        }
    }

    @Test func ipv6() {
        for address in ["::1", "::", "fc00::1", "fd12:3456::1", "fe80::1", "fec0::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
                        "::ffff:169.254.169.254", "64:ff9b::a00:1", "64:ff9b:1::1", "2001:db8::1", "2001::1", "2002:7f00:1::1", "100::1", "::127.0.0.1"] {
            #expect(!PublicAddress.isPublic(ipv6: Self.v6(address)), "\(address)")
        }
        for address in ["2606:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"] {
            #expect(PublicAddress.isPublic(ipv6: Self.v6(address)), "\(address)")
        }
    }
}

@Suite struct CurlFetcherDestinationTests {
    @Test func loopbackIsRefusedForDataDerivedURLsAndNothingIsSent() throws {
        let server = try LoopbackServer(body: Array("did:plc:x".utf8))
        defer { server.stop() }
        for url in ["http://127.0.0.1:\(server.port)/x", "http://localhost:\(server.port)/x", "http://[::1]:\(server.port)/x",
                    "http://h.localhost:\(server.port)/x", "http://2130706433:\(server.port)/x"] {
            #expect(throws: FetchError.self, "\(url)") {
                try CurlFetcher().get(url, timeoutMilliseconds: 2000, maxBytes: 1000, destinations: .publicOnly)
            }
            do {
                _ = try CurlFetcher().get(url, timeoutMilliseconds: 2000, maxBytes: 1000, destinations: .publicOnly)
            } catch {
                guard case .refusedAddress(let address) = error else {
                    Issue.record("\(url): \(error) is not a refusal")
                    continue
                }
                #expect(address == "127.0.0.1" || address == "::1", "\(url): \(address)")
                #expect(error.description.contains("FETCH_ALLOW_PRIVATE_ADDRESSES"))
            }
        }
        Thread.sleep(forTimeInterval: 0.1)
        #expect(server.receivedRequests.isEmpty, "a refused fetch reached the server")
        // The same URL, operator-configured or allowed: fetched.
        let response = try CurlFetcher().get("http://127.0.0.1:\(server.port)/x", timeoutMilliseconds: 2000, maxBytes: 1000,
                                             destinations: .any)
        #expect(response.status == 200)
        #expect(server.receivedRequests.count == 1)
    }

    @Test func theKnobParses() throws {
        #expect(try FetchDestinations.allowPrivateAddresses([:]) == false)
        #expect(try FetchDestinations.allowPrivateAddresses(["FETCH_ALLOW_PRIVATE_ADDRESSES": "1"]) == true)
        #expect(try FetchDestinations.allowPrivateAddresses(["FETCH_ALLOW_PRIVATE_ADDRESSES": "0"]) == false)
        #expect(throws: (any Error).self) { try FetchDestinations.allowPrivateAddresses(["FETCH_ALLOW_PRIVATE_ADDRESSES": "yes please"]) }
    }
}

@Suite struct DIDWebDestinationTests {
    static func resolver(allowPrivate: Bool) -> DIDResolver {
        var configuration = DIDResolver.Configuration()
        configuration.allowPrivateAddresses = allowPrivate
        configuration.timeoutMilliseconds = 2000
        return DIDResolver(configuration: configuration, fetcher: CurlFetcher(), store: nil)
    }

    @Test func aDidWebOnLoopbackIsRefusedUnlessAllowed() throws {
        let key = try PrivateKey.generate(curve: .p256).publicKey
        let server = try LoopbackServer { port in Array(makeDIDDocument(did: "did:web:localhost%3A\(port)", handle: nil, key: key).utf8) }
        defer { server.stop() }
        let did = DID("did:web:localhost%3A\(server.port)")!
        let refusing = Self.resolver(allowPrivate: false)
        do {
            _ = try refusing.resolve(did)
            Issue.record("a did:web on loopback was resolved")
        } catch {
            #expect(error.isRefusedAddress, "\(error)")
            if case .invalidDocument = error {} else { Issue.record("\(error) should be invalidDocument (a 401 for a token, not a 503)") }
        }
        #expect(refusing.statistics.refusedAddresses == 1)
        Thread.sleep(forTimeInterval: 0.1)
        #expect(server.receivedRequests.isEmpty, "the refused did:web host was asked")

        let allowing = Self.resolver(allowPrivate: true)
        #expect(try allowing.resolve(did).signingKey == key)
        #expect(server.receivedRequests.count == 1)
    }

    @Test func thePLCDirectoryIsTheOperatorsChoiceAndAlwaysAllowed() throws {
        let resolver = Self.resolver(allowPrivate: false)
        #expect(resolver.destinations(for: DID("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa")!) == .any)
        #expect(resolver.destinations(for: DID("did:web:example.com")!) == .publicOnly)
    }
}
