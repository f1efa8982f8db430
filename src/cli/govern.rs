//! The governance commands: `edit`, `audit`, `signoff`, `comment`, `dispute`, `opt-out` and
//! `pack`. Each change is an audit entry under `--actor` (else the login name); the project is
//! re-run where the change moves customers and written back atomically.

use super::*;
use crate::engine::governance::audit::{self, AuditEntry, Head, Parts};
use crate::engine::governance::{Decision, UnsignedPolicy, review};

/// Arguments of `strata edit`.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// The project file (written back atomically, the previous file kept as .bak).
    pub project: PathBuf,
    /// Who makes the changes (default: the login name).
    #[arg(long)]
    pub actor: Option<String>,
    /// Rename a segment: SEG=NAME, SEG its number (from 1) or its current name. Repeatable.
    #[arg(long, value_name = "SEG=NAME")]
    pub rename: Vec<String>,
    /// Set a segment's notes: SEG=TEXT. Repeatable.
    #[arg(long, value_name = "SEG=TEXT")]
    pub note: Vec<String>,
    /// Add a business rule (`when frequency < 2 then segment "New"`). Repeatable.
    #[arg(long, value_name = "RULE")]
    pub add_rule: Vec<String>,
    /// Remove the business rule numbered N (from 1, as `strata run` lists them). Repeatable.
    #[arg(long, value_name = "N")]
    pub remove_rule: Vec<usize>,
    /// Put a customer in a segment by hand: ID=SEG (needs --reason). Repeatable.
    #[arg(long, value_name = "ID=SEG")]
    pub r#override: Vec<String>,
    /// Take back the override of this customer id. Repeatable.
    #[arg(long, value_name = "ID")]
    pub remove_override: Vec<String>,
    /// Why (for --override and --add-rule; recorded in the audit log).
    #[arg(long)]
    pub reason: Option<String>,
    /// The small-cell threshold (counts under it are shown as "<N"; 1 turns suppression off).
    #[arg(long)]
    pub small_cells: Option<usize>,
    /// Exporting or scoring a version no reviewer approved: allow, warn or block.
    #[arg(long)]
    pub unsigned: Option<String>,
    /// Columns the bias audit groups customers by, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub sensitive: Option<Vec<String>>,
    /// Read data files outside the project's folder (only for projects you trust).
    #[arg(long)]
    pub allow_outside_paths: bool,
}

/// Arguments of `strata audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: AuditCommand,
}

