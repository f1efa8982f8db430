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
    /// The palette slot of its colour when that is not its segment number's: a named segment keeps
    /// its colour when a re-fit renumbers it (format 6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colour: Option<usize>,
}

impl SegmentNote {
    /// The palette slot its colour comes from.
    pub fn colour_slot(&self) -> usize {
        self.colour.unwrap_or(self.segment)
    }

    /// The note moved to segment `target`, keeping its colour.
    fn moved_to(&self, target: usize) -> SegmentNote {
        let slot = self.colour_slot();
        SegmentNote { segment: target, colour: (slot != target).then_some(slot), ..self.clone() }
    }
}

/// The palette slot of each of the `k` model segments: a named segment keeps the slot it came with
/// (the first claim wins), and every other segment takes its own number when that is free, else the
/// lowest free slot, so that no two segments share a colour.
pub fn colour_slots(notes: &[SegmentNote], k: usize) -> Vec<usize> {
    let mut slots: Vec<Option<usize>> = vec![None; k];
    let mut taken = std::collections::BTreeSet::new();
    for note in notes.iter().filter(|n| n.segment < k && n.colour.is_some()) {
        let slot = note.colour_slot();
        if slots[note.segment].is_none() && taken.insert(slot) {
            slots[note.segment] = Some(slot);
        }
    }
    for (s, slot) in slots.iter_mut().enumerate() {
        if slot.is_none() && taken.insert(s) {
            *slot = Some(s);
        }
    }
    let mut next = 0;
    slots
        .into_iter()
        .map(|slot| {
            slot.unwrap_or_else(|| {
                while taken.contains(&next) {
                    next += 1;
                }
                taken.insert(next);
                next
            })
        })
        .collect()
}

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
    /// The id column as the table holds it, to tell in one comparison that two segmentations are of
    /// the same customers in the same rows; `None` where it is not at hand.
    fn id_values(&self, _column: &str) -> Option<&polars::prelude::Column> {
        None
    }
}

/// A segmentation in a few words, as the Compare screen lists it ("k-means, k = 5").
pub fn segmentation_title(
    spec: &crate::engine::pipeline::PipelineSpec,
    result: &crate::engine::pipeline::PipelineResult,
) -> String {
    let algorithm = &spec.model.algorithm;
    match algorithm.k() {
        Some(k) => format!("{}, k = {k}", algorithm.label()),
        None => format!("{}, {} segments", algorithm.label(), result.fit.k()),
    }
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

/// When a name follows its customers: the new segment that holds the most of the named segment's
/// customers gets the name when it holds at least half of them ([`MIN_SHARE_OF_NAMED`]: the
/// majority of the customers the name was written for are there) and they are at least a third of
/// it ([`MIN_SHARE_OF_NEW`]: the name describes a real part of the new group, not a handful lost in
/// a larger one). Otherwise the name is left unnamed, and said so. Two names whose customers went
/// to the same segment are both kept, as "A + B" (the larger share first), with both notes.
pub const MIN_SHARE_OF_NAMED: f64 = 0.5;

/// See [`MIN_SHARE_OF_NAMED`]: the share of the new segment the named customers must make.
pub const MIN_SHARE_OF_NEW: f64 = 1.0 / 3.0;

/// What a change that re-assigned customers did to the names and notes, for the list the window
/// shows after it and for `strata run`. Segment numbers are 0-based here (shown from 1).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NamesChange {
    /// Names that followed their customers to another segment number: name, from, to.
    pub moved: Vec<(String, usize, usize)>,
    /// Names whose customers stayed under the same number.
    pub stayed: Vec<(String, usize)>,
    /// Names whose customers went to one segment, kept together: the names, larger share first,
    /// and the segment.
    pub merged: Vec<(Vec<String>, usize)>,
    /// Names no new segment matches well enough (see [`MIN_SHARE_OF_NAMED`]), with the largest
    /// share of their customers any segment holds.
    pub unnamed: Vec<(String, f64)>,
    /// Segments that got no name of the user's.
    pub new_segments: Vec<usize>,
    /// Names given back to the very segmentation they were written on, when it came back (a
    /// return to a setting tried before): name and segment.
    pub restored: Vec<(String, usize)>,
    /// What else refers to segments (the SWOT board, the presentation) and could not follow its
    /// customers, one line each.
    pub elsewhere: Vec<String>,
    /// Where every old segment went, named or not, by the same rule (for what else refers to
    /// segments: the SWOT board, the presentation's steps).
    pub map: SegmentMap,
}

