//! k-means kernel 2: Lloyd's iterations with Hamerly's bounds, ranking centres in single precision.
//!
//! - The rows are scaled by a power of two (exact) so the largest magnitude is below 1, rounded to
//!   single precision and packed sixteen at a time. Distances are ranked in single precision, so
//!   an iteration reads half the bytes kernel 1 reads, and sixteen rows fit one AVX-512 register.
//! - Each row keeps an upper bound on the distance to its centre and a lower bound on the distance
//!   to any other (Hamerly 2010). After the centres move, the bounds are loosened by how far they
//!   moved; a block of sixteen rows is computed only when a row's bounds no longer prove its centre.
//!   The bounds carry margins above the rounding of single precision, so a row they prove keeps
//!   the centre a computation would give it.
//! - Early on, when nearly every block would be in doubt, the step computes every row without
//!   reading or writing the bounds, and counts the blocks a bounded step would have computed;
//!   below 90% it writes the bounds again, below 80% it turns to bounded steps, and back when a
//!   bounded step computes 90%.
//! - While iterating, the centres are double-precision means of the rows in single precision, kept
//!   by adding the rows that arrive and subtracting those that leave, in row order per fixed-size
//!   chunk, chunks in order: the same result on any thread count and instruction set.
//! - Once converged, the centres are the double-precision means of the rows as given (as kernel
//!   1's), the last assignment ranks against them, and its inertia is computed in double precision.
//!
//! Hamerly, G. (2010). Making k-means even faster. Proceedings of the 2010 SIAM International
//! Conference on Data Mining, 130-140.

use rayon::prelude::*;

use super::lloyd::{CHUNK_ROWS, SingleRun, finish, relocate_empty, squared_shift};
use crate::engine::error::ClusterError;
use crate::engine::jobs::CancelToken;
use crate::engine::kernels::single::{SINGLE_LANES, StepCentres, StepMode, StepPartial, step_chunk};
use crate::engine::kernels::{Isa, Packed};

/// One unit in the last place of 1 in single precision, halved (2^-24).
const HALF_ULP: f32 = 1.0 / 16_777_216.0;
/// Relative margin on the centres' moves and gaps, computed in double precision from single.
const MOVE_MARGIN: f64 = 1.0 / 1_048_576.0;

/// Rows scaled by a power of two, rounded to single precision and packed sixteen at a time.
pub(super) struct SinglePacked {
    data: Vec<f32>,
    rows: usize,
    d: usize,
    /// The power of two every value was multiplied by.
    scale: f64,
}

impl SinglePacked {
    /// Packs the row-major `x` (rows of `d` finite values), and returns with it the mean of the
    /// columns' variances (the tolerance's unit): two passes, over fixed-size chunks added in
    /// order, so the same on any thread count.
    pub(super) fn new(x: &[f64], d: usize) -> (SinglePacked, f64) {
        let rows = x.len().checked_div(d).unwrap_or(0);
        let mut data = vec![0.0f32; rows.div_ceil(SINGLE_LANES) * SINGLE_LANES * d];
        if rows == 0 || d == 0 {
            return (SinglePacked { data, rows, d, scale: 1.0 }, 0.0);
        }
        // Column sums and the largest magnitude.
        let parts: Vec<(Vec<f64>, f64)> = x
            .par_chunks(CHUNK_ROWS * d)
            .map(|chunk| {
                let (mut sums, mut largest) = (vec![0.0; d], 0.0f64);
                for row in chunk.chunks_exact(d) {
                    for (s, &v) in sums.iter_mut().zip(row) {
                        *s += v;
                        largest = largest.max(v.abs());
                    }
                }
                (sums, largest)
            })
            .collect();
        let (mut means, mut largest) = (vec![0.0; d], 0.0f64);
        for (sums, l) in parts {
            means.iter_mut().zip(sums).for_each(|(m, s)| *m += s);
            largest = largest.max(l);
        }
        means.iter_mut().for_each(|m| *m /= rows as f64);
        let scale = scale_below_one(largest);
        // The packed rows, and the squared deviations from the means.
        let squares: Vec<Vec<f64>> = data
            .par_chunks_mut(CHUNK_ROWS * d)
            .zip(x.par_chunks(CHUNK_ROWS * d))
            .map(|(packed, chunk)| {
                let mut squares = vec![0.0; d];
                for (block, src) in packed.chunks_mut(SINGLE_LANES * d).zip(chunk.chunks(SINGLE_LANES * d)) {
                    for (lane, row) in src.chunks_exact(d).enumerate() {
                        for (j, (&v, (q, m))) in row.iter().zip(squares.iter_mut().zip(&means)).enumerate() {
                            block[j * SINGLE_LANES + lane] = (v * scale) as f32;
                            *q += (v - m) * (v - m);
                        }
                    }
                }
                squares
            })
            .collect();
        let mut total = vec![0.0; d];
        for part in squares {
            total.iter_mut().zip(part).for_each(|(t, q)| *t += q);
        }
        let mean_variance = total.iter().map(|q| q / rows as f64).sum::<f64>() / d as f64;
        (SinglePacked { data, rows, d, scale }, mean_variance)
    }
}

