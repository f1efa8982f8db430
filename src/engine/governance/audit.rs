//! The tamper-evident audit log: every change that alters who is in which segment or what it is
//! called, and every export, sign-off and threshold change, is an entry; entries are chained by
//! hash when the project is saved.
//!
//! What the chain proves and what it does not: an entry edited, deleted or inserted in the middle
//! breaks the chain, and [`verify`] names the first entry where it breaks. A log cut short at the
//! end (the last entries deleted), or rewritten as a whole with fresh hashes, still chains; that is
//! why the head hash and the count are written into every export and sign-off (anchors kept
//! elsewhere), and why each entry records a digest of the segmentation's definition after it, so a
//! project changed without an entry (edited by hand) is named too. Tamper-evident, not tamper-proof:
//! anyone who can write the file can write a new, consistent log; the anchors are what show it.

use serde::{Deserialize, Serialize};

use std::path::Path;

use crate::engine::error::ProjectError;
use crate::engine::project::Project;

pub use crate::engine::project::audit_entry::{AuditEntry, GENESIS, login_name, now};

/// The head of the log: the last sealed entry's hash and the number of sealed entries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// The last entry's hash (the genesis hash for an empty log).
    pub hash: String,
    /// Entries.
    pub count: usize,
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({} {})", self.hash, self.count, if self.count == 1 { "entry" } else { "entries" })
    }
}

/// The head of a log's sealed part.
pub fn head(log: &[AuditEntry]) -> Head {
    let sealed: Vec<&AuditEntry> = log.iter().take_while(|e| e.is_sealed()).collect();
    Head { hash: sealed.last().map(|e| e.hash.clone()).unwrap_or_else(|| GENESIS.to_string()), count: sealed.len() }
}

/// A digest of what decides who is in which segment and what it is called: the spec, the rules
/// and overrides, the segments' names and low-priority marks, the approved disputes, the
/// small-cell threshold. Notes, the board and the stored results are not in it.
pub fn state_digest(project: &Project) -> String {
    let names: Vec<(usize, &str, bool)> =
        project.segments.iter().map(|n| (n.segment, n.name.as_str(), n.low_priority)).collect();
    let approved: Vec<(&str, &str)> = project
        .governance
        .disputes
        .iter()
        .filter(|d| d.status == super::DisputeStatus::Approved)
        .map(|d| (d.customer.as_str(), d.segment.as_str()))
        .collect();
    let text = ron::to_string(&(&project.spec, &project.rules, names, approved, project.governance.small_cells))
        .unwrap_or_default();
    blake3::hash(text.as_bytes()).to_hex().to_string()
}

/// The hash of a version: what it is (the digest) and what it gave (the assignment fingerprint).
pub fn version_hash(project: &Project) -> String {
    let fingerprint = project.results.as_ref().map(|r| r.assignment_fingerprint.as_str()).unwrap_or("not run");
    blake3::hash(format!("{}\n{fingerprint}", state_digest(project)).as_bytes()).to_hex().to_string()
}

/// Seals the audit log (chaining its new entries, and logging under `actor` a change of the
/// segmentation that has no entry) and saves the project atomically (the previous file kept as
/// `.bak`): how a user's work is saved, by the window and by every command.
pub fn save(project: &mut Project, path: &Path, actor: &str) -> Result<(), ProjectError> {
    seal(project, actor);
    project.save_unsealed(path)
}

/// Chains every entry not sealed yet, after logging as a `save` entry by `actor` whatever changed
/// the segmentation's definition without an entry of its own (so the last entry's digest is always
/// the project's). Returns the new head.
pub fn seal(project: &mut Project, actor: &str) -> Head {
    let digest = state_digest(project);
    let last_state = project.audit.iter().rev().find(|e| !e.state.is_empty()).map(|e| e.state.clone());
    let has_unsealed = project.audit.iter().any(|e| !e.is_sealed());
    // A log that records no definition yet (empty, or older than format 9) starts with the next
    // change; one that does gets a `save` entry for a change made without an entry of its own.
    if !has_unsealed && last_state.as_ref().is_some_and(|s| *s != digest) {
        project.audit.push(AuditEntry::new(
            actor,
            "save",
            "project",
            "saved with changes made outside the logged edits",
        ));
    }
    let mut prev = project.audit.iter().take_while(|e| e.is_sealed()).last().map(|e| e.hash.clone());
    let mut seq = project.audit.iter().take_while(|e| e.is_sealed()).count();
    for entry in project.audit.iter_mut().skip(seq) {
        seq += 1;
        entry.seq = seq;
        entry.state = digest.clone();
        entry.prev = prev.take().unwrap_or_else(|| GENESIS.to_string());
        entry.hash = entry.compute_hash();
        prev = Some(entry.hash.clone());
    }
    head(&project.audit)
}

