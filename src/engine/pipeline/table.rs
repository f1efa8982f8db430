//! The customer table: a customer table as read, or a transaction log aggregated to customers,
//! with the attribute table joined and the duplicate-id rule applied.

use super::*;

/// The customer table and what happened building it.
#[derive(Clone)]
pub struct CustomerTable {
    /// One row per customer.
    pub frame: DataFrame,
    /// As-of date, for transaction logs.
    pub as_of: Option<NaiveDate>,
    /// Fingerprints of the sources, in order (main, attributes).
    pub fingerprints: Vec<String>,
    /// Warnings so far.
    pub warnings: Vec<String>,
    /// Rows (customers) that go to the fallback segment because a date of theirs did not parse
    /// and the user chose the fallback segment for such rows; sorted.
    pub fallback_rows: Vec<usize>,
    /// How the customers and the attribute table matched, when one was joined.
    pub join: Option<crate::engine::features::JoinReport>,
    /// The value analysis of the log, when the spec asks for one.
    pub value: Option<Arc<crate::engine::value::ValueAnalysis>>,
}

/// Stage 1: sources to one row per customer.
pub fn build_customer_table(spec: &PipelineSpec, resolver: &SourceResolver) -> Result<CustomerTable, PipelineError> {
    build_customer_table_with(spec, resolver, None)
}

