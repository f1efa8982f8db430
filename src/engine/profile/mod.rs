//! Segment profiles: size, share, and the mean and median of each feature in original units.

pub mod explain;
pub mod overlap;
pub mod separation;
pub mod summary;
mod tree;

use polars::prelude::DataFrame;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::data::quality::numeric_values;
use crate::engine::error::DataError;

/// One segment's profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentProfile {
    /// Segment number.
    pub segment: usize,
    /// Customers in it.
    pub size: usize,
    /// Share of all assigned customers, 0..1.
    pub share: f64,
    /// Mean of each profiled column (NaN when the segment has no value for it).
    pub means: Vec<f64>,
    /// Median of each profiled column.
    pub medians: Vec<f64>,
}

/// Profiles of segments `0..n_segments` over numeric `columns` of `frame`; `segments` has one entry
/// per row (`None` for customers without a segment).
pub fn profile_segments(
    frame: &DataFrame,
    segments: &[Option<usize>],
    n_segments: usize,
    columns: &[String],
) -> Result<Vec<SegmentProfile>, DataError> {
    let mut values_by_column = Vec::with_capacity(columns.len());
    for name in columns {
        values_by_column.push(numeric_values(crate::engine::data::column(frame, name)?)?);
    }
    let assigned = segments.iter().flatten().count().max(1);
    // Each segment's rows, in one pass; then every (segment, column) on its own, in parallel.
    let mut rows_by_segment: Vec<Vec<usize>> = vec![Vec::new(); n_segments];
    for (row, segment) in segments.iter().enumerate() {
        if let Some(rows) = segment.and_then(|s| rows_by_segment.get_mut(s)) {
            rows.push(row);
        }
    }
    let n_columns = values_by_column.len();
    let stats: Vec<(f64, f64)> = (0..n_segments * n_columns)
        .into_par_iter()
        .map(|i| {
            let (rows, values) = (&rows_by_segment[i / n_columns], &values_by_column[i % n_columns]);
            let mut v: Vec<f64> = rows.iter().filter_map(|&r| values[r]).filter(|x| x.is_finite()).collect();
            let mean = if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 };
            (mean, median_of(&mut v))
        })
        .collect();
    Ok(rows_by_segment
        .iter()
        .enumerate()
        .map(|(segment, rows)| {
            let (means, medians) = stats[segment * n_columns..(segment + 1) * n_columns].iter().copied().unzip();
            SegmentProfile { segment, size: rows.len(), share: rows.len() as f64 / assigned as f64, means, medians }
        })
        .collect())
}

/// The median of `values` as [`quantile_sorted`](crate::engine::data::quality::quantile_sorted) gives it on the sorted values (the mean of the two
/// middle ones for an even count), found by selection rather than a sort; `values` is reordered.
fn median_of(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let position = 0.5 * (values.len() - 1) as f64;
    let lower = position.floor() as usize;
    let (_, &mut low, above) = values.select_nth_unstable_by(lower, f64::total_cmp);
    let high = if position > lower as f64 { above.iter().copied().min_by(f64::total_cmp).unwrap_or(low) } else { low };
    // The same arithmetic as on the sorted values (it turns a -0.0 median into 0.0 as they do).
    low + (high - low) * (position - lower as f64)
}

/// How many population standard deviations a segment's mean must sit from everyone's, on at least
/// one feature, for the segment to be distinct (a quarter of an SD: Cohen's "small" effect is 0.2).
pub const DISTINCT_SD: f64 = 0.25;

/// The one rule for "distinct": a segment is distinct when at least one of its feature means sits
/// [`DISTINCT_SD`] or more population standard deviations from everyone's mean. `distance_sd` is
/// the segment's row of [`summary::ResultSummary::distance_sd`], the very numbers its card and the
/// profile table show ("1.52 sd above"), so a flag can never contradict them. A segment without any
/// number (no numeric feature) is not judged, and counts as distinct.
pub fn is_distinct(distance_sd: &[f64]) -> bool {
    let finite: Vec<f64> = distance_sd.iter().copied().filter(|d| d.is_finite()).collect();
    finite.is_empty() || finite.iter().any(|d| d.abs() >= DISTINCT_SD)
}

