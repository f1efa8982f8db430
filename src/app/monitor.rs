//! The Monitor screen's acts: publishing the fit shown as a version, making an older version
//! current again, comparing two versions, setting the alert thresholds, and monitoring a new
//! period on a job, through the same engine functions as `strata publish`, `rollback`, `diff` and
//! `monitor`; each change of the project is an audit entry.

use std::path::{Path, PathBuf};

use super::StrataApp;
use crate::engine::governance::audit::AuditEntry;
use crate::engine::jobs::JobEvent;
use crate::engine::monitor::diff::VersionDiff;
use crate::engine::monitor::periods::{self, monitor_periods};
use crate::engine::monitor::{self, MonitorRun, Thresholds};
use crate::engine::pipeline::SourceResolver;
use crate::engine::scoring::batch::NewData;

/// A period monitored in the window, waiting to be stored in the project it was made for.
pub struct Monitored {
    /// The runs (one per period).
    pub runs: Vec<MonitorRun>,
    /// What reading and scoring said.
    pub warnings: Vec<String>,
    /// The version monitored against.
    pub version: u32,
}

impl StrataApp {
    /// Publishes the fit shown as a new version, current from now (refused unless the fit shown
    /// is the project's as it stands).
    pub(super) fn publish(&mut self, note: &str) {
        let who = self.audit_name();
        let Some(doc) = &mut self.doc else { return };
        let Some(out) = self.output.clone().filter(|o| o.is_for(doc)) else {
            self.report_error("Nothing to publish yet: run the segmentation first (the fit shown is not this spec's).");
            return;
        };
        let result = &out.result;
        // The version keeps the data fingerprints it was fitted on, as `strata publish` stores them.
        crate::engine::project::verify::store_fingerprints(&mut doc.project.spec, result);
        let number = match doc.project.publish(result, &who, note.trim()) {
            Ok(number) => number,
            Err(e) => {
                self.report_error(format!("Could not publish: {e}"));
                return;
            }
        };
        doc.project.audit.push(
            AuditEntry::new(&who, "publish", &format!("version {number}"), &format!("publish version {number}"))
                .change("", result.assignment_fingerprint.clone())
                .because(note.trim()),
        );
        self.view.monitor.note.clear();
        // The comparison offered next is the version before with the new one.
        self.view.monitor.diff = None;
        self.info(format!(
            "Version {number} published ({} customers); scoring, exports and the monitor use it",
            super::widgets::format_count(result.customers.height())
        ));
    }

    /// Makes version `number` current again: the spec, names and rules become its own (one undo
    /// step), newer versions stay, and the project is run again.
    pub(super) fn roll_back(&mut self, number: u32) {
        let who = self.audit_name();
        let Some(doc) = &mut self.doc else { return };
        let Some(version) = doc.project.versions.get(number).cloned() else {
            let message = doc.project.no_such_version(number);
            self.report_error(message);
            return;
        };
        let was = doc.project.versions.current;
        let what = format!("roll back to version {number}");
        doc.record(&what);
        let mut state = doc.state();
        state.spec = version.spec.clone();
        state.segments = version.segments.clone();
        state.rules = version.rules.clone();
        doc.restore(state);
        doc.project.versions.current = Some(number);
        let was_words = was.map_or_else(|| "none".to_string(), |n| format!("version {n}"));
        doc.project.audit.push(
            AuditEntry::new(&who, "rollback", &format!("version {number}"), &what)
                .change(was_words, format!("version {number}")),
        );
        self.info(format!("Version {number} is current again; newer versions are kept"));
        self.after_change(true, true);
    }

    /// Stores new alert thresholds (checked first), with the values before in the audit log.
    pub(super) fn set_monitor_thresholds(&mut self, thresholds: Thresholds) {
        let who = self.audit_name();
        let Some(doc) = &mut self.doc else { return };
        if doc.project.monitor.thresholds == thresholds {
            return;
        }
        if let Err(e) = thresholds.check() {
            self.report_error(format!("Thresholds not set: {e}"));
            return;
        }
        let was = std::mem::replace(&mut doc.project.monitor.thresholds, thresholds.clone());
        // A drag is many frames: one line for it, as typing one note is.
        if doc.project.audit.last().is_some_and(|e| e.what == "monitor thresholds set" && !e.is_sealed()) {
            doc.project.audit.pop();
        }
        doc.project.audit.push(
            AuditEntry::new(&who, "set", "monitor thresholds", "monitor thresholds set")
                .change(format!("{was:?}"), format!("{thresholds:?}")),
        );
    }

