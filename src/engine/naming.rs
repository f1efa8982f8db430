//! Segment names and notes: what an analyst wrote about a segment, kept by segment number in the
//! project and carried to the customers it belongs to.

use serde::{Deserialize, Serialize};

/// A segment's name and notes, kept by segment number.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentNote {
    /// Canonical segment number.
    pub segment: usize,
    /// Business name.
    pub name: String,
    /// Free notes.
    pub notes: String,
    /// Marked low priority: business rules can keep customers out of it (format 4).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub low_priority: bool,
}

/// Segment names and notes of the methods used earlier in a session, by method name: each method
/// numbers its segments its own way, so switching methods and back brings its names back.
pub type NamesByMethod = std::collections::HashMap<&'static str, Vec<SegmentNote>>;

/// What names need to know of a fitted segmentation. The pipeline's result implements it (in the
/// window, which sits above both); the functions here stay below the pipeline, which uses
/// [`SegmentNote`].
pub trait Fitted {
    /// The method's name (`kmeans`, `rfm`, ...).
    fn method(&self) -> &'static str;
    /// The fingerprint of the assignment (segment per customer).
    fn assignment_fingerprint(&self) -> &str;
    /// The model's segment per customer row, before business rules (`None`: dropped).
    fn model_segments(&self) -> &[Option<usize>];
    /// Fitted segments, without the fallback segment (which is numbered `k`).
    fn k(&self) -> usize;
    /// Segments customers can be in: the model's (with the fallback), then the rules'.
    fn n_segments(&self) -> usize;
    /// Segments the model can put customers in (the fitted ones and the fallback when used).
    fn n_model_segments(&self) -> usize;
    /// A segment's name before anyone names it.
    fn default_segment_name(&self, segment: usize) -> String;
    /// The column guessed to hold customer ids, if any.
    fn guessed_id_column(&self) -> Option<&str>;
    /// The customer id per row from `column` (see [`customer_ids`]).
    fn customer_ids(&self, column: &str) -> Option<Vec<String>>;
    /// Which customers it segments, as a key (see [`customers_key`]).
    fn customers_key(&self) -> String;
}

/// Which customers a segmentation segments, as a key: the sources' fingerprints, the as-of date and
/// the number of customers. Only segmentations with the same key can be compared row by row.
pub fn customers_key(source_fingerprints: &[String], as_of: Option<chrono::NaiveDate>, n_customers: usize) -> String {
    format!("{source_fingerprints:?} {as_of:?} {n_customers}")
}

/// The ids in `column` of `customers` as text, one per row; `None` when the column is missing, cannot
/// be read as text, or has a missing id.
pub fn customer_ids(customers: &polars::prelude::DataFrame, column: &str) -> Option<Vec<String>> {
    let column = customers.column(column).ok()?.cast(&polars::prelude::DataType::String).ok()?;
    let texts = column.str().ok()?;
    texts.iter().map(|t| t.map(str::to_string)).collect()
}

/// A segment's name: the one in `notes`, else the one `fit` gives it.
pub fn segment_name(notes: &[SegmentNote], fit: &dyn Fitted, segment: usize) -> String {
    notes.iter().find(|n| n.segment == segment).map_or_else(|| fit.default_segment_name(segment), |n| n.name.clone())
}

/// Every segment's name, in segment order (what a kept segmentation stores).
pub fn segment_names(notes: &[SegmentNote], fit: &dyn Fitted) -> Vec<String> {
    (0..fit.n_segments()).map(|s| segment_name(notes, fit, s)).collect()
}

/// The name the fallback segment gets (customers the model could not place for missing data).
pub const FALLBACK_NAME: &str = "Fallback (missing data)";

/// Whether a note is one nobody wrote: no notes, and a name given by default ("Segment N", the
/// fallback's, or what `previous` called the segment).
fn is_default_note(note: &SegmentNote, previous: Option<&dyn Fitted>) -> bool {
    note.notes.is_empty()
        && (note.name == format!("Segment {}", note.segment + 1)
            || note.name == FALLBACK_NAME
            || previous.is_some_and(|p| p.default_segment_name(note.segment) == note.name))
}

