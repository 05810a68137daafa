import Foundation

/// Orders the relay's frames by `seq` and gives each event its resume position: the pure part of
/// `RelaySource`, tested without a network.
///
/// - A frame whose `seq` is not above the highest accepted one is skipped: on a connection opened
///   after the one that delivered that highest `seq`, it is the expected replay of a resume at the
///   committed cursor (`replayed`); on the same connection it is a relay repeating itself or going
///   backwards (`outOfOrder`).
/// - The events of one frame share its `seq`. Only the last one carries it; the others carry the
///   previous frame's `seq`, so the pipeline's low watermark never reports `seq` committed while
///   an event of that frame is not (resuming at `cursor=seq` asks for the frames after it).
/// - A frame that yields no event becomes a position alone, so the cursor moves past it.
struct RelaySourceSequencer {
    /// What to do with a frame.
    enum Decision: Equatable {
        /// Hand these items to the pipeline, in order.
        case accept([SourceEvent])
        /// Already delivered: the overlap of a resume after a reconnect.
        case replayed
        /// Not above the highest `seq` accepted on this same connection.
        case outOfOrder(previous: Int64)
    }

    /// Highest `seq` accepted (or the cursor this run resumed from); nil before either.
    private(set) var highestSeq: Int64?
    /// The connection that delivered `highestSeq` (0: the resume cursor).
    private var highestSeqConnection = 0

    init(resumeCursor: Int64?) {
        highestSeq = resumeCursor
    }

    mutating func admit(seq: Int64, events: [Data], connection: Int) -> Decision {
        if let highestSeq, seq <= highestSeq {
            return connection > highestSeqConnection ? .replayed : .outOfOrder(previous: highestSeq)
        }
        let previous = highestSeq ?? 0
        highestSeq = seq
        highestSeqConnection = connection
        guard !events.isEmpty else { return .accept([.position(seq)]) }
        var items = events.map { SourceEvent(json: $0, cursor: previous) }
        items[items.count - 1].cursor = seq
        return .accept(items)
    }
}
