import IPLD

/// Builds relay frames for tests: commits whose CAR holds a signed-shape commit block, a one-node
/// MST and the records, and the other frame types.
enum RelayTestFrames {
    static func map(_ pairs: KeyValuePairs<String, DAGCBORValue>) -> DAGCBORValue {
        .map(pairs.map { DAGCBORMapEntry(key: $0.key, value: $0.value) })
    }

    static func frame(header: DAGCBORValue, body: DAGCBORValue) -> [UInt8] {
        DAGCBOREncoder.encode(header) + DAGCBOREncoder.encode(body)
    }

    static func header(_ type: String) -> DAGCBORValue {
        map(["op": .int(1), "t": .string(type)])
    }

    struct Op {
        var action: String
        var path: String
        /// The record (create/update), nil for deletes.
        var record: DAGCBORValue?
        /// Put the record block into the CAR (false: a commit whose record is missing).
        var includeRecord = true
        /// The cid the op announces instead of the record's (a mismatch).
        var announcedCID: CID?
    }

    static func car(roots: [CID], blocks: [(CID, [UInt8])]) -> [UInt8] {
        let header = DAGCBOREncoder.encode(map(["roots": .array(roots.map { .link($0) }), "version": .int(1)]))
        var out = Varint.encode(UInt64(header.count)) + header
        for (cid, bytes) in blocks {
            out += Varint.encode(UInt64(cid.bytes.count + bytes.count)) + cid.bytes + bytes
        }
        return out
    }

    static func commit(repo: String = "did:plc:testrepo", seq: Int64 = 7, rev: String = "3mtestrev0000",
                       ops: [Op], tooBig: Bool = false) -> [UInt8] {
        var blocks: [(CID, [UInt8])] = []
        var entries: [(key: String, cid: CID)] = []
        var opValues: [DAGCBORValue] = []
        for op in ops {
            var cidValue = DAGCBORValue.null
            if let record = op.record {
                let bytes = DAGCBOREncoder.encode(record)
                let cid = CID.sha256(of: bytes)
                if op.includeRecord { blocks.append((cid, bytes)) }
                entries.append((op.path, cid))
                cidValue = .link(op.announcedCID ?? cid)
            }
            opValues.append(map(["action": .string(op.action), "path": .string(op.path), "cid": cidValue]))
        }
        entries.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        var previous: [UInt8] = []
        var mstEntries: [DAGCBORValue] = []
        for entry in entries {
            let key = Array(entry.key.utf8)
            let shared = zip(previous, key).prefix { $0 == $1 }.count
            mstEntries.append(map(["k": .bytes(Array(key[shared...])), "p": .int(Int64(shared)), "t": .null, "v": .link(entry.cid)]))
            previous = key
        }
        let node = DAGCBOREncoder.encode(map(["e": .array(mstEntries), "l": .null]))
        let nodeCID = CID.sha256(of: node)
        blocks.append((nodeCID, node))
        let commitBlock = DAGCBOREncoder.encode(map([
            "did": .string(repo), "version": .int(3), "data": .link(nodeCID), "rev": .string(rev),
            "prev": .null, "sig": .bytes([UInt8](repeating: 1, count: 64)),
        ]))
        let commitCID = CID.sha256(of: commitBlock)
        blocks.insert((commitCID, commitBlock), at: 0)
        let body = map([
            "repo": .string(repo), "seq": .int(seq), "rev": .string(rev), "time": .string("2026-07-04T14:38:07.517Z"),
            "ops": .array(opValues), "blocks": .bytes(tooBig ? [] : car(roots: [commitCID], blocks: blocks)),
            "commit": .link(commitCID), "tooBig": .bool(tooBig), "rebase": .bool(false), "blobs": .array([]),
            "since": .null,
        ])
        return frame(header: header("#commit"), body: body)
    }

    /// A create of `collection/rkey` with `record`.
    static func create(_ path: String, _ record: DAGCBORValue) -> Op {
        Op(action: "create", path: path, record: record)
    }
}
