import Foundation
@testable import Ingest
import Testing

@Suite("JSONL line reader")
struct JSONLineReaderTests {
    func lines(of text: String, chunkSize: Int) throws -> [String] {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ingest-reader-\(UUID().uuidString).jsonl")
        try Data(text.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let reader = JSONLineReader(handle: try FileHandle(forReadingFrom: url), chunkSize: chunkSize)
        var out: [String] = []
        while let line = try reader.nextLine() { out.append(String(decoding: line, as: UTF8.self)) }
        #expect(reader.lineNumber == out.count)
        return out
    }

    @Test("lines split across chunks, CRLF endings, empty lines and a last line without newline", arguments: [1, 3, 7, 64, 1 << 20])
    func boundaries(chunkSize: Int) throws {
        let text = "{\"a\":1}\r\n\n{\"b\":\"日本🌱\"}\n{\"c\":3}"
        #expect(try lines(of: text, chunkSize: chunkSize) == ["{\"a\":1}", "", "{\"b\":\"日本🌱\"}", "{\"c\":3}"])
    }

    @Test("an empty file has no lines; a lone newline has one empty line")
    func empty() throws {
        #expect(try lines(of: "", chunkSize: 4) == [])
        #expect(try lines(of: "\n", chunkSize: 4) == [""])
    }
}