/// The power of two that brings `largest` into [0.5, 1), within 2^-1000..2^1000 (values of every
/// magnitude a double holds stay finite in single precision; below 2^-1000 they become zeros and
/// ties, which the final assignment in double precision resolves).
fn scale_below_one(largest: f64) -> f64 {
    if largest == 0.0 || !largest.is_finite() {
        return 1.0;
    }
    let biased = ((largest.to_bits() >> 52) & 0x7ff) as i32;
    // A normal value is in [2^(biased - 1023), 2^(biased - 1022)); a subnormal one below 2^-1022.
    let exponent = (biased - 1022).clamp(-1000, 1000);
    f64::from_bits(((1023 - exponent) as u64) << 52)
}

/// Every row's centre and bounds, and the sums and counts per centre they imply.
struct State {
    labels: Vec<u32>,
    upper: Vec<f32>,
    lower: Vec<f32>,
    sums: Vec<f64>,
    counts: Vec<i64>,
}

/// What a step counted.
struct Counted {
    changed: usize,
    computed: usize,
    probed: usize,
}

impl State {
    /// One step against `c`, its chunks' differences added to the sums in chunk order.
    fn step(&mut self, single: &SinglePacked, c: &StepCentres, mode: StepMode) -> Counted {
        let (d, k, isa) = (single.d, c.drift.len(), Isa::detect());
        let parts: Vec<StepPartial> = single
            .data
            .par_chunks(CHUNK_ROWS * d)
            .zip(self.labels.par_chunks_mut(CHUNK_ROWS))
            .zip(self.upper.par_chunks_mut(CHUNK_ROWS))
            .zip(self.lower.par_chunks_mut(CHUNK_ROWS))
            .map(|(((block, labels), upper), lower)| {
                let mut part = StepPartial::new(k, d);
                step_chunk(isa, block, d, c, mode, labels, upper, lower, &mut part);
                part
            })
            .collect();
        if mode == StepMode::Fresh {
            self.sums.fill(0.0);
            self.counts.fill(0);
        }
        let mut counted = Counted { changed: 0, computed: 0, probed: 0 };
        for p in parts {
            for (t, s) in self.sums.iter_mut().zip(&p.sums) {
                *t += s;
            }
            for (t, c) in self.counts.iter_mut().zip(&p.counts) {
                *t += c;
            }
            counted.changed += p.changed;
            counted.computed += p.computed;
            counted.probed += p.probed;
        }
        counted
    }
}

/// The distance between two single-precision centres, in double precision.
fn distance(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2)).sum::<f64>().sqrt()
}

/// Half the distance from each centre to its nearest other centre, rounded down (infinite for one).
fn half_gaps(centres: &[f32], k: usize, d: usize) -> Vec<f32> {
    (0..k)
        .map(|c| {
            let nearest = (0..k)
                .filter(|&o| o != c)
                .map(|o| distance(&centres[c * d..(c + 1) * d], &centres[o * d..(o + 1) * d]))
                .fold(f64::INFINITY, f64::min);
            (0.5 * nearest * (1.0 - MOVE_MARGIN)) as f32
        })
        .collect()
}

/// The centres in the packed rows' scale, in single precision.
fn scaled(centres: &[f64], scale: f64) -> Vec<f32> {
    centres.iter().map(|&v| (v * scale) as f32).collect()
}

/// One run of kernel 2 from `centres` (k x d, row-major): the iterations, then the final
/// assignment. `x` is the row-major matrix `single` was packed from.
pub(super) fn run(
    x: &[f64],
    single: &SinglePacked,
    k: usize,
    max_iter: usize,
    tol: f64,
    centres: Vec<f64>,
    cancel: &CancelToken,
) -> Result<SingleRun, ClusterError> {
    Ok(run_traced(x, single, k, max_iter, tol, centres, cancel)?.0)
}