    /// Monitors the customers of `data` (as of `as_of` for a log) against the current version,
    /// on the monitor job: the version re-run on its own data (or the fit shown when it is the
    /// version's), the new period scored by it, its drift and migration.
    pub(super) fn monitor_data(&mut self, data: &Path, as_of: Option<chrono::NaiveDate>) {
        let who = self.audit_name();
        let Some(doc) = &self.doc else { return };
        let project = doc.project.clone();
        let Some(version) = project.versions.current().cloned() else {
            self.report_error(
                "Nothing is published: publish a version first; the monitor compares new periods with it.",
            );
            return;
        };
        let (view, _) = project.scoring_view();
        // The fit shown is the version's when it assigns every customer as the version did.
        let shown = self.output.clone().filter(|o| {
            o.spec == view.spec && o.result.assignment_fingerprint == version.results.assignment_fingerprint
        });
        let resolver = doc.resolver();
        let data_files = SourceResolver::user_chosen(&doc.base_dir);
        let read_options = same_kind_options(&view.spec, data);
        let source = NewData::new(data.to_path_buf(), as_of, read_options);
        self.view.monitor.error = None;
        self.monitor_runner.start("monitor", move |ctx| -> Result<Monitored, String> {
            let rerun;
            let (result, previous) = match &shown {
                Some(out) => (
                    &out.result,
                    periods::assignment_pairs(&view.spec, &out.result, &version.names).map_err(|e| e.to_string())?,
                ),
                None => {
                    rerun = periods::rerun_version(&project, &version, &resolver, false)?;
                    (&rerun.0, rerun.1.clone())
                }
            };
            let cancelled = || ctx.cancel.is_cancelled();
            let done = monitor_periods(
                &view,
                &version,
                result,
                std::slice::from_ref(&source),
                previous,
                &project.monitor,
                &who,
                &resolver,
                &data_files,
                &cancelled,
            )?;
            Ok(Monitored { runs: done.runs, warnings: done.warnings, version: version.number })
        });
    }

    /// Compares versions `from` and `to` on the diff job.
    pub(super) fn diff_versions(&mut self, from: u32, to: u32) {
        let Some(doc) = &self.doc else { return };
        let project = doc.project.clone();
        let resolver = doc.resolver();
        let (Some(a), Some(b)) = (project.versions.get(from).cloned(), project.versions.get(to).cloned()) else {
            let n = if project.versions.get(from).is_none() { from } else { to };
            let message = project.no_such_version(n);
            self.report_error(message);
            return;
        };
        self.version_diff = None;
        self.diff_runner.start("compare versions", move |_ctx| -> Result<VersionDiff, String> {
            monitor::diff::diff(&project, &a, &b, &resolver, false)
        });
    }

    /// Whether a period is being monitored.
    pub fn monitor_busy(&self) -> bool {
        self.monitor_runner.running().is_some()
    }

    /// Whether two versions are being compared.
    pub fn diff_busy(&self) -> bool {
        self.diff_runner.running().is_some()
    }

    /// The two versions compared last.
    pub fn version_diff(&self) -> Option<&VersionDiff> {
        self.version_diff.as_deref()
    }

    pub(super) fn drain_monitor_jobs(&mut self) {
        for event in self.monitor_runner.poll() {
            match event {
                JobEvent::Finished { result, .. } => self.store_monitored(&result),
                JobEvent::Failed { error, .. } => {
                    self.view.monitor.error = Some(error.clone());
                    self.report_error(format!("Could not monitor: {error}"));
                }
                JobEvent::Progress { .. } | JobEvent::Provisional { .. } | JobEvent::Cancelled { .. } => {}
            }
        }
        for event in self.diff_runner.poll() {
            match event {
                JobEvent::Finished { result, .. } => self.version_diff = Some(result),
                JobEvent::Failed { error, .. } => self.report_error(format!("Could not compare the versions: {error}")),
                JobEvent::Progress { .. } | JobEvent::Provisional { .. } | JobEvent::Cancelled { .. } => {}
            }
        }
    }

    /// Stores monitored periods in the project (the oldest dropped past the limit) with one audit
    /// entry, and shows the newest.
    fn store_monitored(&mut self, monitored: &Monitored) {
        let who = self.audit_name();
        let Some(doc) = &mut self.doc else { return };
        // A version made current since the job started: the runs were for the one before.
        if doc.project.versions.current != Some(monitored.version) {
            self.report_error("The current version changed while the period was monitored; monitor it again.");
            return;
        }
        let state = &mut doc.project.monitor;
        state.runs.extend(monitored.runs.iter().cloned());
        let excess = state.runs.len().saturating_sub(monitor::MAX_RUNS);
        state.runs.drain(..excess);
        let labels: Vec<&str> = monitored.runs.iter().map(|r| r.label.as_str()).collect();
        doc.project.audit.push(AuditEntry::new(
            &who,
            "monitor",
            &format!("version {}", monitored.version),
            &format!("monitored {}", labels.join(", ")),
        ));
        self.view.monitor.run = Some(doc.project.monitor.runs.len().saturating_sub(1));
        self.view.monitor.warnings = monitored.warnings.clone();
        let alerts: usize = monitored.runs.iter().map(|r| r.alerts.len()).sum();
        self.info(format!("{} monitored: {alerts} alert(s)", labels.join(", ")));
    }
}

/// The project's reading options when `data` is the same kind of file as its own (delimiter,
/// decimal comma and date formats hold for another export of it), else the defaults.
pub(super) fn same_kind_options(
    spec: &crate::engine::pipeline::PipelineSpec,
    data: &Path,
) -> crate::engine::data::ReadOptions {
    let extension = |p: &Path| p.extension().map(|e| e.to_string_lossy().to_lowercase());
    let own = match &spec.source.source {
        crate::engine::pipeline::DataSource::File(path) => Some(PathBuf::from(path)),
        _ => None,
    };
    if own.as_deref().map(extension) == Some(extension(data)) {
        spec.source.read_options.clone()
    } else {
        Default::default()
    }
}
