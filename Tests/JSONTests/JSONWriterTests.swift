import Foundation
@testable import JSON
import Testing

@Suite struct JSONWriterTests {
    func decode(_ bytes: [UInt8]) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    }

    @Test func escapesQuotesBackslashesAndEveryControlCharacter() throws {
        var text = "q\"b\\s/"
        for scalar in 0..<0x20 { text.unicodeScalars.append(Unicode.Scalar(UInt8(scalar))) }
        text += "\u{7F}é😀"
        var writer = JSONWriter()
        writer.string(text)
        let encoded = String(decoding: writer.bytes, as: UTF8.self)
        #expect(encoded.contains("\\u0000") && encoded.contains("\\u001f") && encoded.contains("\\n") && encoded.contains("\\\""))
        #expect(try decode(writer.bytes) as? String == text)
    }

    @Test func invalidUTF8BecomesReplacementCharacters() throws {
        let inputs: [[UInt8]] = [
            [0x61, 0xFF, 0x62],                 // invalid byte
            [0x61, 0xC3],                       // truncated 2-byte sequence
            [0xED, 0xA0, 0x80],                 // UTF-16 surrogate
            [0xC0, 0xAF],                       // overlong '/'
            [0xF4, 0x90, 0x80, 0x80],           // beyond U+10FFFF
        ]
        for input in inputs {
            var writer = JSONWriter()
            input.withUnsafeBufferPointer { writer.string(utf8: $0) }
            let decoded = try decode(writer.bytes) as? String
            #expect(decoded?.contains("\u{FFFD}") == true, "input \(input)")
            #expect(String(validating: writer.bytes, as: UTF8.self) != nil)
        }
    }

    @Test func objectsArraysAndSplicedJSON() throws {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("a", 1)
        writer.key("list")
        writer.beginArray()
        writer.int(-42)
        writer.bool(true)
        writer.null()
        writer.beginObject()
        writer.endObject()
        writer.rawJSON(Array(#"{"x": [1, 2]}"#.utf8))
        writer.endArray()
        writer.optionalField("absent", nil)
        writer.key("t")
        writer.datetime(epochMilliseconds: 0)
        writer.endObject()
        #expect(String(decoding: writer.bytes, as: UTF8.self)
            == #"{"a":1,"list":[-42,true,null,{},{"x": [1, 2]}],"t":"1970-01-01T00:00:00.000Z"}"#)
        #expect(try decode(writer.bytes) is [String: Any])
    }

    /// The health report's shape: keys always present with `null` when unknown, escaped text,
    /// numbers with at most the asked decimals.
    @Test func nullableFieldsEscapingAndFixedDecimals() {
        var json = JSONWriter()
        json.beginObject()
        json.field("text", "quote \" backslash \\ newline \n bell \u{07}")
        json.nullableField("none", nil as String?)
        json.key("nested")
        json.beginObject()
        json.field("n", 3)
        json.field("x", 2.50, fractionDigits: 3)
        json.field("nan", Double.nan, fractionDigits: 3)
        json.endObject()
        json.field("flag", true)
        json.endObject()
        #expect(json.text == #"{"text":"quote \" backslash \\ newline \n bell \u0007","none":null,"nested":{"n":3,"x":2.5,"nan":null},"flag":true}"#)
    }

    /// The pool monitor's numbers: three decimals, whole values without a fraction, millisecond
    /// datetimes — and run-time keys escaped like strings.
    @Test func numbersDatetimesAndDynamicKeys() throws {
        var json = JSONWriter()
        json.beginArray()
        json.string("a\"b\\c\n\u{01}é")
        json.number(12.34567, fractionDigits: 3)
        json.number(3, fractionDigits: 3)
        json.datetime(epochMilliseconds: Int64((1_783_166_400.1235 * 1000).rounded(.down)))
        json.number(0.042, fractionDigits: 3)
        json.number(-0.0001, fractionDigits: 3)
        json.number(-7.25, fractionDigits: 2)
        json.number(75.955, fractionDigits: 2)  // stored as 75.95499…: rounds down, as printf does
        json.number(.infinity, fractionDigits: 3)
        json.beginObject()
        json.dynamicKey("$ty\"pe")
        json.int(1)
        json.dynamicKey("b")
        json.bool(false)
        json.endObject()
        json.endArray()
        let parsed = try #require(JSONSerialization.jsonObject(with: Data(json.bytes)) as? [Any])
        #expect(parsed[0] as? String == "a\"b\\c\n\u{01}é")
        #expect(json.text.contains(",12.346,3,"))
        #expect(parsed[3] as? String == "2026-07-04T12:00:00.123Z")
        #expect(json.text.hasSuffix(#",0.042,0,-7.25,75.95,null,{"$ty\"pe":1,"b":false}]"#))
    }
}
