//! The scoring definition as one SQL statement that scores a table where it lives (`strata
//! export-sql`): the recipe, the nearest centre, the business rules with their resolved
//! percentiles, the overrides, the fallback and the reason codes, for DuckDB, PostgreSQL, SQLite,
//! BigQuery, Snowflake and Spark SQL. Every number is written with round-trip precision and cast to
//! double precision, so no engine does the arithmetic in decimals.

use serde_json::Value;

/// The SQL dialects written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// DuckDB.
    DuckDb,
    /// PostgreSQL.
    Postgres,
    /// SQLite (3.35 or later, with its math functions).
    Sqlite,
    /// Google BigQuery.
    BigQuery,
    /// Snowflake.
    Snowflake,
    /// Spark SQL.
    Spark,
}

impl Dialect {
    /// Every dialect with its name on the command line.
    pub const ALL: [(&'static str, Dialect); 6] = [
        ("duckdb", Dialect::DuckDb),
        ("postgres", Dialect::Postgres),
        ("sqlite", Dialect::Sqlite),
        ("bigquery", Dialect::BigQuery),
        ("snowflake", Dialect::Snowflake),
        ("spark", Dialect::Spark),
    ];

    /// The dialect called `name`.
    pub fn parse(name: &str) -> Result<Dialect, String> {
        let lower = name.trim().to_ascii_lowercase();
        Self::ALL
            .iter()
            .find(|(n, _)| *n == lower)
            .map(|(_, d)| *d)
            .ok_or_else(|| format!("'{name}' is not a dialect; use {}", Self::ALL.map(|(n, _)| n).join(", ")))
    }

    fn double(self) -> &'static str {
        match self {
            Dialect::DuckDb | Dialect::Spark => "DOUBLE",
            Dialect::Postgres => "DOUBLE PRECISION",
            Dialect::Sqlite => "REAL",
            Dialect::BigQuery => "FLOAT64",
            Dialect::Snowflake => "DOUBLE",
        }
    }

    fn text(self) -> &'static str {
        match self {
            Dialect::BigQuery | Dialect::Spark => "STRING",
            _ => "VARCHAR",
        }
    }

    /// An identifier, quoted.
    pub fn ident(self, name: &str) -> String {
        match self {
            Dialect::BigQuery | Dialect::Spark => format!("`{}`", name.replace('`', "``")),
            _ => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    fn least(self) -> &'static str {
        if self == Dialect::Sqlite { "MIN" } else { "LEAST" }
    }

    fn greatest(self) -> &'static str {
        if self == Dialect::Sqlite { "MAX" } else { "GREATEST" }
    }
}

/// A text literal.
fn text(t: &str) -> String {
    format!("'{}'", t.replace('\'', "''"))
}

/// A number with round-trip precision, cast to double precision.
fn number(d: Dialect, x: f64) -> String {
    format!("CAST({x:?} AS {})", d.double())
}

