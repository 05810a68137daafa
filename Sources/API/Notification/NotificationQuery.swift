/// The SQL of the `app.bsky.notification.*` methods, exposed for the benchmark.
public enum NotificationQuery {
    /// A page of the recipient's ($1) notifications, reasons $2 (text[], empty = all), strictly after
    /// the keyset position ($3 sort_at, $4 record_cid, $5 record_uri; `infinity`,'','' = start),
    /// newest first, at most $6. Index: notifications_recipient_sort_idx
    /// (recipient_did, sort_at DESC, record_cid DESC, record_uri DESC); the reasons filter is
    /// applied on that ordered scan. Authors blocked either way are left out here (a hashed subplan
    /// over the viewer's few blocks: blocks_creator_subject_idx, blocks_subject_creator_idx) so pages
    /// stay full and `unreadCount` counts the same rows.
    public static let page = """
        SELECT record_uri, record_cid, author_did, reason, reason_subject,
               floor(extract(epoch FROM sort_at) * 1000)::bigint
        FROM notifications
        WHERE recipient_did = $1
          AND (cardinality($2::text[]) = 0 OR reason = ANY($2::text[]))
          AND (sort_at, record_cid, record_uri) < ($3::timestamptz, $4::text, $5::text)
          AND author_did NOT IN (SELECT subject_did FROM blocks WHERE creator_did = $1
                                 UNION ALL SELECT creator_did FROM blocks WHERE subject_did = $1)
        ORDER BY sort_at DESC, record_cid DESC, record_uri DESC
        LIMIT $6::int
        """

    /// The viewer's ($1) stored read marker. Index: notification_seen_pkey.
    public static let lastSeen = """
        SELECT floor(extract(epoch FROM last_seen_notifs) * 1000)::bigint FROM notification_seen WHERE did = $1
        """

    /// The records that caused notifications, by uri ($1 text[]): posts (reply, mention, quote) with
    /// their stored record JSON; likes, reposts and follows as columns from which the record is
    /// rebuilt (those tables keep no record JSON). Indexes: the primary keys of posts, likes, reposts, follows.
    public static let records = """
        SELECT 'post', uri, record, NULL::text, NULL::text, NULL::text, NULL::bigint
        FROM posts WHERE uri = ANY($1::text[])
        UNION ALL
        SELECT 'like', uri, NULL::jsonb, subject_uri, subject_cid, NULL::text,
               floor(extract(epoch FROM created_at) * 1000)::bigint
        FROM likes WHERE uri = ANY($1::text[])
        UNION ALL
        SELECT 'repost', uri, NULL::jsonb, subject_uri, subject_cid, NULL::text,
               floor(extract(epoch FROM created_at) * 1000)::bigint
        FROM reposts WHERE uri = ANY($1::text[])
        UNION ALL
        SELECT 'follow', uri, NULL::jsonb, NULL::text, NULL::text, subject_did,
               floor(extract(epoch FROM created_at) * 1000)::bigint
        FROM follows WHERE uri = ANY($1::text[])
        """

    /// Unread count for $1: notifications newer than $2 (a `seenAt` parameter) or else the stored
    /// marker. The scan stops after 10,000 rows (the LIMIT in the subquery), so a huge backlog costs a
    /// bounded index range; clients show such counts as "many" anyway.
    /// Only notifications `listNotifications` would show are counted: authors blocked either way are
    /// left out, and so are authors whose account is inactive (else a badge would count a
    /// notification the list never shows, and updateSeen could not clear it). The inactive check is
    /// one probe of the small partial index per unread row, so its cost follows the unread range.
    /// Index: notifications_recipient_sort_idx (range sort_at > marker), notification_seen_pkey,
    /// blocks_creator_subject_idx, blocks_subject_creator_idx, actors_inactive_idx.
    public static let unreadCount = """
        SELECT count(*) FROM (
            SELECT 1 FROM notifications n
            WHERE n.recipient_did = $1
              AND n.author_did NOT IN (SELECT subject_did FROM blocks WHERE creator_did = $1
                                       UNION ALL SELECT creator_did FROM blocks WHERE subject_did = $1)
              AND NOT EXISTS (SELECT 1 FROM actors a WHERE a.did = n.author_did AND NOT a.is_active)
              AND n.sort_at > coalesce($2::timestamptz,
                                     (SELECT last_seen_notifs FROM notification_seen WHERE did = $1),
                                     '-infinity'::timestamptz)
            LIMIT 10000
        ) unread
        """

    /// The cap `unreadCount` applies.
    public static let unreadCountCap = 10_000

    /// Stores the read marker for $1 at $2, never moving it back. Index: notification_seen_pkey.
    public static let updateSeen = """
        INSERT INTO notification_seen (did, last_seen_notifs) VALUES ($1, $2::timestamptz)
        ON CONFLICT (did) DO UPDATE
        SET last_seen_notifs = greatest(notification_seen.last_seen_notifs, excluded.last_seen_notifs)
        """
}
