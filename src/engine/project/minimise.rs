//! Data minimisation: the columns a project loads that nothing uses (no feature, rule, id, value
//! column, derived column, lookup, revenue column or audited sensitive column reads them). The Data
//! screen and the report list them; with the project's `minimise` switch on they are dropped from
//! the customer table as soon as a run (or a re-run) has it, so nothing Strata shows, stores or
//! exports after that carries them.

use polars::prelude::DataFrame;

use super::Project;
use crate::engine::data::roles::ColumnRole;
use crate::engine::pipeline::{PipelineResult, PipelineSpec, TableKind};

/// Every column the project reads for something: features, the id, a transaction log's columns
/// (and its breakdowns), the attribute table's key, what derived columns and lookups read, the
/// business rules' conditions, the SWOT board's revenue column, and sensitive columns (named in
/// the governance settings or given that role), which the bias audit groups customers by.
pub fn used_columns(project: &Project) -> Vec<String> {
    let spec = &project.spec;
    let mut used: Vec<String> = Vec::new();
    let mut add = |name: &str| {
        if !name.is_empty() && !used.iter().any(|u| u == name) {
            used.push(name.to_string());
        }
    };
    for feature in &spec.recipe.features {
        add(&feature.column);
    }
    if let Some(id) = spec.id_column() {
        add(id);
    }
    if let TableKind::TransactionLog(t) = &spec.table {
        add(&t.customer_id);
        add(&t.date);
        if let Some(amount) = &t.amount {
            add(amount);
        }
        for column in &t.behaviour.breakdown {
            add(column);
        }
    }
    if let Some(key) = &spec.attributes_key {
        add(key);
    }
    for column in spec.derived.columns_read() {
        add(&column);
    }
    for rule in &project.rules.rules {
        if let Ok(parsed) = crate::engine::rules::parse_rule(&rule.text) {
            for condition in &parsed.conditions {
                match condition {
                    crate::engine::rules::Condition::Compare { column, .. }
                    | crate::engine::rules::Condition::Missing { column, .. } => add(column),
                    crate::engine::rules::Condition::NoSegment => {}
                }
            }
        }
    }
    let revenue = project.board.as_ref().and_then(|b| b.revenue_column.as_deref());
    add(revenue.unwrap_or(crate::engine::swot::evidence::DEFAULT_REVENUE_COLUMN));
    for column in &project.governance.sensitive {
        add(column);
    }
    for (column, role) in &spec.role_overrides {
        if *role == ColumnRole::Sensitive {
            add(column);
        }
    }
    used
}

/// The columns of `loaded` that nothing in `project` uses, in their order.
pub fn unused_columns(project: &Project, loaded: &[String]) -> Vec<String> {
    let used = used_columns(project);
    loaded.iter().filter(|c| !used.contains(c)).cloned().collect()
}

/// The columns a run's customer table holds from the data (with those minimisation dropped): all
/// of them for a customer table; for a transaction log, those not computed from the log (the
/// attribute table's).
pub fn loaded_columns(spec: &PipelineSpec, result: &PipelineResult) -> Vec<String> {
    let names = result
        .customers
        .get_column_names()
        .into_iter()
        .map(|c| c.to_string())
        .chain(result.minimised.iter().cloned())
        .collect::<Vec<_>>()
        .into_iter();
    match &spec.table {
        TableKind::CustomerTable { .. } => names.collect(),
        TableKind::TransactionLog(t) => {
            let computed = |name: &str| {
                crate::engine::features::rfm::RFM_COLUMNS.contains(&name)
                    || (!t.behaviour.is_empty()
                        && ["spend_share_", "order_share_", "distinct_", "first_", "spend_last_", "spend_previous_"]
                            .iter()
                            .any(|p| name.starts_with(p)))
            };
            names.filter(|n| !computed(n)).collect()
        }
    }
}

/// The project's unused columns in a run's customer table (those minimisation dropped included).
pub fn unused_in(project: &Project, result: &PipelineResult) -> Vec<String> {
    unused_columns(project, &loaded_columns(&project.spec, result))
}

/// `frame` without `columns` (those it does not have are ignored).
pub fn without(frame: &DataFrame, columns: &[String]) -> DataFrame {
    let keep: Vec<String> =
        frame.get_column_names().into_iter().map(|c| c.to_string()).filter(|c| !columns.contains(c)).collect();
    frame.select(keep).unwrap_or_else(|_| frame.clone())
}

/// With the project's `minimise` switch on, drops the columns nothing uses from the run's customer
/// table (nothing downstream reads them: the rules' and features' columns stay) and records them
/// in `result.minimised`.
pub fn apply(project: &Project, result: &mut PipelineResult) {
    if project.governance.minimise {
        drop_unused(&used_columns(project), &project.spec, result);
    }
}

/// Drops from the run's customer table the loaded columns not in `used` (as [`used_columns`] gives
/// them for the run's project), recording them in `result.minimised`.
pub fn drop_unused(used: &[String], spec: &PipelineSpec, result: &mut PipelineResult) {
    let unused: Vec<String> = loaded_columns(spec, result)
        .into_iter()
        .filter(|c| !used.contains(c) && !result.minimised.contains(c))
        .collect();
    if !unused.is_empty() {
        result.customers = without(&result.customers, &unused);
        result.minimised.extend(unused);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::features::{FeatureRecipe, FeatureSpec};

    fn project() -> Project {
        let mut spec = crate::engine::project::parse(crate::engine::DEMO_PROJECT).unwrap().project.spec;
        spec.table = TableKind::CustomerTable { id_column: Some("id".into()), no_id: false };
        spec.recipe = FeatureRecipe { features: vec![FeatureSpec::numeric("spend")] };
        let mut project = Project::new(spec);
        project.rules.rules.push(crate::engine::rules::BusinessRule {
            text: "when tier = \"gold\" then segment \"VIP\"".into(),
            why: String::new(),
        });
        project.governance.sensitive.push("age_group".into());
        project
    }

    #[test]
    fn columns_no_feature_rule_id_or_audit_reads_are_unused() {
        let loaded: Vec<String> =
            ["id", "spend", "tier", "age_group", "email", "notes"].iter().map(|s| s.to_string()).collect();
        assert_eq!(unused_columns(&project(), &loaded), ["email", "notes"]);
        let frame = polars::prelude::df!("id" => ["a"], "email" => ["a@b.c"], "spend" => [1.0]).unwrap();
        let kept = without(&frame, &["email".to_string()]);
        assert_eq!(kept.get_column_names(), ["id", "spend"]);
    }
}