/// [`run`], with the mode of every step it took.
fn run_traced(
    x: &[f64],
    single: &SinglePacked,
    k: usize,
    max_iter: usize,
    tol: f64,
    mut centres: Vec<f64>,
    cancel: &CancelToken,
) -> Result<(SingleRun, Vec<StepMode>), ClusterError> {
    let (n, d) = (single.rows, single.d);
    let blocks = n.div_ceil(SINGLE_LANES);
    let mut state = State {
        labels: vec![u32::MAX; n],
        upper: vec![0.0; n],
        lower: vec![0.0; n],
        sums: vec![0.0; k * d],
        counts: vec![0; k],
    };
    // A computed distance is off by at most about (d + 3) half-units in the last place (2^-24
    // relative); the bounds allow four times (d + 4). Loosening a bound rounds by at most one
    // more, allowed eight times.
    let margin = (d as f32 + 4.0) * 4.0 * HALF_ULP;
    let loosen = 1.0 + 8.0 * HALF_ULP;
    let (mut drift, mut drift_other) = (vec![0.0f32; k], vec![0.0f32; k]);
    let (mut mode, mut probe) = (StepMode::Fresh, f32::INFINITY);
    let (mut n_iter, mut converged, mut done) = (0, false, false);
    let mut modes = Vec::new();
    loop {
        if cancel.is_cancelled() {
            return Err(ClusterError::Cancelled);
        }
        let ranked = scaled(&centres, single.scale);
        let half_gap = half_gaps(&ranked, k, d);
        let c = StepCentres {
            centres: &ranked,
            drift: &drift,
            drift_other: &drift_other,
            half_gap: &half_gap,
            probe,
            margin_up: 1.0 + margin,
            margin_down: 1.0 - margin,
            loosen,
        };
        let counted = state.step(single, &c, mode);
        modes.push(mode);
        if done {
            break;
        }
        n_iter += 1;
        // M-step: each centre to the mean of its rows; an empty segment's onto a far row.
        let mut next: Vec<f64> = (0..k * d)
            .map(|i| {
                let count = state.counts[i / d];
                if count > 0 { state.sums[i] / count as f64 / single.scale } else { 0.0 }
            })
            .collect();
        let empty = state.counts.contains(&0);
        if empty {
            let counts: Vec<usize> = state.counts.iter().map(|&c| c.max(0) as usize).collect();
            let own = own_distances(x, d, &centres, &state.labels);
            relocate_empty(x, d, &counts, &own, &mut next);
        }
        let shift = squared_shift(&centres, &next);
        if counted.changed == 0 || shift <= tol {
            converged = true;
            done = true;
        } else if n_iter >= max_iter {
            done = true;
        }
        if done && !empty {
            // The final centres are the means of the rows as given, in double precision (a
            // segment of one customer is centred on it exactly), as kernel 1's are.
            next = exact_means(x, d, k, &state.labels);
        }
        let moved = scaled(&next, single.scale);
        for (c, m) in drift.iter_mut().enumerate() {
            *m = (distance(&ranked[c * d..(c + 1) * d], &moved[c * d..(c + 1) * d]) * (1.0 + MOVE_MARGIN)) as f32;
        }
        for (c, m) in drift_other.iter_mut().enumerate() {
            *m = drift.iter().enumerate().filter(|&(o, _)| o != c).map(|(_, &v)| v).fold(0.0, f32::max);
        }
        // A bounded step needs the bounds a `Fresh`, `Every` or bounded step wrote; an unbounded
        // step writes none, so it is followed by `Every` once a bounded step is in sight.
        mode = match mode {
            _ if empty => StepMode::Fresh,
            StepMode::Bounded if counted.computed * 10 > n * 9 => StepMode::Every,
            StepMode::Bounded => StepMode::Bounded,
            StepMode::Fresh | StepMode::Every if counted.probed * 10 < blocks * 8 => StepMode::Bounded,
            _ if counted.probed * 10 < blocks * 9 => StepMode::Every,
            _ => StepMode::Unbounded,
        };
        probe = 2.0 * drift.iter().fold(0.0f32, |m, &v| m.max(v));
        centres = next;
    }
    if state.counts.contains(&0) {
        // Rows that single precision cannot tell apart left a segment empty: the assignment and the
        // relocation of kernel 1, in double precision.
        return Ok((finish(x, &Packed::new(x, d), k, centres, n_iter, converged), modes));
    }
    let inertia = inertia(x, d, &centres, &state.labels);
    let labels = state.labels.into_iter().map(|l| l as usize).collect();
    Ok((SingleRun { labels, centers: centres, inertia, n_iter, converged }, modes))
}

