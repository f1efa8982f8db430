//! The numerical tools the value models need: log-space sums, adaptive quadrature, a derivative-free
//! minimiser and a finite-difference Hessian. Small and local so every figure can be traced.

/// Items a parallel sum adds up serially before the partial sums are added in order.
pub const SUM_CHUNK: usize = 512;

/// The sum of `f` over `items`, in parallel but always in the same order: fixed chunks of
/// [`SUM_CHUNK`] summed each, then the chunks' sums in chunk order. Rayon's own `sum` splits by
/// the threads at hand, so its last bits change with the thread count; this never does.
pub fn ordered_sum<T: Sync>(items: &[T], f: impl Fn(&T) -> f64 + Sync) -> f64 {
    use rayon::prelude::*;
    let partials: Vec<f64> = items.par_chunks(SUM_CHUNK).map(|chunk| chunk.iter().map(&f).sum::<f64>()).collect();
    partials.iter().sum()
}

/// `ln(e^a + e^b)` without overflow; `-inf` terms drop out.
pub fn log_add_exp(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    hi + (lo - hi).exp().ln_1p()
}

/// `ln Γ(x)` for x > 0.
pub fn ln_gamma(x: f64) -> f64 {
    libm::lgamma(x)
}

/// `ln B(a, b)` for a, b > 0.
pub fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

// Gauss-Kronrod 7/15 nodes and weights on [-1, 1] (QUADPACK's qk15).
const XGK: [f64; 8] = [
    0.991_455_371_120_812_6,
    0.949_107_912_342_758_5,
    0.864_864_423_359_769_1,
    0.741_531_185_599_394_4,
    0.586_087_235_467_691_1,
    0.405_845_151_377_397_2,
    0.207_784_955_007_898_5,
    0.0,
];
const WGK: [f64; 8] = [
    0.022_935_322_010_529_22,
    0.063_092_092_629_978_55,
    0.104_790_010_322_250_2,
    0.140_653_259_715_525_9,
    0.169_004_726_639_267_9,
    0.190_350_578_064_785_4,
    0.204_432_940_075_298_9,
    0.209_482_141_084_728,
];
const WG: [f64; 4] =
    [0.129_484_966_168_869_7, 0.279_705_391_489_276_7, 0.381_830_050_505_118_9, 0.417_959_183_673_469_4];

fn gk15(f: &impl Fn(f64) -> f64, a: f64, b: f64) -> (f64, f64) {
    let centre = 0.5 * (a + b);
    let half = 0.5 * (b - a);
    let fc = f(centre);
    let mut kronrod = fc * WGK[7];
    let mut gauss = fc * WG[3];
    for j in 0..7 {
        let dx = half * XGK[j];
        let pair = f(centre - dx) + f(centre + dx);
        kronrod += WGK[j] * pair;
        if j % 2 == 1 {
            gauss += WG[j / 2] * pair;
        }
    }
    (kronrod * half, ((kronrod - gauss) * half).abs())
}

/// The integral of `f` over `[a, b]` by adaptive Gauss-Kronrod 7/15 to a relative tolerance. The
/// integrands here are non-negative, so the relative test is meaningful; the number of intervals is
/// bounded, and what is reached then is returned (integrable endpoint singularities converge
/// long before that).
pub fn integrate(f: impl Fn(f64) -> f64, a: f64, b: f64, rel_tol: f64) -> f64 {
    if b <= a {
        return 0.0;
    }
    let first = gk15(&f, a, b);
    let (mut total, mut error) = first;
    let mut intervals = vec![(a, b, first)];
    for _ in 0..200 {
        if error <= rel_tol * total.abs() || error < 1e-300 {
            break;
        }
        let worst =
            intervals.iter().enumerate().max_by(|x, y| x.1.2.1.total_cmp(&y.1.2.1)).map(|(i, _)| i).unwrap_or(0);
        let (lo, hi, (value, err)) = intervals.swap_remove(worst);
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            intervals.push((lo, hi, (value, err)));
            break;
        }
        let (left, right) = (gk15(&f, lo, mid), gk15(&f, mid, hi));
        total += left.0 + right.0 - value;
        error += left.1 + right.1 - err;
        intervals.push((lo, mid, left));
        intervals.push((mid, hi, right));
    }
    intervals.iter().map(|(_, _, (v, _))| v).sum()
}

