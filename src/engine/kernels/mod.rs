//! Numeric inner loops, written once over eight virtual lanes and compiled for each instruction set
//! the CPU may have (AVX-512, AVX2, plain x86-64 or another architecture), chosen at run time.
//!
//! Every variant performs the same floating-point operations in the same order on each lane and
//! reduces lanes in one fixed order, so results are bit-identical whichever variant runs; Rust never
//! contracts `a * b + c` into a fused multiply-add on its own, so where a kernel fuses, it says so
//! with `mul_add` and all variants fuse alike.
//!
//! Rows are packed eight at a time, column by column (`block[j * LANES + lane]`), so one vector load
//! reads one column of eight rows.

use std::sync::OnceLock;

pub mod single;

/// Rows per packed block (one AVX-512 register of f64, two AVX2 registers).
pub const LANES: usize = 8;

/// An instruction set a kernel can be compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// AVX-512F.
    Avx512,
    /// AVX2 with FMA.
    Avx2,
    /// Whatever the build targets (SSE2 on x86-64).
    Baseline,
}

impl Isa {
    /// The best variant this CPU runs (detected once). `STRATA_SIMD=baseline|avx2|avx512` lowers it,
    /// to compare variants; asking for more than the CPU has falls back to what it has.
    pub fn detect() -> Isa {
        static DETECTED: OnceLock<Isa> = OnceLock::new();
        *DETECTED.get_or_init(|| {
            let available = Isa::available();
            let wanted = std::env::var("STRATA_SIMD").ok().and_then(|v| match v.to_ascii_lowercase().as_str() {
                "avx512" => Some(Isa::Avx512),
                "avx2" => Some(Isa::Avx2),
                "baseline" | "scalar" => Some(Isa::Baseline),
                _ => None,
            });
            match wanted {
                Some(w) if available.contains(&w) => w,
                _ => available[0],
            }
        })
    }

    /// Every variant this CPU can run, best first (the baseline always).
    pub fn available() -> Vec<Isa> {
        let mut out = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                out.push(Isa::Avx512);
            }
            if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                out.push(Isa::Avx2);
            }
        }
        out.push(Isa::Baseline);
        out
    }

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Avx512 => "avx512",
            Isa::Avx2 => "avx2",
            Isa::Baseline => "baseline",
        }
    }
}

/// Generates a dispatcher `$name(isa, args..)` over `$generic`, compiled once per instruction set.
macro_rules! dispatch {
    ($(#[$doc:meta])* $vis:vis fn $name:ident => $generic:ident ( $($arg:ident : $ty:ty),* ) $(-> $ret:ty)?) => {
        $(#[$doc])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name(isa: Isa, $($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                fn avx512($($arg: $ty),*) $(-> $ret)? { $generic($($arg),*) }
                #[target_feature(enable = "avx2,fma")]
                fn avx2($($arg: $ty),*) $(-> $ret)? { $generic($($arg),*) }
                match isa {
                    // SAFETY: `Isa::available` offers these variants only when the CPU has the
                    // features they are compiled for.
                    Isa::Avx512 => return unsafe { avx512($($arg),*) },
                    Isa::Avx2 => return unsafe { avx2($($arg),*) },
                    Isa::Baseline => {}
                }
            }
            let _ = isa;
            $generic($($arg),*)
        }
    };
}

/// Rows in `LANES`-row blocks, column by column; the last block is padded with zeros.
#[derive(Clone, Debug)]
pub struct Packed {
    /// Packed values: block `b`, column `j`, lane `l` at `b * LANES * d + j * LANES + l`.
    pub data: Vec<f64>,
    /// Real rows.
    pub rows: usize,
    /// Columns.
    pub d: usize,
}

