import Foundation
import Identity
@testable import Ingest
import IPLD
import Testing

/// Commit signatures of the real corpus against the authors' DID documents (did_docs.json.zst).
@Suite("relay commit signatures")
struct RelaySignatureDecodingTests {
    static func documents() throws -> [String: DIDDocument] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["zstd", "-dc", RelayCorpus.directory.appendingPathComponent("did_docs.json.zst").path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var documents: [String: DIDDocument] = [:]
        for (did, document) in object {
            let json = try JSONSerialization.data(withJSONObject: document)
            documents[did] = try DIDDocument(did: did, json: [UInt8](json))
        }
        return documents
    }

    @Test("all 148 corpus commits verify with their author's #atproto key; tampering or another key fails")
    func corpusSignatures() throws {
        let documents = try Self.documents()
        #expect(documents.count == 148)
        var valid = 0
        var failures: [String] = []
        var signatures: [RelayCommitSignature] = []
        for frame in RelayCorpus.frames {
            guard let signed = try RelayCommitSignature.extract(from: frame) else { continue }
            signatures.append(signed)
            guard let key = documents[signed.did]?.signingKey else {
                failures.append("\(signed.did): no key")
                continue
            }
            let outcome = signed.verify(with: key)
            if outcome == .valid { valid += 1 } else { failures.append("\(signed.did): \(outcome)") }
        }
        #expect(valid == 148, "\(failures)")
        #expect(failures.isEmpty)

        var tampered = try #require(signatures.first)
        let key = try #require(documents[tampered.did]?.signingKey)
        tampered.unsignedBytes[tampered.unsignedBytes.count - 1] ^= 0x01
        #expect(tampered.verify(with: key) == .invalid)
        let other = try #require(signatures.last)
        #expect(other.did != signatures[0].did)
        #expect(signatures[0].verify(with: try #require(documents[other.did]?.signingKey)) != .valid)
    }

    @Test("identity, account and tooBig frames have no signed commit")
    func nonCommits() throws {
        let frames = RelayCorpus.frames
        try #require(frames.count == 150)
        #expect(try RelayCommitSignature.extract(from: frames[148]) == nil)
        #expect(try RelayCommitSignature.extract(from: frames[149]) == nil)
        let tooBig = RelayTestFrames.commit(ops: [], tooBig: true)
        #expect(try RelayCommitSignature.extract(from: tooBig) == nil)
    }
}
