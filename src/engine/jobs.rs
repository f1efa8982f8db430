//! Cancellation and progress shared by the pipeline, the GUI's job runner and the CLI's inline runner.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A flag a newer job or the user sets to stop a running one at its next check.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the job to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether stopping was asked for.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Receives progress from a running job: a stage name and a fraction of it done (0..1).
pub trait Progress: Sync {
    /// Called between stages and between units of work (k values, initialisations).
    fn report(&self, stage: &str, fraction_done: f64);
}

/// A progress sink that ignores everything (scripts, tests).
pub struct NoProgress;

impl Progress for NoProgress {
    fn report(&self, _stage: &str, _fraction_done: f64) {}
}

/// What a running job can consult: whether to stop, and where to report progress.
pub struct JobContext<'a> {
    /// Cancellation flag.
    pub cancel: CancelToken,
    /// Progress sink.
    pub progress: &'a dyn Progress,
}

impl JobContext<'_> {
    /// A context that never cancels and reports nowhere.
    pub fn inline() -> JobContext<'static> {
        JobContext { cancel: CancelToken::new(), progress: &NoProgress }
    }
}
