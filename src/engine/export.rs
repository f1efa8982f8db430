//! Tables written out of the window, numbered as the window shows them (segments from 1) and named
//! with the names it shows: the customers' assignments (the columns `strata run --out` writes), the
//! segment profiles and the k-choice table.

use polars::prelude::{Column, DataFrame};

use crate::engine::cluster::stability::KStability;
use crate::engine::cluster::sweep::{SweepResult, index_votes, smallest_share};
use crate::engine::error::DataError;
use crate::engine::governance::suppress::{count_words, is_small};
use crate::engine::pipeline::{PipelineResult, assignments_frame};
use crate::engine::profile::summary::ResultSummary;

/// The assignment table as the window shows it: exactly the columns of [`assignments_frame`] (what
/// `strata run --out` writes, so `segment` counts from 0 in both and a script reads either file the
/// same way), with `segment_number` numbered from 1 as every screen numbers segments, and
/// `segment_name` holding `name(segment)` (the names the window shows).
pub fn assignments_as_shown(
    result: &PipelineResult,
    id_column: Option<&str>,
    name: &dyn Fn(usize) -> String,
) -> Result<DataFrame, DataError> {
    let mut frame = assignments_frame(result, id_column)?;
    let names: Vec<Option<String>> = result.segment_per_customer.iter().map(|s| s.map(name)).collect();
    frame.with_column(Column::new("segment_name".into(), names))?;
    Ok(frame)
}

/// The profile table as the Segments screen shows it: one row per segment (numbered from 1, with
/// its name, size and share), then `everyone`; per profiled feature its mean, median and the
/// distance of the mean from everyone's in population standard deviations. Sizes are suppressed
/// at `small_cells`: when any is not shown, `size` is text ("<10", "hidden"), the shares resting on
/// them are empty, and so is every figure of a segment under the threshold.
pub fn profiles_frame(
    summary: &ResultSummary,
    small_cells: usize,
    name: &dyn Fn(usize) -> String,
) -> Result<DataFrame, DataError> {
    let profiles = &summary.profiles;
    let sizes = summary.sizes_shown(small_cells);
    let mut segment: Vec<Option<u32>> = profiles.iter().map(|p| Some(p.segment as u32 + 1)).collect();
    segment.push(None);
    let mut names: Vec<String> = profiles.iter().map(|p| name(p.segment)).collect();
    names.push("everyone".to_string());
    // Counts stay numbers unless one is hidden (a column has one type).
    let size = if sizes.all_shown() {
        let mut size: Vec<u64> = sizes.counts.iter().map(|&n| n as u64).collect();
        size.push(sizes.counts.iter().sum::<usize>() as u64);
        Column::new("size".into(), size)
    } else {
        let mut size: Vec<String> = (0..profiles.len()).map(|i| sizes.cell(i).text(small_cells)).collect();
        size.push(sizes.line.total.text(small_cells));
        Column::new("size".into(), size)
    };
    let mut share: Vec<Option<f64>> = (0..profiles.len()).map(|i| sizes.share(i)).collect();
    share.push(Some(1.0));
    let mut columns = vec![
        Column::new("segment".into(), segment),
        Column::new("segment_name".into(), names),
        size,
        Column::new("share".into(), share),
    ];
    let small: Vec<bool> = (0..profiles.len()).map(|i| sizes.is_small(i)).collect();
    for (j, feature) in summary.columns.iter().enumerate() {
        let finite = |v: f64| v.is_finite().then_some(v);
        let shown = |i: usize, v: Option<f64>| if small[i] { None } else { v.and_then(finite) };
        let mut means: Vec<Option<f64>> =
            profiles.iter().enumerate().map(|(i, p)| shown(i, p.means.get(j).copied())).collect();
        means.push(summary.population_means.get(j).copied().and_then(finite));
        let mut medians: Vec<Option<f64>> =
            profiles.iter().enumerate().map(|(i, p)| shown(i, p.medians.get(j).copied())).collect();
        medians.push(None);
        let mut distance: Vec<Option<f64>> = profiles
            .iter()
            .enumerate()
            .map(|(i, p)| shown(i, summary.distance_sd.get(p.segment).and_then(|d| d.get(j)).copied()))
            .collect();
        distance.push(Some(0.0));
        columns.push(Column::new(format!("{feature}_mean").into(), means));
        columns.push(Column::new(format!("{feature}_median").into(), medians));
        columns.push(Column::new(format!("{feature}_sd_from_everyone").into(), distance));
    }
    Ok(DataFrame::new_infer_height(columns)?)
}