/// Where each old segment's customers went after a re-fit: `to[s]` is the new number of old segment
/// `s`, or the reason in words when its customers no longer form one segment. Built by
/// [`carry_names`] with the very rule names follow ([`MIN_SHARE_OF_NAMED`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SegmentMap {
    /// Per old segment number: its new number, or why it has none.
    pub to: Vec<Result<usize, String>>,
    /// Each old segment's name.
    pub old_names: Vec<String>,
    /// The old segmentation's assignment fingerprint.
    pub from_fingerprint: String,
    /// The new segmentation's assignment fingerprint.
    pub to_fingerprint: String,
}

impl NamesChange {
    /// Whether any name of the user's was carried, merged or left unnamed.
    pub fn touched_names(&self) -> bool {
        !self.moved.is_empty()
            || !self.stayed.is_empty()
            || !self.merged.is_empty()
            || !self.unnamed.is_empty()
            || !self.restored.is_empty()
            || !self.elsewhere.is_empty()
    }

    /// Whether a name now sits on another number than before (or was merged or dropped).
    pub fn renumbered(&self) -> bool {
        !self.moved.is_empty() || !self.merged.is_empty() || !self.unnamed.is_empty() || !self.restored.is_empty()
    }

    /// One line per name, in words: what moved, what was merged, what was left unnamed.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, from, to) in &self.moved {
            out.push(format!("Moved: \"{name}\" from segment {} to segment {}", from + 1, to + 1));
        }
        for (names, to) in &self.merged {
            let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
            out.push(format!(
                "Merged: {} are mostly in segment {} now, named \"{}\"",
                quoted.join(" and "),
                to + 1,
                names.join(" + ")
            ));
        }
        for (name, share) in &self.unnamed {
            out.push(format!(
                "Left unnamed: \"{name}\" (no segment holds half of its customers; at most {:.0}% are together)",
                share * 100.0
            ));
        }
        for (name, at) in &self.stayed {
            out.push(format!("Stayed: \"{name}\" on segment {}", at + 1));
        }
        for (name, at) in &self.restored {
            out.push(format!("Restored: \"{name}\" on segment {}, as when these segments were last shown", at + 1));
        }
        out.extend(self.elsewhere.iter().cloned());
        if !self.new_segments.is_empty() && self.touched_names() {
            let numbers: Vec<String> = self.new_segments.iter().map(|s| (s + 1).to_string()).collect();
            let noun = if numbers.len() == 1 { "segment" } else { "segments" };
            out.push(format!("New, not named yet: {noun} {}", numbers.join(", ")));
        }
        out
    }
}

/// A segment per customer (`None`: without one).
type Segments = Vec<Option<usize>>;

/// Each customer's old and new model segment, customers matched by `id_column` when both fits have
/// it, else by row when they segment the same customers; `None` when they cannot be matched.
fn matched_customers(
    previous: &dyn Fitted,
    result: &dyn Fitted,
    id_column: Option<&str>,
) -> Option<(Segments, Segments)> {
    let id_column = id_column.or(result.guessed_id_column());
    // The same ids in the same rows (a new k, weight or method on the same table): the rows match as
    // they are, without writing a million ids as text and looking each one up.
    if let Some(column) = id_column
        && let (Some(old_ids), Some(new_ids)) = (previous.id_values(column), result.id_values(column))
        && old_ids.len() == previous.model_segments().len()
        && new_ids.len() == result.model_segments().len()
        && old_ids.dtype() == new_ids.dtype()
        && old_ids.null_count() == 0
        && old_ids.as_materialized_series().equals_missing(new_ids.as_materialized_series())
    {
        return Some((previous.model_segments().to_vec(), result.model_segments().to_vec()));
    }
    let ids = |fit: &dyn Fitted| id_column.and_then(|c| fit.customer_ids(c));
    match (ids(previous), ids(result)) {
        (Some(old_ids), Some(new_ids))
            if old_ids.len() == previous.model_segments().len() && new_ids.len() == result.model_segments().len() =>
        {
            let position: std::collections::HashMap<&str, usize> =
                new_ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
            Some(
                old_ids
                    .iter()
                    .enumerate()
                    .filter_map(|(i, id)| {
                        position.get(id.as_str()).map(|&j| (previous.model_segments()[i], result.model_segments()[j]))
                    })
                    .unzip(),
            )
        }
        _ if previous.customers_key() == result.customers_key()
            && previous.model_segments().len() == result.model_segments().len() =>
        {
            Some((previous.model_segments().to_vec(), result.model_segments().to_vec()))
        }
        _ => None,
    }
}

