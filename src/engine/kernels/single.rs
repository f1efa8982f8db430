//! k-means kernel 2's step: nearest and second-nearest centre in single precision, sixteen rows at a
//! time, skipping every block of rows whose Hamerly bounds prove no row can change centre.
//!
//! Rows are packed sixteen at a time, column by column (`block[j * SINGLE_LANES + lane]`), in
//! single precision, so one AVX-512 load reads one column of sixteen rows. A block is computed
//! whole when one of its rows is in doubt: the lanes cost the same as one, and reading a row's
//! column values touches the block's cache lines anyway.
//!
//! Every variant (AVX-512, and the generic loop compiled for AVX2 or plain x86-64) performs the same
//! single-precision operations in the same order on each row (a difference, a product and a sum
//! per column, in column order; centres compared in ascending order, ties to the lower), and adds
//! the rows that changed centre to the double-precision sums in row order, so results are
//! bit-identical whichever variant runs.

use super::Isa;

/// Rows per packed single-precision block (one AVX-512 register of f32).
pub const SINGLE_LANES: usize = 16;

/// What a step must do with a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepMode {
    /// Compute every row; no row has a centre yet (the sums start from nothing).
    Fresh,
    /// Compute every row without reading the bounds, and write them (when a bounded step may come
    /// next).
    Every,
    /// Compute every row without reading or writing the bounds (early iterations, when nearly
    /// every block would be in doubt anyway; the bounds are then not valid until an `Every` step).
    Unbounded,
    /// Loosen the bounds by the centres' moves and compute only blocks with a row in doubt.
    Bounded,
}

/// The centres a step ranks against, and what the bounds need to know of their last move.
pub struct StepCentres<'a> {
    /// k x d centres, row-major, in the packed rows' scale.
    pub centres: &'a [f32],
    /// How far each centre moved since the bounds were last right (rounded up).
    pub drift: &'a [f32],
    /// The largest move of any other centre, per centre (rounded up).
    pub drift_other: &'a [f32],
    /// Half the distance from each centre to its nearest other centre (rounded down).
    pub half_gap: &'a [f32],
    /// In `Fresh` and `Every` steps, a block counts as probed when one of its rows has its two
    /// nearest centres closer than this: what a bounded step would have had to compute.
    pub probe: f32,
    /// Factor above 1 that covers a computed distance's rounding (applied to the upper bound).
    pub margin_up: f32,
    /// Factor below 1 that covers a computed distance's rounding (applied to the lower bound).
    pub margin_down: f32,
    /// Factor above 1 that covers the rounding of loosening a bound (applied each bounded step).
    pub loosen: f32,
}

/// What one chunk's step changed: differences to the sums and counts, and counters.
#[derive(Clone, Debug)]
pub struct StepPartial {
    /// k x d differences to the sums of the rows per centre (added for rows that arrive,
    /// subtracted for rows that leave), in row order.
    pub sums: Vec<f64>,
    /// Differences to the rows per centre.
    pub counts: Vec<i64>,
    /// Rows whose centre changed.
    pub changed: usize,
    /// Rows whose distances were computed.
    pub computed: usize,
    /// Blocks probed (see [`StepCentres::probe`]).
    pub probed: usize,
}

impl StepPartial {
    /// Nothing changed yet, for k centres of d columns.
    pub fn new(k: usize, d: usize) -> StepPartial {
        StepPartial { sums: vec![0.0; k * d], counts: vec![0; k], changed: 0, computed: 0, probed: 0 }
    }

    /// Moves a row (its packed values `row`) from `old` (none in a fresh step) to `new`.
    #[inline(always)]
    fn moved(&mut self, d: usize, old: Option<u32>, new: u32, row: &[f32]) {
        if let Some(old) = old {
            let o = old as usize;
            for (s, &v) in self.sums[o * d..(o + 1) * d].iter_mut().zip(row) {
                *s -= f64::from(v);
            }
            self.counts[o] -= 1;
        }
        let c = new as usize;
        for (s, &v) in self.sums[c * d..(c + 1) * d].iter_mut().zip(row) {
            *s += f64::from(v);
        }
        self.counts[c] += 1;
        self.changed += 1;
    }
}

