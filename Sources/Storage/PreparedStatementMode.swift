/// Whether pooled connections keep server-side prepared statements (`DB_PREPARED_STATEMENTS`).
public enum PreparedStatementMode: String, Sendable, CaseIterable {
    /// Each distinct SQL text is prepared once per connection; PostgreSQL may switch it to a generic plan
    /// after five executions when that looks no worse than the custom ones.
    case on
    /// Every statement is sent unnamed and planned on each call. Needed behind PgBouncer < 1.21 in
    /// transaction pooling mode, where a later transaction may run on a server connection that lacks the statement.
    case off
    /// Prepared as with `on`, plus the session setting `plan_cache_mode = force_custom_plan`: parse and
    /// analysis are saved, but every execution is planned for its actual parameter values.
    case forceCustomPlan = "force_custom_plan"
}