/// Carries the notes numbered by `previous` to the segments of `result` their customers went to:
/// each name the user wrote goes to the model segment holding the most of its customers when the
/// match is good ([`MIN_SHARE_OF_NAMED`]); names whose customers went to one segment are merged;
/// the fallback segment's note stays the fallback's; a business rule's segment keeps the note
/// written on the segment of that rule's name. Any method, any k: the customers decide. Names
/// nobody changed are left for the new defaults. Returns what happened, or `None` (notes untouched)
/// when the customers cannot be matched.
pub fn carry_names(
    notes: &mut Vec<SegmentNote>,
    previous: &dyn Fitted,
    result: &dyn Fitted,
    id_column: Option<&str>,
) -> Option<NamesChange> {
    let (old, new) = matched_customers(previous, result, id_column)?;
    let (k_old, k_new) = (previous.k(), result.k());
    let (n_old, n_new) = (previous.n_model_segments(), result.n_model_segments());
    let old_fallback = (n_old > k_old).then_some(k_old);
    let new_fallback = (n_new > k_new).then_some(k_new);
    // Customers in common per old and new model segment.
    let mut overlap = vec![vec![0usize; n_new]; n_old];
    let mut old_size = vec![0usize; n_old];
    let mut new_size = vec![0usize; n_new];
    for (o, n) in old.iter().zip(&new) {
        if let Some(o) = o.filter(|&o| o < n_old) {
            old_size[o] += 1;
            if let Some(n) = n.filter(|&n| n < n_new) {
                overlap[o][n] += 1;
            }
        }
        if let Some(n) = n.filter(|&n| n < n_new) {
            new_size[n] += 1;
        }
    }
    let rule_names: Vec<String> = (n_new..result.n_segments()).map(|s| result.default_segment_name(s)).collect();
    let mut change = NamesChange {
        map: segment_map(notes, previous, result, &overlap, &old_size, &new_size, &rule_names),
        ..Default::default()
    };
    // (new segment, share of the named customers, note) for every name that found a segment.
    let mut landed: Vec<(usize, usize, SegmentNote)> = Vec::new();
    let mut carried = Vec::new();
    for note in notes.drain(..) {
        if note.segment >= n_old {
            // A business rule's segment: its note goes with the rule's name, wherever it is now.
            if let Some(i) = rule_names.iter().position(|r| *r == note.name) {
                carried.push(note.moved_to(n_new + i));
            }
            continue;
        }
        if Some(note.segment) == old_fallback {
            if let Some(f) = new_fallback {
                carried.push(SegmentNote { segment: f, ..note });
            }
            continue;
        }
        if is_default_note(&note, Some(previous)) {
            continue;
        }
        let row = &overlap[note.segment];
        let best = (0..n_new).filter(|&t| Some(t) != new_fallback).max_by(|&a, &b| row[a].cmp(&row[b]).then(b.cmp(&a)));
        let size = old_size[note.segment];
        match best {
            Some(t)
                if row[t] > 0
                    && row[t] as f64 >= MIN_SHARE_OF_NAMED * size as f64
                    && row[t] as f64 >= MIN_SHARE_OF_NEW * new_size[t] as f64 =>
            {
                landed.push((t, row[t], note));
            }
            _ => {
                let share = best.map_or(0.0, |t| row[t] as f64 / size.max(1) as f64);
                change.unnamed.push((note.name, share));
            }
        }
    }
    landed.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut i = 0;
    while i < landed.len() {
        let target = landed[i].0;
        let group: Vec<&(usize, usize, SegmentNote)> = landed[i..].iter().take_while(|l| l.0 == target).collect();
        i += group.len();
        let first = &group[0].2;
        if group.len() == 1 {
            if first.segment == target {
                change.stayed.push((first.name.clone(), target));
            } else {
                change.moved.push((first.name.clone(), first.segment, target));
            }
            carried.push(first.moved_to(target));
            continue;
        }
        let names: Vec<String> = group.iter().map(|g| g.2.name.clone()).collect();
        let notes_text: Vec<String> =
            group.iter().filter(|g| !g.2.notes.is_empty()).map(|g| format!("{}: {}", g.2.name, g.2.notes)).collect();
        change.merged.push((names.clone(), target));
        carried.push(SegmentNote { name: names.join(" + "), notes: notes_text.join("\n\n"), ..first.moved_to(target) });
    }
    change.new_segments =
        (0..n_new).filter(|&t| Some(t) != new_fallback && !carried.iter().any(|n| n.segment == t)).collect();
    carried.sort_by_key(|n| n.segment);
    *notes = carried;
    Some(change)
}