/// One k-means step over a chunk of packed rows (`packed` holds the chunk's blocks, `labels`,
/// `upper` and `lower` its rows): every row in doubt, or every row, gets its nearest centre and
/// exact bounds; rows that change centre are added to `part`.
#[allow(clippy::too_many_arguments)]
pub fn step_chunk(
    isa: Isa,
    packed: &[f32],
    d: usize,
    c: &StepCentres,
    mode: StepMode,
    labels: &mut [u32],
    upper: &mut [f32],
    lower: &mut [f32],
    part: &mut StepPartial,
) {
    let k = c.drift.len();
    assert!(
        packed.len() >= labels.len().div_ceil(SINGLE_LANES) * SINGLE_LANES * d
            && upper.len() == labels.len()
            && lower.len() == labels.len()
            && c.centres.len() == k * d
            && c.drift_other.len() == k
            && c.half_gap.len() == k,
        "step_chunk: inconsistent sizes"
    );
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f")]
        #[allow(clippy::too_many_arguments)]
        fn avx512(
            packed: &[f32],
            d: usize,
            c: &StepCentres,
            mode: StepMode,
            labels: &mut [u32],
            upper: &mut [f32],
            lower: &mut [f32],
            part: &mut StepPartial,
        ) {
            if c.drift.len() <= SINGLE_LANES {
                avx512::step(packed, d, c, mode, labels, upper, lower, part)
            } else {
                step_generic(packed, d, c, mode, labels, upper, lower, part)
            }
        }
        #[target_feature(enable = "avx2,fma")]
        #[allow(clippy::too_many_arguments)]
        fn avx2(
            packed: &[f32],
            d: usize,
            c: &StepCentres,
            mode: StepMode,
            labels: &mut [u32],
            upper: &mut [f32],
            lower: &mut [f32],
            part: &mut StepPartial,
        ) {
            step_generic(packed, d, c, mode, labels, upper, lower, part)
        }
        match isa {
            // SAFETY: `Isa::available` offers these variants only when the CPU has the features
            // they are compiled for.
            Isa::Avx512 => return unsafe { avx512(packed, d, c, mode, labels, upper, lower, part) },
            Isa::Avx2 => return unsafe { avx2(packed, d, c, mode, labels, upper, lower, part) },
            Isa::Baseline => {}
        }
    }
    let _ = isa;
    step_generic(packed, d, c, mode, labels, upper, lower, part)
}