/// `strata audit` subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the audit log's hash chain and its anchors; fail naming the first broken or missing entry.
    Verify {
        /// The project file.
        project: PathBuf,
        /// A head hash kept elsewhere (from an export or a sign-off): the log must hold it.
        #[arg(long, requires = "count")]
        head: Option<String>,
        /// The number of entries that head was taken at.
        #[arg(long, requires = "head")]
        count: Option<usize>,
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// List the audit log.
    Show {
        /// The project file.
        project: PathBuf,
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

/// Arguments of `strata signoff`.
#[derive(Debug, Args)]
pub struct SignoffArgs {
    /// The project file.
    pub project: PathBuf,
    /// The reviewer's name.
    #[arg(long)]
    pub reviewer: String,
    /// The reviewer's role.
    #[arg(long, default_value = "")]
    pub role: String,
    /// approve or request-changes.
    #[arg(long)]
    pub decision: String,
    /// Why (required when requesting changes).
    #[arg(long, default_value = "")]
    pub comment: String,
    /// Read data files outside the project's folder (only for projects you trust).
    #[arg(long)]
    pub allow_outside_paths: bool,
    /// Sign the stored version without re-running it (when the data is not at hand).
    #[arg(long)]
    pub stored: bool,
}

/// Arguments of `strata comment`.
#[derive(Debug, Args)]
pub struct CommentArgs {
    /// The project file.
    pub project: PathBuf,
    /// What it is about: project, segment:NAME, chart:NAME, rule:TEXT or swot:TITLE.
    #[arg(long, default_value = "project")]
    pub on: String,
    /// The comment.
    #[arg(long)]
    pub text: Option<String>,
    /// Reply to the comment with this number.
    #[arg(long)]
    pub reply_to: Option<usize>,
    /// Who writes it (default: the login name).
    #[arg(long)]
    pub author: Option<String>,
    /// List the comments instead.
    #[arg(long)]
    pub list: bool,
}

/// Arguments of `strata dispute`.
#[derive(Debug, Args)]
pub struct DisputeArgs {
    /// The project file.
    pub project: PathBuf,
    /// File a dispute for this customer id (with --segment, --requester, --reason).
    #[arg(long)]
    pub customer: Option<String>,
    /// The segment the customer asks for.
    #[arg(long)]
    pub segment: Option<String>,
    /// Who files it.
    #[arg(long)]
    pub requester: Option<String>,
    /// Why.
    #[arg(long)]
    pub reason: Option<String>,
    /// Approve the dispute with this number (with --approver).
    #[arg(long, conflicts_with = "reject")]
    pub approve: Option<usize>,
    /// Reject the dispute with this number (with --approver and --reason).
    #[arg(long)]
    pub reject: Option<usize>,
    /// Who approves or rejects (never the requester).
    #[arg(long)]
    pub approver: Option<String>,
    /// List the disputes.
    #[arg(long)]
    pub list: bool,
}

/// Arguments of `strata opt-out`.
#[derive(Debug, Args)]
pub struct OptOutArgs {
    /// The project file.
    pub project: PathBuf,
    /// Customer ids, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub id: Vec<String>,
    /// A file of customer ids, one per line.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Take the customers back into targeting instead.
    #[arg(long)]
    pub remove: bool,
    /// Who makes the change (default: the login name).
    #[arg(long)]
    pub actor: Option<String>,
}

pub(crate) fn actor_or_login(actor: &Option<String>) -> String {
    actor.as_deref().map(str::trim).filter(|a| !a.is_empty()).map_or_else(audit::login_name, str::to_string)
}

/// Opens a project to change it: refused when a newer Strata wrote it.
pub(crate) fn open_for_change(path: &Path) -> Result<Project, CliError> {
    let opened = project::open(path)?;
    if opened.read_only {
        return Err(CliError(format!(
            "{} was written by a newer Strata; it can be read here but not changed",
            path.display()
        )));
    }
    Ok(opened.project)
}

/// A segment by number (from 1) or name.
fn segment_of(project: &Project, text: &str, n_segments: usize) -> Result<usize, CliError> {
    let text = text.trim();
    if let Ok(n) = text.parse::<usize>() {
        if (1..=n_segments).contains(&n) {
            return Ok(n - 1);
        }
        return Err(CliError(format!("there is no segment {n}: the project has segments 1 to {n_segments}")));
    }
    project
        .segments
        .iter()
        .find(|note| note.name.trim().eq_ignore_ascii_case(text))
        .map(|note| note.segment)
        .ok_or_else(|| {
            let names: Vec<String> = project.segments.iter().map(|n| format!("'{}'", n.name)).collect();
            CliError(format!("no segment is called '{text}' (segments: {})", names.join(", ")))
        })
}

fn split_pair<'a>(flag: &str, text: &'a str) -> Result<(&'a str, &'a str), CliError> {
    text.split_once('=')
        .map(|(a, b)| (a.trim(), b.trim()))
        .filter(|(a, _)| !a.is_empty())
        .ok_or_else(|| CliError(format!("--{flag} '{text}': expected LEFT=RIGHT")))
}

/// Re-runs the project and writes it back with its audit log sealed under `actor`.
/// Overrides made now (`new_overrides`, customer ids) that could not be applied (no such
/// customer) refuse the change: nothing is written.
fn rerun_and_save(
    mut project: Project,
    path: &Path,
    actor: &str,
    allow_outside: bool,
    new_overrides: &[String],
) -> Result<PipelineResult, CliError> {
    let base_dir = project_dir(path);
    let (result, _) = rerun_project(&project, &base_dir, allow_outside, false)
        .map_err(|e| CliError(format!("{e}; nothing was changed")))?;
    if let Some(rules) = &result.rules {
        let failed: Vec<String> = rules
            .overrides
            .iter()
            .zip(&project.rules.overrides)
            .filter(|(_, o)| new_overrides.contains(&o.customer))
            .filter_map(|(effect, o)| {
                effect.error.as_ref().map(|e| format!("override of customer {}: {e}", o.customer))
            })
            .collect();
        if !failed.is_empty() {
            return Err(CliError(format!("{}; nothing was changed", failed.join("; "))));
        }
    }
    warn_all(&result.warnings);
    project::verify::store_fingerprints(&mut project.spec, &result);
    project.results = Some(StoredResults::from_result(&result));
    audit::save(&mut project, path, actor)?;
    Ok(result)
}

pub(crate) fn edit_command(args: EditArgs) -> Result<(), CliError> {
    let actor = actor_or_login(&args.actor);
    let mut project = open_for_change(&args.project)?;
    let n_segments =
        project.results.as_ref().map(|r| r.sizes.len()).unwrap_or(project.segments.len()).max(project.segments.len());
    let entries_before = project.audit.len();
    let push = |project: &mut Project, before: &Project, what: String, why: &str| {
        let (action, object, was, now) = audit::classify(Parts::of(before), Parts::of(project), &what);
        project.audit.push(AuditEntry::new(&actor, &action, &object, &what).change(was, now).because(why));
    };
    for pair in &args.rename {
        let (seg, name) = split_pair("rename", pair)?;
        let segment = segment_of(&project, seg, n_segments)?;
        if name.is_empty() || name.chars().count() > project::validate::MAX_NAME_CHARS {
            return Err(CliError(format!(
                "--rename '{pair}': a name has 1 to {} characters",
                project::validate::MAX_NAME_CHARS
            )));
        }
        let before = project.clone();
        let old = match project.segments.iter().find(|n| n.segment == segment) {
            Some(n) => n.name.clone(),
            None => String::new(),
        };
        project.rules.rename_segment(&old, name);
        match project.segments.iter_mut().find(|n| n.segment == segment) {
            Some(note) => note.name = name.to_string(),
            None => project.segments.push(SegmentNote { segment, name: name.to_string(), ..Default::default() }),
        }
        push(&mut project, &before, format!("rename segment {} to '{name}'", segment + 1), "");
    }
    for pair in &args.note {
        let (seg, text) = split_pair("note", pair)?;
        let segment = segment_of(&project, seg, n_segments)?;
        match project.segments.iter_mut().find(|n| n.segment == segment) {
            Some(note) => note.notes = text.to_string(),
            None => project.segments.push(SegmentNote { segment, notes: text.to_string(), ..Default::default() }),
        }
        project.audit.push(AuditEntry::new(
            &actor,
            "note",
            &format!("segment {}", segment + 1),
            &format!("notes of segment {} set", segment + 1),
        ));
    }
    let reason = args.reason.clone().unwrap_or_default();
    let mut removed: Vec<usize> = args.remove_rule.clone();
    removed.sort_unstable();
    removed.dedup();
    for n in removed.into_iter().rev() {
        if n == 0 || n > project.rules.rules.len() {
            return Err(CliError(format!(
                "--remove-rule {n}: the project has {} rules (numbered from 1)",
                project.rules.rules.len()
            )));
        }
        let before = project.clone();
        let rule = project.rules.rules.remove(n - 1);
        push(&mut project, &before, format!("remove rule {n}: {}", rule.text), &reason);
    }
    for text in &args.add_rule {
        crate::engine::rules::parse_rule(text).map_err(|e| CliError(format!("--add-rule '{text}': {e}")))?;
        let before = project.clone();
        project
            .rules
            .rules
            .push(crate::engine::rules::BusinessRule { text: text.trim().to_string(), why: reason.clone() });
        push(&mut project, &before, format!("add rule: {}", text.trim()), &reason);
    }
    for pair in &args.r#override {
        let (id, seg) = split_pair("override", pair)?;
        if reason.trim().is_empty() {
            return Err(CliError(format!("--override '{pair}' needs --reason: an override says why")));
        }
        let segment = segment_of(&project, seg, n_segments)
            .map(|s| {
                project
                    .segments
                    .iter()
                    .find(|n| n.segment == s)
                    .map(|n| n.name.clone())
                    .unwrap_or_else(|| seg.to_string())
            })
            .unwrap_or_else(|_| seg.to_string());
        let before = project.clone();
        project.rules.overrides.retain(|o| o.customer != id);
        project.rules.overrides.push(crate::engine::rules::Override {
            customer: id.to_string(),
            segment: segment.clone(),
            why: reason.clone(),
        });
        push(&mut project, &before, format!("override: customer {id} to '{segment}'"), &reason);
    }
    for id in &args.remove_override {
        let id = id.trim();
        if !project.rules.overrides.iter().any(|o| o.customer == id) {
            return Err(CliError(format!("--remove-override {id}: no override names that customer")));
        }
        let before = project.clone();
        project.rules.overrides.retain(|o| o.customer != id);
        push(&mut project, &before, format!("remove the override of customer {id}"), &reason);
    }
    if let Some(n) = args.small_cells {
        review::set_small_cells(&mut project, &actor, n)?;
    }
    if let Some(policy) = &args.unsigned {
        let policy = match policy.trim().to_ascii_lowercase().as_str() {
            "allow" => UnsignedPolicy::Allow,
            "warn" => UnsignedPolicy::Warn,
            "block" => UnsignedPolicy::Block,
            other => return Err(CliError(format!("--unsigned '{other}': one of allow, warn, block"))),
        };
        review::set_unsigned_policy(&mut project, &actor, policy);
    }
    if let Some(columns) = &args.sensitive {
        let columns: Vec<String> = columns.iter().map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect();
        project.audit.push(
            AuditEntry::new(&actor, "sensitive", "bias audit columns", "sensitive columns set")
                .change(project.governance.sensitive.join(", "), columns.join(", ")),
        );
        project.governance.sensitive = columns;
    }
    let changes = project.audit.len() - entries_before;
    if changes == 0 {
        return Err(CliError("nothing to change: give --rename, --note, --add-rule, --remove-rule, --override, --small-cells, --unsigned or --sensitive".into()));
    }
    project::validate::check_bounds(&project).map_err(CliError)?;
    let new_overrides: Vec<String> =
        args.r#override.iter().filter_map(|p| p.split_once('=').map(|(id, _)| id.trim().to_string())).collect();
    rerun_and_save(project, &args.project, &actor, args.allow_outside_paths, &new_overrides)?;
    eprintln!(
        "{changes} {} logged; project re-run and written to {}",
        if changes == 1 { "change" } else { "changes" },
        args.project.display()
    );
    Ok(())
}

