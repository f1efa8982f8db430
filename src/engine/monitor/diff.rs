//! Two published versions side by side, as `strata diff` and the Monitor screen show them: every
//! changed key of the spec, names and rules; segment sizes by name; each segment's mean per numeric
//! input feature; and, re-running both on their own data, who moved where (the customers in common,
//! by id).

use serde_json::json;

use crate::engine::data;
use crate::engine::pipeline::{PipelineResult, SourceResolver};
use crate::engine::project::Project;
use crate::engine::project::versions::{ModelVersion, SpecChange, changes};

use super::Migration;
use super::periods::rerun_version;

/// A segment of either version: its size and feature means on each side (`None`: not there).
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentDiff {
    /// The segment's name.
    pub name: String,
    /// Fitted customers in the older version.
    pub size_from: Option<u64>,
    /// Fitted customers in the newer one.
    pub size_to: Option<u64>,
    /// Mean of each numeric input feature in the older version (when it could be re-run).
    pub means_from: Option<Vec<(String, f64)>>,
    /// The same in the newer one.
    pub means_to: Option<Vec<(String, f64)>>,
}

/// Two versions compared.
#[derive(Clone, Debug, PartialEq)]
pub struct VersionDiff {
    /// The older version's number.
    pub from: u32,
    /// The newer one's.
    pub to: u32,
    /// Every changed key of the spec, the names and the rules.
    pub spec_changes: Vec<SpecChange>,
    /// Every segment of either version: the older's, then those only the newer has.
    pub segments: Vec<SegmentDiff>,
    /// Who moved where, on the customers in common.
    pub migration: Option<Migration>,
    /// Why there is no migration (no id column, a version that no longer reproduces).
    pub migration_unavailable: Option<String>,
}

impl VersionDiff {
    /// The JSON `strata diff --json` prints (every figure at full precision).
    pub fn to_json(&self) -> serde_json::Value {
        let means = |m: &Option<Vec<(String, f64)>>| {
            m.as_ref().map(|m| m.iter().map(|(c, v)| (c.clone(), json!(v))).collect::<serde_json::Map<_, _>>())
        };
        let segments: Vec<serde_json::Value> = self
            .segments
            .iter()
            .map(|s| {
                json!({
                    "segment": s.name,
                    "size_from": s.size_from,
                    "size_to": s.size_to,
                    "means_from": means(&s.means_from),
                    "means_to": means(&s.means_to),
                })
            })
            .collect();
        json!({
            "from": self.from,
            "to": self.to,
            "spec_changes": self.spec_changes,
            "segments": segments,
            "migration": self.migration,
            "migration_unavailable": self.migration_unavailable,
        })
    }
}

/// Compares versions `from` and `to` of `project`, re-running each on its own data (read through
/// `resolver`) for the migration and the profiles.
pub fn diff(
    project: &Project,
    from: &ModelVersion,
    to: &ModelVersion,
    resolver: &SourceResolver,
    accept_changed_data: bool,
) -> Result<VersionDiff, String> {
    let as_json = |v: &ModelVersion| {
        json!({"spec": serde_json::to_value(&v.spec).unwrap_or_default(),
               "names": v.names, "rules": serde_json::to_value(&v.rules).unwrap_or_default()})
    };
    let spec_changes = changes(&as_json(from), &as_json(to));
    let run = |v: &ModelVersion| rerun_version(project, v, resolver, accept_changed_data);
    let (a, b) = (run(from), run(to));
    let (migration, migration_unavailable, profile) = match (&a, &b) {
        (Ok((ra, Some(pa))), Ok((rb, Some(pb)))) => {
            let m = super::migration::migration(pa, pb, &from.names)?;
            (Some(m), None, Some((profiles(ra, &from.names), profiles(rb, &to.names))))
        }
        (Ok(_), Ok(_)) => (None, Some("the project names no customer id column".to_string()), None),
        (Err(e), _) | (_, Err(e)) => (None, Some(e.clone()), None),
    };
    // Sizes by segment name, from the published results.
    let sizes = |v: &ModelVersion| -> Vec<(String, u64)> {
        v.names.iter().cloned().zip(v.reference.segment_counts.iter().copied()).collect()
    };
    let (sizes_from, sizes_to) = (sizes(from), sizes(to));
    let mut names: Vec<String> = from.names.clone();
    names.extend(to.names.iter().filter(|n| !from.names.contains(n)).cloned());
    let size_of = |list: &[(String, u64)], name: &str| list.iter().find(|(n, _)| n == name).map(|(_, c)| *c);
    let means_of = |list: Option<&Vec<Profile>>, name: &str| {
        list.and_then(|l| l.iter().find(|(n, _, _)| n == name)).map(|(_, _, means)| means.clone())
    };
    let segments = names
        .iter()
        .map(|name| SegmentDiff {
            name: name.clone(),
            size_from: size_of(&sizes_from, name),
            size_to: size_of(&sizes_to, name),
            means_from: means_of(profile.as_ref().map(|p| &p.0), name),
            means_to: means_of(profile.as_ref().map(|p| &p.1), name),
        })
        .collect();
    Ok(VersionDiff { from: from.number, to: to.number, spec_changes, segments, migration, migration_unavailable })
}

/// A segment's name, customers and mean per numeric input feature.
type Profile = (String, u64, Vec<(String, f64)>);

/// Per segment name: customers and the mean of each numeric input feature.
fn profiles(result: &PipelineResult, names: &[String]) -> Vec<Profile> {
    let columns: Vec<String> =
        super::input_columns(&result.fitted_recipe).into_iter().filter(|(_, n)| *n).map(|(c, _)| c).collect();
    let values: Vec<Vec<Option<f64>>> = columns
        .iter()
        .map(|c| {
            data::column(&result.customers, c)
                .ok()
                .and_then(|c| data::quality::numeric_values(c).ok())
                .unwrap_or_default()
        })
        .collect();
    names
        .iter()
        .enumerate()
        .map(|(s, name)| {
            let rows: Vec<usize> =
                (0..result.segment_per_customer.len()).filter(|&r| result.segment_per_customer[r] == Some(s)).collect();
            let means = columns
                .iter()
                .zip(&values)
                .map(|(c, v)| {
                    let finite: Vec<f64> =
                        rows.iter().filter_map(|&r| v.get(r).copied().flatten()).filter(|x| x.is_finite()).collect();
                    let mean =
                        if finite.is_empty() { f64::NAN } else { finite.iter().sum::<f64>() / finite.len() as f64 };
                    (c.clone(), mean)
                })
                .collect();
            (name.clone(), rows.len() as u64, means)
        })
        .collect()
}