impl Packed {
    /// Packs a row-major `rows x d` slice.
    pub fn new(x: &[f64], d: usize) -> Packed {
        use rayon::prelude::*;
        let rows = x.len().checked_div(d).unwrap_or(0);
        let blocks = rows.div_ceil(LANES);
        let mut data = vec![0.0; blocks * LANES * d];
        if d > 0 {
            data.par_chunks_mut(LANES * d).zip(x.par_chunks(LANES * d)).for_each(|(block, src)| {
                for (l, row) in src.chunks_exact(d).enumerate() {
                    for (j, &v) in row.iter().enumerate() {
                        block[j * LANES + l] = v;
                    }
                }
            });
        }
        Packed { data, rows, d }
    }

    /// The packed values of rows `start..start + len` (`start` a multiple of `LANES`).
    pub fn rows_slice(&self, start: usize, len: usize) -> &[f64] {
        debug_assert_eq!(start % LANES, 0);
        let from = start / LANES * LANES * self.d;
        let to = ((start + len).div_ceil(LANES) * LANES * self.d).min(self.data.len());
        &self.data[from..to]
    }
}

/// Per-chunk results of a k-means assignment step.
#[derive(Clone, Debug)]
pub struct AssignPartial {
    /// k x d sums of the rows assigned to each centre.
    pub sums: Vec<f64>,
    /// Rows per centre.
    pub counts: Vec<usize>,
    /// Sum of the squared distances to the nearest centre, added row by row in row order.
    pub inertia: f64,
    /// Rows whose label changed.
    pub changed: usize,
}

/// Nearest centre of each lane, ties to the lower centre.
#[inline(always)]
fn nearest(block: &[f64], centers: &[f64], d: usize, k: usize, best: &mut [f64; LANES], best_c: &mut [u64; LANES]) {
    // Four centres at a time: four independent add chains keep the vector units busy, where one
    // chain would wait on each add's latency. Each lane still adds its terms in column order and
    // the centres are compared in ascending order, so the result is the scalar loop's.
    let mut c = 0;
    while c + CENTRE_GROUP <= k {
        let acc = group_distances::<CENTRE_GROUP>(block, &centers[c * d..(c + CENTRE_GROUP) * d], d);
        for (q, acc) in acc.iter().enumerate() {
            for l in 0..LANES {
                if acc[l] < best[l] {
                    best[l] = acc[l];
                    best_c[l] = (c + q) as u64;
                }
            }
        }
        c += CENTRE_GROUP;
    }
    while c < k {
        let [acc] = group_distances::<1>(block, &centers[c * d..(c + 1) * d], d);
        for l in 0..LANES {
            if acc[l] < best[l] {
                best[l] = acc[l];
                best_c[l] = c as u64;
            }
        }
        c += 1;
    }
}

/// Centres whose distances the k-means kernel computes together.
const CENTRE_GROUP: usize = 4;

/// Squared distances of a packed block's rows to `G` consecutive centres (row-major in `centers`):
/// per lane, `sum_j (x_j - c_j)^2` with a separate multiply and add, in column order.
#[inline(always)]
fn group_distances<const G: usize>(block: &[f64], centers: &[f64], d: usize) -> [[f64; LANES]; G] {
    let mut acc = [[0.0f64; LANES]; G];
    // The block is column-major in lanes: column j is chunk j.
    let (columns, _) = block.as_chunks::<LANES>();
    for (j, xs) in columns.iter().enumerate().take(d) {
        for (q, acc) in acc.iter_mut().enumerate() {
            let cj = centers[q * d + j];
            for l in 0..LANES {
                let diff = xs[l] - cj;
                acc[l] += diff * diff;
            }
        }
    }
    acc
}

