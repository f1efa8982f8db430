//! `strata swot`: a project's SWOT board with each segment card's live evidence and hints, and its
//! TOWS decision list, as the window's SWOT screen shows them.

use super::*;
use crate::engine::swot::{self, Quadrant, SegmentRef, Subject, decisions, evidence, hints};

/// Prints the board (text or JSON) and writes the decision list when asked.
pub(crate) fn swot_command(args: SwotArgs) -> Result<(), CliError> {
    let opened = project::open(&args.project)?;
    let mut project = opened.project;
    let base_dir = project_dir(&args.project);
    let (result, _) = rerun_project(&project, &base_dir, args.allow_outside_paths, args.accept_changed_data)?;
    warn_all(&result.warnings);
    // A board that names segments this segmentation does not have says so, as the window does.
    for line in project.follow_segments(None, result.n_segments(), &result.assignment_fingerprint) {
        eprintln!("note: {line}");
    }
    let board = project.board.clone().unwrap_or_default();
    let names: Vec<String> = (0..result.n_segments()).map(|s| segment_name(&project, &result, s)).collect();
    let name = |s: usize| names.get(s).cloned().unwrap_or_else(|| format!("Segment {}", s + 1));
    let seed = project.spec.model.algorithm.seed();
    let summary = crate::engine::profile::summary::ResultSummary::compute(&result, seed)?;
    let over_time = over_time_of(&project, &base_dir, args.allow_outside_paths);
    let small_cells = project.governance.small_cells;
    let found = evidence::board_evidence(
        &result,
        Some(&summary),
        &names,
        board.revenue_column.as_deref(),
        over_time.as_ref(),
        small_cells,
    );
    let decision_list = decisions::decisions(&board, &name);
    if let Some(path) = &args.decisions {
        let csv = decisions::decisions_csv(&decision_list);
        let export = cli_export_gate(&args.project, &result, "decision list", path)?;
        project::save_atomically(path, csv.as_bytes())
            .map_err(|e| CliError(format!("could not write the decision list: {e}: {}", path.display())))?;
        export.finish()?;
        eprintln!("wrote {} decisions to {}", decision_list.len(), path.display());
    }
    let hints_of = |segment: usize| {
        found.segments.get(segment).filter(|_| board.hints.shown).map(|e| hints::hints_for(&board.hints.rules, e))
    };
    if args.json {
        let card_json = |card: &swot::Card| {
            let (kind, segment, detached_why) = match &card.subject {
                Subject::Segment(SegmentRef::Segment(s)) => ("segment", Some(*s), None),
                Subject::Segment(SegmentRef::Detached { why, .. }) => ("detached", None, Some(why.clone())),
                Subject::Text(_) => ("text", None, None),
            };
            let e = segment.and_then(|s| found.segments.get(s));
            json!({
                "id": card.id,
                "kind": kind,
                "title": decisions::card_title(&card.subject, &name),
                "segment_number": segment.map(|s| s + 1),
                "note": card.note,
                "detached_why": detached_why,
                "evidence": e.map(evidence_json),
                "lines": e.map(evidence::SegmentEvidence::lines).unwrap_or_default(),
                "hints": segment.and_then(hints_of).map(|h| h.hints.iter().map(|h| json!({
                    "quadrant": h.quadrant.label(), "rule": h.rule, "because": h.because,
                })).collect::<Vec<_>>()).unwrap_or_default(),
            })
        };
        let quadrants: Vec<serde_json::Value> = Quadrant::ALL
            .iter()
            .map(|q| json!({ "quadrant": q.label(), "cards": board.cards_in(*q).map(card_json).collect::<Vec<_>>() }))
            .collect();
        let segments: Vec<serde_json::Value> = found
            .segments
            .iter()
            .map(|e| {
                let mut v = evidence_json(e);
                v["hints"] = json!(
                    hints_of(e.segment)
                        .map(|h| h
                            .hints
                            .iter()
                            .map(|h| json!({
                                "quadrant": h.quadrant.label(), "rule": h.rule, "because": h.because,
                            }))
                            .collect::<Vec<_>>())
                        .unwrap_or_default()
                );
                v["unjudged"] = json!(
                    hints_of(e.segment)
                        .map(|h| h
                            .unjudged
                            .iter()
                            .map(|(rule, needs)| json!({
                                "rule": rule, "needs": needs,
                            }))
                            .collect::<Vec<_>>())
                        .unwrap_or_default()
                );
                v
            })
            .collect();
        return print_json(&with_small_cells(
            json!({
                "quadrants": quadrants,
                "segments": segments,
                "strategies": decision_list,
                "hints_shown": board.hints.shown,
                "hint_rules": board.hints.rules,
                "revenue_column": found.revenue_column,
                "min_cell": small_cells,
                "notes": found.notes,
            }),
            small_cells,
        ));
    }
    if board.is_empty() {
        println!("The board is empty: nothing is placed yet (the window's SWOT screen, Ctrl+8).");
    }
    for q in Quadrant::ALL {
        let cards: Vec<&swot::Card> = board.cards_in(q).collect();
        if cards.is_empty() {
            continue;
        }
        println!("{}", q.label().to_uppercase());
        for card in cards {
            println!("  {}", decisions::card_title(&card.subject, &name));
            match &card.subject {
                Subject::Segment(SegmentRef::Segment(s)) => {
                    for line in found.segments.get(*s).map(evidence::SegmentEvidence::lines).unwrap_or_default() {
                        println!("      {line}");
                    }
                }
                Subject::Segment(SegmentRef::Detached { why, .. }) => println!("      no longer a segment: {why}"),
                Subject::Text(_) => {}
            }
            if !card.note.is_empty() {
                println!("    why: {}", card.note);
            }
        }
        println!();
    }
    if board.hints.shown {
        let mut any = false;
        for e in &found.segments {
            for h in hints_of(e.segment).map(|h| h.hints).unwrap_or_default() {
                if !any {
                    println!("HINTS (suggestions only; they move no card)");
                    any = true;
                }
                println!(
                    "  {}: {} candidate ({})",
                    e.name,
                    h.quadrant.one().trim_start_matches("a ").trim_start_matches("an "),
                    h.because
                );
            }
        }
        if any {
            println!();
        }
    }
    if !decision_list.is_empty() {
        println!("DECISIONS (TOWS)");
        for d in &decision_list {
            let owner = if d.owner.is_empty() { String::new() } else { format!(" [{}]", d.owner) };
            println!("  {}: {}{owner}", d.cell, d.action);
            if !d.segments.is_empty() {
                println!("      for: {}", d.segments.join(", "));
            }
        }
    }
    for note in &found.notes {
        eprintln!("note: {note}");
    }
    Ok(())
}

/// A segment's evidence as JSON, small counts suppressed: `size` is null and `size_text` "<10"
/// under the project's threshold ("hidden" for a size that would give one away), and the figures
/// that rest on them are null too.
fn evidence_json(e: &evidence::SegmentEvidence) -> serde_json::Value {
    let small = e.is_small();
    let hide = |v: Option<f64>| if small { None } else { v };
    json!({
        "segment_number": e.segment + 1,
        "name": e.name,
        "size": e.size_shown.count().filter(|_| !small),
        "size_text": e.size_words(),
        "share": hide(e.share),
        "revenue_share": hide(e.revenue_share),
        "revenue_index": hide(e.revenue_index),
        "value_per_customer": hide(e.value_per_customer),
        "value_per_customer_p10": hide(e.value_band.map(|b| b.0)),
        "value_per_customer_p90": hide(e.value_band.map(|b| b.1)),
        "total_value": hide(e.total_value),
        "value_share": hide(e.value_share),
        "stability": hide(e.stability),
        "trend_change": hide(
            e.trend
                .as_ref()
                .filter(|t| t.shares.iter().all(Option::is_some))
                .and_then(|t| t.change)
                .filter(|c| c.is_finite())
        ),
        "words": e.words,
    })
}
