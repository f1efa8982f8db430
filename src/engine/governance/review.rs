//! What reviewers and the people they answer to do to a project: comment, sign off, dispute a
//! customer's segment and decide it, take customers out of targeting. Each is an entry of the audit
//! log; the window and `strata` call these same functions.

use super::audit::{AuditEntry, Head, now, seal};
use super::{Comment, Decision, Dispute, DisputeStatus, Pin, SignOff, UnsignedPolicy};
use crate::engine::project::Project;

/// Longest comment, reason or note, in characters.
pub const MAX_TEXT_CHARS: usize = 10_000;
/// Most comments, sign-offs or disputes a project holds.
pub const MAX_RECORDS: usize = 100_000;
/// Most opted-out customers a project holds.
pub const MAX_OPT_OUTS: usize = 50_000_000;

fn check_text(what: &str, text: &str, required: bool) -> Result<(), String> {
    if required && text.trim().is_empty() {
        return Err(format!("{what} is empty; say it in a few words"));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(format!("{what} is longer than {MAX_TEXT_CHARS} characters"));
    }
    Ok(())
}

/// The pin in words, for entries and lists.
pub fn pin_words(pin: &Pin) -> String {
    match pin {
        Pin::Project => "the project".to_string(),
        Pin::Segment(s) => format!("segment '{s}'"),
        Pin::Chart(c) => format!("chart '{c}'"),
        Pin::Rule(r) => format!("rule '{r}'"),
        Pin::SwotItem(i) => format!("SWOT item '{i}'"),
    }
}

/// Reads `project`, `segment:NAME`, `chart:NAME`, `rule:TEXT` or `swot:TITLE`.
pub fn parse_pin(text: &str) -> Result<Pin, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("project") {
        return Ok(Pin::Project);
    }
    let (kind, what) = text.split_once(':').ok_or_else(|| {
        format!("'{text}' is not something to pin to: use project, segment:NAME, chart:NAME, rule:TEXT or swot:TITLE")
    })?;
    let what = what.trim().to_string();
    if what.is_empty() {
        return Err(format!("'{text}' names nothing after the colon"));
    }
    match kind.trim().to_ascii_lowercase().as_str() {
        "segment" => Ok(Pin::Segment(what)),
        "chart" => Ok(Pin::Chart(what)),
        "rule" => Ok(Pin::Rule(what)),
        "swot" => Ok(Pin::SwotItem(what)),
        other => Err(format!("'{other}' is not something to pin to: use project, segment, chart, rule or swot")),
    }
}

/// Adds a comment (or a reply to comment `reply_to`); returns its number.
pub fn comment(
    project: &mut Project,
    author: &str,
    pin: Pin,
    text: &str,
    reply_to: Option<usize>,
) -> Result<usize, String> {
    check_text("the comment", text, true)?;
    check_text("the author", author, true)?;
    let g = &mut project.governance;
    if g.comments.len() >= MAX_RECORDS {
        return Err(format!("the project already holds {MAX_RECORDS} comments"));
    }
    if let Some(parent) = reply_to
        && !g.comments.iter().any(|c| c.id == parent)
    {
        return Err(format!("there is no comment {parent} to reply to"));
    }
    let id = g.comments.iter().map(|c| c.id).max().unwrap_or(0) + 1;
    let what = match reply_to {
        Some(parent) => format!("reply to comment {parent}"),
        None => format!("comment on {}", pin_words(&pin)),
    };
    g.comments.push(Comment {
        id,
        pin: pin.clone(),
        author: author.to_string(),
        when: now(),
        text: text.to_string(),
        reply_to,
    });
    project.audit.push(AuditEntry::new(author, "comment", &pin_words(&pin), &what).change("", format!("comment {id}")));
    Ok(id)
}