/// Nearest centre of each row of a packed chunk, as `sum_j (x_j - c_j)^2` with a separate multiply
/// and add per term, in column order, ties to the lower centre: exactly what a scalar loop computes.
/// Labels and counts are updated row by row; distances and the inertia (summed in row order) only
/// when `dists` is not empty; the sums per segment in row order (see `add_rows_by_label`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn assign_chunk_generic(
    packed: &[f64],
    rows: usize,
    d: usize,
    centers: &[f64],
    labels: &mut [u32],
    dists: &mut [f64],
    part: &mut AssignPartial,
    nearest: impl Fn(&[f64], &[f64], usize, usize, &mut [f64; LANES], &mut [u64; LANES]),
) {
    let k = centers.len() / d;
    let with_dists = !dists.is_empty();
    for (b, block) in packed.chunks_exact(LANES * d).enumerate() {
        let mut best = [f64::INFINITY; LANES];
        let mut best_c = [0u64; LANES];
        nearest(block, centers, d, k, &mut best, &mut best_c);
        let first = b * LANES;
        for l in 0..LANES.min(rows.saturating_sub(first)) {
            let (row, c) = (first + l, best_c[l] as usize);
            if labels[row] != c as u32 {
                part.changed += 1;
                labels[row] = c as u32;
            }
            if with_dists {
                dists[row] = best[l];
                part.inertia += best[l];
            }
            part.counts[c] += 1;
        }
    }
    add_rows_by_label(packed, rows, d, &labels[..rows], &part.counts, &mut part.sums);
}

/// `sums[c] += row` for every row, in row order within each segment (the order a row-by-row loop
/// adds them). Adding row by row into `sums` in memory chains every add behind the previous store
/// of the same cell; instead the rows are grouped by segment (stably) and each segment's sum is
/// carried in registers.
#[inline(always)]
fn add_rows_by_label(packed: &[f64], rows: usize, d: usize, labels: &[u32], counts: &[usize], sums: &mut [f64]) {
    let mut next: Vec<usize> = Vec::with_capacity(counts.len());
    let mut start = 0;
    for &c in counts {
        next.push(start);
        start += c;
    }
    let mut order = vec![0u32; rows];
    for (row, &c) in labels.iter().enumerate() {
        order[next[c as usize]] = row as u32;
        next[c as usize] += 1;
    }
    let mut from = 0;
    for (c, &count) in counts.iter().enumerate() {
        let members = &order[from..from + count];
        from += count;
        let sum = &mut sums[c * d..(c + 1) * d];
        macro_rules! fixed {
            ($($n:literal)*) => {
                match d {
                    $($n => add_rows_fixed::<$n>(packed, members, sum.try_into().expect("d columns")),)*
                    _ => add_rows_any(packed, d, members, sum),
                }
            };
        }
        fixed!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);
    }
}

#[inline(always)]
fn add_rows_fixed<const D: usize>(packed: &[f64], members: &[u32], sum: &mut [f64; D]) {
    let mut acc = *sum;
    for &row in members {
        let row = row as usize;
        let base = row / LANES * LANES * D + row % LANES;
        for (j, a) in acc.iter_mut().enumerate() {
            *a += packed[base + j * LANES];
        }
    }
    *sum = acc;
}

#[inline(always)]
fn add_rows_any(packed: &[f64], d: usize, members: &[u32], sum: &mut [f64]) {
    for &row in members {
        let row = row as usize;
        let base = row / LANES * LANES * d + row % LANES;
        for (j, a) in sum.iter_mut().enumerate() {
            *a += packed[base + j * LANES];
        }
    }
}

