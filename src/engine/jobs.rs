//! Cancellation and progress shared by the pipeline, the window and the CLI, and the job runner: named
//! threads, progress events, cancel, latest wins.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};

/// The exit code of a command that panicked: EX_SOFTWARE (70, "internal software error") from BSD's
/// sysexits, distinct from the 1 of an ordinary error.
pub const PANIC_EXIT_CODE: u8 = 70;

/// What the panic hook recorded about the last panic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PanicReport {
    /// The panic's message.
    pub message: String,
    /// `file:line` where it happened, when known.
    pub location: Option<String>,
    /// The backtrace, when `RUST_BACKTRACE` (or `RUST_LIB_BACKTRACE`) asks for one.
    pub backtrace: Option<String>,
}

impl PanicReport {
    /// The one line shown for it: "internal error (a bug; please report it): MESSAGE at FILE:LINE".
    pub fn line(&self) -> String {
        match &self.location {
            Some(location) => format!("internal error (a bug; please report it): {} at {location}", self.message),
            None => format!("internal error (a bug; please report it): {}", self.message),
        }
    }
}

/// The panics the hook saw lately, newest last. More than one: a panic in a rayon worker is recorded on
/// the worker's thread and caught on another, and a panic elsewhere (another job, another test) may
/// be recorded in between, so a caught panic looks for its own report by message.
static RECENT_PANICS: Mutex<std::collections::VecDeque<PanicReport>> = Mutex::new(std::collections::VecDeque::new());
/// How many reports [`RECENT_PANICS`] keeps.
const RECENT_PANICS_KEPT: usize = 32;
/// How many guarded scopes (commands, jobs) are running: while any is, the hook only records,
/// because the scope reports the panic itself, in one line.
static GUARDED: AtomicUsize = AtomicUsize::new(0);
static INSTALL: Once = Once::new();

/// The text of a panic payload (`panic!` with a literal or with arguments).
fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// Installs (once) the panic hook that records each panic's message, location and, when
/// `RUST_BACKTRACE` is set, backtrace, instead of printing Rust's multi-line default. Outside a
/// guarded scope ([`run_guarded`], a job) it still hands the panic to the previous hook, so nothing
/// is lost where nobody would report it.
pub fn install_panic_hook() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let backtrace = std::backtrace::Backtrace::capture();
            let report = PanicReport {
                message: payload_text(info.payload()),
                location: info.location().map(|l| format!("{}:{}", l.file(), l.line())),
                backtrace: (backtrace.status() == std::backtrace::BacktraceStatus::Captured)
                    .then(|| backtrace.to_string()),
            };
            let mut recent = RECENT_PANICS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if recent.len() == RECENT_PANICS_KEPT {
                recent.pop_front();
            }
            recent.push_back(report);
            drop(recent);
            if GUARDED.load(Ordering::SeqCst) == 0 {
                previous(info);
            }
        }));
    });
}

/// Where the last panic the hook recorded happened (`file:line`), if the hook is installed and saw one.
pub fn last_panic_location() -> Option<String> {
    RECENT_PANICS.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).back().and_then(|r| r.location.clone())
}

/// The report of a caught panic: the newest report the hook recorded with the same message (a panic
/// in a rayon worker reaches the caller's thread with the same payload), taken out of the list, else
/// the payload alone.
fn report_of(payload: &(dyn std::any::Any + Send)) -> PanicReport {
    let message = payload_text(payload);
    let mut recent = RECENT_PANICS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let position = recent.iter().rposition(|report| report.message == message);
    position.and_then(|at| recent.remove(at)).unwrap_or(PanicReport { message, location: None, backtrace: None })
}

