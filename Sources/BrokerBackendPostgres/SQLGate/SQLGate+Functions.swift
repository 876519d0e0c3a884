// SPDX-License-Identifier: Apache-2.0

extension SQLGate {
    /// The functions an analyst query may call by default: pure, side-effect-free built-ins.
    ///
    /// Everything else is refused, in particular sleeping (`pg_sleep*`), configuration (`set_config`,
    /// `current_setting`), advisory locks, backend signalling, file and large-object access, `dblink`, sequences,
    /// `txid_current`, `pg_notify` and the `*_to_xml` query runners. Names are matched exactly against the parsed
    /// (case-folded) identifier, so a quoted `"COUNT"` is not `count`.
    public static let defaultFunctions: Set<String> = aggregates
        .union(window).union(math).union(string).union(dateTime).union(json).union(arrays).union(misc)

    private static let aggregates: Set<String> = [
        "count", "sum", "avg", "min", "max", "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp",
        "string_agg", "array_agg", "bool_and", "bool_or", "every", "percentile_cont", "percentile_disc", "mode",
        "json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg", "corr", "covar_pop", "covar_samp",
        "regr_slope", "regr_intercept",
    ]

    private static let window: Set<String> = [
        "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value",
        "last_value", "nth_value",
    ]

    private static let math: Set<String> = [
        "abs", "round", "ceil", "ceiling", "floor", "trunc", "sqrt", "cbrt", "power", "pow", "ln", "log", "log10",
        "exp", "mod", "sign", "div", "width_bucket", "pi",
    ]

    // `overlay`, `normalize` and `is_normalized` are what the SQL-syntax forms OVERLAY(…), NORMALIZE(…) and
    // IS NORMALIZED parse into (pg_catalog-qualified FuncCalls); refusing them would refuse standard SQL.
    private static let string: Set<String> = [
        "lower", "upper", "length", "char_length", "character_length", "octet_length", "substring", "substr", "trim",
        "btrim", "ltrim", "rtrim", "replace", "concat", "concat_ws", "left", "right", "split_part", "position",
        "strpos", "lpad", "rpad", "initcap", "reverse", "repeat", "format", "regexp_replace", "regexp_match",
        "regexp_matches", "starts_with", "to_char", "translate", "md5", "overlay", "normalize", "is_normalized",
    ]

    // `overlaps` is what `(a, b) OVERLAPS (c, d)` parses into.
    private static let dateTime: Set<String> = [
        "date_trunc", "date_part", "extract", "now", "age", "make_date", "make_timestamp", "make_interval", "to_date",
        "to_timestamp", "date_bin", "justify_days", "justify_hours", "timezone", "isfinite", "overlaps",
        "to_number",
    ]

    private static let json: Set<String> = [
        "to_json", "to_jsonb", "json_build_object", "jsonb_build_object", "json_build_array", "jsonb_build_array",
        "jsonb_extract_path", "jsonb_extract_path_text", "json_extract_path", "json_extract_path_text",
        "jsonb_array_length", "json_array_length", "jsonb_typeof", "json_typeof", "jsonb_array_elements",
        "jsonb_array_elements_text", "jsonb_each", "jsonb_each_text", "jsonb_object_keys",
    ]

    private static let arrays: Set<String> = [
        "array_length", "cardinality", "unnest", "array_to_string", "string_to_array", "array_position",
        "array_remove", "array_append", "array_cat", "generate_series", "generate_subscripts",
    ]

    // Most of these parse into dedicated nodes (CoalesceExpr, MinMaxExpr…), not FuncCalls; listing them is
    // harmless and covers the explicit-call spelling.
    private static let misc: Set<String> = ["coalesce", "nullif", "greatest", "least"]
}