/// Carries the notes numbered by `previous` to the segments of `result` their customers went to
/// (customers matched by `id_column` when both tables have it, else by row when the tables have the
/// same rows; segments matched by the Hungarian method on customers in common, at least 30%
/// Jaccard). Names nobody changed are left for the new defaults. Returns what moved, in words, or
/// `None` when the customers cannot be matched or nothing moved.
pub fn carry_names(
    notes: &mut Vec<SegmentNote>,
    previous: &dyn Fitted,
    result: &dyn Fitted,
    id_column: Option<&str>,
) -> Option<String> {
    use crate::engine::metrics::matching::match_segments;
    // Each customer's old and new segment, customers matched by the project's id column, else the
    // column guessed to hold ids.
    let id_column = id_column.or(result.guessed_id_column());
    let ids = |fit: &dyn Fitted| id_column.and_then(|c| fit.customer_ids(c));
    let (old, new): (Vec<Option<usize>>, Vec<Option<usize>>) = match (ids(previous), ids(result)) {
        (Some(old_ids), Some(new_ids)) => {
            let position: std::collections::HashMap<&str, usize> =
                new_ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
            old_ids
                .iter()
                .enumerate()
                .filter_map(|(i, id)| {
                    position.get(id.as_str()).map(|&j| (previous.model_segments()[i], result.model_segments()[j]))
                })
                .unzip()
        }
        _ if previous.customers_key() == result.customers_key() => {
            (previous.model_segments().to_vec(), result.model_segments().to_vec())
        }
        _ => return None,
    };
    let (k_old, k_new) = (previous.k(), result.k());
    let matched = match_segments(&old, &new, k_old, k_new, 0.3);
    let mut moved = Vec::new();
    let mut lost = Vec::new();
    let mut carried = Vec::new();
    for note in notes.drain(..) {
        if note.segment == k_old {
            // The fallback segment stays the fallback segment.
            carried.push(SegmentNote { segment: k_new, ..note });
            continue;
        }
        if is_default_note(&note, Some(previous)) {
            continue;
        }
        match matched.get(note.segment).copied().flatten() {
            Some(n) => {
                if n != note.segment {
                    moved.push(format!("'{}' from segment {} to {}", note.name, note.segment + 1, n + 1));
                }
                carried.push(SegmentNote { segment: n, ..note });
            }
            None => lost.push(format!("'{}'", note.name)),
        }
    }
    *notes = carried;
    let new_segments: Vec<String> =
        (0..k_new).filter(|n| !matched.contains(&Some(*n))).map(|n| format!("{}", n + 1)).collect();
    let mut parts = Vec::new();
    if !moved.is_empty() {
        parts.push(format!("Names followed their customers: {}.", moved.join(", ")));
    }
    if !lost.is_empty() {
        parts.push(format!(
            "No segment is like the one named {} any more; the name was dropped (Undo brings it back).",
            lost.join(", ")
        ));
    }
    if !new_segments.is_empty() && (!moved.is_empty() || !lost.is_empty()) {
        parts.push(format!("New: segment {}.", new_segments.join(", ")));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// What a run did to the names and notes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamesAfterRun {
    /// Names were filled in or replaced by defaults, or another method's names were brought back.
    pub renamed: bool,
    /// The user's names followed their customers to other segments: what moved, in words.
    pub carried: Option<String>,
}

/// Brings `notes` up to date with a new fit `result`, given the `previous` fit shown:
/// - another method: the notes are put aside in `by_method` and that method's earlier ones come back;
/// - the same method re-fitted, with the notes numbered by `previous` (`numbered_by` is its
///   assignment fingerprint): names and notes follow their customers ([`carry_names`]);
/// - then every segment without a note gets its default name (the fallback segment is named so),
///   and names nobody changed (the previous fit's defaults) become this fit's defaults: rules name
///   their segments, and a renumbered segment should not keep another's name.
pub fn names_after_run(
    notes: &mut Vec<SegmentNote>,
    by_method: &mut NamesByMethod,
    previous: Option<&dyn Fitted>,
    numbered_by: Option<&str>,
    result: &dyn Fitted,
    id_column: Option<&str>,
) -> NamesAfterRun {
    let k = result.k();
    let mut previous = previous;
    let mut after = NamesAfterRun::default();
    if let Some(p) = previous
        && p.method() != result.method()
    {
        let restored = by_method.remove(result.method()).unwrap_or_default();
        let put_aside = std::mem::replace(notes, restored);
        by_method.insert(p.method(), put_aside);
        previous = None;
        after.renamed = true;
    }
    if let Some(p) = previous
        && p.assignment_fingerprint() != result.assignment_fingerprint()
        && numbered_by == Some(p.assignment_fingerprint())
    {
        after.carried = carry_names(notes, p, result, id_column);
    }
    for segment in 0..result.n_segments() {
        let name = if segment == k && result.n_model_segments() > k {
            FALLBACK_NAME.to_string()
        } else {
            result.default_segment_name(segment)
        };
        match notes.iter_mut().find(|n| n.segment == segment) {
            None => {
                notes.push(SegmentNote { segment, name, ..Default::default() });
                after.renamed = true;
            }
            Some(note) => {
                if is_default_note(note, previous) && note.name != name {
                    note.name = name;
                    after.renamed = true;
                }
            }
        }
    }
    notes.sort_by_key(|n| n.segment);
    after
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fit made of plain vectors.
    struct Fake {
        method: &'static str,
        fingerprint: String,
        segments: Vec<Option<usize>>,
        names: Vec<String>,
        ids: Option<Vec<String>>,
        key: String,
    }

    impl Fake {
        fn new(method: &'static str, segments: &[usize]) -> Self {
            let k = segments.iter().max().map_or(0, |m| m + 1);
            Self {
                method,
                fingerprint: format!("{method} {segments:?}"),
                segments: segments.iter().map(|&s| Some(s)).collect(),
                names: (0..k).map(|s| format!("Segment {}", s + 1)).collect(),
                ids: None,
                key: "same customers".into(),
            }
        }
    }

    impl Fitted for Fake {
        fn method(&self) -> &'static str {
            self.method
        }
        fn assignment_fingerprint(&self) -> &str {
            &self.fingerprint
        }
        fn model_segments(&self) -> &[Option<usize>] {
            &self.segments
        }
        fn k(&self) -> usize {
            self.names.len()
        }
        fn n_segments(&self) -> usize {
            self.names.len()
        }
        fn n_model_segments(&self) -> usize {
            self.names.len()
        }
        fn default_segment_name(&self, segment: usize) -> String {
            self.names.get(segment).cloned().unwrap_or_else(|| format!("Segment {}", segment + 1))
        }
        fn guessed_id_column(&self) -> Option<&str> {
            None
        }
        fn customer_ids(&self, _column: &str) -> Option<Vec<String>> {
            self.ids.clone()
        }
        fn customers_key(&self) -> String {
            self.key.clone()
        }
    }

    fn note(segment: usize, name: &str) -> SegmentNote {
        SegmentNote { segment, name: name.into(), ..Default::default() }
    }

    #[test]
    fn a_first_run_names_every_segment_by_default() {
        let fit = Fake::new("kmeans", &[0, 1, 2, 1]);
        let mut notes = Vec::new();
        let after = names_after_run(&mut notes, &mut NamesByMethod::new(), None, None, &fit, None);
        assert!(after.renamed);
        assert_eq!(after.carried, None);
        let names: Vec<&str> = notes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["Segment 1", "Segment 2", "Segment 3"]);
        assert_eq!(segment_names(&notes, &fit), ["Segment 1", "Segment 2", "Segment 3"]);
    }

    #[test]
    fn names_follow_their_customers_when_a_refit_renumbers_the_segments() {
        let before = Fake::new("kmeans", &[0, 0, 1, 1, 2, 2]);
        // The same customers, segments numbered the other way round.
        let after_fit = Fake::new("kmeans", &[2, 2, 1, 1, 0, 0]);
        let mut notes =
            vec![note(0, "Loyal"), note(1, "Segment 2"), SegmentNote { notes: "call".into(), ..note(2, "New") }];
        let after = names_after_run(
            &mut notes,
            &mut NamesByMethod::new(),
            Some(&before),
            Some(&before.fingerprint),
            &after_fit,
            None,
        );
        assert_eq!(segment_name(&notes, &after_fit, 2), "Loyal");
        assert_eq!(segment_name(&notes, &after_fit, 0), "New");
        assert_eq!(notes.iter().find(|n| n.segment == 0).map(|n| n.notes.as_str()), Some("call"));
        assert_eq!(segment_name(&notes, &after_fit, 1), "Segment 2", "a default name stays a default");
        assert_eq!(
            after.carried.as_deref(),
            Some("Names followed their customers: 'Loyal' from segment 1 to 3, 'New' from segment 3 to 1.")
        );
    }

    #[test]
    fn notes_numbered_by_another_run_are_not_carried() {
        let before = Fake::new("kmeans", &[0, 0, 1, 1]);
        let after_fit = Fake::new("kmeans", &[1, 1, 0, 0]);
        let mut notes = vec![note(0, "Loyal"), note(1, "Segment 2")];
        // After an undo the notes are numbered by an earlier run than `before`.
        let after = names_after_run(&mut notes, &mut NamesByMethod::new(), Some(&before), None, &after_fit, None);
        assert_eq!(after.carried, None);
        assert_eq!(segment_name(&notes, &after_fit, 0), "Loyal");
    }

    #[test]
    fn customers_are_matched_by_id_when_the_rows_are_in_another_order() {
        let mut before = Fake::new("kmeans", &[0, 0, 1, 1]);
        before.ids = Some(vec!["a".into(), "b".into(), "c".into(), "d".into()]);
        let mut after_fit = Fake::new("kmeans", &[0, 0, 1, 1]);
        after_fit.ids = Some(vec!["c".into(), "d".into(), "a".into(), "b".into()]);
        after_fit.key = "other rows".into();
        let mut notes = vec![note(0, "Loyal"), note(1, "Lapsed")];
        let message = carry_names(&mut notes, &before, &after_fit, Some("id"));
        assert_eq!(notes, vec![note(1, "Loyal"), note(0, "Lapsed")]);
        assert!(message.is_some_and(|m| m.starts_with("Names followed their customers")));
        // Different customers and no ids: nothing can be matched, nothing moves.
        let mut stranger = Fake::new("kmeans", &[1, 1, 0, 0]);
        stranger.key = "other customers".into();
        let mut notes = vec![note(0, "Loyal")];
        assert_eq!(carry_names(&mut notes, &Fake::new("kmeans", &[0, 0, 1, 1]), &stranger, None), None);
        assert_eq!(notes, vec![note(0, "Loyal")]);
    }

    #[test]
    fn a_segment_with_no_match_loses_its_name_and_says_so() {
        let before = Fake::new("kmeans", &[0, 0, 0, 1, 1, 1]);
        let after_fit = Fake::new("kmeans", &[0, 0, 0, 0, 0, 0]);
        let mut notes = vec![note(0, "Big"), note(1, "Small")];
        let message = carry_names(&mut notes, &before, &after_fit, None).unwrap_or_default();
        assert_eq!(notes, vec![note(0, "Big")]);
        assert!(message.contains("No segment is like the one named 'Small' any more"), "{message}");
    }

    #[test]
    fn switching_methods_puts_names_aside_and_brings_them_back() {
        let kmeans = Fake::new("kmeans", &[0, 1]);
        let mut rfm = Fake::new("rfm", &[0, 1]);
        rfm.names = vec!["Champions".into(), "At risk".into()];
        let mut by_method = NamesByMethod::new();
        let mut notes = vec![note(0, "Loyal"), note(1, "Segment 2")];
        let after = names_after_run(&mut notes, &mut by_method, Some(&kmeans), Some(&kmeans.fingerprint), &rfm, None);
        assert!(after.renamed);
        assert_eq!(segment_names(&notes, &rfm), ["Champions", "At risk"]);
        names_after_run(&mut notes, &mut by_method, Some(&rfm), Some(&rfm.fingerprint), &kmeans, None);
        assert_eq!(segment_names(&notes, &kmeans), ["Loyal", "Segment 2"]);
    }

    #[test]
    fn the_fallback_segment_is_named_and_keeps_its_number_k() {
        let mut fit = Fake::new("kmeans", &[0, 1, 2]);
        // Two fitted segments; segment 2 is the fallback.
        fit.names = vec!["Segment 1".into(), "Segment 2".into(), "Fallback".into()];
        struct WithFallback(Fake);
        impl Fitted for WithFallback {
            fn method(&self) -> &'static str {
                self.0.method()
            }
            fn assignment_fingerprint(&self) -> &str {
                self.0.assignment_fingerprint()
            }
            fn model_segments(&self) -> &[Option<usize>] {
                self.0.model_segments()
            }
            fn k(&self) -> usize {
                2
            }
            fn n_segments(&self) -> usize {
                3
            }
            fn n_model_segments(&self) -> usize {
                3
            }
            fn default_segment_name(&self, segment: usize) -> String {
                self.0.default_segment_name(segment)
            }
            fn guessed_id_column(&self) -> Option<&str> {
                None
            }
            fn customer_ids(&self, column: &str) -> Option<Vec<String>> {
                self.0.customer_ids(column)
            }
            fn customers_key(&self) -> String {
                self.0.customers_key()
            }
        }
        let fit = WithFallback(fit);
        let mut notes = Vec::new();
        names_after_run(&mut notes, &mut NamesByMethod::new(), None, None, &fit, None);
        assert_eq!(segment_name(&notes, &fit, 2), FALLBACK_NAME);
    }
}
