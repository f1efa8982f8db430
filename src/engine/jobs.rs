//! Cancellation and progress shared by the pipeline, the window and the CLI, and the job runner: named
//! threads, progress events, cancel, latest wins.

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

/// Which job an event belongs to; ids only grow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobId(pub u64);

/// What a job sends back to whoever started it.
#[derive(Debug)]
pub enum JobEvent<T> {
    /// A stage and the fraction of it done.
    Progress {
        /// The job.
        job: JobId,
        /// The stage, as the job names it.
        stage: String,
        /// 0..1.
        fraction_done: f64,
    },
    /// The job's result, shared and immutable.
    Finished {
        /// The job.
        job: JobId,
        /// The result.
        result: Arc<T>,
    },
    /// The job failed (or panicked, which is a bug); the message is for the user.
    Failed {
        /// The job.
        job: JobId,
        /// One sentence.
        error: String,
    },
    /// The job stopped because it was cancelled.
    Cancelled {
        /// The job.
        job: JobId,
    },
}

/// Whether jobs run on their own threads (the window) or on the caller's (tests, scripts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunMode {
    /// A named thread per job; the caller polls for events.
    Threads,
    /// The job runs to the end inside `start`; its events wait for the next poll.
    Inline,
}

/// Sends a job's progress to its runner's channel, tagged with the job.
struct ChannelProgress<T> {
    job: JobId,
    sender: std::sync::mpsc::Sender<JobEvent<T>>,
    wake: Waker,
}

impl<T: Send + Sync> Progress for ChannelProgress<T> {
    fn report(&self, stage: &str, fraction_done: f64) {
        let _ = self.sender.send(JobEvent::Progress { job: self.job, stage: stage.to_string(), fraction_done });
        (self.wake)();
    }
}

/// Called after each event is sent, so a window can repaint.
type Waker = Arc<dyn Fn() + Send + Sync>;

/// Runs one kind of job at a time, latest wins: starting a job cancels the one running, and events
/// of any job but the latest are dropped, so a stale result never overwrites a newer one.
pub struct JobRunner<T> {
    mode: RunMode,
    sender: std::sync::mpsc::Sender<JobEvent<T>>,
    receiver: std::sync::mpsc::Receiver<JobEvent<T>>,
    next_id: u64,
    current: Option<(JobId, CancelToken, String)>,
    wake: Waker,
}