pub(crate) fn audit_command(args: AuditArgs) -> Result<(), CliError> {
    match args.command {
        AuditCommand::Verify { project: path, head, count, json } => {
            let opened = project::open(&path)?;
            let expected = head.zip(count).map(|(hash, count)| Head { hash: hash.trim().to_string(), count });
            let v = audit::verify(&opened.project, expected.as_ref());
            if json {
                print_json(&json!({
                    "ok": v.ok,
                    "entries": v.entries,
                    "head": v.head.hash,
                    "count": v.head.count,
                    "problems": v.problems,
                    "checked": v.checked,
                    "note": TAMPER_EVIDENT,
                }))?;
            } else {
                for line in &v.checked {
                    println!("ok: {line}");
                }
                println!("head: {}", v.head);
            }
            if !v.ok {
                return Err(CliError(format!("audit log not intact: {}", v.problems.join("; "))));
            }
            if !json {
                eprintln!("the audit log is intact ({TAMPER_EVIDENT})");
            }
            Ok(())
        }
        AuditCommand::Show { project: path, json } => {
            let opened = project::open(&path)?;
            if json {
                return print_json(
                    &json!({ "entries": opened.project.audit, "head": audit::head(&opened.project.audit) }),
                );
            }
            for e in &opened.project.audit {
                let change = match (e.before.is_empty(), e.after.is_empty()) {
                    (true, true) => String::new(),
                    _ => format!(" [{} -> {}]", e.before, e.after),
                };
                let why = if e.why.is_empty() { String::new() } else { format!(" because: {}", e.why) };
                println!("{:>4}  {}  {:<12} {:<10} {}{change}{why}", e.seq, e.when, e.who, e.action, e.what);
            }
            println!("head: {}", audit::head(&opened.project.audit));
            Ok(())
        }
    }
}