/// k-means E-step over one packed chunk of `rows` rows (see `assign_chunk_generic`); `dists`
/// receives each row's squared distance to its centre, unless it is empty.
#[allow(clippy::too_many_arguments)]
pub fn assign_chunk(
    isa: Isa,
    packed: &[f64],
    rows: usize,
    d: usize,
    centers: &[f64],
    labels: &mut [u32],
    dists: &mut [f64],
    part: &mut AssignPartial,
) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f")]
        fn avx512(
            packed: &[f64],
            rows: usize,
            d: usize,
            centers: &[f64],
            labels: &mut [u32],
            dists: &mut [f64],
            part: &mut AssignPartial,
        ) {
            // A closure, inlined here where AVX-512 is enabled, so the call is safe and direct.
            let nearest =
                |b: &[f64], c: &[f64], d: usize, k: usize, best: &mut [f64; LANES], best_c: &mut [u64; LANES]| {
                    avx512::nearest(b, c, d, k, best, best_c)
                };
            assign_chunk_generic(packed, rows, d, centers, labels, dists, part, nearest)
        }
        #[target_feature(enable = "avx2,fma")]
        fn avx2(
            packed: &[f64],
            rows: usize,
            d: usize,
            centers: &[f64],
            labels: &mut [u32],
            dists: &mut [f64],
            part: &mut AssignPartial,
        ) {
            assign_chunk_generic(packed, rows, d, centers, labels, dists, part, nearest)
        }
        match isa {
            // SAFETY: `Isa::available` offers these variants only when the CPU has the features
            // they are compiled for.
            Isa::Avx512 => return unsafe { avx512(packed, rows, d, centers, labels, dists, part) },
            Isa::Avx2 => return unsafe { avx2(packed, rows, d, centers, labels, dists, part) },
            Isa::Baseline => {}
        }
    }
    let _ = isa;
    assign_chunk_generic(packed, rows, d, centers, labels, dists, part, nearest)
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::LANES;
    use std::arch::x86_64::*;

    /// `nearest` written with AVX-512 intrinsics: the compiler's own vectorisation of the generic
    /// loop spilled lanes to scalar code. The same operations per lane in the same order (a
    /// subtraction done as `x - c * 1` by a fused multiply-add is the same correctly rounded
    /// difference), so the result is bit-identical to the generic loop's.
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub fn nearest(
        block: &[f64],
        centers: &[f64],
        d: usize,
        k: usize,
        best_out: &mut [f64; LANES],
        best_c_out: &mut [u64; LANES],
    ) {
        assert!(block.len() >= d * LANES && centers.len() >= k * d, "block or centres too short");
        let x = |j: usize| {
            // SAFETY: j < d, and the block holds d columns of LANES values (asserted above).
            unsafe { _mm512_loadu_pd(block.as_ptr().add(j * LANES)) }
        };
        let ones = _mm512_set1_pd(1.0);
        let mut best = _mm512_set1_pd(f64::INFINITY);
        let mut best_c = _mm512_setzero_si512();
        let mut keep = |acc: __m512d, c: usize, best: &mut __m512d| {
            let closer = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(acc, *best);
            *best = _mm512_mask_mov_pd(*best, closer, acc);
            best_c = _mm512_mask_mov_epi64(best_c, closer, _mm512_set1_epi64(c as i64));
        };
        let mut c = 0;
        while c + 4 <= k {
            let zero = _mm512_setzero_pd();
            let (mut a0, mut a1, mut a2, mut a3) = (zero, zero, zero, zero);
            for j in 0..d {
                let xj = x(j);
                let (c0, c1) = (_mm512_set1_pd(centers[c * d + j]), _mm512_set1_pd(centers[(c + 1) * d + j]));
                let (c2, c3) = (_mm512_set1_pd(centers[(c + 2) * d + j]), _mm512_set1_pd(centers[(c + 3) * d + j]));
                // Two differences on the adders, two on the multipliers, to balance the ports.
                let d0 = _mm512_sub_pd(xj, c0);
                let d1 = _mm512_sub_pd(xj, c1);
                let d2 = _mm512_fnmadd_pd(c2, ones, xj);
                let d3 = _mm512_fnmadd_pd(c3, ones, xj);
                a0 = _mm512_add_pd(a0, _mm512_mul_pd(d0, d0));
                a1 = _mm512_add_pd(a1, _mm512_mul_pd(d1, d1));
                a2 = _mm512_add_pd(a2, _mm512_mul_pd(d2, d2));
                a3 = _mm512_add_pd(a3, _mm512_mul_pd(d3, d3));
            }
            keep(a0, c, &mut best);
            keep(a1, c + 1, &mut best);
            keep(a2, c + 2, &mut best);
            keep(a3, c + 3, &mut best);
            c += 4;
        }
        while c < k {
            let mut a = _mm512_setzero_pd();
            for j in 0..d {
                let diff = _mm512_sub_pd(x(j), _mm512_set1_pd(centers[c * d + j]));
                a = _mm512_add_pd(a, _mm512_mul_pd(diff, diff));
            }
            keep(a, c, &mut best);
            c += 1;
        }
        // SAFETY: both outputs are LANES (8) values wide.
        unsafe {
            _mm512_storeu_pd(best_out.as_mut_ptr(), best);
            _mm512_storeu_si512(best_c_out.as_mut_ptr() as *mut __m512i, best_c);
        }
    }
}