/// The k-choice table as the Model screen shows it: per k every index, the stability when it was
/// measured, which indices favour it, its smallest segment and whether it is the suggested k. A
/// smallest segment under `small_cells` is "<10" (the column is text then) and its share empty.
pub fn k_choice_frame(
    sweep: &SweepResult,
    stability: &[KStability],
    small_cells: usize,
) -> Result<DataFrame, DataError> {
    let runs = &sweep.runs;
    let votes = index_votes(runs, sweep.knee_k);
    let k: Vec<u32> = runs.iter().map(|r| r.k as u32).collect();
    let mut columns = vec![
        Column::new("k".into(), k),
        Column::new("suggested".into(), runs.iter().map(|r| Some(r.k) == sweep.suggested_k).collect::<Vec<_>>()),
        Column::new("inertia".into(), runs.iter().map(|r| r.inertia).collect::<Vec<_>>()),
        Column::new("silhouette".into(), runs.iter().map(|r| r.silhouette).collect::<Vec<_>>()),
        Column::new("calinski_harabasz".into(), runs.iter().map(|r| r.calinski_harabasz).collect::<Vec<_>>()),
        Column::new("davies_bouldin".into(), runs.iter().map(|r| r.davies_bouldin).collect::<Vec<_>>()),
    ];
    if runs.iter().any(|r| r.bic.is_some()) {
        columns.push(Column::new("bic".into(), runs.iter().map(|r| r.bic).collect::<Vec<_>>()));
        columns.push(Column::new("aic".into(), runs.iter().map(|r| r.aic).collect::<Vec<_>>()));
    }
    if !stability.is_empty() {
        let at = |k: usize| stability.iter().find(|s| s.k == k);
        columns.push(Column::new(
            "stability_ari".into(),
            runs.iter().map(|r| at(r.k).map(|s| s.ari_mean)).collect::<Vec<_>>(),
        ));
        columns.push(Column::new(
            "least_stable_jaccard".into(),
            runs.iter().map(|r| at(r.k).map(|s| s.min_jaccard)).collect::<Vec<_>>(),
        ));
        columns.push(Column::new(
            "unstable_segments".into(),
            runs.iter().map(|r| at(r.k).map(|s| s.unstable_segments as u32)).collect::<Vec<_>>(),
        ));
    }
    let favoured: Vec<String> =
        runs.iter().map(|r| votes.iter().filter(|v| v.0 == r.k).map(|v| v.1).collect::<Vec<_>>().join(", ")).collect();
    columns.push(Column::new("favoured_by".into(), favoured));
    let smallest: Vec<usize> = runs.iter().map(|r| r.sizes.iter().copied().min().unwrap_or(0)).collect();
    if smallest.iter().any(|&n| is_small(n, small_cells)) {
        columns.push(Column::new(
            "smallest_segment".into(),
            smallest.iter().map(|&n| count_words(n, small_cells).replace(',', "")).collect::<Vec<_>>(),
        ));
    } else {
        columns.push(Column::new("smallest_segment".into(), smallest.iter().map(|&n| n as u64).collect::<Vec<_>>()));
    }
    columns.push(Column::new(
        "smallest_share".into(),
        runs.iter()
            .zip(&smallest)
            .map(|(r, &n)| (!is_small(n, small_cells)).then(|| smallest_share(r)))
            .collect::<Vec<_>>(),
    ));
    Ok(DataFrame::new_infer_height(columns)?)
}
