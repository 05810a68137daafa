/// Who a record notifies, and why (REFERENCE §3). One notification per (recipient, record); a
/// record that is both a reply to and a quote or mention of someone notifies them once, with the
/// highest reason (reply > quote > mention). Nobody is notified about their own actions.
enum NotificationRules {
    static func forPost(_ post: BatchPlan.PostRow) -> [BatchPlan.NotificationRow] {
        var rows: [BatchPlan.NotificationRow] = []
        func add(_ recipient: String, _ reason: String, _ subject: String?) {
            guard recipient != post.authorDID, !rows.contains(where: { $0.recipientDID == recipient }) else { return }
            rows.append(.init(recipientDID: recipient, recordURI: post.uri, recordCID: post.cid, authorDID: post.authorDID,
                              reason: reason, reasonSubject: subject, sortAt: post.indexedAt))
        }
        if let reply = post.record.reply {
            // Each ancestor's author hears about the reply to their own post.
            if reply.parent.uri.collection == IndexedCollection.post.rawValue {
                add(reply.parent.uri.did, "reply", reply.parent.uri.description)
            }
            if reply.root.uri.collection == IndexedCollection.post.rawValue {
                add(reply.root.uri.did, "reply", reply.root.uri.description)
            }
        }
        if let quoted = post.record.embed?.record, quoted.uri.collection == IndexedCollection.post.rawValue {
            add(quoted.uri.did, "quote", quoted.uri.description)
        }
        for did in post.record.mentionedDIDs {
            add(did, "mention", nil)
        }
        return rows
    }

    /// Likes and reposts notify the author of the subject record.
    static func forSubjectRecord(_ row: BatchPlan.SubjectRow, reason: String) -> BatchPlan.NotificationRow? {
        guard row.subject.uri.did != row.authorDID else { return nil }
        return .init(recipientDID: row.subject.uri.did, recordURI: row.uri, recordCID: row.cid, authorDID: row.authorDID,
                     reason: reason, reasonSubject: row.subject.uri.description, sortAt: row.indexedAt)
    }

    static func forFollow(_ row: BatchPlan.GraphRow) -> BatchPlan.NotificationRow? {
        guard row.subjectDID != row.creatorDID else { return nil }
        return .init(recipientDID: row.subjectDID, recordURI: row.uri, recordCID: row.cid, authorDID: row.creatorDID,
                     reason: "follow", reasonSubject: nil, sortAt: row.indexedAt)
    }
}