/// What the chain proves, in the words every verification carries.
pub const TAMPER_EVIDENT: &str = "tamper-evident, not tamper-proof: an entry changed, deleted or inserted breaks the chain; a log cut short or rewritten whole is found only against a head kept elsewhere (a sign-off, an export)";

pub(crate) fn signoff_command(args: SignoffArgs) -> Result<(), CliError> {
    let decision = match args.decision.trim().to_ascii_lowercase().as_str() {
        "approve" | "approved" => Decision::Approve,
        "request-changes" | "request_changes" | "changes" => Decision::RequestChanges,
        other => return Err(CliError(format!("--decision '{other}': approve or request-changes"))),
    };
    let mut project = open_for_change(&args.project)?;
    let v = audit::verify(&project, None);
    if !v.ok {
        return Err(CliError(format!(
            "the audit log is not intact, so nothing can be signed: {}",
            v.problems.join("; ")
        )));
    }
    if !args.stored {
        // The version signed is the one the data gives now: re-run and compare.
        let base_dir = project_dir(&args.project);
        let (result, differences) = rerun_project(&project, &base_dir, args.allow_outside_paths, false)
            .map_err(|e| CliError(format!("{e} (use --stored to sign the stored version without re-running it)")))?;
        if let Some(d) = differences.filter(|d| !d.is_empty()) {
            return Err(CliError(format!(
                "the re-run does not reproduce the stored results ({}); re-run and save the project before signing",
                d.join("; ")
            )));
        }
        project.results = Some(StoredResults::from_result(&result));
    }
    let version = audit::version_hash(&project);
    let head = review::sign_off(&mut project, &args.reviewer, &args.role, decision, &args.comment, &version)?;
    audit::save(&mut project, &args.project, &args.reviewer)?;
    println!(
        "signed: version {} {} by {}",
        audit::short(&version),
        if decision == Decision::Approve { "approved" } else { "sent back" },
        args.reviewer
    );
    println!("audit head: {head}");
    Ok(())
}

