import Foundation
@testable import JSON
import Testing

@Suite struct TimestampTests {
    @Test func formatsEpochMillisecondsWithMillisAndZ() {
        #expect(Timestamp.iso8601(epochMilliseconds: 1_783_176_288_999) == "2026-07-04T14:44:48.999Z")
        #expect(Timestamp.iso8601(epochMilliseconds: 951_782_400_000) == "2000-02-29T00:00:00.000Z")
        #expect(Timestamp.iso8601(epochMilliseconds: -1) == "1969-12-31T23:59:59.999Z")
    }

    @Test func formatMatchesFoundationOverManyInstants() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var ms: Int64 = 0
        while ms < 4_102_444_800_000 {  // to 2100
            let expected = formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
            #expect(Timestamp.iso8601(epochMilliseconds: ms) == expected)
            #expect(Timestamp.parseISO8601(expected) == ms)
            ms += 86_399_123_457
        }
    }

    @Test func parsesOffsetsFractionsAndRejectsGarbage() {
        #expect(Timestamp.parseISO8601("2026-07-04T14:38:08Z") == 1_783_175_888_000)
        #expect(Timestamp.parseISO8601("2026-07-04T16:38:08.123456+02:00") == 1_783_175_888_123)
        #expect(Timestamp.parseISO8601("2026-07-04T14:38:08.1Z") == 1_783_175_888_100)
        for bad in ["", "2026-07-04", "2026-02-30T00:00:00Z", "2026-07-04T24:00:00Z", "2026-07-04T14:38:08",
                    "2026-07-04T14:38:08.Z", "yesterday", "2026-07-04T14:38:08Zjunk"] {
            #expect(Timestamp.parseISO8601(bad) == nil, "\(bad)")
        }
    }
}