/// Stage 1 with the sources' fingerprints already known (main, then attributes), so they are not
/// hashed again; `None` hashes them here.
pub(crate) fn build_customer_table_with(
    spec: &PipelineSpec,
    resolver: &SourceResolver,
    known_fingerprints: Option<&[String]>,
) -> Result<CustomerTable, PipelineError> {
    let fingerprint_of = |source: &SourceSpec, index: usize| match known_fingerprints.and_then(|k| k.get(index)) {
        Some(known) => Ok(known.clone()),
        None => source_fingerprint(source, resolver),
    };
    // A transaction log needs three columns: the others are not typed (text) or not read (Parquet).
    // With derived columns, the columns they read are needed too and the ones they make are not in
    // the file.
    let needed = match &spec.table {
        TableKind::TransactionLog(t) => {
            let mut needed = t.key_columns();
            needed.extend(t.behaviour.breakdown.iter().filter(|c| !needed.contains(c)).cloned().collect::<Vec<_>>());
            spec.derived.columns_to_read(&needed)
        }
        TableKind::CustomerTable { .. } => None,
    };
    let ids: Vec<String> = spec.id_column().map(str::to_string).into_iter().collect();
    let main = LoadedSource {
        fingerprint: fingerprint_of(&spec.source, 0)?,
        table: read_source_with(&spec.source, resolver, needed.as_deref(), &ids)?,
    };
    let mut warnings = main.table.warnings.clone();
    let mut fingerprints = vec![main.fingerprint];
    // Rows whose date did not parse, kept for the fallback segment: followed by customer id, as
    // aggregating a log or applying the repeated-ids rule moves rows.
    let unparsed_rows = main.table.unparsed_date_rows();
    let fallback_ids = match spec.id_column() {
        Some(id) if !unparsed_rows.is_empty() => Some(ids_at(&main.table.frame, id, &unparsed_rows)?),
        _ => None,
    };
    let main_frame = if spec.derived.is_empty() {
        main.table.frame
    } else {
        let (frame, derive_warnings) = apply_derived_columns(main.table.frame, &spec.derived, resolver)?;
        warnings.extend(derive_warnings);
        frame
    };
    // Lookup tables are fingerprinted like the data (after the attribute table, in their order), so a
    // changed rate table is reported as a changed data file is.
    let lookup_fingerprints = spec
        .derived
        .lookups
        .iter()
        .map(|lookup| {
            let source = SourceSpec {
                source: DataSource::File(lookup.path.clone()),
                read_options: ReadOptions::default(),
                fingerprint: None,
            };
            source_fingerprint(&source, resolver)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut value = None;
    let (mut frame, as_of) = match &spec.table {
        TableKind::TransactionLog(columns) => {
            let formats = &spec.source.read_options.formats;
            let rfm = aggregate_transactions_with(&main_frame, columns, formats)?;
            warnings.extend(rfm.warnings);
            let mut customers = rfm.customers;
            if !columns.behaviour.is_empty() {
                use crate::engine::features::behaviour::{behavioural_features, join_features};
                let features = behavioural_features(&main_frame, columns, formats, rfm.as_of, &columns.behaviour)?;
                warnings.extend(features.warnings);
                customers = join_features(&customers, &features.customers, &columns.customer_id)?;
            }
            if let Some(value_spec) = &columns.value {
                let analysis = value_analysis(&main_frame, columns, formats, value_spec)?;
                customers = join_value_columns(customers, &columns.customer_id, &analysis)?;
                warnings.extend(analysis.fit_issues().iter().map(|w| format!("customer value: {w}")));
                value = Some(Arc::new(analysis));
            }
            (customers, Some(rfm.as_of))
        }
        TableKind::CustomerTable { id_column, no_id } => {
            let mut frame = main_frame;
            match id_column {
                Some(id) => {
                    frame = apply_duplicate_rule(frame, id, spec.duplicate_ids, IdOrigin::Named, &mut warnings)?
                }
                // Repeated ids are found whether or not the id was named: segmenting a customer's
                // rows as several customers would silently change the result.
                None if !no_id => {
                    let guessed = effective_roles(&frame, &spec.role_overrides)
                        .into_iter()
                        .find(|g| g.role == ColumnRole::CustomerId)
                        .map(|g| g.column);
                    if let Some(id) = guessed {
                        frame = apply_duplicate_rule(frame, &id, spec.duplicate_ids, IdOrigin::Guessed, &mut warnings)?;
                    }
                }
                None => {}
            }
            (frame, None)
        }
    };
    let mut join = None;
    if let Some(attributes) = &spec.attributes {
        let id = spec.id_column().ok_or_else(|| DataError::BadColumn {
            column: "(customer id)".into(),
            problem: "is needed to join an attribute table; set the customer id column".into(),
        })?;
        let loaded = LoadedSource {
            fingerprint: fingerprint_of(attributes, 1)?,
            // The key stays the text written, as the customer id does, so `00042` meets `00042`.
            table: read_source_with(
                attributes,
                resolver,
                None,
                &[spec.attributes_key.clone().unwrap_or_else(|| id.to_string())],
            )?,
        };
        warnings.extend(loaded.table.warnings.iter().cloned());
        fingerprints.push(loaded.fingerprint);
        let (joined, report, join_warnings) =
            join_attributes(&frame, &loaded.table.frame, id, spec.attributes_key.as_deref())?;
        frame = joined;
        warnings.extend(join_warnings);
        join = Some(report);
    }
    let fallback_rows = match (&fallback_ids, spec.id_column()) {
        (Some(ids), Some(id)) => {
            let rows = rows_with_ids(&frame, id, ids)?;
            let mut line = format!(
                "{} customer(s) have a date that did not parse and go to the fallback segment (your choice)",
                rows.len()
            );
            if rows.len() < ids.len() {
                line.push_str(&format!(
                    "; {} more had no row with a readable date and are not in the customer table",
                    ids.len() - rows.len()
                ));
            }
            warnings.push(line);
            rows
        }
        _ if !unparsed_rows.is_empty() => {
            warnings.push(format!(
                "{} customer(s) have a date that did not parse and go to the fallback segment (your choice)",
                unparsed_rows.len()
            ));
            unparsed_rows.into_iter().filter(|&r| r < frame.height()).collect()
        }
        _ => Vec::new(),
    };
    fingerprints.extend(lookup_fingerprints);
    Ok(CustomerTable { frame, as_of, fingerprints, warnings, fallback_rows, join, value })
}

/// The value columns every customer gets when the spec asks for customer lifetime value.
pub const VALUE_COLUMNS: [&str; 4] = ["p_alive", "expected_purchases", "expected_spend", "clv"];

/// Fits the value models on the log's rows.
fn value_analysis(
    log: &DataFrame,
    columns: &TransactionColumns,
    formats: &crate::engine::data::ValueFormats,
    spec: &crate::engine::value::ValueSpec,
) -> Result<crate::engine::value::ValueAnalysis, PipelineError> {
    if columns.amount.is_none() {
        return Err(crate::engine::error::ValueError::BadSetting {
            setting: "customer lifetime value".into(),
            problem: "needs an amount column in the log (spend per purchase); choose one or turn value off".into(),
        }
        .into());
    }
    let rows = crate::engine::features::log_rows(log, columns, formats)?;
    Ok(crate::engine::value::analyse(&rows.frame, &columns.customer_id, spec, 0)?)
}

/// Adds [`VALUE_COLUMNS`] to the customer table by id; a customer the models did not see (first
/// purchase after the calibration end) gets missing values.
fn join_value_columns(
    customers: DataFrame,
    id: &str,
    analysis: &crate::engine::value::ValueAnalysis,
) -> Result<DataFrame, DataError> {
    let index: HashMap<&str, usize> = analysis.summary.ids.iter().enumerate().map(|(i, s)| (s.as_str(), i)).collect();
    let ids = customers.column(id)?.cast(&DataType::String)?;
    let rows: Vec<Option<usize>> =
        ids.as_materialized_series().str()?.iter().map(|s| s.and_then(|s| index.get(s).copied())).collect();
    let v = &analysis.values;
    let mut frame = customers;
    for (name, values) in VALUE_COLUMNS.iter().zip([&v.p_alive, &v.expected_purchases, &v.expected_spend, &v.clv]) {
        let column: Vec<Option<f64>> = rows.iter().map(|r| r.map(|i| values[i]).filter(|x| x.is_finite())).collect();
        frame.with_column(Column::new((*name).into(), column))?;
    }
    Ok(frame)
}

/// The customer ids (as text) at some rows of a table.
fn ids_at(frame: &DataFrame, id: &str, rows: &[usize]) -> Result<std::collections::HashSet<String>, PipelineError> {
    let texts = data::column(frame, id)?.cast(&DataType::String).map_err(DataError::from)?;
    let texts = texts.str().map_err(DataError::from)?;
    Ok(rows.iter().filter_map(|&r| texts.get(r).map(str::to_string)).collect())
}

/// The rows of a table whose customer id (as text) is one of `ids`, in order.
fn rows_with_ids(
    frame: &DataFrame,
    id: &str,
    ids: &std::collections::HashSet<String>,
) -> Result<Vec<usize>, PipelineError> {
    let texts = data::column(frame, id)?.cast(&DataType::String).map_err(DataError::from)?;
    let texts = texts.str().map_err(DataError::from)?;
    Ok(texts.iter().enumerate().filter(|(_, v)| v.is_some_and(|v| ids.contains(v))).map(|(i, _)| i).collect())
}

/// Applies derived columns and lookups to a table as read: lookup tables are read through
/// `resolver` (inside the project's folder unless the user allowed otherwise), then
/// [`crate::engine::derive::apply_derived`] joins and computes. Returns the table and the warnings
/// (match rates, values that came out empty).
pub fn apply_derived_columns(
    frame: DataFrame,
    derived: &crate::engine::derive::DerivedColumns,
    resolver: &SourceResolver,
) -> Result<(DataFrame, Vec<String>), PipelineError> {
    use crate::engine::derive::{LoadedLookup, apply_derived};
    derived.check()?;
    let mut loaded = Vec::with_capacity(derived.lookups.len());
    for lookup in &derived.lookups {
        let path = resolver.resolve(&lookup.path)?;
        let table = data::read_table_with(&path, &ReadOptions::default(), None, &lookup.on)?;
        loaded.push(LoadedLookup { lookup, frame: table.frame });
    }
    Ok(apply_derived(frame, derived, loaded)?)
}

/// Whether the user named the id column or it was guessed from its name and values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IdOrigin {
    Named,
    Guessed,
}

pub(crate) fn apply_duplicate_rule(
    frame: DataFrame,
    id: &str,
    rule: DuplicateIdRule,
    origin: IdOrigin,
    warnings: &mut Vec<String>,
) -> Result<DataFrame, PipelineError> {
    let Some(duplicates) = find_duplicate_ids(&frame, id)? else {
        return Ok(frame);
    };
    let described = duplicate_warning(&duplicates);
    match rule {
        DuplicateIdRule::Refuse => Err(DataError::BadColumn {
            column: id.to_string(),
            problem: format!(
                "repeats customer ids: {}; choose keep-first or aggregate (--duplicates keep-first|aggregate){}",
                described.trim_start_matches(&format!("column '{id}': ")),
                match origin {
                    IdOrigin::Named => "",
                    IdOrigin::Guessed => {
                        ", or, if it is not a customer id (it was guessed from its name and values), pass --no-id or give the id with --id"
                    }
                }
            ),
        }
        .into()),
        DuplicateIdRule::KeepFirst => {
            warnings.push(format!("{described}; kept the first row of each (your choice)"));
            Ok(frame
                .lazy()
                .unique_stable(Some(cols([id])), UniqueKeepStrategy::First)
                .collect()
                .map_err(DataError::from)?)
        }
        DuplicateIdRule::Aggregate => {
            warnings.push(format!(
                "{described}; rows aggregated per id: numbers averaged, other columns from the first row (your choice)"
            ));
            let aggregations: Vec<Expr> = frame
                .columns()
                .iter()
                .filter(|c| c.name().as_str() != id)
                .map(|c| {
                    if c.dtype().is_primitive_numeric() {
                        col(c.name().clone()).mean()
                    } else {
                        col(c.name().clone()).first()
                    }
                })
                .collect();
            Ok(frame.lazy().group_by_stable([col(id)]).agg(aggregations).collect().map_err(DataError::from)?)
        }
    }
}

/// Roles after the user's overrides.
pub fn effective_roles(frame: &DataFrame, overrides: &[(String, ColumnRole)]) -> Vec<RoleGuess> {
    with_overrides(guess_roles(frame), overrides)
}

/// Guessed roles with the user's overrides applied.
pub fn with_overrides(mut roles: Vec<RoleGuess>, overrides: &[(String, ColumnRole)]) -> Vec<RoleGuess> {
    for guess in &mut roles {
        if let Some((_, role)) = overrides.iter().find(|(c, _)| *c == guess.column) {
            guess.role = *role;
            guess.reason = "set by you".to_string();
        }
    }
    roles
}
