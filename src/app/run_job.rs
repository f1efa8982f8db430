//! The run job: the pipeline on a worker thread with the project's business rules and names, each
//! result with its summary for the screens; where the exact result takes a while, provisional ones
//! are handed to the window first.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use super::{JobProbe, RulesKey, RunCounts, RunOutput};
use crate::engine::error::PipelineError;
use crate::engine::jobs::JobContext;
use crate::engine::naming::SegmentNote;
use crate::engine::pipeline::{self, PipelineResult, PipelineSpec, SourceResolver, StageCache};
use crate::engine::profile::explain::ExplainParams;
use crate::engine::profile::summary::ResultSummary;
use crate::engine::rules::BusinessRules;

/// What one run takes from the document, moved onto its worker thread.
pub(super) struct RunJob {
    pub(super) spec: PipelineSpec,
    pub(super) rules: BusinessRules,
    pub(super) notes: Vec<SegmentNote>,
    /// The columns anything uses, when data minimisation is on: the others leave the customer table.
    pub(super) used: Option<Vec<String>>,
    pub(super) key: RulesKey,
    pub(super) resolver: SourceResolver,
    pub(super) base_dir: PathBuf,
    pub(super) cache: Arc<StageCache>,
    pub(super) probe: Option<JobProbe>,
}

impl RunJob {
    /// Runs the pipeline, handing `provisional` each provisional output as it is made
    /// (`pipeline::run_refining`); returns the exact one.
    pub(super) fn run(self, ctx: &JobContext<'_>, provisional: &dyn Fn(RunOutput)) -> Result<RunOutput, PipelineError> {
        if let Some(probe) = &self.probe {
            probe("run");
        }
        // The segments of the provisional result last shown with its sweep pending (this job's
        // table and recipe: its assignment and its model's centres), and its summary.
        let pending: Mutex<Option<(ProvisionalSegments, ResultSummary)>> = Mutex::default();
        let show = |quick: PipelineResult| {
            let mut pending = pending.lock().unwrap_or_else(PoisonError::into_inner);
            let segments = ProvisionalSegments::of(&quick);
            let known = pending.take().filter(|(before, _)| *before == segments).map(|(_, summary)| summary);
            let sweep_pending = quick.provisional.is_some_and(|p| p.sweep_pending);
            // A provisional summary that fails is not shown: the exact run says what failed.
            if let Ok(quick) = self.output(ctx, quick, known) {
                if sweep_pending {
                    *pending = Some((segments, quick.summary.clone()));
                }
                provisional(quick);
                if let Some(probe) = &self.probe {
                    probe("run refining");
                }
            }
        };
        let exact = pipeline::run_refining(&self.spec, &self.resolver, ctx, &self.cache, &show)?;
        self.output(ctx, exact, None)
    }

    /// `result` with the business rules applied and its summary: `known`, the summary of a
    /// provisional result with these very segments (the same model stage, shown again with the
    /// sample's sweep; the summary does not read the sweep), or else made now.
    fn output(
        &self,
        ctx: &JobContext<'_>,
        mut result: PipelineResult,
        known: Option<ResultSummary>,
    ) -> Result<RunOutput, PipelineError> {
        let spec = &self.spec;
        if let Some(used) = &self.used {
            crate::engine::project::minimise::drop_unused(used, spec, &mut result);
        }
        let id_column = pipeline::override_id_column(spec, &result).map(str::to_string);
        pipeline::apply_business_rules(&mut result, &self.rules, &self.notes, id_column.as_deref());
        let summary = match known {
            Some(summary) => summary,
            None => {
                ctx.progress.report("summary", 0.0);
                let explain = ExplainParams { max_depth: spec.model.explain_depth.unwrap_or(3), ..Default::default() };
                let summary = ResultSummary::compute_with(&result, spec.model.algorithm.seed(), &explain)?;
                ctx.progress.report("summary", 0.9);
                summary
            }
        };
        let counts = RunCounts::of(spec, &result);
        Ok(RunOutput {
            spec: spec.clone(),
            base_dir: self.base_dir.clone(),
            result,
            rules: self.key.clone(),
            summary,
            counts,
        })
    }
}

/// What makes a provisional result's segments the same as another's of the same job (the job has
/// one table and one recipe): every customer's segment and the model's centres, bit for bit. A
/// result shown again with the sample's sweep added keeps its summary on this.
#[derive(Debug, PartialEq)]
struct ProvisionalSegments {
    assignment: String,
    centroids: Vec<u64>,
    inertia: u64,
}

impl ProvisionalSegments {
    fn of(result: &PipelineResult) -> Self {
        Self {
            assignment: result.assignment_fingerprint.clone(),
            centroids: result.fit.centroids.iter().map(|v| v.to_bits()).collect(),
            inertia: result.fit.inertia.to_bits(),
        }
    }
}
