//! Customers moving between segments from one assignment to the next, matched by id: the
//! migration matrix with "new" (only in the current assignment) and "gone" (only in the previous),
//! the retention of each previous segment and each segment's net flow.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// The row of customers only in the current assignment.
pub const NEW: &str = "new";
/// The column of customers only in the previous assignment.
pub const GONE: &str = "gone";

/// A migration matrix and what it says per segment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Migration {
    /// Row labels: the previous segments, then "new".
    pub from: Vec<String>,
    /// Column labels: the current segments, then "gone".
    pub to: Vec<String>,
    /// Customers per (from, to).
    pub counts: Vec<Vec<u64>>,
    /// Per previous segment.
    pub retention: Vec<Retention>,
    /// Per segment (either side), customers now minus customers before.
    pub net_flow: Vec<(String, i64)>,
    /// Customers in both assignments.
    pub n_common: u64,
    /// Customers only in the current one.
    pub n_new: u64,
    /// Customers only in the previous one.
    pub n_gone: u64,
}

/// How many of a previous segment's customers are still in it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Retention {
    /// The segment.
    pub segment: String,
    /// Its customers before.
    pub n_before: u64,
    /// Of those, still present now.
    pub n_present: u64,
    /// Of those, in the same segment now.
    pub n_stayed: u64,
    /// n_stayed / n_present (not a number when none is present).
    pub retention: f64,
}

/// Pairs of (customer id, segment name) as one id -> name map; an id given twice is refused.
fn by_id<'a>(pairs: &'a [(String, String)], which: &str) -> Result<HashMap<&'a str, &'a str>, String> {
    let mut map = HashMap::with_capacity(pairs.len());
    for (id, segment) in pairs {
        if map.insert(id.as_str(), segment.as_str()).is_some() {
            return Err(format!("customer '{id}' appears twice in the {which} assignment"));
        }
    }
    Ok(map)
}

/// The migration from `previous` to `current` (each: customer id and segment name). Segments are
/// listed in `order` first (the version's own), then any others by name.
pub fn migration(
    previous: &[(String, String)],
    current: &[(String, String)],
    order: &[String],
) -> Result<Migration, String> {
    let before = by_id(previous, "previous")?;
    let now = by_id(current, "current")?;
    let listed = |names: Vec<&str>| -> Vec<String> {
        let mut out: Vec<String> = order.iter().filter(|o| names.contains(&o.as_str())).cloned().collect();
        let mut rest: Vec<String> =
            names.iter().filter(|n| !order.iter().any(|o| o == *n)).map(|n| n.to_string()).collect();
        rest.sort();
        rest.dedup();
        out.extend(rest);
        out
    };
    let from_names = listed(before.values().copied().collect());
    let to_names = listed(now.values().copied().collect());
    let mut from = from_names.clone();
    from.push(NEW.to_string());
    let mut to = to_names.clone();
    to.push(GONE.to_string());
    let row: HashMap<&str, usize> = from_names.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
    let col: HashMap<&str, usize> = to_names.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
    let mut counts = vec![vec![0u64; to.len()]; from.len()];
    let (mut n_common, mut n_gone) = (0, 0);
    for (id, segment) in &before {
        let r = row[segment];
        match now.get(id) {
            Some(s) => {
                counts[r][col[s]] += 1;
                n_common += 1;
            }
            None => {
                counts[r][to.len() - 1] += 1;
                n_gone += 1;
            }
        }
    }
    let mut n_new = 0;
    for (id, segment) in &now {
        if !before.contains_key(id) {
            counts[from.len() - 1][col[segment]] += 1;
            n_new += 1;
        }
    }
    let retention = from_names
        .iter()
        .enumerate()
        .map(|(r, name)| {
            let n_before: u64 = counts[r].iter().sum();
            let n_present = n_before - counts[r][to.len() - 1];
            let n_stayed = col.get(name.as_str()).map_or(0, |&c| counts[r][c]);
            Retention {
                segment: name.clone(),
                n_before,
                n_present,
                n_stayed,
                retention: if n_present == 0 { f64::NAN } else { n_stayed as f64 / n_present as f64 },
            }
        })
        .collect();
    let mut names: Vec<String> = from_names.clone();
    names.extend(to_names.iter().filter(|n| !from_names.contains(n)).cloned());
    let net_flow = names
        .into_iter()
        .map(|name| {
            let before_n: u64 = row.get(name.as_str()).map_or(0, |&r| counts[r].iter().sum());
            let now_n: u64 = col.get(name.as_str()).map_or(0, |&c| counts.iter().map(|r| r[c]).sum());
            let flow = now_n as i64 - before_n as i64;
            (name, flow)
        })
        .collect();
    Ok(Migration { from, to, counts, retention, net_flow, n_common, n_new, n_gone })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn a_small_migration_by_hand() {
        let before = pairs(&[("1", "A"), ("2", "A"), ("3", "A"), ("4", "B"), ("5", "B")]);
        let now = pairs(&[("1", "A"), ("2", "B"), ("4", "B"), ("5", "C"), ("6", "C")]);
        let m = migration(&before, &now, &["A".into(), "B".into(), "C".into()]).unwrap();
        assert_eq!(m.from, vec!["A", "B", "new"]);
        assert_eq!(m.to, vec!["A", "B", "C", "gone"]);
        assert_eq!(m.counts, vec![vec![1, 1, 0, 1], vec![0, 1, 1, 0], vec![0, 0, 1, 0]]);
        assert_eq!((m.n_common, m.n_new, m.n_gone), (4, 1, 1));
        assert_eq!(m.retention[0].n_before, 3);
        assert_eq!(m.retention[0].n_present, 2);
        assert_eq!(m.retention[0].retention, 0.5);
        assert_eq!(m.retention[1].retention, 0.5);
        assert_eq!(m.net_flow, vec![("A".into(), -2), ("B".into(), 0), ("C".into(), 2)]);
    }

    #[test]
    fn all_customers_new_and_a_repeated_id() {
        let m = migration(&pairs(&[("1", "A")]), &pairs(&[("2", "A"), ("3", "B")]), &[]).unwrap();
        assert_eq!(m.counts, vec![vec![0, 0, 1], vec![1, 1, 0]]);
        assert_eq!((m.n_common, m.n_new, m.n_gone), (0, 2, 1));
        assert!(m.retention[0].retention.is_nan(), "no one present: no retention, not 0");
        let err = migration(&pairs(&[("1", "A"), ("1", "B")]), &[], &[]).unwrap_err();
        assert!(err.contains("'1' appears twice in the previous"), "{err}");
        let empty = migration(&[], &[], &[]).unwrap();
        assert_eq!(empty.counts, vec![vec![0]]);
    }
}
