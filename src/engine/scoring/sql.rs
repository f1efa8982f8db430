//! The scoring definition as one SQL statement that scores a table where it lives (`strata
//! export-sql`): the recipe, the model's assignment, the business rules with their resolved
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
        .map(|(s, c)| Ok(format!("{} AS d{s}", squared_distance(c, &x, d).map_err(|e| format!("centre {s}: {e}"))?)))
        .collect::<Result<_, String>>()?;
    // 3. The nearest centre, ties to the lowest number (the first minimum in segment order).
    let k = centres.len();
    // The model's segment: the nearest centre, the segment of the nearest map node, or the
    // component with the highest log density; each with ties to the lowest number.
    // Columns the model's own columns are made from (k-prototypes' category codes), in a step of
    // their own before them.
    let mut coded: Vec<String> = Vec::new();
    let (model_columns, nearest) = match model["assign"].as_str() {
        Some("nearest k-means centre" | "nearest segment mean") => {
            (Vec::new(), best_of(&(0..k).collect::<Vec<_>>(), "d", |s| s.to_string(), d.least()))
        }
        Some("nearest map node") => {
            let nodes = model["nodes"].as_array().ok_or("the map has no nodes")?;
            let node_segments = model["node_segments"].as_array().ok_or("the map's nodes have no segments")?;
            let columns = nodes
                .iter()
                .enumerate()
                .map(|(n, node)| Ok(format!("{} AS e{n}", squared_distance(node, &x, d)?)))
                .collect::<Result<Vec<_>, String>>()?;
            let segment_of = |n: usize| node_segments.get(n).and_then(Value::as_u64).unwrap_or(0).to_string();
            (columns, best_of(&(0..nodes.len()).collect::<Vec<_>>(), "e", segment_of, d.least()))
        }
        Some("highest posterior") => {
            let components = model["components"].as_array().ok_or("the mixture has no components")?;
            let columns = components
                .iter()
                .enumerate()
                .map(|(c, component)| Ok(format!("{} AS g{c}", log_density(component, &x, d)?)))
                .collect::<Result<Vec<_>, String>>()?;
            (columns, best_of(&(0..components.len()).collect::<Vec<_>>(), "g", |c| c.to_string(), d.greatest()))
        }
        Some("rfm scores") => rfm_assignment(&model["rfm"], d)?,
        Some("nearest prototype") => {
            let (codes, columns, nearest) = prototype_assignment(&model["prototypes"], &x, d)?;
            coded = codes;
            (columns, nearest)
        }
        Some("value tier, then nearest centroid") => hybrid_assignment(&model["hybrid"], &x, d)?,
        other => {
            return Err(format!("the definition assigns by {other:?}, which this version of the SQL does not write"));
        }
    };
    let distances: Vec<String> = distances.into_iter().chain(model_columns).collect();
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
    // 4. The rules in order, each on the segment the ones before it left (one step each), then
    // the overrides, then the fallback for customers still without a segment.
    let fallback_name = text(model["fallback"]["name"].as_str().unwrap_or("Fallback"));
    let low: Vec<usize> = segments
        .iter()
        .enumerate()
        .filter(|(_, s)| s["low_priority"].as_bool().unwrap_or(false))
        .map(|(s, _)| s)
        .collect();
    let allowed: Vec<usize> = (0..k).filter(|s| !low.contains(s)).collect();
    let mut steps =
        vec![format!("CASE WHEN is_fallback OR model_segment IS NULL THEN NULL ELSE {model_name} END AS s0")];
    for (r, rule) in model["rules"].as_array().into_iter().flatten().enumerate() {
        let before = format!("s{r}");
        let conditions: Vec<String> = rule["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| condition(c, d))
            .collect::<Result<_, String>>()?;
        let when = if conditions.is_empty() { "(1 = 1)".to_string() } else { conditions.join(" AND ") };
        let step = match rule["action"]["kind"].as_str() {
            Some("segment") => {
                format!(
                    "CASE WHEN {when} THEN {} ELSE {before} END",
                    text(rule["action"]["name"].as_str().unwrap_or_default())
                )
            }
            // Customers in a low-priority segment move to the nearest segment that is not; those
            // the model cannot place stay. With every segment low priority the rule moves no one.
            Some("not_low_priority") if !low.is_empty() && !allowed.is_empty() => {
                let listed: Vec<&String> = low.iter().filter_map(|&s| name_of.get(s)).collect();
                let listed: Vec<String> = listed.into_iter().cloned().collect();
                format!(
                    "CASE WHEN {when} AND NOT is_fallback AND {before} IN ({}) THEN {} ELSE {before} END",
                    listed.join(", "),
                    best_of(&allowed, "d", |s| name_of.get(s).cloned().unwrap_or_default(), d.least())
                )
            }
            Some("not_low_priority") => before.clone(),
            _ => return Err(format!("rule {} has an action this version of the SQL does not know", r + 1)),
        };
        steps.push(format!("{step} AS s{}", r + 1));
    }
    let last = format!("s{}", steps.len() - 1);
    let mut overrides = String::new();
    for o in model["overrides"].as_array().into_iter().flatten().rev() {
        let (Some(customer), Some(name)) = (o["customer"].as_str(), o["segment"].as_str()) else { continue };
        overrides.push_str(&format!(
            " WHEN CAST(customer_id AS {}) = {} THEN {}",
            d.text(),
            text(customer),
            text(name)
        ));
    }
    let segment = if overrides.is_empty() {
        format!("COALESCE({last}, {fallback_name})")
    } else {
        format!("CASE{overrides} ELSE COALESCE({last}, {fallback_name}) END")
    };
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
    let measures = [&model["rfm"]["measures"], &model["hybrid"]["measures"]];
    for m in measures.into_iter().filter_map(Value::as_array).flatten() {
        if let Some(column) = m["column"].as_str()
            && !raw_columns.contains(&column)
        {
            raw_columns.push(column);
        }
    }
    prepared.extend(raw_columns.iter().map(|c| format!("{} AS {}", q(c), q(&format!("raw_{c}")))));
    let last_step = steps.len() - 1;
    let (coded, measured_from) = if coded.is_empty() {
        (String::new(), "transformed")
    } else {
        (format!("coded AS (\n  SELECT *, {}\n  FROM transformed\n),\n", coded.join(",\n    ")), "coded")
    };
    let ruled: Vec<String> = steps
        .iter()
        .enumerate()
        .map(|(r, step)| {
            let from = if r == 0 { "assigned".to_string() } else { format!("ruled{}", r - 1) };
            format!("ruled{r} AS (\n  SELECT *, {step}\n  FROM {from}\n)")
        })
        .collect();
    let ruled = ruled.join(",\n");
    Ok(format!(
        "-- Strata scoring definition ({}), {} dialect: one statement that scores {table}.\n\
         -- {}\n\
         WITH prepared AS (\n  SELECT {}\n  FROM {}\n),\n\
         transformed AS (\n  SELECT {}, {missing} AS is_missing\n  FROM prepared\n),\n\
         {coded}\
         measured AS (\n  SELECT *, {}, {fallback} AS is_fallback\n  FROM {measured_from}\n),\n\
         assigned AS (\n  SELECT *, {nearest} AS model_segment\n  FROM measured\n),\n\
         {ruled}\n\
         SELECT customer_id,\n  {segment} AS segment_name,\n  CASE WHEN is_fallback THEN NULL ELSE model_segment + 1 END AS model_segment_number,\n  \
         {reason} AS reason,\n  {reason_column} AS reason_column\nFROM ruled{last_step}\n",
        model["assignment_fingerprint"].as_str().unwrap_or_default(),
        Dialect::ALL.iter().find(|(_, x)| *x == d).map_or("", |(n, _)| n),
        model["determinism"].as_str().unwrap_or_default(),
        prepared.join(",\n    "),
        table_name(d, table),
        transformed.join(",\n    "),
        distances.join(",\n    "),
    ))
}