/// Signs off the version `version_hash` (see [`super::audit::version_hash`]): the sign-off's
/// entry is sealed into the log at once, and the sign-off records the head that includes it.
pub fn sign_off(
    project: &mut Project,
    reviewer: &str,
    role: &str,
    decision: Decision,
    comment: &str,
    version_hash: &str,
) -> Result<Head, String> {
    check_text("the reviewer's name", reviewer, true)?;
    check_text("the role", role, false)?;
    check_text("the comment", comment, decision == Decision::RequestChanges)?;
    if project.governance.signoffs.len() >= MAX_RECORDS {
        return Err(format!("the project already holds {MAX_RECORDS} sign-offs"));
    }
    let words = match decision {
        Decision::Approve => "approved",
        Decision::RequestChanges => "changes requested",
    };
    let entry = AuditEntry::new(reviewer, "signoff", &format!("version {}", super::audit::short(version_hash)), words)
        .change(
            "",
            format!("{words} by {reviewer}{}", if role.is_empty() { String::new() } else { format!(" ({role})") }),
        )
        .because(comment);
    project.audit.push(entry);
    let head = seal(project, reviewer);
    project.governance.signoffs.push(SignOff {
        reviewer: reviewer.to_string(),
        role: role.to_string(),
        decision,
        comment: comment.to_string(),
        when: now(),
        version_hash: version_hash.to_string(),
        audit_head: head.hash.clone(),
        audit_count: head.count,
    });
    Ok(head)
}

/// Files a dispute: customer `customer` questions their segment and asks for `segment`.
pub fn dispute(
    project: &mut Project,
    requester: &str,
    customer: &str,
    segment: &str,
    reason: &str,
) -> Result<usize, String> {
    check_text("the requester", requester, true)?;
    check_text("the customer's id", customer, true)?;
    check_text("the segment", segment, true)?;
    check_text("the reason", reason, true)?;
    if project.governance.disputes.len() >= MAX_RECORDS {
        return Err(format!("the project already holds {MAX_RECORDS} disputes"));
    }
    let id = project.governance.disputes.iter().map(|d| d.id).max().unwrap_or(0) + 1;
    project.governance.disputes.push(Dispute {
        id,
        customer: customer.trim().to_string(),
        segment: segment.trim().to_string(),
        requester: requester.to_string(),
        reason: reason.to_string(),
        when: now(),
        status: DisputeStatus::Pending,
        decided_by: None,
        decided_when: None,
        decision_note: String::new(),
    });
    project.audit.push(
        AuditEntry::new(
            requester,
            "dispute",
            &format!("dispute {id}"),
            &format!("customer {} disputes their segment", customer.trim()),
        )
        .change("", format!("asks for '{}' (pending)", segment.trim()))
        .because(reason),
    );
    Ok(id)
}

/// Approves or rejects dispute `id`; the approver must not be its requester. An approved dispute
/// becomes an override (scoring and exports use approved overrides only; a pending one changes
/// nothing).
pub fn decide_dispute(
    project: &mut Project,
    id: usize,
    approver: &str,
    approve: bool,
    note: &str,
) -> Result<(), String> {
    check_text("the approver", approver, true)?;
    check_text("the note", note, !approve)?;
    let dispute = project
        .governance
        .disputes
        .iter_mut()
        .find(|d| d.id == id)
        .ok_or_else(|| format!("there is no dispute {id}"))?;
    if dispute.status != DisputeStatus::Pending {
        return Err(format!(
            "dispute {id} was already {} by {}",
            status_words(dispute.status),
            dispute.decided_by.as_deref().unwrap_or("someone")
        ));
    }
    if dispute.requester.trim().eq_ignore_ascii_case(approver.trim()) {
        return Err(format!("dispute {id} was filed by {approver}; another person must approve or reject it"));
    }
    dispute.status = if approve { DisputeStatus::Approved } else { DisputeStatus::Rejected };
    dispute.decided_by = Some(approver.to_string());
    dispute.decided_when = Some(now());
    dispute.decision_note = note.to_string();
    let dispute = dispute.clone();
    if approve {
        let overrides = &mut project.rules.overrides;
        overrides.retain(|o| o.customer != dispute.customer);
        overrides.push(crate::engine::rules::Override {
            customer: dispute.customer.clone(),
            segment: dispute.segment.clone(),
            why: format!("dispute {id} approved by {approver}: {}", dispute.reason),
        });
    }
    project.audit.push(
        AuditEntry::new(
            approver,
            if approve { "dispute.approve" } else { "dispute.reject" },
            &format!("dispute {id}"),
            &format!("dispute {id} {}", status_words(dispute.status)),
        )
        .change(
            "pending",
            if approve {
                format!("override: {} -> {}", dispute.customer, dispute.segment)
            } else {
                "rejected".to_string()
            },
        )
        .because(note),
    );
    Ok(())
}