// Gauss-Legendre 8-point nodes and weights on [-1, 1] (positive half).
const XGL8: [f64; 4] =
    [0.183_434_642_495_649_8, 0.525_532_409_916_329, 0.796_666_477_413_626_7, 0.960_289_856_497_536_3];
const WGL8: [f64; 4] =
    [0.362_683_783_378_362, 0.313_706_645_877_887_3, 0.222_381_034_453_374_5, 0.101_228_536_290_376_3];

/// The integral of a smooth `f` over `[a, b]` by 8-point Gauss-Legendre: exact to rounding for the
/// nearly constant integrands it is used on.
pub fn gauss_legendre_8(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    let (centre, half) = (0.5 * (a + b), 0.5 * (b - a));
    XGL8.iter().zip(&WGL8).map(|(x, w)| w * (f(centre - half * x) + f(centre + half * x))).sum::<f64>() * half
}

/// The expectation of `g(p)` under a Beta(a, b) distribution, by quadrature that absorbs the
/// density's endpoint singularities: `p = u^(1/a)` on [0, 1/2] and `1 - p = v^(1/b)` on [1/2, 1].
pub fn beta_expectation(g: impl Fn(f64) -> f64, a: f64, b: f64, rel_tol: f64) -> f64 {
    let ln_b = ln_beta(a, b);
    // Lower half: p^(a-1) dp = du / a, with u in [0, 2^-a].
    let lower = integrate(
        |u| {
            if u <= 0.0 {
                return g(0.0) * (-ln_b).exp() / a;
            }
            let p = u.powf(1.0 / a);
            g(p) * ((b - 1.0) * (-p).ln_1p() - ln_b).exp() / a
        },
        0.0,
        0.5f64.powf(a),
        rel_tol,
    );
    // Upper half: (1-p)^(b-1) dp = dv / b, with v in [0, 2^-b].
    let upper = integrate(
        |v| {
            let q = if v <= 0.0 { 0.0 } else { v.powf(1.0 / b) };
            let p = 1.0 - q;
            g(p) * ((a - 1.0) * (-q).ln_1p() - ln_b).exp() / b
        },
        0.0,
        0.5f64.powf(b),
        rel_tol,
    );
    lower + upper
}

/// What a minimisation reached.
#[derive(Clone, Debug)]
pub struct Minimum {
    /// The best point found.
    pub point: Vec<f64>,
    /// The objective there.
    pub value: f64,
    /// Objective evaluations used.
    pub n_evaluations: usize,
    /// Whether the simplex shrank below the tolerance before the evaluation budget ran out.
    pub converged: bool,
}

