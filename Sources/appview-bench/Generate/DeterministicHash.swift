/// Stateless, seeded pseudo-randomness: every generated value is a pure function of
/// (seed, stream, index), so any row can be recomputed without keeping earlier rows in memory
/// and two runs with the same parameters produce identical data.
struct DeterministicHash: Sendable {
    let seed: UInt64

    /// Independent random streams, one per decision the generator makes.
    enum Stream: UInt64 {
        case actorDid = 1, postTime, postCid, postText, isReply, replyToViewer, replyAuthor, replyPost
        case reposter, repostToViewer, repostAuthor, repostPost, repostTime, repostCid
        case liker, likeToViewer, likeAuthor, likePost, likeTime, likeCid
        case followCount, followSubject, followTime, followCid
        case viewerFollow, viewerFollower, viewerFollowerTime
        case viewerPick
    }

    /// SplitMix64 finaliser over a combination of the inputs.
    @inline(__always)
    func bits(_ stream: Stream, _ index: Int) -> UInt64 {
        var z = seed &+ stream.rawValue &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(truncatingIfNeeded: index) &* 0xD1B5_4A32_D192_ED03
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    @inline(__always)
    func unit(_ stream: Stream, _ index: Int) -> Double {
        Double(bits(stream, index) >> 11) * 0x1p-53
    }

    /// Uniform in 0..<bound (bound > 0).
    @inline(__always)
    func below(_ bound: Int, _ stream: Stream, _ index: Int) -> Int {
        Int(bits(stream, index) % UInt64(bound))
    }
}