/// A dispute's status in words.
pub fn status_words(status: DisputeStatus) -> &'static str {
    match status {
        DisputeStatus::Pending => "pending",
        DisputeStatus::Approved => "approved",
        DisputeStatus::Rejected => "rejected",
    }
}

/// Takes customers out of targeting (or back in, with `remove`); returns how many changed. The ids
/// are stored hashed; the entry says how many, never which.
pub fn opt_out<'a>(
    project: &mut Project,
    actor: &str,
    ids: impl IntoIterator<Item = &'a str>,
    remove: bool,
) -> Result<usize, String> {
    let ids: Vec<&str> = ids.into_iter().map(str::trim).filter(|s| !s.is_empty()).collect();
    if ids.is_empty() {
        return Err("no customer ids given".to_string());
    }
    let g = &mut project.governance.opt_outs;
    if !remove && g.hashed_ids.len() + ids.len() > MAX_OPT_OUTS {
        return Err(format!("more than {MAX_OPT_OUTS} opted-out customers"));
    }
    let before = g.hashed_ids.len();
    let changed = if remove { g.remove(ids.iter().copied()) } else { g.add(ids.iter().copied()) };
    let after = g.hashed_ids.len();
    let what = if remove {
        format!("{changed} customers back in targeting")
    } else {
        format!("{changed} customers opted out")
    };
    project.audit.push(
        AuditEntry::new(actor, if remove { "opt-in" } else { "opt-out" }, "opt-out list", &what)
            .change(format!("{before} opted out"), format!("{after} opted out")),
    );
    Ok(changed)
}

/// Sets the small-cell threshold; lowering it is said in the entry's words.
pub fn set_small_cells(project: &mut Project, actor: &str, threshold: usize) -> Result<(), String> {
    if !(1..=1000).contains(&threshold) {
        return Err(format!("a small-cell threshold of {threshold} is outside 1 to 1000 (1 turns suppression off)"));
    }
    let old = project.governance.small_cells;
    if old == threshold {
        return Ok(());
    }
    let words = if threshold < old {
        format!("small-cell threshold lowered from {old} to {threshold}")
    } else {
        format!("small-cell threshold raised from {old} to {threshold}")
    };
    project.governance.small_cells = threshold;
    project.audit.push(
        AuditEntry::new(actor, "threshold", "small cells", &words).change(old.to_string(), threshold.to_string()),
    );
    Ok(())
}

/// Sets what exporting or scoring an unsigned version does.
pub fn set_unsigned_policy(project: &mut Project, actor: &str, policy: UnsignedPolicy) {
    let old = project.governance.unsigned;
    if old != policy {
        project.governance.unsigned = policy;
        project.audit.push(
            AuditEntry::new(actor, "policy", "unsigned exports", "unsigned-export policy changed")
                .change(format!("{old:?}"), format!("{policy:?}")),
        );
    }
}

