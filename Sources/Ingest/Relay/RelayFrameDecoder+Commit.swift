import Foundation
import IPLD

extension RelayFrameDecoder {
    /// A `#commit`: each op resolved through the commit's Merkle search tree in its CAR to the
    /// record block, as Jetstream does; ops it would skip are listed in `skippedOperations`.
    func decodeCommit(_ body: DAGCBORValue, timeMicroseconds: Int64) throws(RelayDecodingError) -> RelayFrame {
        let repo = try string(body, "repo", "#commit.repo")
        let seq = try integer(body, "seq", "#commit.seq")
        let rev = try string(body, "rev", "#commit.rev")
        _ = try string(body, "time", "#commit.time")
        let tooBig: Bool
        switch body["tooBig"] {
        case nil: tooBig = false
        case .bool(let flag)?: tooBig = flag
        default: throw .invalidField("#commit.tooBig")
        }
        guard let ops = body["ops"]?.arrayValue else { throw .invalidField("#commit.ops") }
        // Jetstream drops tooBig commits: their ops come without blocks.
        if tooBig { return RelayFrame(kind: .commit, seq: seq, repo: repo, tooBig: true) }
        guard let blocks = body["blocks"]?.bytesValue else { throw .invalidField("#commit.blocks") }

        var wanted: [(action: String, path: String, collection: String, rkey: String, cid: DAGCBORValue?)] = []
        for op in ops {
            guard case .map = op, let action = op["action"]?.stringValue, let path = op["path"]?.stringValue else {
                throw .invalidField("#commit.ops")
            }
            // Jetstream takes the first two `/` parts.
            let parts = path.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2 else {
                wanted.append((action, path, "", "", nil))
                continue
            }
            let collection = String(parts[0])
            guard wants(collection) else { continue }
            wanted.append((action, path, collection, String(parts[1]), op["cid"]))
        }
        var frame = RelayFrame(kind: .commit, seq: seq, repo: repo)
        if wanted.isEmpty { return frame }

        // Jetstream reads the repository from the CAR before looking at any op.
        let car: CARFile
        let tree: MerkleSearchTree
        do throws(IPLDError) {
            car = try CARReader(limits: limits.car).read(blocks)
            guard let root = car.roots.first else { throw .invalidCARHeader }
            guard let commitBlock = car.block(root) else { throw .missingBlock(root) }
            let commit = try RepoCommit(block: commitBlock, limits: limits.frame)
            tree = MerkleSearchTree(blocks: car, root: commit.data)
        } catch {
            throw .blocks(error)
        }

        for op in wanted {
            guard !op.collection.isEmpty else {
                frame.skippedOperations.append(RelaySkippedOperation(path: op.path, reason: "path is not collection/rkey"))
                continue
            }
            var writer = JetstreamJSONWriter(capacity: 512)
            writeEnvelope(&writer, did: repo, timeMicroseconds: timeMicroseconds, kind: "commit")
            writer.raw(",\"commit\":{\"rev\":")
            writer.string(rev)
            switch op.action {
            case "create", "update":
                writer.raw(op.action == "create" ? ",\"operation\":\"create\"" : ",\"operation\":\"update\"")
                writer.raw(",\"collection\":")
                writer.string(op.collection)
                writer.raw(",\"rkey\":")
                writer.string(op.rkey)
                writer.raw(",\"record\":")
                if let reason = appendRecord(op.path, expected: op.cid, from: tree, car: car, to: &writer) {
                    frame.skippedOperations.append(RelaySkippedOperation(path: op.path, reason: reason))
                    continue
                }
                writer.raw("}}")
            case "delete":
                writer.raw(",\"operation\":\"delete\",\"collection\":")
                writer.string(op.collection)
                writer.raw(",\"rkey\":")
                writer.string(op.rkey)
                writer.raw("}}")
            default:
                frame.skippedOperations.append(RelaySkippedOperation(path: op.path, reason: "unknown action \(op.action)"))
                continue
            }
            frame.events.append(Data(writer.bytes))
        }
        return frame
    }

    /// Appends `record,"cid":…` for the record at `path`; returns why not when the op must be skipped.
    private func appendRecord(_ path: String, expected: DAGCBORValue?, from tree: MerkleSearchTree, car: CARFile,
                              to writer: inout JetstreamJSONWriter) -> String? {
        guard case .link(let expectedCID)? = expected else { return "create/update without cid" }
        let found: IPLD.CID?
        do throws(IPLDError) {
            found = try tree.lookup(path)
        } catch {
            return "tree unreadable: \(error.kind)"
        }
        guard let recordCID = found else { return "record not in tree" }
        guard recordCID == expectedCID else { return "record CID mismatch" }
        guard let block = car.block(recordCID) else { return "record not in blocks" }
        guard block.count <= limits.maximumRecordBytes else { return "record too large" }
        let record: DAGCBORValue
        do throws(IPLDError) {
            record = try DAGCBORDecoder(limits: limits.record).decode(block)
        } catch {
            return "record undecodable: \(error.kind)"
        }
        do throws(JetstreamRecordJSON.ConversionError) {
            try JetstreamRecordJSON.append(record: record, to: &writer)
        } catch {
            return "record outside the data model: \(error.reason)"
        }
        writer.raw(",\"cid\":")
        writer.string(recordCID.string)
        return nil
    }
}
