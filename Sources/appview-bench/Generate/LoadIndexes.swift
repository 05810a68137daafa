import Storage

/// Drops the indexes (and primary keys) of the bulk-loaded tables before COPY and recreates them
/// afterwards with their original names and definitions: one sorted build per index is much
/// faster than maintaining them row by row. The definitions are saved in `bench_saved_indexes`
/// first, so an interrupted load can still restore them on the next run.
struct LoadIndexes {
    static let tables = ["actors", "posts", "feed_items", "likes", "reposts", "follows"]

    struct Definition {
        var table: String
        var name: String
        /// Set for primary-key/unique constraints (recreated with ALTER TABLE … ADD CONSTRAINT).
        var constraintDefinition: String?
        var indexDefinition: String

        var createSQL: String {
            if let constraintDefinition {
                return "ALTER TABLE \(table) ADD CONSTRAINT \(name) \(constraintDefinition)"
            }
            return indexDefinition
        }
    }

    static func saveAndDrop(_ connection: PostgresConnection) throws {
        try connection.execute("""
            CREATE TABLE IF NOT EXISTS bench_saved_indexes (
                table_name text NOT NULL, index_name text PRIMARY KEY,
                constraint_definition text, index_definition text NOT NULL)
            """)
        // Only indexes that still exist are saved: after an interrupted run the saved rows are kept.
        try connection.query("""
            INSERT INTO bench_saved_indexes (table_name, index_name, constraint_definition, index_definition)
            SELECT t.relname, ic.relname, pg_get_constraintdef(c.oid), pg_get_indexdef(i.indexrelid)
              FROM pg_index i
              JOIN pg_class t ON t.oid = i.indrelid
              JOIN pg_class ic ON ic.oid = i.indexrelid
              LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype IN ('p', 'u')
             WHERE t.relnamespace = 'public'::regnamespace AND t.relname = ANY($1::text[])
            ON CONFLICT (index_name) DO NOTHING
            """, [tables])
        for definition in try saved(connection) {
            if definition.constraintDefinition != nil {
                try connection.execute("ALTER TABLE \(definition.table) DROP CONSTRAINT IF EXISTS \(definition.name)")
            } else {
                try connection.execute("DROP INDEX IF EXISTS \(definition.name)")
            }
        }
    }

    /// Saved definitions, biggest tables first, so parallel builders finish close together.
    static func saved(_ connection: PostgresConnection) throws -> [Definition] {
        let exists = try connection.query("SELECT to_regclass('bench_saved_indexes') IS NOT NULL")
        guard exists[0].bool(0) == true else { return [] }
        let result = try connection.query("""
            SELECT table_name, index_name, constraint_definition, index_definition
              FROM bench_saved_indexes
             ORDER BY pg_relation_size(table_name::regclass) DESC, constraint_definition IS NULL, index_name
            """)
        return result.rows.map {
            Definition(table: $0.string(0)!, name: $0.string(1)!, constraintDefinition: $0.string(2), indexDefinition: $0.string(3)!)
        }
    }

    /// Recreates one saved index unless it already exists, then forgets it.
    static func recreate(_ definition: Definition, _ connection: PostgresConnection) throws {
        let present = try connection.query("SELECT to_regclass($1) IS NOT NULL", [definition.name])
        if present[0].bool(0) != true {
            try connection.execute(definition.createSQL)
        }
        try connection.query("DELETE FROM bench_saved_indexes WHERE index_name = $1", [definition.name])
    }
}