/// The nearest centre, the squared distance to it and to the second nearest, of one packed lane.
#[inline(always)]
fn two_nearest(block: &[f32], lane: usize, centres: &[f32], d: usize, k: usize) -> (u32, f32, f32) {
    let (mut best, mut second, mut at) = (f32::INFINITY, f32::INFINITY, 0u32);
    for c in 0..k {
        let centre = &centres[c * d..(c + 1) * d];
        let mut acc = 0.0f32;
        for (j, &cj) in centre.iter().enumerate() {
            let t = block[j * SINGLE_LANES + lane] - cj;
            acc += t * t;
        }
        if acc < best {
            second = best;
            best = acc;
            at = c as u32;
        } else {
            second = second.min(acc);
        }
    }
    (at, best, second)
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn step_generic(
    packed: &[f32],
    d: usize,
    c: &StepCentres,
    mode: StepMode,
    labels: &mut [u32],
    upper: &mut [f32],
    lower: &mut [f32],
    part: &mut StepPartial,
) {
    let k = c.drift.len();
    let rows = labels.len();
    let mut row = vec![0.0f32; d];
    for (b, block) in packed.chunks(SINGLE_LANES * d).take(rows.div_ceil(SINGLE_LANES)).enumerate() {
        let first = b * SINGLE_LANES;
        let lanes = (rows - first).min(SINGLE_LANES);
        if mode == StepMode::Bounded {
            let mut doubt = false;
            for i in first..first + lanes {
                let own = labels[i] as usize;
                let u = (upper[i] + c.drift[own]) * c.loosen;
                let l = (lower[i] - c.drift_other[own]) * (2.0 - c.loosen);
                upper[i] = u;
                lower[i] = l;
                doubt |= u > l.max(c.half_gap[own]);
            }
            if !doubt {
                continue;
            }
        }
        let mut probed = false;
        for lane in 0..lanes {
            let i = first + lane;
            let (at, best, second) = two_nearest(block, lane, c.centres, d, k);
            let (near, far) = (best.sqrt(), second.sqrt());
            if mode != StepMode::Unbounded {
                upper[i] = near * c.margin_up;
                lower[i] = far * c.margin_down;
            }
            probed |= far - near < c.probe;
            let old = labels[i];
            if mode == StepMode::Fresh || at != old {
                labels[i] = at;
                for (j, v) in row.iter_mut().enumerate() {
                    *v = block[j * SINGLE_LANES + lane];
                }
                part.moved(d, (mode != StepMode::Fresh).then_some(old), at, &row);
            }
        }
        part.computed += lanes;
        if mode != StepMode::Bounded && probed {
            part.probed += 1;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{SINGLE_LANES as L, StepCentres, StepMode, StepPartial};
    use std::arch::x86_64::*;

    /// The nearest centre, the squared distance to it and to the second nearest, of sixteen lanes:
    /// per lane the operations of `two_nearest`, two centres' sums interleaved.
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn two_nearest(block: &[f32], centres: &[f32], d: usize, k: usize) -> (__m512i, __m512, __m512) {
        assert!(block.len() >= d * L && centres.len() >= k * d, "block or centres too short");
        let x = |j: usize| {
            // SAFETY: j < d, and the block holds d columns of L values (asserted above).
            unsafe { _mm512_loadu_ps(block.as_ptr().add(j * L)) }
        };
        let mut best = _mm512_set1_ps(f32::INFINITY);
        let mut second = best;
        let mut at = _mm512_setzero_si512();
        let mut keep = |acc: __m512, c: usize| {
            let closer = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(acc, best);
            second = _mm512_mask_mov_ps(_mm512_min_ps(second, acc), closer, best);
            best = _mm512_mask_mov_ps(best, closer, acc);
            at = _mm512_mask_mov_epi32(at, closer, _mm512_set1_epi32(c as i32));
        };
        let mut c = 0;
        while c + 2 <= k {
            let (mut a0, mut a1) = (_mm512_setzero_ps(), _mm512_setzero_ps());
            for j in 0..d {
                let xj = x(j);
                let t0 = _mm512_sub_ps(xj, _mm512_set1_ps(centres[c * d + j]));
                let t1 = _mm512_sub_ps(xj, _mm512_set1_ps(centres[(c + 1) * d + j]));
                a0 = _mm512_add_ps(a0, _mm512_mul_ps(t0, t0));
                a1 = _mm512_add_ps(a1, _mm512_mul_ps(t1, t1));
            }
            keep(a0, c);
            keep(a1, c + 1);
            c += 2;
        }
        if c < k {
            let mut a = _mm512_setzero_ps();
            for j in 0..d {
                let t = _mm512_sub_ps(x(j), _mm512_set1_ps(centres[c * d + j]));
                a = _mm512_add_ps(a, _mm512_mul_ps(t, t));
            }
            keep(a, c);
        }
        (at, best, second)
    }

    /// `step_generic` with AVX-512 for k <= 16 (the per-centre values one permute away).
    #[target_feature(enable = "avx512f")]
    #[allow(clippy::too_many_arguments)]
    pub fn step(
        packed: &[f32],
        d: usize,
        c: &StepCentres,
        mode: StepMode,
        labels: &mut [u32],
        upper: &mut [f32],
        lower: &mut [f32],
        part: &mut StepPartial,
    ) {
        let k = c.drift.len();
        assert!(k <= L, "at most sixteen centres");
        let lanes_of = |v: &[f32]| {
            let mut a = [0.0f32; L];
            a[..v.len()].copy_from_slice(v);
            // SAFETY: `a` holds L values.
            unsafe { _mm512_loadu_ps(a.as_ptr()) }
        };
        let (drift, other, gap) = (lanes_of(c.drift), lanes_of(c.drift_other), lanes_of(c.half_gap));
        let (loosen, tighten) = (_mm512_set1_ps(c.loosen), _mm512_set1_ps(2.0 - c.loosen));
        let (margin_up, margin_down) = (_mm512_set1_ps(c.margin_up), _mm512_set1_ps(c.margin_down));
        let probe = _mm512_set1_ps(c.probe);
        let rows = labels.len();
        let mut row = vec![0.0f32; d];
        let mut first = 0;
        while first < rows {
            let lanes = (rows - first).min(L);
            let valid: u16 = if lanes == L { u16::MAX } else { (1u16 << lanes) - 1 };
            // SAFETY (every masked load and store below): lanes past `rows` are masked off, and
            // `first + lanes <= rows` = the length of labels, upper and lower.
            let own = unsafe { _mm512_maskz_loadu_epi32(valid, labels.as_ptr().add(first).cast()) };
            if mode == StepMode::Bounded {
                let u = unsafe { _mm512_maskz_loadu_ps(valid, upper.as_ptr().add(first)) };
                let l = unsafe { _mm512_maskz_loadu_ps(valid, lower.as_ptr().add(first)) };
                let u = _mm512_mul_ps(_mm512_add_ps(u, _mm512_permutexvar_ps(own, drift)), loosen);
                let l = _mm512_mul_ps(_mm512_sub_ps(l, _mm512_permutexvar_ps(own, other)), tighten);
                let doubt = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(u, _mm512_max_ps(l, _mm512_permutexvar_ps(own, gap)));
                if doubt & valid == 0 {
                    unsafe {
                        _mm512_mask_storeu_ps(upper.as_mut_ptr().add(first), valid, u);
                        _mm512_mask_storeu_ps(lower.as_mut_ptr().add(first), valid, l);
                    }
                    first += L;
                    continue;
                }
            }
            let b = first / L;
            let block = &packed[b * L * d..(b + 1) * L * d];
            let (at, best, second) = two_nearest(block, c.centres, d, k);
            let (near, far) = (_mm512_sqrt_ps(best), _mm512_sqrt_ps(second));
            if mode != StepMode::Unbounded {
                unsafe {
                    _mm512_mask_storeu_ps(upper.as_mut_ptr().add(first), valid, _mm512_mul_ps(near, margin_up));
                    _mm512_mask_storeu_ps(lower.as_mut_ptr().add(first), valid, _mm512_mul_ps(far, margin_down));
                }
            }
            part.computed += lanes;
            if mode != StepMode::Bounded
                && _mm512_cmp_ps_mask::<_CMP_LT_OQ>(_mm512_sub_ps(far, near), probe) & valid != 0
            {
                part.probed += 1;
            }
            let mut moved = if mode == StepMode::Fresh { valid } else { _mm512_cmpneq_epi32_mask(at, own) & valid };
            if moved == 0 {
                first += L;
                continue;
            }
            unsafe { _mm512_mask_storeu_epi32(labels.as_mut_ptr().add(first).cast(), moved, at) };
            let (mut new, mut old) = ([0u32; L], [0u32; L]);
            // SAFETY: both arrays hold L values.
            unsafe {
                _mm512_storeu_si512(new.as_mut_ptr().cast(), at);
                _mm512_storeu_si512(old.as_mut_ptr().cast(), own);
            }
            while moved != 0 {
                let lane = moved.trailing_zeros() as usize;
                moved &= moved - 1;
                for (j, v) in row.iter_mut().enumerate() {
                    *v = block[j * L + lane];
                }
                part.moved(d, (mode != StepMode::Fresh).then_some(old[lane]), new[lane], &row);
            }
            first += L;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::SeededRng;

    fn packed(x: &[f32], d: usize) -> Vec<f32> {
        let n = x.len() / d;
        let mut out = vec![0.0; n.div_ceil(SINGLE_LANES) * SINGLE_LANES * d];
        for i in 0..n {
            for j in 0..d {
                out[i / SINGLE_LANES * SINGLE_LANES * d + j * SINGLE_LANES + i % SINGLE_LANES] = x[i * d + j];
            }
        }
        out
    }

    /// Every variant against a plain loop over rows, bit for bit, in all three modes, with ties
    /// (duplicated centres and rows on a centre) and a last partial block; k up to 17 so the
    /// generic fallback above sixteen centres runs too.
    #[test]
    fn every_variant_is_the_plain_loop_bit_for_bit() {
        let mut rng = SeededRng::new(5);
        for (n, d, k) in [(1003, 5, 7), (64, 8, 8), (37, 3, 16), (50, 2, 17), (16, 1, 1)] {
            let x: Vec<f32> = (0..n * d).map(|_| (rng.next_f64() as f32 - 0.4).powi(3)).collect();
            let mut centres: Vec<f32> = (0..k * d).map(|_| (rng.next_f64() as f32 - 0.4).powi(3)).collect();
            if k > 2 {
                let (a, b) = centres.split_at_mut(d);
                b[..d].copy_from_slice(a);
            }
            let p = packed(&x, d);
            let drift: Vec<f32> = (0..k).map(|c| 0.01 * c as f32).collect();
            let other: Vec<f32> = (0..k).map(|c| 0.02 + 0.001 * c as f32).collect();
            let gap: Vec<f32> = (0..k).map(|c| 0.05 * (c % 3) as f32).collect();
            let c = StepCentres {
                centres: &centres,
                drift: &drift,
                drift_other: &other,
                half_gap: &gap,
                probe: 0.1,
                margin_up: 1.0 + 1e-6,
                margin_down: 1.0 - 1e-6,
                loosen: 1.0 + 5e-7,
            };
            let start_labels: Vec<u32> = (0..n).map(|i| (i % k) as u32).collect();
            let start_upper: Vec<f32> = (0..n).map(|i| 0.3 * (i % 5) as f32).collect();
            let start_lower: Vec<f32> = (0..n).map(|i| 0.4 * (i % 3) as f32).collect();
            for mode in [StepMode::Fresh, StepMode::Every, StepMode::Unbounded, StepMode::Bounded] {
                let run = |isa: Option<Isa>| {
                    let (mut labels, mut upper, mut lower) =
                        (start_labels.clone(), start_upper.clone(), start_lower.clone());
                    let mut part = StepPartial::new(k, d);
                    match isa {
                        Some(isa) => step_chunk(isa, &p, d, &c, mode, &mut labels, &mut upper, &mut lower, &mut part),
                        None => plain(&x, d, &c, mode, &mut labels, &mut upper, &mut lower, &mut part),
                    }
                    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                    let sums: Vec<u64> = part.sums.iter().map(|s| s.to_bits()).collect();
                    (labels, bits(&upper), bits(&lower), sums, part.counts, part.changed, part.computed, part.probed)
                };
                let expected = run(None);
                assert!(expected.6 > 0, "{mode:?}: some rows computed");
                for isa in Isa::available() {
                    assert_eq!(run(Some(isa)), expected, "{isa:?} {mode:?} n {n} d {d} k {k}");
                }
            }
        }
    }

    /// The step written row by row with nothing shared with the kernels but `StepPartial`.
    #[allow(clippy::too_many_arguments)]
    fn plain(
        x: &[f32],
        d: usize,
        c: &StepCentres,
        mode: StepMode,
        labels: &mut [u32],
        upper: &mut [f32],
        lower: &mut [f32],
        part: &mut StepPartial,
    ) {
        let k = c.drift.len();
        let n = labels.len();
        for first in (0..n).step_by(SINGLE_LANES) {
            let rows = first..(first + SINGLE_LANES).min(n);
            if mode == StepMode::Bounded {
                let mut doubt = false;
                for i in rows.clone() {
                    let own = labels[i] as usize;
                    upper[i] = (upper[i] + c.drift[own]) * c.loosen;
                    lower[i] = (lower[i] - c.drift_other[own]) * (2.0 - c.loosen);
                    doubt |= upper[i] > lower[i].max(c.half_gap[own]);
                }
                if !doubt {
                    continue;
                }
            }
            let mut probed = false;
            for i in rows.clone() {
                let row = &x[i * d..(i + 1) * d];
                let dist: Vec<f32> = (0..k)
                    .map(|cc| {
                        row.iter().zip(&c.centres[cc * d..(cc + 1) * d]).fold(0.0f32, |a, (v, w)| a + (v - w) * (v - w))
                    })
                    .collect();
                let at = (0..k).fold(0, |b, cc| if dist[cc] < dist[b] { cc } else { b });
                let second = (0..k).filter(|&cc| cc != at).map(|cc| dist[cc]).fold(f32::INFINITY, f32::min);
                if mode != StepMode::Unbounded {
                    upper[i] = dist[at].sqrt() * c.margin_up;
                    lower[i] = second.sqrt() * c.margin_down;
                }
                probed |= second.sqrt() - dist[at].sqrt() < c.probe;
                if mode == StepMode::Fresh || labels[i] != at as u32 {
                    let old = labels[i];
                    labels[i] = at as u32;
                    part.moved(d, (mode != StepMode::Fresh).then_some(old), at as u32, row);
                }
            }
            part.computed += rows.len();
            if mode != StepMode::Bounded && probed {
                part.probed += 1;
            }
        }
    }
}