/// The card's flag for a segment that is not distinct (see [`is_distinct`]), or None.
pub fn not_distinct_flag(distance_sd: &[f64]) -> Option<String> {
    if is_distinct(distance_sd) {
        return None;
    }
    let largest = distance_sd.iter().copied().filter(|d| d.is_finite()).map(f64::abs).fold(0.0, f64::max);
    Some(format!(
        "Not distinct: no feature's mean sits {DISTINCT_SD} sd or more from everyone's (the furthest is {largest:.2} sd)"
    ))
}

/// A suggested name for a segment from its most distinctive features: `distance_sd[j]` is how many
/// population standard deviations its mean of `columns[j]` sits from everyone's. The two features
/// furthest away (at least half an SD) name it, in words for the usual RFM columns ("Lapsed,
/// one-time"); a segment close to everyone on every feature is "Typical customers".
pub fn suggest_name(columns: &[String], distance_sd: &[f64]) -> String {
    let words = distinguishing_words(columns, distance_sd, 2);
    if words.is_empty() {
        return "Typical customers".to_string();
    }
    let joined = words.join(", ");
    let mut chars = joined.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().collect::<String>() + chars.as_str())
}

/// What sets a segment apart, in words: its `n` features furthest from everyone's mean (at least
/// half a population SD), furthest first, in words for the usual RFM columns ("recent",
/// "frequent", "high-spend") and as "high x" / "low x" for the others.
pub fn distinguishing_words(columns: &[String], distance_sd: &[f64], n: usize) -> Vec<String> {
    let mut order: Vec<usize> = (0..columns.len().min(distance_sd.len()))
        .filter(|&j| distance_sd[j].is_finite() && distance_sd[j].abs() >= 0.5)
        .collect();
    order.sort_by(|&a, &b| distance_sd[b].abs().total_cmp(&distance_sd[a].abs()).then(a.cmp(&b)));
    order
        .iter()
        .take(n)
        .map(|&j| {
            let high = distance_sd[j] > 0.0;
            let name = columns[j].as_str();
            let known = match name {
                "recency_days" | "recency" => Some(if high { "lapsed" } else { "recent" }),
                "frequency" | "orders" => Some(if high { "frequent" } else { "one-time" }),
                "monetary_total" | "monetary" => Some(if high { "high-spend" } else { "low-spend" }),
                "monetary_mean" => Some(if high { "big-basket" } else { "small-basket" }),
                "tenure_days" | "tenure" => Some(if high { "long-standing" } else { "new" }),
                _ => None,
            };
            known.map_or_else(
                || format!("{} {}", if high { "high" } else { "low" }, name.replace('_', " ")),
                str::to_string,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_by_selection_is_the_sorted_median() {
        use crate::engine::data::quality::quantile_sorted;
        let mut rng = crate::engine::rng::SeededRng::new(7);
        for n in [1usize, 2, 3, 4, 5, 10, 101, 1000] {
            let mut values: Vec<f64> = (0..n).map(|_| (rng.next_f64() * 20.0).round() - 10.0).collect();
            values.push(-0.0);
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            assert_eq!(median_of(&mut values).to_bits(), quantile_sorted(&sorted, 0.5).to_bits(), "{n}");
        }
        assert!(median_of(&mut []).is_nan());
    }
    use polars::prelude::*;

    #[test]
    fn names_come_from_the_most_distinctive_features() {
        let columns: Vec<String> =
            ["recency_days", "frequency", "monetary_total", "web_share"].iter().map(|s| s.to_string()).collect();
        assert_eq!(suggest_name(&columns, &[1.4, -0.6, -0.9, 0.1]), "Lapsed, low-spend");
        assert_eq!(suggest_name(&columns, &[-1.0, 2.0, 0.3, 0.0]), "Frequent, recent");
        assert_eq!(suggest_name(&columns, &[0.1, 0.0, 0.2, -3.0]), "Low web share");
        assert_eq!(suggest_name(&columns, &[0.1, 0.2, -0.3, 0.4]), "Typical customers");
        assert_eq!(suggest_name(&columns, &[f64::NAN, 0.0, 0.0, 0.9]), "High web share");
    }

    /// The distances a card shows for a one-feature profile of `frame`'s column "x".
    fn card_distances(x: &[f64], segments: &[Option<usize>], k: usize) -> Vec<Vec<f64>> {
        let frame = df!("x" => x).unwrap();
        let profiles = profile_segments(&frame, segments, k, &["x".into()]).unwrap();
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let sd = (x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)).sqrt();
        summary::distances_in_sd(&profiles, &[mean], &[sd])
    }

    #[test]
    fn a_segment_whose_mean_sits_one_and_a_half_sd_away_is_distinct() {
        // Two groups of 10 at 0 and 3: the population sd is about 1.54, so each mean sits about
        // 0.97 sd away; the flag agrees with the number the card shows.
        let x: Vec<f64> = (0..20).map(|i| if i < 10 { 0.0 } else { 3.0 }).collect();
        let segments: Vec<Option<usize>> = (0..20).map(|i| Some(usize::from(i >= 10))).collect();
        let d = card_distances(&x, &segments, 2);
        assert!((d[0][0] + 0.974).abs() < 0.01, "{d:?}");
        assert!(is_distinct(&d[0]) && is_distinct(&d[1]));
        assert_eq!(not_distinct_flag(&d[0]), None);
        // A segment 1.5 sd above everyone: four customers at 10 among 96 at 0.
        let x: Vec<f64> = (0..100).map(|i| if i < 4 { 10.0 } else { 0.0 }).collect();
        let segments: Vec<Option<usize>> = (0..100).map(|i| Some(usize::from(i < 4))).collect();
        let d = card_distances(&x, &segments, 2);
        assert!(d[1][0] > 1.5, "{d:?}");
        assert_eq!(not_distinct_flag(&d[1]), None, "a mean {:.2} sd away is not flagged", d[1][0]);
        // The card: 1.52, 2.45 and 2.79 sd can never be "not distinct".
        assert_eq!(not_distinct_flag(&[1.52, -2.45, 2.79]), None);
    }

    #[test]
    fn a_segment_whose_means_all_sit_near_everyones_is_flagged() {
        // Segment 1 is a random-looking half of the customers: its mean is everyone's.
        let x: Vec<f64> = (0..40).map(|i| f64::from(i % 4)).collect();
        let segments: Vec<Option<usize>> = (0..40).map(|i| Some(usize::from(i % 8 < 4))).collect();
        let d = card_distances(&x, &segments, 2);
        assert!(d[1][0].abs() < DISTINCT_SD, "{d:?}");
        let flag = not_distinct_flag(&d[1]).expect("flagged");
        assert!(flag.starts_with("Not distinct") && flag.contains("0.25 sd"), "{flag}");
        // Just below and at the threshold; NaN (a feature without values) is not evidence either way.
        assert!(!is_distinct(&[0.249, -0.1]));
        assert!(is_distinct(&[0.25, 0.0]));
        assert!(is_distinct(&[f64::NAN]));
        assert!(!is_distinct(&[f64::NAN, 0.1]));
    }

    #[test]
    fn means_and_medians_per_segment_in_original_units() {
        let frame =
            df!("x" => [1.0, 2.0, 9.0, 10.0, 30.0], "y" => [Some(5.0), None, Some(1.0), Some(3.0), Some(2.0)]).unwrap();
        let segments = [Some(0), Some(0), Some(1), Some(1), None];
        let p = profile_segments(&frame, &segments, 2, &["x".into(), "y".into()]).unwrap();
        assert_eq!((p[0].size, p[0].share), (2, 0.5));
        assert_eq!(p[0].means, vec![1.5, 5.0]);
        assert_eq!(p[1].medians, vec![9.5, 2.0]);
    }
}
