/// SQL that flattens the media of post embeds into rows, so views are built from columns without
/// parsing record JSON in Swift.
public enum EmbedMediaQuery {
    /// The media of the posts $1 (text[]) whose embed carries any (images, gallery, external, video,
    /// or the media half of recordWithMedia): one row per image / gallery item (position from 1), one
    /// per external link or video (position 0), ordered by post and position. Columns:
    /// `post uri, author DID, media $type, position, blob CID, alt, aspect width, aspect height,
    /// external uri, external title, external description, video presentation`.
    /// Blobs are read from `ref.$link` or the legacy `cid`. Malformed parts come back NULL and the
    /// view leaves them out. Index: posts_pkey.
    public static let media = """
        WITH media AS (
            SELECT p.uri, p.author_did,
                   CASE WHEN p.embed_type = 'recordWithMedia' THEN p.record->'embed'->'media' ELSE p.record->'embed' END AS m
            FROM posts p
            WHERE p.uri = ANY($1::text[])
              AND p.embed_type IN ('images', 'gallery', 'external', 'video', 'recordWithMedia')
        )
        SELECT media.uri, media.author_did, media.m->>'$type', item.position,
               coalesce(item.value->'image'->'ref'->>'$link', item.value->'image'->>'cid'),
               CASE WHEN jsonb_typeof(item.value->'alt') = 'string' THEN item.value->>'alt' END,
               item.value->'aspectRatio'->>'width', item.value->'aspectRatio'->>'height',
               NULL, NULL, NULL, NULL
        FROM media
        CROSS JOIN LATERAL jsonb_array_elements(
            CASE WHEN media.m->>'$type' = 'app.bsky.embed.images' AND jsonb_typeof(media.m->'images') = 'array'
                      THEN media.m->'images'
                 WHEN media.m->>'$type' = 'app.bsky.embed.gallery' AND jsonb_typeof(media.m->'items') = 'array'
                      THEN media.m->'items'
                 ELSE '[]'::jsonb END) WITH ORDINALITY AS item(value, position)
        UNION ALL
        SELECT media.uri, media.author_did, media.m->>'$type', 0,
               coalesce(media.m->'external'->'thumb'->'ref'->>'$link', media.m->'external'->'thumb'->>'cid'),
               NULL, NULL, NULL,
               CASE WHEN jsonb_typeof(media.m->'external'->'uri') = 'string' THEN media.m->'external'->>'uri' END,
               CASE WHEN jsonb_typeof(media.m->'external'->'title') = 'string' THEN media.m->'external'->>'title' END,
               CASE WHEN jsonb_typeof(media.m->'external'->'description') = 'string'
                    THEN media.m->'external'->>'description' END,
               NULL
        FROM media WHERE media.m->>'$type' = 'app.bsky.embed.external'
        UNION ALL
        SELECT media.uri, media.author_did, media.m->>'$type', 0,
               coalesce(media.m->'video'->'ref'->>'$link', media.m->'video'->>'cid'),
               CASE WHEN jsonb_typeof(media.m->'alt') = 'string' THEN media.m->>'alt' END,
               media.m->'aspectRatio'->>'width', media.m->'aspectRatio'->>'height',
               NULL, NULL, NULL,
               CASE WHEN jsonb_typeof(media.m->'presentation') = 'string' THEN media.m->>'presentation' END
        FROM media WHERE media.m->>'$type' = 'app.bsky.embed.video'
        ORDER BY 1, 4
        """
}
