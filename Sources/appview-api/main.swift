import API
import Foundation
import Logging

// appview-api: the read API as a FastCGI server behind nginx. Configuration comes from the
// environment (docs/CONTRACTS.md); exit 2 = invalid configuration, 1 = cannot start, 0 = clean stop.

// Before any thread exists, so every thread inherits the mask and only `wait()` sees them.
let terminationSignals = TerminationSignals()
terminationSignals.block()

let arguments = CommandLine.arguments.dropFirst()
if arguments.contains("--help") || arguments.contains("-h") {
    print(APIConfiguration.usage)
    exit(0)
}
if let unknown = arguments.first {
    FileHandle.standardError.write(Data("appview-api: unknown argument \(unknown) (configuration comes from the environment; see --help)\n".utf8))
    exit(2)
}

APIServer.bootstrapLogging()
let configuration: APIConfiguration
do {
    configuration = try APIConfiguration.fromEnvironment()
} catch {
    FileHandle.standardError.write(Data("appview-api: invalid configuration: \(error)\n".utf8))
    exit(2)
}
// Service auth when SERVICE_DID is set (validated above), otherwise every token is refused.
APIServer.run(name: "appview-api", configuration: configuration, signals: terminationSignals, logger: Logger(label: "appview.api"))