/// The mean of each centre's rows, in double precision, added in row order per chunk and chunks in
/// order (every centre has rows).
fn exact_means(x: &[f64], d: usize, k: usize, labels: &[u32]) -> Vec<f64> {
    let parts: Vec<(Vec<f64>, Vec<usize>)> = x
        .par_chunks(CHUNK_ROWS * d)
        .zip(labels.par_chunks(CHUNK_ROWS))
        .map(|(chunk, labels)| {
            let (mut sums, mut counts) = (vec![0.0; k * d], vec![0usize; k]);
            for (row, &c) in chunk.chunks_exact(d).zip(labels) {
                let c = c as usize;
                for (s, v) in sums[c * d..(c + 1) * d].iter_mut().zip(row) {
                    *s += v;
                }
                counts[c] += 1;
            }
            (sums, counts)
        })
        .collect();
    let (mut sums, mut counts) = (vec![0.0; k * d], vec![0usize; k]);
    for (s, c) in parts {
        sums.iter_mut().zip(s).for_each(|(t, v)| *t += v);
        counts.iter_mut().zip(c).for_each(|(t, v)| *t += v);
    }
    (0..k * d).map(|i| sums[i] / counts[i / d] as f64).collect()
}

/// Each row's squared distance to its centre, in double precision.
fn own_distances(x: &[f64], d: usize, centres: &[f64], labels: &[u32]) -> Vec<f64> {
    x.par_chunks(d)
        .zip(labels.par_iter())
        .map(|(row, &c)| squared(row, &centres[c as usize * d..(c as usize + 1) * d]))
        .collect()
}

fn squared(row: &[f64], centre: &[f64]) -> f64 {
    row.iter().zip(centre).fold(0.0, |acc, (a, b)| acc + (a - b) * (a - b))
}