/// Whether an export of the version with hash `version_hash` may go ahead: `Ok(None)` silently,
/// `Ok(Some(warning))` with a warning, `Err(why)` refused.
pub fn check_unsigned(project: &Project, version_hash: &str) -> Result<Option<String>, String> {
    if project.governance.approved(version_hash) {
        return Ok(None);
    }
    let why = match project.governance.signoff_of(version_hash) {
        Some(s) => format!("the reviewer {} requested changes to this version", s.reviewer),
        None => "no reviewer has approved this version".to_string(),
    };
    match project.governance.unsigned {
        UnsignedPolicy::Allow => Ok(None),
        UnsignedPolicy::Warn => Ok(Some(format!("{why} (the project warns on unsigned exports)"))),
        UnsignedPolicy::Block => Err(format!(
            "{why}, and the project blocks exports and scoring of unsigned versions; a reviewer must approve it first"
        )),
    }
}

/// Logs an export: what was written (a kind and a file name, no folder) under `actor`.
pub fn log_export(project: &mut Project, actor: &str, kind: &str, file: &str) {
    let name = file.rsplit(['/', '\\']).next().unwrap_or(file);
    project
        .audit
        .push(AuditEntry::new(actor, "export", kind, &format!("exported {kind}")).change("", name.to_string()));
}

/// The line every export carries: the audit head and count, and whether the version is signed.
pub fn export_stamp(project: &Project, version_hash: &str) -> String {
    let head = super::audit::head(&project.audit);
    let signed = match project.governance.signoff_of(version_hash) {
        Some(s) if s.decision == Decision::Approve => format!("approved by {} on {}", s.reviewer, s.when),
        Some(s) => format!("changes requested by {}", s.reviewer),
        None => "not signed off".to_string(),
    };
    format!(
        "audit head {} ({} entries); version {}: {signed}",
        head.hash,
        head.count,
        super::audit::short(version_hash)
    )
}

/// Customers in another segment after a change of the rules or names than before (applies the
/// rules twice over every customer).
pub fn customers_moved(
    result: &crate::engine::pipeline::PipelineResult,
    spec: &crate::engine::pipeline::PipelineSpec,
    before: (&crate::engine::rules::BusinessRules, &[crate::engine::naming::SegmentNote]),
    after: (&crate::engine::rules::BusinessRules, &[crate::engine::naming::SegmentNote]),
) -> usize {
    use crate::engine::pipeline;
    let id_column = pipeline::override_id_column(spec, result);
    let keys = |rules: &crate::engine::rules::BusinessRules,
                notes: &[crate::engine::naming::SegmentNote]|
     -> Vec<Option<String>> {
        let outcome = pipeline::business_rules_outcome(result, rules, notes, id_column);
        let segments = outcome.as_ref().map_or(result.model_segments(), |o| &o.segments);
        let base = result.n_model_segments();
        // Segments the rules make are renumbered as rules change: compare them by name.
        segments
            .iter()
            .map(|s| {
                s.map(|s| {
                    match outcome.as_ref().and_then(|o| s.checked_sub(base).and_then(|i| o.rule_segments.get(i))) {
                        Some(name) => format!("rule segment {}", name.to_lowercase()),
                        None => s.to_string(),
                    }
                })
            })
            .collect()
    };
    crate::engine::rules::customers_moved(&keys(before.0, before.1), &keys(after.0, after.1))
}