/// The first of `candidates` whose column `<prefix><c>` is the `pick` (LEAST or GREATEST) of
/// them all, as `label(c)`: ties to the lowest number.
fn best_of(candidates: &[usize], prefix: &str, label: impl Fn(usize) -> String, pick: &str) -> String {
    match candidates {
        [] => "NULL".into(),
        [only] => label(*only),
        [rest @ .., last] => {
            let columns: Vec<String> = candidates.iter().map(|c| format!("{prefix}{c}")).collect();
            let best = format!("{pick}({})", columns.join(", "));
            let mut out = String::from("CASE");
            for &c in rest {
                out.push_str(&format!(" WHEN {prefix}{c} = {best} THEN {}", label(c)));
            }
            out.push_str(&format!(" ELSE {} END", label(*last)));
            out
        }
    }
}

/// Each of the three RFM measures' score against its stored edges (columns `rfm0`..`rfm2`), and
/// the condition that all three raw values are finite.
fn rfm_scores(section: &Value, d: Dialect) -> Result<(Vec<String>, String), String> {
    let measures = section["measures"].as_array().filter(|m| m.len() == 3).ok_or("RFM without its three measures")?;
    let mut columns = Vec::new();
    let mut finite = Vec::new();
    for (i, m) in measures.iter().enumerate() {
        let column = d.ident(&format!("raw_{}", m["column"].as_str().ok_or("an RFM measure without a column")?));
        let value = format!(
            "(CASE WHEN ABS(CAST({column} AS {dbl})) <= {max} THEN CAST({column} AS {dbl}) END)",
            dbl = d.double(),
            max = number(d, f64::MAX)
        );
        finite.push(format!("{value} IS NOT NULL"));
        let signed = if m["lower_is_better"].as_bool().unwrap_or(false) { format!("-{value}") } else { value };
        let edges = m["edges"].as_array().filter(|e| e.len() == 4).ok_or("an RFM measure without its four edges")?;
        let above: Vec<String> = edges
            .iter()
            .map(|e| format!("CASE WHEN {signed} > {} THEN 1 ELSE 0 END", number(d, e.as_f64().unwrap_or(f64::NAN))))
            .collect();
        columns.push(format!("(1 + {}) AS rfm{i}", above.join(" + ")));
    }
    Ok((columns, finite.join(" AND ")))
}