/// Where every old segment went: the model's by [`carry_names`]' rule whether named or not, the
/// fallback to the fallback, a business rule's segment to the segment of the same rule's name.
fn segment_map(
    notes: &[SegmentNote],
    previous: &dyn Fitted,
    result: &dyn Fitted,
    overlap: &[Vec<usize>],
    old_size: &[usize],
    new_size: &[usize],
    rule_names: &[String],
) -> SegmentMap {
    let (k_old, k_new) = (previous.k(), result.k());
    let (n_old, n_new) = (previous.n_model_segments(), result.n_model_segments());
    let new_fallback = (n_new > k_new).then_some(k_new);
    let to = (0..previous.n_segments())
        .map(|s| {
            if s >= n_old {
                let name = previous.default_segment_name(s);
                return rule_names
                    .iter()
                    .position(|r| *r == name)
                    .map(|i| n_new + i)
                    .ok_or_else(|| format!("no business rule makes the segment \"{name}\" now"));
            }
            if s == k_old && n_old > k_old {
                return new_fallback.ok_or_else(|| "every customer has a model segment now (no fallback)".to_string());
            }
            let row = &overlap[s];
            let best =
                (0..n_new).filter(|&t| Some(t) != new_fallback).max_by(|&a, &b| row[a].cmp(&row[b]).then(b.cmp(&a)));
            match best {
                Some(t)
                    if row[t] > 0
                        && row[t] as f64 >= MIN_SHARE_OF_NAMED * old_size[s] as f64
                        && row[t] as f64 >= MIN_SHARE_OF_NEW * new_size[t] as f64 =>
                {
                    Ok(t)
                }
                Some(t) if row[t] > 0 => Err(format!(
                    "its customers no longer form one segment (at most {:.0}% of them are together)",
                    100.0 * row[t] as f64 / old_size[s].max(1) as f64
                )),
                _ => Err("none of its customers has a segment now".to_string()),
            }
        })
        .collect();
    SegmentMap {
        to,
        old_names: (0..previous.n_segments()).map(|s| segment_name(notes, previous, s)).collect(),
        from_fingerprint: previous.assignment_fingerprint().to_string(),
        to_fingerprint: result.assignment_fingerprint().to_string(),
    }
}

/// What a run did to the names and notes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NamesAfterRun {
    /// Names were filled in or replaced by defaults.
    pub renamed: bool,
    /// The user's names followed their customers: what moved, merged, was left unnamed.
    pub carried: Option<NamesChange>,
}