/// What a walk of the chain found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Entries in the log.
    pub entries: usize,
    /// The head.
    pub head: Head,
    /// Whether everything checked holds.
    pub ok: bool,
    /// One line per problem, the first broken or missing entry first.
    pub problems: Vec<String>,
    /// What was checked, in words.
    pub checked: Vec<String>,
}

/// Walks the chain: every entry's number, link and hash; every sign-off's anchor; an anchor given
/// from elsewhere (`expected`: a head hash, and the count it was taken at); and whether the
/// project's definition is the one the last entry recorded.
pub fn verify(project: &Project, expected: Option<&Head>) -> Verification {
    verify_with(project, expected, false)
}

/// [`verify`] of a project being edited: entries made since the last save (not sealed yet, at the
/// end) are not a problem, and the definition is not compared (it may have unsaved changes).
pub fn verify_saved_part(project: &Project) -> Verification {
    verify_with(project, None, true)
}

fn verify_with(project: &Project, expected: Option<&Head>, pending_allowed: bool) -> Verification {
    let sealed = project.audit.iter().take_while(|e| e.is_sealed()).count();
    let log = if pending_allowed { &project.audit[..sealed] } else { &project.audit[..] };
    let mut problems = Vec::new();
    let mut checked = Vec::new();
    let mut prev = GENESIS.to_string();
    for (i, entry) in log.iter().enumerate() {
        let n = i + 1;
        if !entry.is_sealed() {
            problems.push(format!(
                "entry {n} ({}) is not sealed: it was added after the last save, or its hash was removed",
                entry.what
            ));
            break;
        }
        if entry.seq != n {
            problems.push(if entry.seq > n {
                format!(
                    "entry {n} is missing: the entry at that place says it is entry {} (deleted entries?)",
                    entry.seq
                )
            } else {
                format!("entry {n} says it is entry {} (entries moved or copied)", entry.seq)
            });
            break;
        }
        if entry.prev != prev {
            problems.push(format!(
                "entry {n} ({}) does not follow entry {}: an entry before it was changed, deleted or inserted",
                entry.what,
                n - 1
            ));
            break;
        }
        if entry.compute_hash() != entry.hash {
            problems.push(format!(
                "entry {n} ({}) was changed after it was written: its hash does not match its contents",
                entry.what
            ));
            break;
        }
        prev = entry.hash.clone();
    }
    let head = head(log);
    if problems.is_empty() {
        checked.push(format!(
            "{} chained from the first to the last",
            crate::engine::warnings::count(log.len(), "entry", "entries")
        ));
    }
    let anchors = project
        .governance
        .signoffs
        .iter()
        .map(|s| (format!("the sign-off by {} ({})", s.reviewer, s.when), s.audit_count, s.audit_head.clone()));
    let given = expected.map(|h| ("the head given".to_string(), h.count, h.hash.clone()));
    for (whose, count, hash) in anchors.chain(given) {
        match log.get(count.wrapping_sub(1)) {
            _ if count == 0 && hash == GENESIS => {}
            Some(entry) if entry.hash == hash => checked.push(format!("{whose} anchors entry {count}")),
            Some(_) => problems.push(format!("{whose} recorded entry {count} with hash {}, and entry {count} now has another: the log was rewritten", short(&hash))),
            None => problems.push(format!("entry {} is missing: {whose} recorded {count} entries and the log has {} (the end of the log was cut off)", log.len() + 1, log.len())),
        }
    }
    if let Some(last) = log.last().filter(|e| e.is_sealed() && !e.state.is_empty() && !pending_allowed) {
        if last.state == state_digest(project) {
            checked.push("the segmentation's definition is the one the last entry recorded".to_string());
        } else {
            problems.push(format!(
                "the project was changed after entry {} without an entry (spec, rules, names or threshold edited outside Strata?)",
                log.len()
            ));
        }
    }
    Verification { entries: log.len(), head, ok: problems.is_empty(), problems, checked }
}

/// A hash cut to 12 characters, for messages.
pub fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

/// What an edit changes, for [`classify`]: the parts of a project that decide the segmentation.
pub struct Parts<'a> {
    /// The spec.
    pub spec: &'a crate::engine::pipeline::PipelineSpec,
    /// The rules and overrides.
    pub rules: &'a crate::engine::rules::BusinessRules,
    /// The names, notes and low-priority marks.
    pub segments: &'a [crate::engine::naming::SegmentNote],
    /// Whether the SWOT board or the presentation changed.
    pub workshop_changed: bool,
}

impl<'a> Parts<'a> {
    /// A project's parts.
    pub fn of(project: &'a Project) -> Self {
        Self { spec: &project.spec, rules: &project.rules, segments: &project.segments, workshop_changed: false }
    }
}

