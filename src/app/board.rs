//! The SWOT board's side of the app: its evidence, made once per result and revenue column (never
//! per frame: it sums over every customer). Its decision list is written with the other exports.

use std::sync::Arc;

use super::StrataApp;
use crate::engine::swot::Board;
use crate::engine::swot::evidence::{BoardEvidence, board_evidence};

/// What the evidence was made from: the run's output and the Over time result (by identity),
/// the assignment, the revenue column, the segments' names (the evidence carries them) and the
/// small-cell threshold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EvidenceKey {
    output: usize,
    names: Vec<String>,
    fingerprint: String,
    has_stability: bool,
    revenue_column: Option<String>,
    over_time: Option<usize>,
    small_cells: usize,
}

impl StrataApp {
    /// The project's board, or an empty one with the default hints when nothing was placed yet.
    pub fn board(&self) -> Board {
        self.doc.as_ref().and_then(|d| d.project.board.clone()).unwrap_or_default()
    }

    /// The live evidence of the current run's segments for the board and the slides, made again
    /// only when the run, the Over time result, the revenue column or a name changed since it was
    /// last made.
    pub fn board_evidence(&mut self) -> Option<Arc<BoardEvidence>> {
        let out = self.output.clone()?;
        let doc = self.doc.as_ref()?;
        let revenue_column = doc.project.board.as_ref().and_then(|b| b.revenue_column.clone());
        let over_time = self.over_time.as_ref().filter(|o| o.is_for(doc)).cloned();
        let names: Vec<String> = (0..out.result.n_segments()).map(|s| self.segment_name_in(&out.result, s)).collect();
        let key = EvidenceKey {
            output: Arc::as_ptr(&out) as usize,
            names,
            fingerprint: out.result.assignment_fingerprint.clone(),
            has_stability: out.result.stability.is_some(),
            revenue_column,
            over_time: over_time.as_ref().map(|o| Arc::as_ptr(o) as usize),
            small_cells: doc.project.governance.small_cells,
        };
        if let Some((cached, evidence)) = &self.view.board.evidence
            && *cached == key
        {
            return Some(evidence.clone());
        }
        let evidence = Arc::new(board_evidence(
            &out.result,
            Some(&out.summary),
            &key.names,
            key.revenue_column.as_deref(),
            over_time.as_ref().map(|o| &o.result),
            key.small_cells,
        ));
        self.view.board.evidence_made += 1;
        self.view.board.evidence = Some((key, evidence.clone()));
        Some(evidence)
    }
}