/// RFM rules: each measure's score against its stored edges, then the first rule whose ranges
/// hold the three scores; no segment when a measure is missing or not finite, or when the rule's
/// segment had no fitted customers.
fn rfm_assignment(rfm: &Value, d: Dialect) -> Result<(Vec<String>, String), String> {
    let names: Vec<&str> =
        rfm["segment_names"].as_array().ok_or("RFM without segment names")?.iter().filter_map(Value::as_str).collect();
    let index_of =
        |name: &str| names.iter().position(|n| *n == name).map_or_else(|| "NULL".to_string(), |i| i.to_string());
    let (columns, finite) = rfm_scores(rfm, d)?;
    let mut case = format!("CASE WHEN NOT ({finite}) THEN NULL");
    for rule in rfm["rules"].as_array().into_iter().flatten() {
        let within = ["recency", "frequency", "monetary"]
            .iter()
            .enumerate()
            .map(|(i, what)| {
                let range = rule[*what].as_array().filter(|r| r.len() == 2).ok_or("an RFM rule without its ranges")?;
                Ok(format!("rfm{i} BETWEEN {} AND {}", range[0].as_u64().unwrap_or(1), range[1].as_u64().unwrap_or(5)))
            })
            .collect::<Result<Vec<_>, String>>()?;
        case.push_str(&format!(
            " WHEN {} THEN {}",
            within.join(" AND "),
            index_of(rule["name"].as_str().unwrap_or_default())
        ));
    }
    case.push_str(&format!(" ELSE {} END", index_of(rfm["unmatched"].as_str().unwrap_or("Other"))));
    Ok((columns, case))
}