/// Runs `f` with the hook in recording mode and turns a panic into a value.
fn catch_guarded<R>(f: impl FnOnce() -> R) -> Result<R, PanicReport> {
    /// Leaves the guarded scope however `f` ends.
    struct Guard;
    impl Drop for Guard {
        fn drop(&mut self) {
            GUARDED.fetch_sub(1, Ordering::SeqCst);
        }
    }
    GUARDED.fetch_add(1, Ordering::SeqCst);
    let _guard = Guard;
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| report_of(payload.as_ref()))
}

/// How a guarded command ended when it did not succeed.
#[derive(Debug)]
pub enum GuardedError<E> {
    /// It returned an error (for the user).
    Failed(E),
    /// It panicked (a bug): the message, location and backtrace the hook recorded.
    Panicked(PanicReport),
}

/// The panic boundary of a command: runs `f`, returning its error, or a [`PanicReport`] when it
/// panicked (install the hook with [`install_panic_hook`] first to get the location).
pub fn run_guarded<T, E>(f: impl FnOnce() -> Result<T, E>) -> Result<T, GuardedError<E>> {
    match catch_guarded(f) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(GuardedError::Failed(error)),
        Err(report) => Err(GuardedError::Panicked(report)),
    }
}

/// A flag a newer job or the user sets to stop a running one at its next check, and how far the
/// job's current step is: long inner loops (a hierarchical tree's merges, a mixture's
/// initialisations) report it here between the stage reports, and the window reads it.
#[derive(Clone, Debug, Default)]
pub struct CancelToken {
    cancelled: Arc<AtomicBool>,
    /// The fraction of the current step done, as `f64` bits.
    step: Arc<std::sync::atomic::AtomicU64>,
    /// Unit tests: every fraction reported, in order, and a fraction past which the token
    /// cancels itself (a user pressing Cancel mid-loop, without a second thread).
    #[cfg(test)]
    trace: Arc<std::sync::Mutex<(Vec<f64>, Option<f64>)>>,
}

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the job to stop.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// Whether stopping was asked for.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// Records that `fraction` (0..1) of the current step is done.
    pub fn step_done(&self, fraction: f64) {
        let fraction = if fraction.is_finite() { fraction.clamp(0.0, 1.0) } else { 0.0 };
        self.step.store(fraction.to_bits(), Ordering::Relaxed);
        #[cfg(test)]
        if let Ok(mut trace) = self.trace.lock() {
            trace.0.push(fraction);
            if trace.1.is_some_and(|past| fraction > past) {
                self.cancel();
            }
        }
    }

    /// Unit tests: the fractions reported so far, in order.
    #[cfg(test)]
    pub(crate) fn steps_reported(&self) -> Vec<f64> {
        self.trace.lock().map(|t| t.0.clone()).unwrap_or_default()
    }

    /// Unit tests: cancel as soon as a report passes `fraction`.
    #[cfg(test)]
    pub(crate) fn cancel_when_past(&self, fraction: f64) {
        if let Ok(mut trace) = self.trace.lock() {
            trace.1 = Some(fraction);
        }
    }

    /// The fraction of the current step done (0 until a loop reports).
    pub fn step_fraction(&self) -> f64 {
        f64::from_bits(self.step.load(Ordering::Relaxed))
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
    /// A result to show while the job goes on to the exact one (figures from a sample, say); the
    /// job is still running, and its `Finished` result replaces this one.
    Provisional {
        /// The job.
        job: JobId,
        /// The provisional result.
        result: Arc<T>,
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
    /// The job's token: a new report starts a new step.
    token: CancelToken,
}

impl<T: Send + Sync> Progress for ChannelProgress<T> {
    fn report(&self, stage: &str, fraction_done: f64) {
        self.token.step_done(0.0);
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
        self.start_refining(name, move |ctx, _| job(ctx))
    }

    /// As [`Self::start`], for a job that may hand over provisional results on the way (through
    /// the function it is given) before it returns the exact one.
    pub fn start_refining<E: std::fmt::Display>(
        &mut self,
        name: &str,
        job: impl FnOnce(&JobContext<'_>, &dyn Fn(T)) -> Result<T, E> + Send + 'static,
    ) -> JobId {
        self.cancel();
        self.next_id += 1;
        let id = JobId(self.next_id);
        let cancel = CancelToken::new();
        self.current = Some((id, cancel.clone(), name.to_string()));
        let progress =
            ChannelProgress { job: id, sender: self.sender.clone(), wake: self.wake.clone(), token: cancel.clone() };
        let work = move || {
            let ctx = JobContext { cancel: cancel.clone(), progress: &progress };
            let provisional = |result: T| {
                let _ = progress.sender.send(JobEvent::Provisional { job: id, result: Arc::new(result) });
                (progress.wake)();
            };
            let outcome = catch_guarded(|| job(&ctx, &provisional));
            let event = match outcome {
                _ if cancel.is_cancelled() => JobEvent::Cancelled { job: id },
                Ok(Ok(result)) => JobEvent::Finished { job: id, result: Arc::new(result) },
                Ok(Err(error)) => JobEvent::Failed { job: id, error: error.to_string() },
                Err(report) => JobEvent::Failed { job: id, error: report.line() },
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

    /// How far the running job's current step is (see [`CancelToken::step_done`]).
    pub fn step_fraction(&self) -> Option<f64> {
        self.current.as_ref().map(|(_, token, _)| token.step_fraction())
    }

    /// The running job and its name.
    pub fn running(&self) -> Option<(JobId, &str)> {
        self.current.as_ref().map(|(id, _, name)| (*id, name.as_str()))
    }

    /// The latest job's events since the last poll, in order; a finished, failed or cancelled job
    /// is no longer running afterwards (a provisional result leaves it running).
    pub fn poll(&mut self) -> Vec<JobEvent<T>> {
        let mut events = Vec::new();
        while let Ok(event) = self.receiver.try_recv() {
            let job = match &event {
                JobEvent::Progress { job, .. }
                | JobEvent::Provisional { job, .. }
                | JobEvent::Finished { job, .. }
                | JobEvent::Failed { job, .. }
                | JobEvent::Cancelled { job } => *job,
            };
            if self.current.as_ref().map(|c| c.0) != Some(job) {
                continue;
            }
            if !matches!(event, JobEvent::Progress { .. } | JobEvent::Provisional { .. }) {
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
    fn a_step_reported_on_the_token_restarts_at_each_stage_report() {
        let mut runner: JobRunner<f64> = JobRunner::new(RunMode::Inline);
        runner.start("steps", |ctx| -> Result<f64, String> {
            ctx.cancel.step_done(0.4);
            let midway = ctx.cancel.step_fraction();
            ctx.progress.report("next", 0.5);
            ctx.cancel.step_done(f64::NAN);
            Ok(midway + ctx.cancel.step_fraction())
        });
        let events = runner.poll();
        let Some(JobEvent::Finished { result, .. }) = events.last() else { panic!("finished") };
        assert_eq!(**result, 0.4, "0.4 midway, then 0 after the report and for a NaN");
        let token = CancelToken::new();
        token.step_done(7.0);
        assert_eq!(token.step_fraction(), 1.0);
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
    fn a_panicking_job_fails_with_the_internal_error_line_and_its_location() {
        install_panic_hook();
        let mut runner = JobRunner::<u32>::new(RunMode::Inline);
        let line = line!() + 1;
        runner.start("fit", |_| -> Result<u32, String> { panic!("k-means lost its centres") });
        let events = runner.poll();
        let expected =
            format!("internal error (a bug; please report it): k-means lost its centres at {}:{line}", file!());
        assert!(matches!(&events[..], [JobEvent::Failed { error, .. }] if *error == expected), "{events:?}");
        // A panic inside a rayon worker reaches the job with the location the hook recorded there.
        let mut threaded = JobRunner::<u32>::new(RunMode::Threads);
        threaded.start("sweep", |_| -> Result<u32, String> {
            use rayon::prelude::*;
            Ok((0..4u32).into_par_iter().map(|i| if i == 3 { panic!("worker {i} failed") } else { i }).sum())
        });
        let events = drain(&mut threaded);
        assert!(
            matches!(&events[..], [JobEvent::Failed { error, .. }]
                if error.starts_with("internal error (a bug; please report it): worker 3 failed at ")
                    && error.contains(file!())),
            "{events:?}"
        );
    }

    #[test]
    fn a_panic_recorded_elsewhere_in_between_does_not_take_the_location_away() {
        install_panic_hook();
        let line = line!() + 3;
        let outcome = run_guarded(|| -> Result<(), String> {
            let spawn = |name: &str, f: fn()| std::thread::Builder::new().name(name.into()).spawn(f).unwrap().join();
            let worker = spawn("worker", || panic!("worker lost its rows"));
            let _ = spawn("other job", || panic!("another job failed meanwhile"));
            std::panic::resume_unwind(worker.expect_err("the worker panicked"))
        });
        match outcome {
            Err(GuardedError::Panicked(report)) => {
                assert_eq!(report.message, "worker lost its rows");
                assert_eq!(report.location, Some(format!("{}:{line}", file!())));
            }
            other => panic!("expected a panic report, got {other:?}"),
        }
    }

    #[test]
    fn the_panic_boundary_turns_a_panic_into_one_line_and_keeps_errors_apart() {
        install_panic_hook();
        assert_eq!(run_guarded(|| Ok::<_, String>(3)).ok(), Some(3));
        assert!(matches!(run_guarded(|| Err::<(), _>("no rows")), Err(GuardedError::Failed("no rows"))));
        let line = line!() + 1;
        let outcome = run_guarded(|| -> Result<(), String> { panic!("index {} out of range", 7) });
        let report = match outcome {
            Err(GuardedError::Panicked(report)) => report,
            other => panic!("expected a panic report, got {other:?}"),
        };
        assert_eq!(report.message, "index 7 out of range");
        assert_eq!(report.location.as_deref(), Some(format!("{}:{line}", file!()).as_str()));
        assert_eq!(
            report.line(),
            format!("internal error (a bug; please report it): index 7 out of range at {}:{line}", file!())
        );
        assert!(!report.line().contains('\n'), "one line");
    }

    #[test]
    fn a_provisional_result_comes_first_and_the_job_runs_on_to_its_exact_one() {
        let mut runner = JobRunner::<u32>::new(RunMode::Threads);
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let id = runner.start_refining("run", move |_ctx, provisional| {
            provisional(1);
            go_rx.recv_timeout(Duration::from_secs(10)).map_err(|e| e.to_string())?;
            Ok::<_, String>(2)
        });
        let started = Instant::now();
        let mut first = Vec::new();
        while first.is_empty() && started.elapsed() < Duration::from_secs(10) {
            first = runner.poll();
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(matches!(&first[..], [JobEvent::Provisional { job, result }] if *job == id && **result == 1));
        assert_eq!(runner.running().map(|r| r.0), Some(id), "still running after its provisional result");
        go_tx.send(()).unwrap();
        let rest = drain(&mut runner);
        assert!(matches!(&rest[..], [JobEvent::Finished { job, result }] if *job == id && **result == 2), "{rest:?}");
        // A provisional result of a job that was replaced never surfaces.
        let (hold_tx, hold_rx) = std::sync::mpsc::channel::<()>();
        runner.start_refining("run", move |_ctx, provisional| {
            let _ = hold_rx.recv_timeout(Duration::from_secs(10));
            provisional(3);
            Ok::<_, String>(3)
        });
        let latest = runner.start("run", |_| Ok::<_, String>(4));
        hold_tx.send(()).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let events = drain(&mut runner);
        assert!(
            matches!(&events[..], [JobEvent::Finished { job, result }] if *job == latest && **result == 4),
            "{events:?}"
        );
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
