/// Events the indexer skips on purpose, counted by reason rather than treated as errors.
enum IgnoredEvents {
    /// Why the indexer skips `event` (`kind:<kind>`, `collection:<nsid>`), or nil when it indexes it.
    static func reason(_ event: JetstreamEvent) -> String? {
        switch event.payload {
        case .unsupported(let kind): return "kind:\(kind)"
        case .commit(let operation): return operation.indexedCollection == nil ? "collection:\(operation.collection)" : nil
        case .identity, .account: return nil
        }
    }
}