/// k-prototypes: each categorical group's code (columns `kc<g>`: the position of the group's
/// largest output above 0, ties to the lowest, or the group's length when none is), each
/// prototype's cost (columns `p<s>`: the numeric outputs' squared distance to its mean plus gamma
/// per code that differs from its mode), and the lowest cost, ties to the lowest number.
fn prototype_assignment(p: &Value, x: &[String], d: Dialect) -> Result<(Vec<String>, Vec<String>, String), String> {
    let indices = |v: &Value| -> Result<Vec<usize>, String> {
        v.as_array()
            .ok_or("k-prototypes output columns that are not a list")?
            .iter()
            .map(|i| {
                i.as_u64()
                    .map(|i| i as usize)
                    .filter(|&i| i < x.len())
                    .ok_or_else(|| format!("k-prototypes names an output {i} the recipe does not make"))
            })
            .collect()
    };
    let numeric = indices(&p["numeric_outputs"])?;
    let groups =
        p["categorical_outputs"].as_array().ok_or("k-prototypes without its categorical outputs")?.iter().map(indices);
    let groups = groups.collect::<Result<Vec<_>, String>>()?;
    let means = p["means"].as_array().ok_or("k-prototypes without means")?;
    let modes = p["modes"].as_array().ok_or("k-prototypes without modes")?;
    let gamma = p["gamma"].as_f64().filter(|g| g.is_finite()).ok_or("k-prototypes without a finite gamma")?;
    if means.len() != modes.len() {
        return Err(format!("k-prototypes with {} means and {} modes", means.len(), modes.len()));
    }
    let codes: Vec<String> = groups
        .iter()
        .enumerate()
        .map(|(g, group)| {
            let code = match group.as_slice() {
                [] => "0".to_string(),
                [only] => format!("CASE WHEN x{only} > {} THEN 0 ELSE 1 END", number(d, 0.0)),
                _ => {
                    let columns: Vec<String> = group.iter().map(|c| format!("x{c}")).collect();
                    let at = |c: usize| group.iter().position(|&o| o == c).unwrap_or(0).to_string();
                    format!(
                        "CASE WHEN {}({}) > {} THEN {} ELSE {} END",
                        d.greatest(),
                        columns.join(", "),
                        number(d, 0.0),
                        best_of(group, "x", at, d.greatest()),
                        group.len()
                    )
                }
            };
            format!("{code} AS kc{g}")
        })
        .collect();
    let numeric_x: Vec<String> = numeric.iter().map(|&j| x[j].clone()).collect();
    let costs = means
        .iter()
        .zip(modes)
        .enumerate()
        .map(|(s, (mean, mode))| {
            let distance = if numeric.is_empty() {
                number(d, 0.0)
            } else {
                squared_distance(mean, &numeric_x, d).map_err(|e| format!("prototype {s}: {e}"))?
            };
            let mode = mode.as_array().filter(|m| m.len() == groups.len()).ok_or_else(|| {
                format!("prototype {s}'s mode does not have one code per categorical group ({})", groups.len())
            })?;
            let differ: Vec<String> = mode
                .iter()
                .enumerate()
                .map(|(g, m)| {
                    let m = m.as_u64().ok_or("a mode that is not a code")?;
                    Ok(format!("CASE WHEN kc{g} <> {m} THEN 1 ELSE 0 END"))
                })
                .collect::<Result<_, String>>()?;
            Ok(if differ.is_empty() {
                format!("{distance} AS p{s}")
            } else {
                format!("{distance} + {} * ({}) AS p{s}", number(d, gamma), differ.join(" + "))
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let nearest = best_of(&(0..means.len()).collect::<Vec<_>>(), "p", |s| s.to_string(), d.least());
    Ok((codes, costs, nearest))
}

/// RFM tiers with k-means inside: the three scores (as RFM rules score them), the tier of their
/// total, and the nearest of that tier's centroids (columns `h<tier>_<c>`), numbered from the
/// tier's first segment; no segment when a measure is missing or the tier had no fitted customers.
fn hybrid_assignment(h: &Value, x: &[String], d: Dialect) -> Result<(Vec<String>, String), String> {
    let (mut columns, finite) = rfm_scores(h, d)?;
    let edges = h["tier_edges"].as_array().filter(|e| e.len() == 2).ok_or("the hybrid without its two tier edges")?;
    let edge = |i: usize| edges[i].as_u64().ok_or("a tier edge that is not a whole number");
    let (mid, top) = (edge(0)?, edge(1)?);
    let tiers = h["tiers"].as_array().filter(|t| t.len() == 3).ok_or("the hybrid without its three tiers")?;
    let total = "(rfm0 + rfm1 + rfm2)";
    let mut case = format!(
        "CASE WHEN NOT ({finite}) THEN NULL ELSE CASE (CASE WHEN {total} >= {mid} THEN 1 ELSE 0 END + CASE WHEN \
         {total} >= {top} THEN 1 ELSE 0 END)"
    );
    for (t, tier) in tiers.iter().enumerate() {
        if tier.is_null() {
            continue;
        }
        let first = tier["first_segment"].as_u64().ok_or("a tier without its first segment")?;
        let centroids = tier["centroids"].as_array().ok_or("a tier without centroids")?;
        for (c, centroid) in centroids.iter().enumerate() {
            let distance = squared_distance(centroid, x, d).map_err(|e| format!("tier {t}, centroid {c}: {e}"))?;
            columns.push(format!("{distance} AS h{t}_{c}"));
        }
        let candidates: Vec<usize> = (0..centroids.len()).collect();
        let nearest = best_of(&candidates, &format!("h{t}_"), |c| (first + c as u64).to_string(), d.least());
        case.push_str(&format!(" WHEN {t} THEN {nearest}"));
    }
    case.push_str(" END END");
    Ok((columns, case))
}

/// The squared distance from the recipe's outputs `x` to the point `p`.
fn squared_distance(p: &Value, x: &[String], d: Dialect) -> Result<String, String> {
    let p = p.as_array().ok_or("a point that is not a list")?;
    if p.len() != x.len() {
        return Err(format!("{} values for {} outputs", p.len(), x.len()));
    }
    let terms: Vec<String> = p
        .iter()
        .zip(x)
        .map(|(v, x)| {
            let v = number(d, v.as_f64().unwrap_or(f64::NAN));
            format!("({x} - {v}) * ({x} - {v})")
        })
        .collect();
    Ok(terms.join(" + "))
}

/// A mixture component's log density at `x` up to the constant every component shares:
/// `ln(weight) + sum ln(P[i][i]) - 0.5 * sum_i (sum_{j <= i} P[i][j] (x[j] - mean[j]))^2`.
fn log_density(component: &Value, x: &[String], d: Dialect) -> Result<String, String> {
    let weight = component["weight"].as_f64().ok_or("a component without a weight")?;
    let mean: Vec<f64> =
        component["mean"].as_array().ok_or("a component without a mean")?.iter().filter_map(Value::as_f64).collect();
    let factor: Vec<Vec<f64>> = component["precision_factor"]
        .as_array()
        .ok_or("a component without a precision factor")?
        .iter()
        .map(|row| row.as_array().map(|r| r.iter().filter_map(Value::as_f64).collect()).unwrap_or_default())
        .collect();
    if mean.len() != x.len() || factor.len() != x.len() || factor.iter().any(|r| r.len() != x.len()) {
        return Err(format!("a component does not have {} outputs", x.len()));
    }
    let mut constant = weight.ln();
    let mut squares = Vec::new();
    for (i, row) in factor.iter().enumerate() {
        constant += row[i].ln();
        let terms: Vec<String> = row[..=i]
            .iter()
            .enumerate()
            .filter(|(_, p)| **p != 0.0)
            .map(|(j, p)| format!("{} * ({} - {})", number(d, *p), x[j], number(d, mean[j])))
            .collect();
        if !terms.is_empty() {
            squares.push(format!("({0}) * ({0})", terms.join(" + ")));
        }
    }
    if !constant.is_finite() {
        return Err("a component with a weight or precision that has no logarithm".into());
    }
    let squares = if squares.is_empty() { number(d, 0.0) } else { squares.join(" + ") };
    Ok(format!("{} - {} * ({squares})", number(d, constant), number(d, 0.5)))
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
        // As in the rules: customers the model could not place, whatever a rule before did.
        Some("no_segment") => Ok("(is_fallback OR model_segment IS NULL)".into()),
        Some("missing") => {
            let negated = c["negated"].as_bool().unwrap_or(false);
            let col = column(c)?;
            // As the rules read the column: a number that is not finite is missing; blank text is.
            let missing = if c["values"] == "numbers" {
                format!(
                    "({col} IS NULL OR NOT (ABS(CAST({col} AS {dbl})) <= {max}))",
                    dbl = d.double(),
                    max = number(d, f64::MAX)
                )
            } else {
                format!("({col} IS NULL OR TRIM(CAST({col} AS {})) = '')", d.text())
            };
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
