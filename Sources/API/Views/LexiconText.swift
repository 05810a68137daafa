/// Text limits the response lexicons put on strings this AppView copies from records. Records are
/// indexed as the firehose carries them, and a record over its own lexicon's limits (which a PDS
/// should have refused) must not make a response invalid, so views clamp such text.
enum LexiconText {
    /// `app.bsky.actor.defs` profile views: `displayName` (maxGraphemes 64, maxLength 640).
    static func displayName(_ text: String) -> String { clamped(text, maxGraphemes: 64, maxBytes: 640) }

    /// `app.bsky.actor.defs#profileView(Detailed).description` (maxGraphemes 256, maxLength 2560).
    static func description(_ text: String) -> String { clamped(text, maxGraphemes: 256, maxBytes: 2560) }

    /// Profile `pronouns`: the record's limits (maxGraphemes 20, maxLength 200).
    static func pronouns(_ text: String) -> String { clamped(text, maxGraphemes: 20, maxBytes: 200) }

    /// The longest prefix of whole grapheme clusters within both limits (UTF-8 bytes for maxLength).
    static func clamped(_ text: String, maxGraphemes: Int, maxBytes: Int) -> String {
        // Every grapheme is at least one byte, so short text is within both limits.
        if text.utf8.count <= maxGraphemes { return text }
        var graphemes = 0
        var bytes = 0
        var end = text.startIndex
        for character in text {
            let size = character.utf8.count
            if graphemes == maxGraphemes || bytes + size > maxBytes { return String(text[..<end]) }
            graphemes += 1
            bytes += size
            end = text.index(after: end)
        }
        return text
    }
}