pub(crate) fn comment_command(args: CommentArgs) -> Result<(), CliError> {
    if args.list {
        let opened = project::open(&args.project)?;
        for c in &opened.project.governance.comments {
            let reply = c.reply_to.map(|r| format!(" (reply to {r})")).unwrap_or_default();
            println!("{:>3}  {}  {}  on {}{reply}: {}", c.id, c.when, c.author, review::pin_words(&c.pin), c.text);
        }
        return Ok(());
    }
    let text = args.text.as_deref().ok_or_else(|| CliError("give --text (or --list to see the comments)".into()))?;
    let author = actor_or_login(&args.author);
    let mut project = open_for_change(&args.project)?;
    let pin = review::parse_pin(&args.on)?;
    let pin = match (args.reply_to, pin) {
        (Some(parent), _) => project
            .governance
            .comments
            .iter()
            .find(|c| c.id == parent)
            .map(|c| c.pin.clone())
            .unwrap_or(crate::engine::governance::Pin::Project),
        (None, pin) => pin,
    };
    let id = review::comment(&mut project, &author, pin, text, args.reply_to)?;
    audit::save(&mut project, &args.project, &author)?;
    eprintln!("comment {id} added to {}", args.project.display());
    Ok(())
}

pub(crate) fn dispute_command(args: DisputeArgs) -> Result<(), CliError> {
    if args.list {
        let opened = project::open(&args.project)?;
        for d in &opened.project.governance.disputes {
            let decided = d.decided_by.as_deref().map(|b| format!(" by {b}")).unwrap_or_default();
            println!(
                "{:>3}  customer {} asks for '{}' ({}{decided}); filed by {}: {}",
                d.id,
                d.customer,
                d.segment,
                review::status_words(d.status),
                d.requester,
                d.reason
            );
        }
        return Ok(());
    }
    let mut project = open_for_change(&args.project)?;
    let actor;
    if let Some(id) = args.approve.or(args.reject) {
        let approver =
            args.approver.as_deref().ok_or_else(|| CliError("give --approver: who decides the dispute".into()))?;
        review::decide_dispute(
            &mut project,
            id,
            approver,
            args.approve.is_some(),
            args.reason.as_deref().unwrap_or(""),
        )?;
        actor = approver.to_string();
        if args.approve.is_some() {
            let customer = project.governance.disputes.iter().find(|d| d.id == id).map(|d| d.customer.clone());
            rerun_and_save(project, &args.project, &actor, false, &customer.into_iter().collect::<Vec<_>>())?;
            eprintln!("dispute {id} approved; its override applies and the project was re-run");
            return Ok(());
        }
    } else {
        let need = |v: &Option<String>, flag: &str| {
            v.clone().ok_or_else(|| {
                CliError(format!(
                    "give --{flag} (filing a dispute needs --customer, --segment, --requester and --reason)"
                ))
            })
        };
        let (customer, segment, requester, reason) = (
            need(&args.customer, "customer")?,
            need(&args.segment, "segment")?,
            need(&args.requester, "requester")?,
            need(&args.reason, "reason")?,
        );
        // A segment given by number is stored by its name, as overrides name segments.
        let n_segments = project.results.as_ref().map_or(project.segments.len(), |r| r.sizes.len());
        let segment = match segment_of(&project, &segment, n_segments) {
            Ok(s) => project.segments.iter().find(|n| n.segment == s).map_or(segment, |n| n.name.clone()),
            Err(_) => segment,
        };
        let id = review::dispute(&mut project, &requester, &customer, &segment, &reason)?;
        eprintln!(
            "dispute {id} filed (pending: another person approves or rejects it with --approve {id} --approver NAME)"
        );
        actor = requester;
    }
    audit::save(&mut project, &args.project, &actor)?;
    Ok(())
}