/// `out[i] = min(old[i], |x_i - center|^2)` over a packed chunk, with the arithmetic of
/// `assign_chunk_generic`.
#[inline(always)]
fn min_distance_chunk_generic(packed: &[f64], d: usize, center: &[f64], old: &[f64], out: &mut [f64]) {
    for (b, block) in packed.chunks_exact(LANES * d).enumerate() {
        let [acc] = group_distances::<1>(block, center, d);
        let first = b * LANES;
        for l in 0..LANES.min(out.len().saturating_sub(first)) {
            out[first + l] = old[first + l].min(acc[l]);
        }
    }
}

dispatch! {
    /// Squared distances of a packed chunk's rows to one centre, floored by `old` (k-means++).
    pub fn min_distance_chunk => min_distance_chunk_generic(
        packed: &[f64], d: usize, center: &[f64], old: &[f64], out: &mut [f64]
    )
}

/// For each of `rows` (row-major, `d` columns), the sum of its Euclidean distances to the `count`
/// packed rows in `blocks`, added into `totals[r]`. Squared distances use `mul_add`; each lane sums
/// its square roots in block order and the lanes are reduced pairwise in a fixed tree.
#[inline(always)]
fn distance_sums_generic(rows: &[f64], d: usize, blocks: &[f64], count: usize, totals: &mut [f64]) {
    let full = count / LANES;
    let tail = count % LANES;
    for (r, row) in rows.chunks_exact(d).enumerate() {
        let mut sums = [0.0f64; LANES];
        for block in blocks.chunks_exact(LANES * d).take(full) {
            let acc = fused_squared_distances(block, row);
            for l in 0..LANES {
                sums[l] += acc[l].sqrt();
            }
        }
        if tail > 0 {
            let acc = fused_squared_distances(&blocks[full * LANES * d..(full + 1) * LANES * d], row);
            for l in 0..tail {
                sums[l] += acc[l].sqrt();
            }
        }
        totals[r] += ((sums[0] + sums[1]) + (sums[2] + sums[3])) + ((sums[4] + sums[5]) + (sums[6] + sums[7]));
    }
}

/// Squared distances of a packed block's rows to `row`, each term fused (`mul_add`), in column order.
#[inline(always)]
fn fused_squared_distances(block: &[f64], row: &[f64]) -> [f64; LANES] {
    let mut acc = [0.0f64; LANES];
    let (columns, _) = block.as_chunks::<LANES>();
    for (xs, &v) in columns.iter().zip(row) {
        for l in 0..LANES {
            let diff = xs[l] - v;
            acc[l] = diff.mul_add(diff, acc[l]);
        }
    }
    acc
}

dispatch! {
    /// Sums of Euclidean distances from each row to a packed group (silhouette).
    pub fn distance_sums => distance_sums_generic(
        rows: &[f64], d: usize, blocks: &[f64], count: usize, totals: &mut [f64]
    )
}

