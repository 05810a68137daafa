import Foundation

/// The subscribe URL of one connection attempt: the configured endpoint with the repeated
/// `wantedCollections` parameters and, when resuming, `cursor` = committed cursor − rewind.
struct JetstreamSubscription: Equatable {
    let url: String
    let cursor: Int64?

    init(baseURL: String, wantedCollections: [String], committedCursor: Int64?, rewindSeconds: Int) {
        var items = wantedCollections.map { URLQueryItem(name: "wantedCollections", value: $0) }
        if let committedCursor {
            cursor = max(0, committedCursor - Int64(rewindSeconds) * 1_000_000)
            items.append(URLQueryItem(name: "cursor", value: String(cursor!)))
        } else {
            cursor = nil
        }
        var components = URLComponents(string: baseURL) ?? URLComponents()
        components.queryItems = items.isEmpty ? nil : items
        url = components.string ?? baseURL
    }
}