pub(crate) fn opt_out_command(args: OptOutArgs) -> Result<(), CliError> {
    let actor = actor_or_login(&args.actor);
    let mut ids: Vec<String> = args.id.clone();
    if let Some(file) = &args.file {
        let text = read_id_file(file)?;
        ids.extend(text.lines().map(|l| l.trim().trim_matches('"').to_string()).filter(|l| !l.is_empty()));
    }
    let mut project = open_for_change(&args.project)?;
    let changed = review::opt_out(&mut project, &actor, ids.iter().map(String::as_str), args.remove)?;
    audit::save(&mut project, &args.project, &actor)?;
    eprintln!(
        "{changed} {} {}; {} opted out in all (stored hashed)",
        if changed == 1 { "customer" } else { "customers" },
        if args.remove { "back in targeting" } else { "opted out" },
        project.governance.opt_outs.hashed_ids.len()
    );
    Ok(())
}

/// Reads a file of ids: a regular file, bounded, UTF-8.
fn read_id_file(path: &Path) -> Result<String, CliError> {
    const MAX: u64 = 1 << 30;
    let meta = std::fs::metadata(path).map_err(|e| CliError(format!("{}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(CliError(format!("{}: not a regular file", path.display())));
    }
    if meta.len() > MAX {
        return Err(CliError(format!("{}: larger than {MAX} bytes", path.display())));
    }
    let bytes = std::fs::read(path).map_err(|e| CliError(format!("{}: {e}", path.display())))?;
    String::from_utf8(bytes).map_err(|_| CliError(format!("{}: not UTF-8 text", path.display())))
}

/// A headless export on its way: the project's policy on unsigned versions checked, the export
/// logged (in memory) and its provenance ready. The caller writes the export, then calls
/// [`CliExport::finish`]: a failed export leaves neither a provenance nor a log entry behind.
pub(crate) struct CliExport {
    path: PathBuf,
    project: Project,
    read_only: bool,
    sidecar: PathBuf,
    provenance: String,
}

impl CliExport {
    /// The project with the export logged and sealed (its head is the one the provenance gives).
    pub(crate) fn project(&self) -> &Project {
        &self.project
    }

    /// Once the export is written: its provenance beside it, and the project saved with the entry.
    pub(crate) fn finish(self) -> Result<Project, CliError> {
        project::save_atomically(&self.sidecar, self.provenance.as_bytes()).map_err(|e| {
            CliError(format!("could not write the export's provenance ({e}): {}", self.sidecar.display()))
        })?;
        if self.read_only {
            eprintln!("note: the export is not logged in the project: a newer Strata wrote it");
        } else {
            self.project.save_unsealed(&self.path)?;
        }
        Ok(self.project)
    }

    /// For an export that writes no file (the scoring service): the project saved with the entry.
    pub(crate) fn finish_logged(self) -> Result<Project, CliError> {
        if self.read_only {
            eprintln!("note: the export is not logged in the project: a newer Strata wrote it");
        } else {
            self.project.save_unsealed(&self.path)?;
        }
        Ok(self.project)
    }
}

/// Before a headless export of `kind` to `out` from the project at `path` re-run as `result`:
/// refused when the project blocks unsigned exports; otherwise the export logged, to be written
/// with its provenance by [`CliExport::finish`] once the export itself is.
pub(crate) fn cli_export_gate(
    path: &Path,
    result: &PipelineResult,
    kind: &str,
    out: &Path,
) -> Result<CliExport, CliError> {
    let opened = project::open(path)?;
    let mut project = opened.project;
    let mut as_run = project.clone();
    as_run.results = Some(StoredResults::from_result(result));
    let version = audit::version_hash(&as_run);
    let actor = audit::login_name();
    let (provenance, warning) =
        review::before_export(&mut project, &version, &actor, kind, &out.display().to_string()).map_err(CliError)?;
    if let Some(w) = warning {
        eprintln!("warning: {w}");
    }
    Ok(CliExport {
        path: path.to_path_buf(),
        project,
        read_only: opened.read_only,
        sidecar: review::provenance_path(out),
        provenance: serde_json::to_string_pretty(&provenance).map_err(|e| CliError(e.to_string()))?,
    })
}

/// Arguments of `strata pack`.
#[derive(Debug, Args)]
pub struct PackArgs {
    /// The project file.
    pub project: PathBuf,
    /// Put the data files in the pack (required: a pack is for reviewers who lack the data).
    #[arg(long)]
    pub with_data: bool,
    /// The pack to write (`.stratapack`).
    #[arg(long)]
    pub out: PathBuf,
}

/// Arguments of `strata unpack`.
#[derive(Debug, Args)]
pub struct UnpackArgs {
    /// The pack.
    pub pack: PathBuf,
    /// The folder to unpack into (default: a folder named after the pack, beside it).
    #[arg(long)]
    pub to: Option<PathBuf>,
}

pub(crate) fn pack_command(args: PackArgs) -> Result<(), CliError> {
    if !args.with_data {
        return Err(CliError("give --with-data: a pack holds the project and its data (to share the project alone, share its .strata file)".into()));
    }
    let files = crate::engine::governance::pack::write(&args.project, &args.out)?;
    eprintln!(
        "{} packed into {}: {}",
        crate::engine::words::count(files.len(), "file"),
        args.out.display(),
        files.join(", ")
    );
    Ok(())
}

/// Unpacks a pack and checks it whole: every file against the manifest, then the project re-run
/// from its own data against its stored fingerprints and results, and its audit log.
pub(crate) fn unpack_command(args: UnpackArgs) -> Result<(), CliError> {
    let into = args.to.clone().unwrap_or_else(|| args.pack.with_extension(""));
    let project_path = crate::engine::governance::pack::unpack(&args.pack, &into)?;
    eprintln!("unpacked to {}; every file matches the pack's manifest", into.display());
    verify_unpacked(&project_path)
}

/// The checks of an unpacked project: the data's fingerprints and results (a re-run) and the audit log.
pub(crate) fn verify_unpacked(project_path: &Path) -> Result<(), CliError> {
    let opened = project::open(project_path)?;
    let (_, differences) = rerun_project(&opened.project, &project_dir(project_path), false, false)?;
    match differences {
        Some(d) if !d.is_empty() => {
            return Err(CliError(format!(
                "the packed project does not reproduce its stored results: {}",
                d.join("; ")
            )));
        }
        Some(_) => eprintln!("verified: the data's fingerprints match and the re-run reproduces every stored result"),
        None => eprintln!("the data's fingerprints match (the project holds no stored results to compare)"),
    }
    let v = audit::verify(&opened.project, None);
    if !v.ok {
        return Err(CliError(format!("the packed project's audit log is not intact: {}", v.problems.join("; "))));
    }
    eprintln!("the audit log is intact: {}", v.head);
    Ok(())
}