/// For each of `rows` (row-major, `d` columns) and each of the `count` packed rows in `blocks`, their
/// Euclidean distance, added both to the row's total (`row_totals[r]`, lanes reduced pairwise in a
/// fixed tree as in [`distance_sums`]) and to the packed row's (`column_totals[i]`, in row order):
/// every pair is computed once where the silhouette needs it from both sides. `column_totals` holds
/// `count` rounded up to whole blocks; the padding lanes are left as they are.
#[inline(always)]
fn pair_sums_generic(
    rows: &[f64],
    d: usize,
    blocks: &[f64],
    count: usize,
    row_totals: &mut [f64],
    column_totals: &mut [f64],
) {
    let full = count / LANES;
    let tail = count % LANES;
    let (columns, _) = column_totals.as_chunks_mut::<LANES>();
    for (r, row) in rows.chunks_exact(d).enumerate() {
        let mut sums = [0.0f64; LANES];
        // Whole blocks with a fixed lane count (so the loop stays vectorised), then the last
        // block's real lanes (its padding lanes are not rows).
        for (block, column) in blocks.chunks_exact(LANES * d).zip(columns.iter_mut()).take(full) {
            let acc = fused_squared_distances(block, row);
            for l in 0..LANES {
                let s = acc[l].sqrt();
                sums[l] += s;
                column[l] += s;
            }
        }
        if tail > 0 {
            let acc = fused_squared_distances(&blocks[full * LANES * d..(full + 1) * LANES * d], row);
            for l in 0..tail {
                let s = acc[l].sqrt();
                sums[l] += s;
                columns[full][l] += s;
            }
        }
        row_totals[r] += ((sums[0] + sums[1]) + (sums[2] + sums[3])) + ((sums[4] + sums[5]) + (sums[6] + sums[7]));
    }
}