/// The sum of every row's squared distance to its centre, in double precision, in row order per
/// chunk and chunks in order.
fn inertia(x: &[f64], d: usize, centres: &[f64], labels: &[u32]) -> f64 {
    let parts: Vec<f64> = x
        .par_chunks(CHUNK_ROWS * d)
        .zip(labels.par_chunks(CHUNK_ROWS))
        .map(|(chunk, labels)| {
            chunk
                .chunks_exact(d)
                .zip(labels)
                .map(|(row, &c)| squared(row, &centres[c as usize * d..(c as usize + 1) * d]))
                .sum::<f64>()
        })
        .collect();
    parts.iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::SeededRng;

    /// `n` rows around `k` centres in `d` columns, overlapping enough that rows keep changing
    /// centre for many iterations; values multiplied by `scale`.
    fn mixture(n: usize, d: usize, k: usize, scale: f64, seed: u64) -> Vec<f64> {
        let mut rng = SeededRng::new(seed);
        let centres: Vec<f64> = (0..k * d).map(|_| rng.next_f64() * 6.0).collect();
        let mut x = Vec::with_capacity(n * d);
        for _ in 0..n {
            let c = rng.below(k);
            for j in 0..d {
                // A sum of uniforms: roughly normal, with tails.
                let noise: f64 = (0..4).map(|_| rng.next_f64() - 0.5).sum();
                x.push((centres[c * d + j] + 1.5 * noise) * scale);
            }
        }
        x
    }

    fn start(x: &[f64], d: usize, k: usize) -> Vec<f64> {
        let n = x.len() / d;
        (0..k).flat_map(|c| x[c * n / k * d..(c * n / k + 1) * d].to_vec()).collect()
    }

    fn kernel2(x: &[f64], d: usize, k: usize) -> (SingleRun, Vec<StepMode>) {
        let (single, mean_variance) = SinglePacked::new(x, d);
        let tol = 1e-4 * mean_variance;
        run_traced(x, &single, k, 300, tol, start(x, d, k), &CancelToken::new()).unwrap()
    }

    fn kernel1(x: &[f64], d: usize, k: usize) -> SingleRun {
        use super::super::{KMeansKernel, KMeansParams, lloyd::lloyd};
        let tol = 1e-4 * SinglePacked::new(x, d).1;
        let params = KMeansParams::new(k).kernel(KMeansKernel::Lloyd);
        lloyd(x, &Packed::new(x, d), &params, tol, start(x, d, k), &CancelToken::new()).unwrap()
    }

    fn squared_to(x: &[f64], d: usize, i: usize, centres: &[f64], c: usize) -> f64 {
        squared(&x[i * d..(i + 1) * d], &centres[c * d..(c + 1) * d])
    }

    #[test]
    fn the_bounds_turn_on_and_every_row_ends_at_its_nearest_centre() {
        let (d, k) = (5, 7);
        let x = mixture(40_000, d, k, 1.0, 1);
        let (run, modes) = kernel2(&x, d, k);
        assert_eq!(modes[0], StepMode::Fresh);
        assert!(modes.contains(&StepMode::Bounded), "{modes:?}");
        // A bounded step follows a step that wrote the bounds.
        for pair in modes.windows(2) {
            assert!(pair[1] != StepMode::Bounded || pair[0] != StepMode::Unbounded, "{modes:?}");
        }
        assert!(run.converged && run.n_iter > 10, "{} iterations", run.n_iter);
        // Every row's centre is its nearest in double precision, but for ties closer than single
        // precision can tell apart.
        let mut near_ties = 0;
        for (i, &own) in run.labels.iter().enumerate() {
            let mine = squared_to(&x, d, i, &run.centers, own);
            let best = (0..k).map(|c| squared_to(&x, d, i, &run.centers, c)).fold(f64::INFINITY, f64::min);
            if mine > best {
                assert!(mine - best <= 1e-5 * mine, "row {i}: {mine} against {best}");
                near_ties += 1;
            }
        }
        assert!(near_ties < 5, "{near_ties} near ties");
        let direct: f64 = (0..x.len() / d).map(|i| squared_to(&x, d, i, &run.centers, run.labels[i])).sum();
        assert!((run.inertia - direct).abs() <= 1e-9 * direct);
    }

    #[test]
    fn kernel_2_reaches_kernel_1s_solution_from_the_same_start() {
        for (seed, n, d, k) in
            [(2, 30_000, 4, 5), (3, 20_000, 8, 8), (4, 5_000, 2, 3), (5, 999, 3, 16), (6, 3_000, 3, 20)]
        {
            let x = mixture(n, d, k, 1.0, seed);
            let (two, _) = kernel2(&x, d, k);
            let one = kernel1(&x, d, k);
            let relative = (two.inertia - one.inertia) / one.inertia;
            assert!(relative.abs() < 1e-9, "seed {seed}: {} against {} ({relative:e})", two.inertia, one.inertia);
            let differ = two.labels.iter().zip(&one.labels).filter(|(a, b)| a != b).count();
            assert!(differ <= n / 10_000 + 1, "seed {seed}: {differ} rows in other segments");
        }
    }

    #[test]
    fn any_thread_count_gives_the_same_bits() {
        let (d, k) = (6, 9);
        let x = mixture(25_000, d, k, 1.0, 7);
        let on = |threads| {
            rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| kernel2(&x, d, k))
        };
        let (one, modes) = on(1);
        assert!(modes.contains(&StepMode::Bounded), "{modes:?}");
        for threads in [2, 3] {
            let (other, other_modes) = on(threads);
            assert_eq!(other_modes, modes);
            assert_eq!(other.labels, one.labels);
            assert_eq!(other.inertia.to_bits(), one.inertia.to_bits());
            let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&other.centers), bits(&one.centers));
        }
    }

    #[test]
    fn magnitudes_far_from_one_give_the_same_segments() {
        // Multiplying by a power of two is exact, so every scale whose squares stay within double
        // precision (the tolerance is a variance) must give the same segments and iterations,
        // and the inertia scaled exactly.
        let (d, k) = (3, 4);
        let base = mixture(6_000, d, k, 1.0, 8);
        let (reference, _) = kernel2(&base, d, k);
        for power in [-400, -20, 20, 400] {
            let scale = 2f64.powi(power);
            let x: Vec<f64> = base.iter().map(|v| v * scale).collect();
            let (run, _) = kernel2(&x, d, k);
            let differ = run.labels.iter().zip(&reference.labels).filter(|(a, b)| a != b).count();
            assert_eq!(differ, 0, "2^{power}: rows in other segments");
            assert_eq!(run.n_iter, reference.n_iter, "2^{power}");
            assert_eq!(run.inertia, reference.inertia * scale * scale, "2^{power}");
        }
        // Where the variance underflows or overflows, the iterations stop on their own terms, but
        // the rows still rank in single precision: k segments, finite centres.
        for power in [-1000, 1000] {
            let x: Vec<f64> = base.iter().map(|v| v * 2f64.powi(power)).collect();
            let (run, _) = kernel2(&x, d, k);
            let mut sizes = vec![0; k];
            run.labels.iter().for_each(|&l| sizes[l] += 1);
            assert!(sizes.iter().all(|&s| s > 100), "2^{power}: {sizes:?}");
            assert!(run.centers.iter().all(|c| c.is_finite()), "2^{power}");
        }
    }

    #[test]
    fn rows_single_precision_cannot_tell_apart_still_get_their_own_segments() {
        // Distinct in double precision, equal in single: kernel 1's assignment takes over.
        let x = vec![1.0, 1.0 + 1e-12, 2.0, 2.0 + 1e-12, 5.0];
        let (single, _) = SinglePacked::new(&x, 1);
        let centres = vec![1.0, 1.0 + 1e-12, 2.0, 2.0 + 1e-12, 5.0];
        let run = run(&x, &single, 5, 300, 0.0, centres, &CancelToken::new()).unwrap();
        let mut sizes = vec![0; 5];
        for &l in &run.labels {
            sizes[l] += 1;
        }
        assert_eq!(sizes, vec![1; 5]);
        assert_eq!(run.inertia, 0.0);
    }

    #[test]
    fn a_centre_left_without_rows_moves_onto_a_far_row() {
        let (d, k) = (2, 4);
        let x = mixture(3_000, d, k, 1.0, 9);
        let (single, mean_variance) = SinglePacked::new(&x, d);
        let mut centres = start(&x, d, k);
        // Far from every row: empty after the first step.
        centres[2] = 1e6;
        centres[3] = -1e6;
        let tol = 1e-4 * mean_variance;
        let (run, modes) = run_traced(&x, &single, k, 300, tol, centres, &CancelToken::new()).unwrap();
        assert_eq!(modes[..2], [StepMode::Fresh, StepMode::Fresh]);
        let mut sizes = vec![0; k];
        for &l in &run.labels {
            sizes[l] += 1;
        }
        assert!(sizes.iter().all(|&s| s > 0), "{sizes:?}");
        assert!(run.centers.iter().all(|v| v.abs() < 100.0));
    }

    #[test]
    fn one_centre_never_doubts_and_a_cancel_stops() {
        let x = mixture(2_000, 3, 2, 1.0, 10);
        let (run, _) = kernel2(&x, 3, 1);
        assert!(run.labels.iter().all(|&l| l == 0) && run.converged);
        let cancel = CancelToken::new();
        cancel.cancel();
        let (single, _) = SinglePacked::new(&x, 3);
        assert!(matches!(run_traced(&x, &single, 2, 300, 0.0, start(&x, 3, 2), &cancel), Err(ClusterError::Cancelled)));
    }

    #[test]
    fn the_mean_variance_is_the_columns_and_the_same_on_any_thread_count() {
        let x = mixture(10_001, 3, 2, 1.0, 11);
        let n = x.len() / 3;
        let direct: f64 = (0..3)
            .map(|j| {
                let mean = (0..n).map(|i| x[i * 3 + j]).sum::<f64>() / n as f64;
                (0..n).map(|i| (x[i * 3 + j] - mean).powi(2)).sum::<f64>() / n as f64
            })
            .sum::<f64>()
            / 3.0;
        let variance = || SinglePacked::new(&x, 3).1;
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(variance);
        assert!((one - direct).abs() <= 1e-12 * direct);
        assert_eq!(variance().to_bits(), one.to_bits());
    }

    #[test]
    fn the_scale_is_an_exact_power_of_two_that_brings_the_largest_value_below_one() {
        for largest in [1e-300, 3e-9, 0.49, 0.5, 0.75, 1.0, 63.9, 1e12, 1e300] {
            let s = scale_below_one(largest);
            assert_eq!(s.to_bits() & ((1u64 << 52) - 1), 0, "{largest}: a power of two");
            assert!((0.5..1.0).contains(&(largest * s)), "{largest} x {s}");
        }
        assert_eq!(scale_below_one(0.0), 1.0);
        // Beyond 2^1000 either way the scale stops, and the values stay finite in single precision.
        assert!((f64::MAX * scale_below_one(f64::MAX)) as f32 <= 2f32.powi(24));
        assert_eq!(scale_below_one(5e-324), f64::from_bits(((1023 + 1000) as u64) << 52));
    }
}