/// An edit's action, object and before/after summaries (never raw customer values: columns,
/// settings, rule texts, names, ids of overridden customers). `what` is the edit in words, used
/// when nothing more specific is found.
pub fn classify(before: Parts, after: Parts, what: &str) -> (String, String, String, String) {
    let t = |a: &str, o: &str, b: String, c: String| (a.to_string(), o.to_string(), b, c);
    let (bs, as_) = (before.spec, after.spec);
    if bs.source != as_.source || bs.attributes != as_.attributes {
        let describe = |s: &crate::engine::pipeline::PipelineSpec| {
            let main = source_words(&s.source.source);
            match &s.attributes {
                Some(a) => format!("{main} + {}", source_words(&a.source)),
                None => main,
            }
        };
        return t("source", "data sources", describe(bs), describe(as_));
    }
    let (bm, am) = (&bs.model.algorithm, &as_.model.algorithm);
    if bm.name() != am.name() {
        return t("method", "model", bm.label().to_string(), am.label().to_string());
    }
    if bm.k() != am.k() {
        let k = |k: Option<usize>| k.map(|k| k.to_string()).unwrap_or_else(|| "none".to_string());
        return t("k", "model", k(bm.k()), k(am.k()));
    }
    if bs.model != as_.model {
        return t(
            "model",
            "model settings",
            ron::to_string(&bs.model).unwrap_or_default(),
            ron::to_string(&as_.model).unwrap_or_default(),
        );
    }
    if bs.recipe != as_.recipe {
        let columns = |s: &crate::engine::pipeline::PipelineSpec| {
            s.recipe.features.iter().map(|f| f.column.as_str()).collect::<Vec<_>>().join(", ")
        };
        let (b, a) = (columns(bs), columns(as_));
        if b == a {
            let changed: Vec<&str> = bs
                .recipe
                .features
                .iter()
                .zip(&as_.recipe.features)
                .filter(|(x, y)| x != y)
                .map(|(x, _)| x.column.as_str())
                .collect();
            return t("recipe", &changed.join(", "), "settings before".to_string(), what.to_string());
        }
        return t("recipe", "features", b, a);
    }
    if bs != as_ {
        return t("spec", "pipeline", String::new(), what.to_string());
    }
    let (br, ar) = (before.rules, after.rules);
    if br.rules != ar.rules {
        let texts =
            |r: &crate::engine::rules::BusinessRules| r.rules.iter().map(|r| r.text.clone()).collect::<Vec<_>>();
        let (b, a) = (texts(br), texts(ar));
        let added: Vec<&String> = a.iter().filter(|x| !b.contains(x)).collect();
        let removed: Vec<&String> = b.iter().filter(|x| !a.contains(x)).collect();
        return match (added.as_slice(), removed.as_slice()) {
            ([one], []) => t("rule.add", one, String::new(), (*one).clone()),
            ([], [one]) => t("rule.remove", one, (*one).clone(), String::new()),
            ([new], [old]) => t("rule.edit", new, (*old).clone(), (*new).clone()),
            _ => t("rules", "rules", b.join("; "), a.join("; ")),
        };
    }
    if br.overrides != ar.overrides {
        let words = |r: &crate::engine::rules::BusinessRules| {
            r.overrides.iter().map(|o| format!("{} -> {}", o.customer, o.segment)).collect::<Vec<_>>()
        };
        let (b, a) = (words(br), words(ar));
        let added: Vec<&String> = a.iter().filter(|x| !b.contains(x)).collect();
        let removed: Vec<&String> = b.iter().filter(|x| !a.contains(x)).collect();
        return match (added.as_slice(), removed.as_slice()) {
            ([one], []) => t("override", one, String::new(), (*one).clone()),
            ([], [one]) => t("override.remove", one, (*one).clone(), String::new()),
            _ => t("overrides", "overrides", b.join("; "), a.join("; ")),
        };
    }
    let name = |notes: &[crate::engine::naming::SegmentNote], s: usize| {
        notes.iter().find(|n| n.segment == s).map(|n| n.name.clone()).unwrap_or_default()
    };
    for note in after.segments {
        let old = name(before.segments, note.segment);
        if old != note.name {
            return t("rename", &format!("segment {}", note.segment + 1), old, note.name.clone());
        }
        let was_low = before.segments.iter().any(|n| n.segment == note.segment && n.low_priority);
        if was_low != note.low_priority {
            let mark = |m: bool| if m { "low priority" } else { "not low priority" }.to_string();
            return t("priority", &note.name, mark(was_low), mark(note.low_priority));
        }
    }
    if before.workshop_changed || after.workshop_changed {
        return t("swot", "board or presentation", String::new(), what.to_string());
    }
    t("edit", "project", String::new(), what.to_string())
}

/// A data source in a few words (a file's name, not its folder).
fn source_words(source: &crate::engine::pipeline::DataSource) -> String {
    use crate::engine::pipeline::DataSource;
    match source {
        DataSource::File(p) => p.rsplit(['/', '\\']).next().unwrap_or(p).to_string(),
        built_in => built_in.built_in_name().unwrap_or_default().to_string(),
    }
}