dispatch! {
    /// Distance sums of a tile pair from both sides at once (the silhouette's symmetric pass).
    pub fn pair_sums => pair_sums_generic(
        rows: &[f64], d: usize, blocks: &[f64], count: usize, row_totals: &mut [f64], column_totals: &mut [f64]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::SeededRng;

    fn random(n: usize, d: usize, seed: u64) -> Vec<f64> {
        let mut rng = SeededRng::new(seed);
        (0..n * d).map(|_| (rng.next_f64() - 0.3).powi(3) * 100.0).collect()
    }

    #[test]
    fn packing_keeps_every_value_in_its_lane() {
        let x = random(19, 3, 1);
        let p = Packed::new(&x, 3);
        assert_eq!(p.data.len(), 3 * LANES * 3);
        for i in 0..19 {
            for j in 0..3 {
                assert_eq!(p.data[i / LANES * LANES * 3 + j * LANES + i % LANES], x[i * 3 + j]);
            }
        }
    }

    #[test]
    fn assignment_matches_a_scalar_loop_bit_for_bit_on_every_variant() {
        let (n, d, k) = (1003, 5, 7);
        let x = random(n, d, 2);
        let centers = random(k, d, 3);
        let p = Packed::new(&x, d);
        for isa in Isa::available() {
            let mut labels = vec![u32::MAX; n];
            let mut dists = vec![0.0; n];
            let mut part = AssignPartial { sums: vec![0.0; k * d], counts: vec![0; k], inertia: 0.0, changed: 0 };
            assign_chunk(isa, &p.data, n, d, &centers, &mut labels, &mut dists, &mut part);
            let mut inertia = 0.0;
            let mut sums = vec![0.0; k * d];
            for i in 0..n {
                let row = &x[i * d..(i + 1) * d];
                let mut best = (f64::INFINITY, 0);
                for c in 0..k {
                    let dd: f64 = row.iter().zip(&centers[c * d..(c + 1) * d]).map(|(a, b)| (a - b) * (a - b)).sum();
                    if dd < best.0 {
                        best = (dd, c);
                    }
                }
                assert_eq!(labels[i] as usize, best.1, "{isa:?} row {i}");
                assert_eq!(dists[i].to_bits(), best.0.to_bits(), "{isa:?} row {i}");
                inertia += best.0;
                for j in 0..d {
                    sums[best.1 * d + j] += row[j];
                }
            }
            assert_eq!(part.inertia.to_bits(), inertia.to_bits(), "{isa:?}");
            assert_eq!(part.sums, sums, "{isa:?}");
            assert_eq!(part.changed, n);
            // Without distances (the Lloyd loop's mode): the same labels, counts and sums.
            let mut fast_labels = vec![u32::MAX; n];
            let mut fast = AssignPartial { sums: vec![0.0; k * d], counts: vec![0; k], inertia: 0.0, changed: 0 };
            assign_chunk(isa, &p.data, n, d, &centers, &mut fast_labels, &mut [], &mut fast);
            assert_eq!(fast_labels, labels, "{isa:?}");
            assert_eq!((fast.sums, fast.counts), (part.sums.clone(), part.counts.clone()), "{isa:?}");
            let mut floored = vec![0.0; n];
            let old = vec![f64::INFINITY; n];
            min_distance_chunk(isa, &p.data, d, &centers[..d], &old, &mut floored);
            for i in 0..n {
                let dd: f64 = x[i * d..(i + 1) * d].iter().zip(&centers[..d]).map(|(a, b)| (a - b) * (a - b)).sum();
                assert_eq!(floored[i].to_bits(), dd.to_bits());
            }
        }
    }

    #[test]
    fn distance_sums_agree_with_direct_sums_and_across_variants() {
        let (n, d) = (45, 4);
        let x = random(n, d, 4);
        let rows = random(6, d, 5);
        let p = Packed::new(&x, d);
        let mut results = Vec::new();
        for isa in Isa::available() {
            let mut totals = vec![0.0; 6];
            distance_sums(isa, &rows, d, &p.data, n, &mut totals);
            for (r, total) in totals.iter().enumerate() {
                let direct: f64 = (0..n)
                    .map(|i| {
                        x[i * d..(i + 1) * d]
                            .iter()
                            .zip(&rows[r * d..(r + 1) * d])
                            .map(|(a, b)| (a - b) * (a - b))
                            .sum::<f64>()
                            .sqrt()
                    })
                    .sum();
                assert!((total - direct).abs() <= 1e-12 * direct, "{isa:?}: {total} vs {direct}");
            }
            results.push(totals.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        }
        assert!(results.windows(2).all(|w| w[0] == w[1]), "variants differ");
    }

    #[test]
    fn pair_sums_give_both_sides_the_direct_sums_and_agree_across_variants() {
        let (n, d, m) = (45, 4, 7);
        let x = random(n, d, 6);
        let rows = random(m, d, 7);
        let p = Packed::new(&x, d);
        let dist = |i: usize, r: usize| {
            x[i * d..(i + 1) * d]
                .iter()
                .zip(&rows[r * d..(r + 1) * d])
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                .sqrt()
        };
        let mut results = Vec::new();
        for isa in Isa::available() {
            let mut row_totals = vec![0.0; m];
            let mut column_totals = vec![0.0; n.div_ceil(LANES) * LANES];
            pair_sums(isa, &rows, d, &p.data, n, &mut row_totals, &mut column_totals);
            let mut same_as_one_sided = vec![0.0; m];
            distance_sums(isa, &rows, d, &p.data, n, &mut same_as_one_sided);
            assert_eq!(row_totals, same_as_one_sided, "{isa:?}: the row side is distance_sums' arithmetic");
            for (i, total) in column_totals.iter().take(n).enumerate() {
                let direct: f64 = (0..m).map(|r| dist(i, r)).sum();
                assert!((total - direct).abs() <= 1e-12 * direct, "{isa:?} column {i}");
            }
            assert!(column_totals[n..].iter().all(|&v| v == 0.0), "padding lanes are left alone");
            results.push((row_totals, column_totals));
        }
        assert!(results.windows(2).all(|w| w[0] == w[1]), "variants differ");
    }
}