/// Quasi-Newton (BFGS) minimisation with central-difference gradients and a backtracking line
/// search: on the smooth log-likelihoods here it converges in a few dozen iterations, where a
/// simplex needs thousands of evaluations. `converged` when the gradient vanished (relative to the
/// objective's scale) or steps stopped changing anything.
pub fn bfgs(f: &impl Fn(&[f64]) -> f64, start: &[f64], max_evaluations: usize) -> Minimum {
    let n = start.len();
    let eval = |x: &[f64]| {
        let v = f(x);
        if v.is_finite() { v } else { f64::INFINITY }
    };
    let mut evaluations = 0usize;
    let grad_at = |x: &[f64], evaluations: &mut usize| -> Vec<f64> {
        *evaluations += 2 * n;
        gradient(&eval, x)
    };
    let mut x = start.to_vec();
    let mut fx = eval(&x);
    evaluations += 1;
    if !fx.is_finite() {
        return Minimum { point: x, value: fx, n_evaluations: evaluations, converged: false };
    }
    let mut g = grad_at(&x, &mut evaluations);
    let mut h: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect()).collect();
    let mut first = true;
    let mut converged = false;
    let scale = |v: f64| v.abs().max(1.0);
    while evaluations < max_evaluations {
        let g_norm = g.iter().map(|v| v.abs()).fold(0.0, f64::max);
        if g_norm < 1e-7 * scale(fx) {
            converged = true;
            break;
        }
        let mut d: Vec<f64> = (0..n).map(|i| -(0..n).map(|j| h[i][j] * g[j]).sum::<f64>()).collect();
        let mut slope: f64 = d.iter().zip(&g).map(|(a, b)| a * b).sum();
        if slope.is_nan() || slope >= 0.0 {
            h = (0..n).map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect()).collect();
            d = g.iter().map(|v| -v).collect();
            slope = d.iter().zip(&g).map(|(a, b)| a * b).sum();
        }
        // No step longer than 2 on the log scale (a factor of e^2 in a parameter) at once.
        let longest = d.iter().map(|v| v.abs()).fold(0.0, f64::max);
        let mut step = if longest > 2.0 { 2.0 / longest } else { 1.0 };
        let mut accepted = None;
        for _ in 0..50 {
            let trial: Vec<f64> = x.iter().zip(&d).map(|(a, b)| a + step * b).collect();
            let ft = eval(&trial);
            evaluations += 1;
            if ft <= fx + 1e-4 * step * slope {
                accepted = Some((trial, ft));
                break;
            }
            step *= 0.5;
        }
        let Some((next, f_next)) = accepted else {
            // No decrease along a descent direction: at the minimum to rounding.
            converged = g_norm < 1e-4 * scale(fx);
            break;
        };
        let g_next = grad_at(&next, &mut evaluations);
        let s_vec: Vec<f64> = next.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y_vec: Vec<f64> = g_next.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy: f64 = s_vec.iter().zip(&y_vec).map(|(a, b)| a * b).sum();
        let small_change = (fx - f_next).abs() <= 1e-15 * scale(fx) && s_vec.iter().all(|v| v.abs() < 1e-10);
        x = next;
        fx = f_next;
        g = g_next;
        if small_change {
            converged = true;
            break;
        }
        if sy > 1e-12 {
            if first {
                let yy: f64 = y_vec.iter().map(|v| v * v).sum();
                let gamma = sy / yy;
                for (i, row) in h.iter_mut().enumerate() {
                    for (j, v) in row.iter_mut().enumerate() {
                        *v = if i == j { gamma } else { 0.0 };
                    }
                }
                first = false;
            }
            let rho = 1.0 / sy;
            let hy: Vec<f64> = (0..n).map(|i| (0..n).map(|j| h[i][j] * y_vec[j]).sum()).collect();
            let yhy: f64 = y_vec.iter().zip(&hy).map(|(a, b)| a * b).sum();
            for i in 0..n {
                for j in 0..n {
                    h[i][j] +=
                        (1.0 + rho * yhy) * rho * s_vec[i] * s_vec[j] - rho * (hy[i] * s_vec[j] + s_vec[i] * hy[j]);
                }
            }
        }
    }
    Minimum { point: x, value: fx, n_evaluations: evaluations, converged }
}

/// Nelder-Mead minimisation (adaptive coefficients of Gao and Han 2012), restarted from its own
/// optimum until a restart no longer improves it: robust on the likelihood surfaces here, which
/// are smooth but badly scaled, and needs no derivatives. Non-finite objective values count as +inf.
pub fn minimise(f: &impl Fn(&[f64]) -> f64, start: &[f64], max_evaluations: usize) -> Minimum {
    let mut best = nelder_mead(f, start, 0.5, max_evaluations);
    let mut used = best.n_evaluations;
    for _ in 0..6 {
        if used >= max_evaluations {
            break;
        }
        let again = nelder_mead(f, &best.point, 0.05, max_evaluations - used);
        used += again.n_evaluations;
        let improved = again.value < best.value - 1e-10 * best.value.abs().max(1.0);
        if again.value <= best.value {
            best = Minimum { n_evaluations: used, ..again };
        }
        if !improved {
            break;
        }
    }
    best.n_evaluations = used;
    best
}

/// One Nelder-Mead search from a small simplex around `start`: confirms (or improves) an optimum
/// another method found.
pub fn refine(f: &impl Fn(&[f64]) -> f64, start: &[f64], max_evaluations: usize) -> Minimum {
    nelder_mead(f, start, 0.02, max_evaluations)
}