/// Brings `notes` up to date with a new fit `result`, given the `previous` fit shown (any method:
/// names follow customers, not methods or numbers):
/// - when the notes are numbered by `previous` (`numbered_by` is its assignment fingerprint) and
///   the assignment changed, names and notes follow their customers ([`carry_names`]);
/// - notes at numbers `result` does not have are dropped; a business rule's segment always has the
///   rule's name, and only a note written on it (never one left at its number by another segment);
/// - every segment without a note gets its default name (the fallback segment is named so), and
///   names nobody changed (the previous fit's defaults) become this fit's defaults.
pub fn names_after_run(
    notes: &mut Vec<SegmentNote>,
    previous: Option<&dyn Fitted>,
    numbered_by: Option<&str>,
    result: &dyn Fitted,
    id_column: Option<&str>,
) -> NamesAfterRun {
    let k = result.k();
    let mut after = NamesAfterRun::default();
    if let Some(p) = previous
        && p.assignment_fingerprint() != result.assignment_fingerprint()
        && numbered_by == Some(p.assignment_fingerprint())
    {
        after.carried = carry_names(notes, p, result, id_column);
    }
    let n_model = result.n_model_segments();
    let before = notes.len();
    notes.retain(|n| {
        n.segment < n_model || (n.segment < result.n_segments() && n.name == result.default_segment_name(n.segment))
    });
    after.renamed |= notes.len() != before;
    for segment in 0..result.n_segments() {
        let name =
            if segment == k && n_model > k { FALLBACK_NAME.to_string() } else { result.default_segment_name(segment) };
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

/// Names and notes written on segmentations shown before, by assignment fingerprint, so that a
/// return to one (k-means, then DBSCAN, then k-means again) gives its names back exactly, where
/// carrying them through the segmentation in between would lose or merge some.
#[derive(Clone, Debug, Default)]
pub struct NamesMemory {
    /// (assignment fingerprint, its notes), oldest first.
    entries: Vec<(String, Vec<SegmentNote>)>,
}

/// Segmentations a [`NamesMemory`] keeps (the oldest is forgotten first).
pub const NAMES_MEMORY_LEN: usize = 64;

impl NamesMemory {
    /// Remembers `notes` as the names of the segmentation with assignment `fingerprint`.
    pub fn remember(&mut self, fingerprint: &str, notes: &[SegmentNote]) {
        self.entries.retain(|(f, _)| f != fingerprint);
        if self.entries.len() >= NAMES_MEMORY_LEN {
            self.entries.remove(0);
        }
        self.entries.push((fingerprint.to_string(), notes.to_vec()));
    }

    /// The notes last remembered for the segmentation with assignment `fingerprint`.
    pub fn recall(&self, fingerprint: &str) -> Option<&[SegmentNote]> {
        self.entries.iter().rev().find(|(f, _)| f == fingerprint).map(|(_, n)| n.as_slice())
    }
}

/// Gives `result` back names and notes it had when last shown (`remembered`), after
/// [`names_after_run`] carried the previous segmentation's names to it. The names just carried win
/// (they are the user's latest work), except that a merged name ("A + B") is split back where the
/// segment was one of its parts; a segment the carry left without a name of the user's takes its
/// remembered one when no other segment has that name now. What was given back is added to
/// `change.restored` (and leaves `change.new_segments`); returns whether any note changed.
pub fn restore_names(
    notes: &mut Vec<SegmentNote>,
    remembered: &[SegmentNote],
    result: &dyn Fitted,
    change: &mut NamesChange,
) -> bool {
    let n = result.n_segments();
    let users = |note: &SegmentNote| note.name != result.default_segment_name(note.segment) || !note.notes.is_empty();
    let candidates: Vec<&SegmentNote> = remembered.iter().filter(|r| r.segment < n && users(r)).collect();
    let mut any = false;
    // Merges split back first, so their parts are free for the segments they came from.
    for split_pass in [true, false] {
        for r in &candidates {
            let current = notes.iter().find(|c| c.segment == r.segment);
            let take = match current {
                Some(c) if users(c) => split_pass && c.name != r.name && c.name.split(" + ").any(|part| part == r.name),
                _ => !split_pass,
            };
            let taken_elsewhere = notes.iter().any(|c| c.segment != r.segment && users(c) && c.name == r.name);
            if !take || taken_elsewhere {
                continue;
            }
            match notes.iter_mut().find(|c| c.segment == r.segment) {
                Some(c) => *c = (*r).clone(),
                None => notes.push((*r).clone()),
            }
            change.restored.push((r.name.clone(), r.segment));
            change.new_segments.retain(|&s| s != r.segment);
            any = true;
        }
    }
    notes.sort_by_key(|c| c.segment);
    change.restored.sort_by_key(|(_, s)| *s);
    any
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
        /// The ids as a table column, for the quick comparison (`None`: only the texts above).
        id_column: Option<polars::prelude::Column>,
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
                id_column: None,
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
        fn id_values(&self, _column: &str) -> Option<&polars::prelude::Column> {
            self.id_column.as_ref()
        }
    }

    fn note(segment: usize, name: &str) -> SegmentNote {
        SegmentNote { segment, name: name.into(), ..Default::default() }
    }

    #[test]
    fn colours_are_never_shared_and_claims_come_first() {
        let coloured = |segment, slot| SegmentNote { colour: Some(slot), ..note(segment, "x") };
        assert_eq!(colour_slots(&[], 3), [0, 1, 2]);
        // Segment 2 carries slot 0 from a re-fit: segment 0 cannot have it too, and takes the free one.
        assert_eq!(colour_slots(&[coloured(2, 0)], 3), [2, 1, 0]);
        // Two claims on one slot (a merge, a hand-edited file): the first wins, the other takes its own number.
        assert_eq!(colour_slots(&[coloured(0, 5), coloured(1, 5)], 2), [5, 1]);
        // Claims beyond k (a rule's or the fallback segment) do not take a model segment's slot.
        assert_eq!(colour_slots(&[coloured(4, 0)], 2), [0, 1]);
        let slots = colour_slots(&[coloured(0, 1), coloured(1, 0), coloured(3, 2)], 60);
        let distinct: std::collections::BTreeSet<_> = slots.iter().collect();
        assert_eq!(distinct.len(), 60, "{slots:?}");
    }

    #[test]
    fn a_first_run_names_every_segment_by_default() {
        let fit = Fake::new("kmeans", &[0, 1, 2, 1]);
        let mut notes = Vec::new();
        let after = names_after_run(&mut notes, None, None, &fit, None);
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
        let after = names_after_run(&mut notes, Some(&before), Some(&before.fingerprint), &after_fit, None);
        assert_eq!(segment_name(&notes, &after_fit, 2), "Loyal");
        assert_eq!(segment_name(&notes, &after_fit, 0), "New");
        assert_eq!(notes.iter().find(|n| n.segment == 0).map(|n| n.notes.as_str()), Some("call"));
        assert_eq!(segment_name(&notes, &after_fit, 1), "Segment 2", "a default name stays a default");
        assert_eq!(colour_slots(&notes, 3), [2, 1, 0], "each named segment keeps its colour, the unnamed its own");
        let change = after.carried.unwrap();
        assert_eq!(change.moved, vec![("New".to_string(), 2, 0), ("Loyal".to_string(), 0, 2)]);
        assert_eq!(
            change.lines()[1],
            "Moved: \"Loyal\" from segment 1 to segment 3",
            "the list says what moved, numbered from 1"
        );
    }

    #[test]
    fn every_segment_named_or_not_is_mapped_by_the_rule_names_follow() {
        let before = Fake::new("kmeans", &[0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2]);
        let after_fit = Fake::new("kmeans", &[1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 2]);
        // Only segment 0 has a name of the user's; the board can refer to every segment.
        let mut notes = vec![note(0, "Big"), note(1, "Segment 2"), note(2, "Segment 3")];
        let change = carry_names(&mut notes, &before, &after_fit, None).unwrap();
        assert_eq!(change.map.to[0], Ok(1));
        assert_eq!(change.map.to[1], Ok(0), "an unnamed segment is followed too");
        let why = change.map.to[2].clone().unwrap_err();
        assert!(why.contains("no longer form one segment") && why.contains("33%"), "{why}");
        assert_eq!(change.map.old_names, vec!["Big", "Segment 2", "Segment 3"]);
        assert_eq!(
            (change.map.from_fingerprint.as_str(), change.map.to_fingerprint.as_str()),
            (before.fingerprint.as_str(), after_fit.fingerprint.as_str())
        );
    }

    #[test]
    fn notes_numbered_by_another_run_are_not_carried() {
        let before = Fake::new("kmeans", &[0, 0, 1, 1]);
        let after_fit = Fake::new("kmeans", &[1, 1, 0, 0]);
        let mut notes = vec![note(0, "Loyal"), note(1, "Segment 2")];
        // After an undo the notes are numbered by an earlier run than `before`.
        let after = names_after_run(&mut notes, Some(&before), None, &after_fit, None);
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
        // Each keeps its name, its note and its colour (the palette slot of the number it had).
        let coloured = |segment, name, slot| SegmentNote { colour: Some(slot), ..note(segment, name) };
        assert_eq!(notes, vec![coloured(0, "Lapsed", 1), coloured(1, "Loyal", 0)]);
        assert_eq!(message.map(|m| m.moved.len()), Some(2));
        // With the id columns at hand: rows in another order still go by id, and the same ids in the
        // same rows match as they stand, carrying the same names as matching each id would.
        let column = |ids: &[&str]| Some(polars::prelude::Column::new("id".into(), ids.to_vec()));
        let mut by_column = Fake::new("kmeans", &[0, 0, 1, 1]);
        by_column.ids = before.ids.clone();
        by_column.id_column = column(&["a", "b", "c", "d"]);
        let mut reordered = Fake::new("kmeans", &[0, 0, 1, 1]);
        reordered.ids = after_fit.ids.clone();
        reordered.id_column = column(&["c", "d", "a", "b"]);
        reordered.key = "other rows".into();
        let mut notes = vec![note(0, "Loyal"), note(1, "Lapsed")];
        carry_names(&mut notes, &by_column, &reordered, Some("id"));
        assert_eq!(notes, vec![coloured(0, "Lapsed", 1), coloured(1, "Loyal", 0)]);
        let mut same_rows = Fake::new("kmeans", &[1, 1, 0, 0]);
        same_rows.ids = None; // never asked for: the columns decide
        same_rows.id_column = column(&["a", "b", "c", "d"]);
        same_rows.key = "other rows".into();
        let mut notes = vec![note(0, "Loyal"), note(1, "Lapsed")];
        carry_names(&mut notes, &by_column, &same_rows, Some("id"));
        assert_eq!(notes, vec![coloured(0, "Lapsed", 1), coloured(1, "Loyal", 0)]);
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
        let change = carry_names(&mut notes, &before, &after_fit, None).unwrap_or_default();
        // Both named groups went to one segment: both names stay visible.
        assert_eq!(notes, vec![note(0, "Big + Small")]);
        assert_eq!(change.merged, vec![(vec!["Big".to_string(), "Small".to_string()], 0)]);
        // A group scattered over segments it is a small part of is left unnamed, and listed.
        let before = Fake::new("kmeans", &[0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2]);
        let after_fit = Fake::new("kmeans", &[0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 1, 2]);
        let mut notes = vec![note(0, "Big"), note(2, "Few")];
        let change = carry_names(&mut notes, &before, &after_fit, None).unwrap_or_default();
        assert_eq!(notes, vec![note(0, "Big")]);
        assert_eq!(change.unnamed.len(), 1);
        assert!(change.lines().iter().any(|l| l.starts_with("Left unnamed: \"Few\"")), "{:?}", change.lines());
    }

    #[test]
    fn switching_methods_carries_names_by_customers() {
        let kmeans = Fake::new("kmeans", &[0, 0, 1, 1]);
        let mut rfm = Fake::new("rfm", &[1, 1, 0, 0]);
        rfm.names = vec!["Champions".into(), "At risk".into()];
        let mut notes = vec![SegmentNote { notes: "call them".into(), ..note(0, "Loyal") }, note(1, "Segment 2")];
        let after = names_after_run(&mut notes, Some(&kmeans), Some(&kmeans.fingerprint), &rfm, None);
        assert_eq!(segment_names(&notes, &rfm), ["Champions", "Loyal"], "the user's name wins, on its customers");
        assert_eq!(notes[1].notes, "call them");
        assert_eq!(after.carried.map(|c| c.moved.len()), Some(1));
        // And back: the method's own names were defaults, so k-means' defaults replace them.
        names_after_run(&mut notes, Some(&rfm), Some(&rfm.fingerprint), &kmeans, None);
        assert_eq!(segment_names(&notes, &kmeans), ["Loyal", "Segment 2"]);
    }

    #[test]
    fn the_match_must_hold_half_of_the_named_and_a_third_of_the_new_segment() {
        // Named segment 0 has 4 customers; 2 go to a segment of 7: half of them, but under a third
        // of it, so the name is not carried there.
        let before = Fake::new("kmeans", &[0, 0, 0, 0, 1, 1, 1, 1, 1]);
        let after_fit = Fake::new("kmeans", &[0, 0, 1, 1, 0, 0, 0, 0, 0]);
        let mut notes = vec![note(0, "Small")];
        let change = carry_names(&mut notes, &before, &after_fit, None).unwrap_or_default();
        assert!(notes.is_empty());
        assert_eq!(change.unnamed.len(), 1);
        // The same customers in a segment of their own: carried.
        let after_fit = Fake::new("kmeans", &[1, 1, 1, 0, 0, 0, 0, 0, 0]);
        let mut notes = vec![note(0, "Small")];
        carry_names(&mut notes, &before, &after_fit, None);
        assert_eq!(notes, vec![SegmentNote { colour: Some(0), ..note(1, "Small") }]);
    }

    #[test]
    fn orphan_notes_never_outlive_their_segment_nor_land_on_a_rule_segment() {
        // Notes numbered by a run that is not the previous one (after an undo): not carried, but a
        // number the fit does not have loses its note, and a rule's segment has the rule's name.
        struct WithRule(Fake);
        impl Fitted for WithRule {
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
                2
            }
            fn default_segment_name(&self, segment: usize) -> String {
                if segment == 2 { "VIP".into() } else { self.0.default_segment_name(segment) }
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
        let fit = WithRule(Fake::new("kmeans", &[0, 1, 0, 1]));
        let mut notes = vec![
            note(0, "Loyal"),
            SegmentNote { notes: "protect".into(), ..note(2, "Best customers") },
            note(4, "Gone"),
        ];
        names_after_run(&mut notes, None, None, &fit, None);
        assert_eq!(segment_names(&notes, &fit), ["Loyal", "Segment 2", "VIP"]);
        assert!(notes.iter().all(|n| n.notes.is_empty()), "no inherited note: {notes:?}");
        // A note written on the rule's segment follows the rule when the model's k changes.
        let mut notes = vec![note(0, "Loyal"), SegmentNote { notes: "by hand".into(), ..note(2, "VIP") }];
        let three = Fake::new("kmeans", &[0, 1, 2, 2]);
        struct ThreeAndRule(Fake);
        impl Fitted for ThreeAndRule {
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
                3
            }
            fn n_segments(&self) -> usize {
                4
            }
            fn n_model_segments(&self) -> usize {
                3
            }
            fn default_segment_name(&self, segment: usize) -> String {
                if segment == 3 { "VIP".into() } else { self.0.default_segment_name(segment) }
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
        let refit = ThreeAndRule(three);
        names_after_run(&mut notes, Some(&fit), Some(fit.assignment_fingerprint()), &refit, None);
        assert_eq!(
            notes.iter().find(|n| n.segment == 3).map(|n| (n.name.as_str(), n.notes.as_str())),
            Some(("VIP", "by hand"))
        );
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
        names_after_run(&mut notes, None, None, &fit, None);
        assert_eq!(segment_name(&notes, &fit, 2), FALLBACK_NAME);
    }
}