/// The stored centroids in the original units of each feature (numeric: the fitted transform
/// undone; categorical: the level with the highest share), for showing a project without its data.
/// Returns the features' names and one row of values per segment.
pub fn stored_centroids(results: &crate::engine::project::StoredResults) -> (Vec<String>, Vec<Vec<String>>) {
    use crate::engine::features::recipe::FittedFeature;
    let features = &results.fitted_recipe.features;
    let names = features
        .iter()
        .map(|f| match f {
            FittedFeature::Numeric(n) => n.column.clone(),
            FittedFeature::Categorical(c) => c.column.clone(),
        })
        .collect();
    let rows = results
        .centroids
        .iter()
        .map(|centroid| {
            let mut at = 0;
            features
                .iter()
                .map(|f| match f {
                    FittedFeature::Numeric(n) => {
                        let v = centroid.get(at).copied().unwrap_or(f64::NAN);
                        at += 1;
                        let weight = if n.weight == 0.0 { 1.0 } else { n.weight };
                        let x = v / weight * n.scale + n.center;
                        let x = if n.log1p { x.exp_m1() } else { x };
                        if x.is_finite() { format!("{x:.4}") } else { "-".to_string() }
                    }
                    FittedFeature::Categorical(c) => {
                        let values = centroid.get(at..at + c.levels.len()).unwrap_or(&[]);
                        at += c.levels.len();
                        values
                            .iter()
                            .enumerate()
                            .max_by(|a, b| a.1.total_cmp(b.1))
                            .and_then(|(i, _)| c.levels.get(i).cloned())
                            .unwrap_or_else(|| "-".to_string())
                    }
                })
                .collect()
        })
        .collect();
    (names, rows)
}

/// Adds `opted_out` (true for customers on the project's opt-out list) to an assignment table
/// whose customers are named by `id_column` (else by their row number from 1), when the project
/// has opt-outs; returns how many rows are opted out.
pub fn mark_opted_out(
    frame: &mut polars::prelude::DataFrame,
    id_column: Option<&str>,
    opt_outs: &super::OptOuts,
) -> Result<usize, crate::engine::error::DataError> {
    use polars::prelude::Column;
    if opt_outs.is_empty() {
        return Ok(0);
    }
    let flags: Vec<bool> = match id_column.and_then(|c| frame.column(c).ok()) {
        Some(ids) => {
            let ids = ids.cast(&polars::prelude::DataType::String)?;
            let ids = ids.str()?;
            ids.iter().map(|id| id.is_some_and(|id| opt_outs.contains(id))).collect()
        }
        None => (1..=frame.height()).map(|row| opt_outs.contains(&row.to_string())).collect(),
    };
    let n = flags.iter().filter(|f| **f).count();
    frame.with_column(Column::new("opted_out".into(), flags))?;
    Ok(n)
}

/// The provenance written beside an export (`FILE.audit.json`): the project's audit head and
/// count, the version and whether a reviewer signed it, and what was exported.
pub fn export_provenance(project: &Project, version_hash: &str, kind: &str, file: &str) -> serde_json::Value {
    let head = super::audit::head(&project.audit);
    let signoff = project.governance.signoff_of(version_hash).map(|s| {
        serde_json::json!({
            "reviewer": s.reviewer,
            "role": s.role,
            "decision": if s.decision == Decision::Approve { "approve" } else { "request_changes" },
            "when": s.when,
        })
    });
    serde_json::json!({
        "exported": kind,
        "file": file.rsplit(['/', '\\']).next().unwrap_or(file),
        "when": now(),
        "audit_head": head.hash,
        "audit_count": head.count,
        "version_hash": version_hash,
        "signoff": signoff,
        "strata": env!("CARGO_PKG_VERSION"),
    })
}

/// The path of an export's provenance file.
pub fn provenance_path(export: &std::path::Path) -> std::path::PathBuf {
    let mut name = export.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".audit.json");
    export.with_file_name(name)
}

/// Before an export of `kind` to `file`: refuses when the unsigned-export policy blocks it, logs
/// the export under `actor` (its entry is sealed at once, so the head written beside the export is
/// in the chain) and returns the provenance to write beside it and a warning to show, if any.
pub fn before_export(
    project: &mut Project,
    version_hash: &str,
    actor: &str,
    kind: &str,
    file: &str,
) -> Result<(serde_json::Value, Option<String>), String> {
    let warning = check_unsigned(project, version_hash)?;
    log_export(project, actor, kind, file);
    seal(project, actor);
    Ok((export_provenance(project, version_hash, kind, file), warning))
}