impl<T: Send + Sync + 'static> JobRunner<T> {
    /// A runner in the given mode.
    pub fn new(mode: RunMode) -> Self {
        let (sender, receiver) = std::sync::mpsc::channel();
        Self { mode, sender, receiver, next_id: 0, current: None, wake: Arc::new(|| {}) }
    }

    /// Calls `wake` after every event a job sends (a window passes its repaint request).
    pub fn with_waker(mut self, wake: impl Fn() + Send + Sync + 'static) -> Self {
        self.wake = Arc::new(wake);
        self
    }

    /// Starts `job` under `name` (its thread is `strata-job-NAME`), cancelling the running one.
    pub fn start<E: std::fmt::Display>(
        &mut self,
        name: &str,
        job: impl FnOnce(&JobContext<'_>) -> Result<T, E> + Send + 'static,
    ) -> JobId {
        self.cancel();
        self.next_id += 1;
        let id = JobId(self.next_id);
        let cancel = CancelToken::new();
        self.current = Some((id, cancel.clone(), name.to_string()));
        let progress = ChannelProgress { job: id, sender: self.sender.clone(), wake: self.wake.clone() };
        let work = move || {
            let ctx = JobContext { cancel: cancel.clone(), progress: &progress };
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&ctx)));
            let event = match outcome {
                _ if cancel.is_cancelled() => JobEvent::Cancelled { job: id },
                Ok(Ok(result)) => JobEvent::Finished { job: id, result: Arc::new(result) },
                Ok(Err(error)) => JobEvent::Failed { job: id, error: error.to_string() },
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "unknown panic".to_string());
                    JobEvent::Failed { job: id, error: format!("internal error (a bug; please report it): {what}") }
                }
            };
            let _ = progress.sender.send(event);
            (progress.wake)();
        };
        match self.mode {
            RunMode::Inline => work(),
            RunMode::Threads => {
                let spawned = std::thread::Builder::new().name(format!("strata-job-{name}")).spawn(work);
                if let Err(e) = spawned {
                    let _ =
                        self.sender.send(JobEvent::Failed { job: id, error: format!("could not start a thread: {e}") });
                }
            }
        }
        id
    }

    /// Asks the running job, if any, to stop; its remaining events are dropped.
    pub fn cancel(&mut self) {
        if let Some((_, token, _)) = self.current.take() {
            token.cancel();
        }
    }

    /// The running job and its name.
    pub fn running(&self) -> Option<(JobId, &str)> {
        self.current.as_ref().map(|(id, _, name)| (*id, name.as_str()))
    }

    /// The latest job's events since the last poll, in order; a finished, failed or cancelled job
    /// is no longer running afterwards.
    pub fn poll(&mut self) -> Vec<JobEvent<T>> {
        let mut events = Vec::new();
        while let Ok(event) = self.receiver.try_recv() {
            let job = match &event {
                JobEvent::Progress { job, .. }
                | JobEvent::Finished { job, .. }
                | JobEvent::Failed { job, .. }
                | JobEvent::Cancelled { job } => *job,
            };
            if self.current.as_ref().map(|c| c.0) != Some(job) {
                continue;
            }
            if !matches!(event, JobEvent::Progress { .. }) {
                self.current = None;
            }
            events.push(event);
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// Polls until the runner has nothing running, or a few seconds pass.
    fn drain<T: Send + Sync + 'static>(runner: &mut JobRunner<T>) -> Vec<JobEvent<T>> {
        let started = Instant::now();
        let mut events = Vec::new();
        while runner.running().is_some() && started.elapsed() < Duration::from_secs(10) {
            events.extend(runner.poll());
            std::thread::sleep(Duration::from_millis(2));
        }
        events.extend(runner.poll());
        events
    }

    #[test]
    fn the_latest_job_wins_and_the_one_it_replaced_is_cancelled() {
        let mut runner = JobRunner::<u32>::new(RunMode::Threads);
        let (seen_tx, seen_rx) = std::sync::mpsc::channel();
        let first = runner.start("sweep", move |ctx| {
            // Runs until cancelled, then would still return a (stale) result.
            while !ctx.cancel.is_cancelled() {
                std::thread::sleep(Duration::from_millis(1));
            }
            let _ = seen_tx.send(std::thread::current().name().map(str::to_string));
            Ok::<_, String>(1)
        });
        let second = runner.start("sweep", |ctx| {
            ctx.progress.report("fit", 0.5);
            Ok::<_, String>(2)
        });
        assert!(second > first);
        let events = drain(&mut runner);
        assert_eq!(seen_rx.recv_timeout(Duration::from_secs(10)).unwrap().as_deref(), Some("strata-job-sweep"));
        assert!(matches!(&events[0], JobEvent::Progress { job, stage, .. } if *job == second && stage == "fit"));
        assert!(matches!(&events[1], JobEvent::Finished { job, result } if *job == second && **result == 2));
        assert_eq!(events.len(), 2, "{events:?}");
        assert!(runner.running().is_none());
        // The first job's late events never surface.
        std::thread::sleep(Duration::from_millis(20));
        assert!(runner.poll().is_empty());
    }

    #[test]
    fn failures_panics_and_cancellation_are_events_not_crashes() {
        let mut runner = JobRunner::<u32>::new(RunMode::Inline);
        runner.start("load", |_| Err::<u32, _>("the file has no rows"));
        assert!(matches!(&runner.poll()[..], [JobEvent::Failed { error, .. }] if error == "the file has no rows"));
        runner.start("load", |_| -> Result<u32, String> { panic!("index out of bounds") });
        let events = runner.poll();
        assert!(
            matches!(&events[..], [JobEvent::Failed { error, .. }] if error.contains("a bug") && error.contains("index out of bounds")),
            "{events:?}"
        );
        let mut threaded = JobRunner::<u32>::new(RunMode::Threads);
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        threaded.start("sweep", move |ctx| {
            let _ = started_tx.send(());
            while !ctx.cancel.is_cancelled() {
                std::thread::sleep(Duration::from_millis(1));
            }
            Ok::<_, String>(0)
        });
        started_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        threaded.cancel();
        assert!(threaded.running().is_none());
        std::thread::sleep(Duration::from_millis(20));
        assert!(threaded.poll().is_empty(), "a cancelled job's events are dropped");
    }

    #[test]
    fn the_waker_is_called_for_every_event() {
        let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = count.clone();
        let mut runner =
            JobRunner::<u32>::new(RunMode::Inline).with_waker(move || _ = seen.fetch_add(1, Ordering::Relaxed));
        runner.start("sweep", |ctx| {
            ctx.progress.report("k = 2", 0.5);
            ctx.progress.report("k = 3", 1.0);
            Ok::<_, String>(3)
        });
        assert_eq!(count.load(Ordering::Relaxed), 3);
        assert_eq!(runner.poll().len(), 3);
    }
}