fn nelder_mead(f: &impl Fn(&[f64]) -> f64, start: &[f64], step: f64, max_evaluations: usize) -> Minimum {
    let n = start.len();
    let dim = n as f64;
    let (alpha, gamma, rho, sigma) = (1.0, 1.0 + 2.0 / dim, 0.75 - 1.0 / (2.0 * dim), 1.0 - 1.0 / dim);
    let eval = |x: &[f64]| {
        let v = f(x);
        if v.is_finite() { v } else { f64::INFINITY }
    };
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n + 1);
    simplex.push((start.to_vec(), eval(start)));
    for i in 0..n {
        let mut x = start.to_vec();
        x[i] += step;
        let v = eval(&x);
        simplex.push((x, v));
    }
    let mut evaluations = n + 1;
    let mut converged = false;
    while evaluations < max_evaluations {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let spread_x = simplex[1..]
            .iter()
            .flat_map(|(x, _)| x.iter().zip(&simplex[0].0).map(|(a, b)| (a - b).abs()))
            .fold(0.0, f64::max);
        let spread_f = (simplex[n].1 - simplex[0].1).abs();
        if spread_x < 1e-9 && spread_f < 1e-10 * simplex[0].1.abs().max(1.0) {
            converged = true;
            break;
        }
        let centroid: Vec<f64> = (0..n).map(|j| simplex[..n].iter().map(|(x, _)| x[j]).sum::<f64>() / dim).collect();
        let along = |t: f64| -> Vec<f64> { centroid.iter().zip(&simplex[n].0).map(|(c, w)| c + t * (c - w)).collect() };
        let reflected = along(alpha);
        let fr = eval(&reflected);
        evaluations += 1;
        if fr < simplex[0].1 {
            let expanded = along(alpha * gamma);
            let fe = eval(&expanded);
            evaluations += 1;
            simplex[n] = if fe < fr { (expanded, fe) } else { (reflected, fr) };
        } else if fr < simplex[n - 1].1 {
            simplex[n] = (reflected, fr);
        } else {
            let (contracted, fc) = if fr < simplex[n].1 {
                let c = along(alpha * rho);
                let v = eval(&c);
                (c, v)
            } else {
                let c = along(-rho);
                let v = eval(&c);
                (c, v)
            };
            evaluations += 1;
            if fc < fr.min(simplex[n].1) {
                simplex[n] = (contracted, fc);
            } else {
                let best = simplex[0].0.clone();
                for (x, v) in simplex.iter_mut().skip(1) {
                    for (xi, bi) in x.iter_mut().zip(&best) {
                        *xi = bi + sigma * (*xi - bi);
                    }
                    *v = eval(x);
                }
                evaluations += n;
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (point, value) = simplex.swap_remove(0);
    Minimum { point, value, n_evaluations: evaluations, converged }
}

/// The Hessian of `f` at `x` by central differences with a step scaled to each coordinate.
pub fn hessian(f: &impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<Vec<f64>> {
    let n = x.len();
    let h: Vec<f64> = x.iter().map(|v| 1e-4 * v.abs().max(1.0)).collect();
    let at = |shifts: &[(usize, f64)]| {
        let mut y = x.to_vec();
        for &(i, d) in shifts {
            y[i] += d;
        }
        f(&y)
    };
    let f0 = f(x);
    let mut out = vec![vec![0.0; n]; n];
    for i in 0..n {
        out[i][i] = (at(&[(i, h[i])]) - 2.0 * f0 + at(&[(i, -h[i])])) / (h[i] * h[i]);
        for j in 0..i {
            let v = (at(&[(i, h[i]), (j, h[j])]) - at(&[(i, h[i]), (j, -h[j])]) - at(&[(i, -h[i]), (j, h[j])])
                + at(&[(i, -h[i]), (j, -h[j])]))
                / (4.0 * h[i] * h[j]);
            out[i][j] = v;
            out[j][i] = v;
        }
    }
    out
}

/// The gradient of `f` at `x` by central differences.
pub fn gradient(f: &impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let h = 1e-6 * x[i].abs().max(1.0);
            let mut up = x.to_vec();
            let mut down = x.to_vec();
            up[i] += h;
            down[i] -= h;
            (f(&up) - f(&down)) / (2.0 * h)
        })
        .collect()
}

// Small dense linear algebra reads clearest with indices, as in the textbooks it follows.
#[allow(clippy::needless_range_loop)]
/// The inverse of a symmetric positive-definite matrix by Cholesky, or `None` when it is not
/// positive definite (a flat or saddle likelihood: no standard errors can be given).
pub fn spd_inverse(m: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let l = cholesky(m)?;
    let n = m.len();
    let mut inverse = vec![vec![0.0; n]; n];
    for col in 0..n {
        // Solve L y = e_col, then L^T x = y.
        let mut y = vec![0.0; n];
        for i in 0..n {
            let mut s = if i == col { 1.0 } else { 0.0 };
            for k in 0..i {
                s -= l[i][k] * y[k];
            }
            y[i] = s / l[i][i];
        }
        let mut x = vec![0.0; n];
        for i in (0..n).rev() {
            let mut s = y[i];
            for k in i + 1..n {
                s -= l[k][i] * x[k];
            }
            x[i] = s / l[i][i];
        }
        for i in 0..n {
            inverse[i][col] = x[i];
        }
    }
    Some(inverse)
}

#[allow(clippy::needless_range_loop)]
/// The lower Cholesky factor of a symmetric positive-definite matrix, or `None`.
pub fn cholesky(m: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = m.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = m[i][j];
            for k in 0..j {
                s -= l[i][k] * l[j][k];
            }
            if i == j {
                if s.is_nan() || s <= 0.0 || !s.is_finite() {
                    return None;
                }
                l[i][i] = s.sqrt();
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    Some(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadrature_matches_closed_forms() {
        let v = integrate(|x| x.sin(), 0.0, std::f64::consts::PI, 1e-12);
        assert!((v - 2.0).abs() < 1e-12, "{v}");
        // E[p] under Beta(0.3, 2.5) = 0.3 / 2.8, with both endpoint singular/steep.
        let m = beta_expectation(|p| p, 0.3, 2.5, 1e-12);
        assert!((m - 0.3 / 2.8).abs() < 1e-10, "{m}");
        // The density integrates to one even when both ends are singular.
        let one = beta_expectation(|_| 1.0, 0.4, 0.6, 1e-12);
        assert!((one - 1.0).abs() < 1e-10, "{one}");
        // A concentrated Beta (b + x large) is found.
        let m = beta_expectation(|p| p, 0.8, 302.4, 1e-12);
        assert!((m - 0.8 / 303.2).abs() < 1e-12, "{m}");
    }

    #[test]
    fn gauss_legendre_is_exact_for_polynomials_of_degree_fifteen() {
        let v = gauss_legendre_8(|x| x.powi(15) + x.powi(4), 0.0, 2.0);
        assert!((v - (2f64.powi(16) / 16.0 + 2f64.powi(5) / 5.0)).abs() < 1e-9, "{v}");
    }

    #[test]
    fn minimiser_finds_a_badly_scaled_minimum() {
        let rosen = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let m = minimise(&rosen, &[-1.2, 1.0], 20_000);
        assert!(m.converged);
        let q = bfgs(&rosen, &[-1.2, 1.0], 20_000);
        assert!(q.converged && q.n_evaluations < m.n_evaluations, "{} vs {}", q.n_evaluations, m.n_evaluations);
        assert!((q.point[0] - 1.0).abs() < 1e-5 && (q.point[1] - 1.0).abs() < 1e-5, "{:?}", q.point);
        assert!((m.point[0] - 1.0).abs() < 1e-4 && (m.point[1] - 1.0).abs() < 1e-4, "{:?}", m.point);
        let h = hessian(&rosen, &[1.0, 1.0]);
        assert!((h[0][0] - 802.0).abs() < 1e-2 && (h[0][1] + 400.0).abs() < 1e-2, "{h:?}");
        let inv = spd_inverse(&h).unwrap();
        assert!((inv[0][0] - 0.5).abs() < 1e-4, "{inv:?}");
        assert!(spd_inverse(&[vec![1.0, 2.0], vec![2.0, 1.0]]).is_none());
        assert_eq!(log_add_exp(f64::NEG_INFINITY, 3.0), 3.0);
        assert!((log_add_exp(1000.0, 1000.0) - (1000.0 + 2f64.ln())).abs() < 1e-12);
    }
}