/// The statement scoring `table` (whose id column is `id`) by the scoring definition `model`
/// (see [`super::definition::definition`]).
pub fn statement(model: &Value, d: Dialect, table: &str, id: &str) -> Result<String, String> {
    let features = model["features"].as_array().ok_or("the definition has no features")?;
    let centres = model["centres"].as_array().ok_or("the definition has no centres")?;
    let segments = model["segments"].as_array().ok_or("the definition has no segments")?;
    let q = |name: &str| d.ident(name);
    // 1. Each raw value as double precision or text, with its state: missing, unseen, outside.
    let mut prepared = vec![format!("{} AS customer_id", q(id))];
    let mut outputs: Vec<String> = Vec::new();
    let mut reasons: Vec<(String, String, String)> = Vec::new();
    let mut fallback_when: Vec<String> = Vec::new();
    for (j, f) in features.iter().enumerate() {
        let column = f["column"].as_str().ok_or("a feature without a column")?;
        let weight = f["weight"].as_f64().ok_or("a feature without a weight")?;
        let raw = format!("f{j}");
        if f["kind"] == "numeric" {
            // Not a number and the infinities are missing, as in the recipe: ABS(v) <= the largest
            // double is false for them in every dialect.
            prepared.push(format!(
                "CASE WHEN ABS(CAST({col} AS {dbl})) <= {max} THEN CAST({col} AS {dbl}) END AS {raw}",
                col = q(column),
                dbl = d.double(),
                max = number(d, f64::MAX)
            ));
            let value = match f["impute"].as_f64() {
                Some(v) => format!("COALESCE({raw}, {})", number(d, v)),
                None => {
                    fallback_when.push(format!("{raw} IS NULL"));
                    format!("COALESCE({raw}, {})", number(d, 0.0))
                }
            };
            let clipped = match f["clip"].as_array() {
                Some(c) => format!(
                    "{}({}({value}, {}), {})",
                    d.greatest(),
                    d.least(),
                    number(d, c[1].as_f64().unwrap_or(f64::MAX)),
                    number(d, c[0].as_f64().unwrap_or(f64::MIN))
                ),
                None => value,
            };
            let logged = if f["log1p"].as_bool().unwrap_or(false) {
                format!(
                    "(CASE WHEN {clipped} < {zero} THEN -LN({one} + ABS({clipped})) ELSE LN({one} + ABS({clipped})) END)",
                    zero = number(d, 0.0),
                    one = number(d, 1.0)
                )
            } else {
                clipped
            };
            let center = f["center"].as_f64().ok_or("a numeric feature without a center")?;
            let scale = f["scale"].as_f64().ok_or("a numeric feature without a scale")?;
            outputs.push(format!("({logged} - {}) / {} * {}", number(d, center), number(d, scale), number(d, weight)));
            reasons.push((format!("{raw} IS NULL"), "missing_feature".into(), column.into()));
            if let (Some(lo), Some(hi)) = (f["fitted_min"].as_f64(), f["fitted_max"].as_f64()) {
                reasons.push((
                    format!("({raw} < {} OR {raw} > {})", number(d, lo), number(d, hi)),
                    "outside_fitted_range".into(),
                    column.into(),
                ));
            }
        } else {
            prepared.push(format!("CAST({} AS {}) AS {raw}", q(column), d.text()));
            let levels = f["levels"].as_array().ok_or("a categorical feature without levels")?;
            let value = match f["impute"].as_str() {
                Some(v) => format!("COALESCE({raw}, {})", text(v)),
                None => {
                    fallback_when.push(format!("{raw} IS NULL"));
                    raw.clone()
                }
            };
            for level in levels {
                let level = level.as_str().ok_or("a level that is not text")?;
                outputs.push(format!(
                    "CASE WHEN {value} = {} THEN {} ELSE {} END",
                    text(level),
                    number(d, weight),
                    number(d, 0.0)
                ));
            }
            reasons.push((format!("{raw} IS NULL"), "missing_feature".into(), column.into()));
            let listed: Vec<String> = levels.iter().filter_map(Value::as_str).map(text).collect();
            reasons.push((format!("{raw} NOT IN ({})", listed.join(", ")), "unseen_category".into(), column.into()));
        }
    }
    // 2. The recipe's outputs, then the squared distance to each centre.
    let x: Vec<String> = (0..outputs.len()).map(|j| format!("x{j}")).collect();
    let mut transformed = vec!["*".to_string()];
    transformed.extend(outputs.iter().zip(&x).map(|(o, x)| format!("{o} AS {x}")));
    let distances: Vec<String> = centres
        .iter()
        .enumerate()
        .map(|(s, c)| {
            let c = c.as_array().ok_or("a centre that is not a list")?;
            if c.len() != x.len() {
                return Err(format!("centre {s} has {} values for {} outputs", c.len(), x.len()));
            }
            let terms: Vec<String> = c
                .iter()
                .zip(&x)
                .map(|(v, x)| {
                    let v = number(d, v.as_f64().unwrap_or(f64::NAN));
                    format!("({x} - {v}) * ({x} - {v})")
                })
                .collect();
            Ok(format!("{} AS d{s}", terms.join(" + ")))
        })
        .collect::<Result<_, String>>()?;
    // 3. The nearest centre, ties to the lowest number (the first minimum in segment order).
    let k = centres.len();
    let mut nearest = String::from("CASE");
    for s in 0..k.saturating_sub(1) {
        let conditions: Vec<String> = (s + 1..k).map(|t| format!("d{s} <= d{t}")).collect();
        nearest.push_str(&format!(" WHEN {} THEN {s}", conditions.join(" AND ")));
    }
    nearest.push_str(&format!(" ELSE {} END", k.saturating_sub(1)));
    let missing = if fallback_when.is_empty() { "(1 = 0)".to_string() } else { fallback_when.join(" OR ") };
    let too_large: Vec<String> =
        x.iter().map(|x| format!("NOT (ABS({x}) <= {})", number(d, crate::engine::matrix::MAX_ABS_VALUE))).collect();
    let fallback = if too_large.is_empty() {
        "is_missing".to_string()
    } else {
        format!("is_missing OR {}", too_large.join(" OR "))
    };
    let name_of: Vec<String> = segments.iter().filter_map(|s| s["name"].as_str()).map(text).collect();
    let mut model_name = String::from("CASE model_segment");
    for (s, name) in name_of.iter().enumerate() {
        model_name.push_str(&format!(" WHEN {s} THEN {name}"));
    }
    model_name.push_str(" END");
    // 4. The rules (the last that matches wins), then the overrides, then the fallback.
    let fallback_name = text(model["fallback"]["name"].as_str().unwrap_or("Fallback"));
    let mut segment = String::from("CASE");
    for o in model["overrides"].as_array().into_iter().flatten().rev() {
        let (Some(customer), Some(name)) = (o["customer"].as_str(), o["segment"].as_str()) else { continue };
        segment.push_str(&format!(" WHEN CAST(customer_id AS {}) = {} THEN {}", d.text(), text(customer), text(name)));
    }
    for (r, rule) in model["rules"].as_array().into_iter().flatten().enumerate().collect::<Vec<_>>().into_iter().rev() {
        let name = match rule["action"]["kind"].as_str() {
            Some("segment") => rule["action"]["name"].as_str().unwrap_or_default().to_string(),
            _ => {
                return Err(format!(
                    "rule {} moves customers out of low-priority segments, which this version of the SQL does not \
                     write; score with `strata score`",
                    r + 1
                ));
            }
        };
        let conditions: Vec<String> = rule["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| condition(c, d))
            .collect::<Result<_, String>>()?;
        segment.push_str(&format!(" WHEN {} THEN {}", conditions.join(" AND "), text(&name)));
    }
    segment.push_str(&format!(" WHEN is_fallback THEN {fallback_name} ELSE {model_name} END"));
    let mut reason = String::from("CASE");
    let mut reason_column = String::from("CASE");
    for (when, code, column) in &reasons {
        reason.push_str(&format!(" WHEN {when} THEN {}", text(code)));
        reason_column.push_str(&format!(" WHEN {when} THEN {}", text(column)));
    }
    reason.push_str(" END");
    reason_column.push_str(" END");
    let mut raw_columns: Vec<&str> = features.iter().filter_map(|f| f["column"].as_str()).collect();
    for c in
        model["rules"].as_array().into_iter().flatten().flat_map(|r| r["conditions"].as_array().into_iter().flatten())
    {
        if let Some(column) = c["column"].as_str()
            && !raw_columns.contains(&column)
        {
            raw_columns.push(column);
        }
    }
    prepared.extend(raw_columns.iter().map(|c| format!("{} AS {}", q(c), q(&format!("raw_{c}")))));
    Ok(format!(
        "-- Strata scoring definition ({}), {} dialect: one statement that scores {table}.\n\
         -- {}\n\
         WITH prepared AS (\n  SELECT {}\n  FROM {}\n),\n\
         transformed AS (\n  SELECT {}, {missing} AS is_missing\n  FROM prepared\n),\n\
         measured AS (\n  SELECT *, {}, {fallback} AS is_fallback\n  FROM transformed\n),\n\
         assigned AS (\n  SELECT *, {nearest} AS model_segment\n  FROM measured\n)\n\
         SELECT customer_id,\n  {segment} AS segment_name,\n  CASE WHEN is_fallback THEN NULL ELSE model_segment + 1 END AS model_segment_number,\n  \
         {reason} AS reason,\n  {reason_column} AS reason_column\nFROM assigned\n",
        model["assignment_fingerprint"].as_str().unwrap_or_default(),
        Dialect::ALL.iter().find(|(_, x)| *x == d).map_or("", |(n, _)| n),
        model["determinism"].as_str().unwrap_or_default(),
        prepared.join(",\n    "),
        table_name(d, table),
        transformed.join(",\n    "),
        distances.join(",\n    "),
    ))
}

/// A table name, each dotted part quoted (`schema.table`).
fn table_name(d: Dialect, table: &str) -> String {
    table.split('.').map(|part| d.ident(part)).collect::<Vec<_>>().join(".")
}

/// A rule's condition on the raw columns (`raw_<column>`, carried through every step).
fn condition(c: &Value, d: Dialect) -> Result<String, String> {
    let column = |c: &Value| -> Result<String, String> {
        let name = c["column"].as_str().ok_or("a condition without a column")?;
        Ok(d.ident(&format!("raw_{name}")))
    };
    match c["kind"].as_str() {
        Some("no_segment") => Ok("is_fallback".into()),
        Some("missing") => {
            let negated = c["negated"].as_bool().unwrap_or(false);
            let col = column(c)?;
            let missing = format!("({col} IS NULL OR TRIM(CAST({col} AS {})) = '')", d.text());
            Ok(if negated { format!("NOT {missing}") } else { missing })
        }
        Some("compare") => {
            let op = c["op"].as_str().ok_or("a comparison without an operator")?;
            let op = if op == "!=" { "<>" } else { op };
            match &c["value"] {
                // Not a number matches no comparison, as in the rules.
                Value::Number(n) => Ok(format!(
                    "(CASE WHEN ABS(CAST({col} AS {dbl})) <= {max} THEN CAST({col} AS {dbl}) END) {op} {}",
                    number(d, n.as_f64().unwrap_or(f64::NAN)),
                    col = column(c)?,
                    dbl = d.double(),
                    max = number(d, f64::MAX)
                )),
                Value::String(t) => Ok(format!("TRIM(CAST({} AS {})) {op} {}", column(c)?, d.text(), text(t.trim()))),
                _ => Err("a comparison with neither a number nor a text".into()),
            }
        }
        _ => Err("a condition of an unknown kind".into()),
    }
}
