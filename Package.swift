// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "appview",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "JSON", targets: ["JSON"]),
        .library(name: "Storage", targets: ["Storage"]),
        .library(name: "API", targets: ["API"]),
        .library(name: "Ingest", targets: ["Ingest"]),
        .library(name: "Identity", targets: ["Identity"]),
        .library(name: "IPLD", targets: ["IPLD"]),
        .executable(name: "appview-api", targets: ["appview-api"]),
        .executable(name: "appview-ingest", targets: ["appview-ingest"]),
        .executable(name: "appview-bench", targets: ["appview-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket", from: "1.6.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // C libraries from Debian, found by pkg-config.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CFastCGI", pkgConfig: "fcgi", providers: [.apt(["libfcgi-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // The one hand-written JSON writer every module emits through.
        .target(name: "JSON"),
        // DAG-CBOR, CIDs, CAR v1 and the repository MST: strict, bounded decoding of relay bytes.
        // COpenSSL only for SHA-256 (block CID verification).
        .target(name: "IPLD", dependencies: ["COpenSSL"]),
        .target(
            name: "Storage",
            dependencies: [
                "CLibPQ",
                "JSON",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "Ingest",
            dependencies: [
                "Storage", "JSON", .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                // The relay firehose: DAG-CBOR frames and CAR blocks decoded into Jetstream events.
                "IPLD",
                // User creation resolves new actors' DID documents through the shared resolver.
                "Identity",
                // The live Jetstream source: a WebSocket client on NIO with inbound backpressure.
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // DIDs and keys: DID documents, resolution (PLC, did:web) with a shared cache, ES256K/ES256.
        .target(
            name: "Identity",
            dependencies: ["Storage", "JSON", "COpenSSL", "CCurl", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "API",
            dependencies: ["Storage", "JSON", "Identity", "CFastCGI", .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "appview-api",
            dependencies: ["API", "Identity", "Storage", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "appview-ingest",
            dependencies: ["Ingest", "Identity", "JSON", "Storage", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "appview-bench",
            dependencies: ["API", "JSON", "Storage", "Ingest", "IPLD", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log")]
        ),

        // Test support: throwaway databases on the local test cluster.
        .target(name: "TestSupport", dependencies: ["Storage"], path: "Tests/TestSupport"),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "IPLDTests", dependencies: ["IPLD"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "TestSupport"]),
        .testTarget(name: "IngestTests", dependencies: ["Ingest", "Identity", "JSON", "Storage", "TestSupport"]),
        .testTarget(name: "APITests", dependencies: ["API", "JSON", "Ingest", "Storage", "TestSupport"]),
        .testTarget(name: "IdentityTests", dependencies: ["Identity", "JSON", "Storage", "TestSupport"]),
        .testTarget(name: "ServiceAuthTests", dependencies: ["API", "Identity", "JSON"]),
        .testTarget(name: "OperationsTests", dependencies: ["API", "Storage", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
