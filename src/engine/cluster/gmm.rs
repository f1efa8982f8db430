//! Gaussian mixture models fitted by expectation-maximisation, as scikit-learn's `GaussianMixture`:
//! responsibilities initialised from one k-means run, `reg_covar` added to every variance, stopped
//! when the mean log-likelihood per customer changes by less than the tolerance or at the iteration
//! cap. Every customer gets a probability per segment; BIC and AIC say how many components the data
//! support.
//!
//! Rows are processed in fixed-size chunks, transposed so that the per-component work runs along
//! rows (vectorised), and the chunks' partial sums are reduced in chunk order: the same data and seed
//! give bit-identical results on any number of threads.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::kmeans::{self, KMeansKernel, KMeansParams};
use super::{bounds, canonical_order, check_k, check_new_data, segment_sizes, validate_matrix};
use crate::engine::cluster::describe::{Kind, MethodInfo, Setting, params_with_k};
use crate::engine::error::ClusterError;
use crate::engine::jobs::CancelToken;
use crate::engine::rng::SeededRng;

/// Rows per chunk: fixed, so the reduction order never depends on the thread count.
const CHUNK_ROWS: usize = 1024;

/// The shape each component's covariance may take.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CovarianceType {
    /// Any covariance matrix (ellipsoids of any orientation).
    #[default]
    Full,
    /// A variance per feature (axis-aligned ellipsoids).
    Diagonal,
    /// One variance per component (spheres).
    Spherical,
}

impl CovarianceType {
    /// Every type, for menus.
    pub const ALL: [CovarianceType; 3] = [CovarianceType::Full, CovarianceType::Diagonal, CovarianceType::Spherical];

    /// The name used on the command line and in menus.
    pub fn name(self) -> &'static str {
        match self {
            CovarianceType::Full => "full",
            CovarianceType::Diagonal => "diag",
            CovarianceType::Spherical => "spherical",
        }
    }

    /// Free covariance parameters of one component in `d` dimensions.
    fn parameters(self, d: usize) -> usize {
        match self {
            CovarianceType::Full => d * (d + 1) / 2,
            CovarianceType::Diagonal => d,
            CovarianceType::Spherical => 1,
        }
    }
}

/// Gaussian mixture settings; every field has a default, scikit-learn's but for the initialisations:
/// ten, not one, as a single start often stops on a poor optimum (on a public table one start gave
/// an ARI of 0.51 against the planted groups, ten gave 0.95). Projects store every field, so an old
/// project re-runs with the count it was made with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GmmParams {
    /// Number of components (segments).
    pub k: usize,
    /// Covariance shape.
    pub covariance: CovarianceType,
    /// EM iterations at most per initialisation.
    pub max_iter: usize,
    /// Stop when the mean log-likelihood per customer changes by less than this.
    pub tolerance: f64,
    /// Added to every variance, so no component collapses onto a point.
    pub reg_covar: f64,
    /// Initialisations (each from its own k-means run); the highest likelihood is kept.
    pub n_init: usize,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Default for GmmParams {
    fn default() -> Self {
        Self {
            k: 4,
            covariance: CovarianceType::Full,
            max_iter: 100,
            tolerance: 1e-3,
            reg_covar: 1e-6,
            n_init: 10,
            seed: 42,
        }
    }
}

impl GmmParams {
    /// Defaults with the given k.
    pub fn new(k: usize) -> Self {
        Self { k, ..Self::default() }
    }

    /// Checks every setting against its bound in [`bounds`]; fitting calls this first.
    pub fn check(&self) -> Result<(), ClusterError> {
        bounds::count_in("k", self.k, 1, bounds::MAX_K, "components")?;
        bounds::count_in("max_iter", self.max_iter, 1, bounds::MAX_ITER, "iterations")?;
        bounds::count_in("n_init", self.n_init, 1, bounds::MAX_N_INIT, "initialisations")?;
        bounds::real_in("tolerance", self.tolerance, 0.0, false, bounds::MAX_TOLERANCE)?;
        bounds::real_in("reg_covar", self.reg_covar, 0.0, false, bounds::MAX_REG_COVAR)
    }
}

/// A fitted mixture: enough to give new customers their probabilities.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GmmModel {
    /// Covariance shape.
    pub covariance: CovarianceType,
    /// Mixing weight per component (summing to 1), in canonical segment order.
    pub weights: Vec<f64>,
    /// Mean per component.
    pub means: Vec<Vec<f64>>,
    /// Per component, the lower-triangular inverse of the covariance's Cholesky factor, row-major
    /// d x d, so that the Mahalanobis distance is |P (x - mean)|^2. Diagonal and spherical
    /// covariances are stored the same way (a diagonal P).
    pub precision_factors: Vec<Vec<f64>>,
}

/// A fitted mixture with every customer's probabilities, in canonical segment order.
#[derive(Clone, Debug, PartialEq)]
pub struct GmmFit {
    /// Most probable segment of each row.
    pub labels: Vec<usize>,
    /// Rows x k probabilities of each segment (rows sum to 1).
    pub probabilities: Array2<f32>,
    /// The model.
    pub model: GmmModel,
    /// Mean log-likelihood per row.
    pub mean_log_likelihood: f64,
    /// Bayesian information criterion (lower is better).
    pub bic: f64,
    /// Akaike information criterion (lower is better).
    pub aic: f64,
    /// EM iterations of the kept initialisation.
    pub n_iter: usize,
    /// Whether it converged before the cap.
    pub converged: bool,
}

/// Per-component constants of the E-step.
struct Components {
    k: usize,
    d: usize,
    /// k x d means.
    means: Vec<f64>,
    /// k x d x d lower-triangular precision factors.
    factors: Vec<f64>,
    /// log weight + log normalising constant per component.
    log_norm: Vec<f64>,
    /// Whether the factors are diagonal (cheaper E-step).
    diagonal: bool,
}

impl Components {
    fn new(weights: &[f64], means: Vec<f64>, factors: Vec<f64>, d: usize, diagonal: bool) -> Self {
        let k = weights.len();
        let log_norm = (0..k)
            .map(|c| {
                let f = &factors[c * d * d..(c + 1) * d * d];
                let log_det_precision: f64 = (0..d).map(|a| f[a * d + a].ln()).sum();
                weights[c].ln() - 0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln() + log_det_precision
            })
            .collect();
        Self { k, d, means, factors, log_norm, diagonal }
    }

    /// Weighted log densities of a chunk's rows (given transposed, d x m) into `out` (m x k).
    fn log_densities(&self, xt: &[f64], m: usize, out: &mut [f64], diff: &mut [f64], y: &mut [f64]) {
        let d = self.d;
        for c in 0..self.k {
            let mean = &self.means[c * d..(c + 1) * d];
            for b in 0..d {
                let (src, dst) = (&xt[b * m..(b + 1) * m], &mut diff[b * m..(b + 1) * m]);
                for (o, v) in dst.iter_mut().zip(src) {
                    *o = v - mean[b];
                }
            }
            let f = &self.factors[c * d * d..(c + 1) * d * d];
            let (row_y, maha) = y.split_at_mut(m);
            maha.fill(0.0);
            for a in 0..d {
                if self.diagonal {
                    let p = f[a * d + a];
                    for (s, v) in maha.iter_mut().zip(&diff[a * m..(a + 1) * m]) {
                        let t = p * v;
                        *s += t * t;
                    }
                } else {
                    row_y.fill(0.0);
                    for b in 0..=a {
                        let p = f[a * d + b];
                        for (o, v) in row_y.iter_mut().zip(&diff[b * m..(b + 1) * m]) {
                            *o += p * v;
                        }
                    }
                    for (s, t) in maha.iter_mut().zip(row_y.iter()) {
                        *s += t * t;
                    }
                }
            }
            for (i, s) in maha.iter().enumerate() {
                out[i * self.k + c] = self.log_norm[c] - 0.5 * s;
            }
        }
    }
}

/// What one chunk's E-step adds up: log-likelihood, responsibility mass and weighted sums per
/// component.
struct EPartial {
    log_likelihood: f64,
    mass: Vec<f64>,
    sums: Vec<f64>,
}

/// Transposes rows `start..start + m` of row-major `x` into `xt` (d x m).
fn transpose_chunk(x: &[f64], d: usize, start: usize, m: usize, xt: &mut [f64]) {
    for i in 0..m {
        let row = &x[(start + i) * d..(start + i + 1) * d];
        for (b, v) in row.iter().enumerate() {
            xt[b * m + i] = *v;
        }
    }
}

/// E-step: responsibilities of every row into `resp` (n x k), with the sums the M-step needs.
fn e_step(x: &[f64], n: usize, comps: &Components, resp: &mut [f64]) -> EPartial {
    let (k, d) = (comps.k, comps.d);
    let partials: Vec<EPartial> = resp
        .par_chunks_mut(CHUNK_ROWS * k)
        .enumerate()
        .map(|(chunk, out)| {
            let start = chunk * CHUNK_ROWS;
            let m = (n - start).min(CHUNK_ROWS);
            let mut xt = vec![0.0; d * m];
            let mut diff = vec![0.0; d * m];
            let mut y = vec![0.0; 2 * m];
            transpose_chunk(x, d, start, m, &mut xt);
            comps.log_densities(&xt, m, out, &mut diff, &mut y);
            let mut partial = EPartial { log_likelihood: 0.0, mass: vec![0.0; k], sums: vec![0.0; k * d] };
            for (i, lp) in out.chunks_exact_mut(k).enumerate() {
                let max = lp.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let total: f64 = lp.iter().map(|v| (v - max).exp()).sum();
                let lse = max + total.ln();
                partial.log_likelihood += lse;
                let row = &x[(start + i) * d..(start + i + 1) * d];
                for (c, v) in lp.iter_mut().enumerate() {
                    let r = (*v - lse).exp();
                    *v = r;
                    partial.mass[c] += r;
                    for (s, xv) in partial.sums[c * d..(c + 1) * d].iter_mut().zip(row) {
                        *s += r * xv;
                    }
                }
            }
            partial
        })
        .collect();
    let mut total = EPartial { log_likelihood: 0.0, mass: vec![0.0; k], sums: vec![0.0; k * d] };
    for p in partials {
        total.log_likelihood += p.log_likelihood;
        total.mass.iter_mut().zip(&p.mass).for_each(|(a, b)| *a += b);
        total.sums.iter_mut().zip(&p.sums).for_each(|(a, b)| *a += b);
    }
    total
}

/// Dot product with four accumulators (vectorisable; fixed order for a fixed length).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// M-step: weights, means and covariances from the responsibilities; returns the components and
/// the weights.
fn m_step(
    x: &[f64],
    n: usize,
    d: usize,
    resp: &[f64],
    e: &EPartial,
    params: &GmmParams,
) -> Result<(Components, Vec<f64>), ClusterError> {
    let k = e.mass.len();
    let eps = 10.0 * f64::EPSILON;
    let mass: Vec<f64> = e.mass.iter().map(|m| m + eps).collect();
    let weights: Vec<f64> = mass.iter().map(|m| m / n as f64).collect();
    let mut means = vec![0.0; k * d];
    for c in 0..k {
        for j in 0..d {
            means[c * d + j] = e.sums[c * d + j] / mass[c];
        }
    }
    let full = params.covariance == CovarianceType::Full;
    // Weighted scatter per component: the lower triangle (full) or the diagonal.
    let width = if full { d * d } else { d };
    let partials: Vec<Vec<f64>> = resp
        .par_chunks(CHUNK_ROWS * k)
        .enumerate()
        .map(|(chunk, r)| {
            let start = chunk * CHUNK_ROWS;
            let m = (n - start).min(CHUNK_ROWS);
            let mut xt = vec![0.0; d * m];
            transpose_chunk(x, d, start, m, &mut xt);
            let mut diff = vec![0.0; d * m];
            let mut weighted = vec![0.0; m];
            let mut acc = vec![0.0; k * width];
            for c in 0..k {
                let mean = &means[c * d..(c + 1) * d];
                for b in 0..d {
                    for i in 0..m {
                        diff[b * m + i] = xt[b * m + i] - mean[b];
                    }
                }
                for a in 0..d {
                    let da = &diff[a * m..(a + 1) * m];
                    for (i, w) in weighted.iter_mut().enumerate() {
                        *w = r[i * k + c] * da[i];
                    }
                    if full {
                        for b in 0..=a {
                            acc[c * width + a * d + b] = dot(&weighted, &diff[b * m..(b + 1) * m]);
                        }
                    } else {
                        acc[c * width + a] = dot(&weighted, da);
                    }
                }
            }
            acc
        })
        .collect();
    let mut scatter = vec![0.0; k * width];
    for p in partials {
        scatter.iter_mut().zip(&p).for_each(|(a, b)| *a += b);
    }
    let mut factors = vec![0.0; k * d * d];
    for c in 0..k {
        let s = &scatter[c * width..(c + 1) * width];
        let f = &mut factors[c * d * d..(c + 1) * d * d];
        match params.covariance {
            CovarianceType::Full => {
                let mut cov = vec![0.0; d * d];
                for a in 0..d {
                    for b in 0..=a {
                        let v = s[a * d + b] / mass[c];
                        cov[a * d + b] = v;
                        cov[b * d + a] = v;
                    }
                    cov[a * d + a] += params.reg_covar;
                }
                let l = cholesky(&cov, d).ok_or_else(|| ill_defined(c))?;
                invert_lower(&l, d, f);
            }
            CovarianceType::Diagonal | CovarianceType::Spherical => {
                let variances: Vec<f64> = (0..d).map(|a| s[a] / mass[c] + params.reg_covar).collect();
                let spherical = variances.iter().sum::<f64>() / d as f64;
                for a in 0..d {
                    let v = if params.covariance == CovarianceType::Spherical { spherical } else { variances[a] };
                    if !(v > 0.0 && v.is_finite()) {
                        return Err(ill_defined(c));
                    }
                    f[a * d + a] = 1.0 / v.sqrt();
                }
            }
        }
    }
    let diagonal = params.covariance != CovarianceType::Full;
    Ok((Components::new(&weights, means, factors, d, diagonal), weights))
}

fn ill_defined(component: usize) -> ClusterError {
    ClusterError::Failed(format!(
        "component {} has an ill-defined covariance (too few distinct customers in it); choose fewer \
         segments, a larger regularisation, or the diagonal or spherical covariance",
        component + 1
    ))
}

/// Lower Cholesky factor of a symmetric d x d matrix, or None when it is not positive definite.
fn cholesky(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let s: f64 = (0..j).map(|p| l[i * d + p] * l[j * d + p]).sum();
            if i == j {
                let v = a[i * d + i] - s;
                if !(v > 0.0 && v.is_finite()) {
                    return None;
                }
                l[i * d + i] = v.sqrt();
            } else {
                l[i * d + j] = (a[i * d + j] - s) / l[j * d + j];
            }
        }
    }
    Some(l)
}

/// The inverse of a lower-triangular matrix (also lower-triangular) into `out`.
fn invert_lower(l: &[f64], d: usize, out: &mut [f64]) {
    out.fill(0.0);
    for col in 0..d {
        out[col * d + col] = 1.0 / l[col * d + col];
        for i in col + 1..d {
            let s: f64 = (col..i).map(|p| l[i * d + p] * out[p * d + col]).sum();
            out[i * d + col] = -s / l[i * d + i];
        }
    }
}

/// One EM run from one k-means initialisation.
struct Run {
    comps: Components,
    weights: Vec<f64>,
    lower_bound: f64,
    n_iter: usize,
    converged: bool,
}

fn em_run(
    x: &[f64],
    view: ArrayView2<f64>,
    params: &GmmParams,
    init: usize,
    cancel: &CancelToken,
) -> Result<Run, ClusterError> {
    let (n, d) = view.dim();
    let k = params.k;
    // scikit-learn's init_params="kmeans": one k-means run, hard responsibilities.
    let seed = SeededRng::derived(params.seed, init as u64).next_u64();
    // Lloyd's kernel: this method records no k-means kernel, and its fits must reproduce.
    let start = kmeans::fit(view, &KMeansParams::new(k).n_init(1).seed(seed).kernel(KMeansKernel::Lloyd), cancel)?;
    let mut resp = vec![0.0; n * k];
    let mut hard = EPartial { log_likelihood: 0.0, mass: vec![0.0; k], sums: vec![0.0; k * d] };
    for (i, &label) in start.labels.iter().enumerate() {
        resp[i * k + label] = 1.0;
        hard.mass[label] += 1.0;
        for j in 0..d {
            hard.sums[label * d + j] += x[i * d + j];
        }
    }
    let (mut comps, mut weights) = m_step(x, n, d, &resp, &hard, params)?;
    let mut lower_bound = f64::NEG_INFINITY;
    let mut converged = false;
    let mut n_iter = 0;
    for iteration in 1..=params.max_iter {
        if cancel.is_cancelled() {
            return Err(ClusterError::Cancelled);
        }
        // This initialisation's share of the fit, by iterations (most stop well before the limit).
        let n_init = params.n_init.max(1) as f64;
        cancel.step_done((init as f64 + iteration as f64 / params.max_iter.max(1) as f64) / n_init);
        n_iter = iteration;
        let previous = lower_bound;
        let e = e_step(x, n, &comps, &mut resp);
        lower_bound = e.log_likelihood / n as f64;
        (comps, weights) = m_step(x, n, d, &resp, &e, params)?;
        if (lower_bound - previous).abs() < params.tolerance {
            converged = true;
            break;
        }
    }
    if !lower_bound.is_finite() {
        return Err(ClusterError::Failed("the likelihood is not finite; the features may need scaling".into()));
    }
    Ok(Run { comps, weights, lower_bound, n_iter, converged })
}

/// Fits a Gaussian mixture; the same data and seed give the same result on any number of threads.
pub fn fit_gmm(x: ArrayView2<f64>, params: &GmmParams, cancel: &CancelToken) -> Result<GmmFit, ClusterError> {
    params.check()?;
    validate_matrix(x)?;
    check_k(x, params.k)?;
    let (n, d) = x.dim();
    let k = params.k;
    // The covariance factors (k × d × d) and the responsibilities (customers × k), before allocating.
    bounds::product_within("k × features × features", &[k, d, d], bounds::MAX_MODEL_VALUES, "covariance values")?;
    bounds::product_within("customers × k", &[n, k], bounds::MAX_MODEL_VALUES, "probabilities")?;
    let standard = x.as_standard_layout();
    let flat: &[f64] = standard.as_slice().unwrap_or_default();
    let mut best: Option<Run> = None;
    for init in 0..params.n_init {
        let run = em_run(flat, x, params, init, cancel)?;
        cancel.step_done((init + 1) as f64 / params.n_init as f64);
        if best.as_ref().is_none_or(|b| run.lower_bound > b.lower_bound) {
            best = Some(run);
        }
    }
    let best = best.ok_or(ClusterError::InvalidParameter { name: "n_init", problem: "must be at least 1".into() })?;
    // A last E-step, so labels and probabilities come from the final parameters (as scikit-learn's
    // fit_predict); its likelihood is the one BIC and AIC use.
    let mut resp = vec![0.0; n * k];
    let e = e_step(flat, n, &best.comps, &mut resp);
    let mean_log_likelihood = e.log_likelihood / n as f64;
    let raw_labels: Vec<usize> = resp
        .chunks_exact(k)
        .map(|r| r.iter().enumerate().fold((0, f64::NEG_INFINITY), |b, (c, &v)| if v > b.1 { (c, v) } else { b }).0)
        .collect();
    // Canonical numbering: by hard size, ties by mean.
    let raw_sizes = segment_sizes(&raw_labels, k);
    let raw_means =
        Array2::from_shape_vec((k, d), best.comps.means.clone()).map_err(|e| ClusterError::Failed(e.to_string()))?;
    let old_to_new = canonical_order(&raw_sizes, raw_means.view());
    let mut new_to_old = vec![0; k];
    for (old, &new) in old_to_new.iter().enumerate() {
        new_to_old[new] = old;
    }
    let labels: Vec<usize> = raw_labels.iter().map(|&l| old_to_new[l]).collect();
    let mut probabilities = Array2::<f32>::zeros((n, k));
    for (i, mut row) in probabilities.rows_mut().into_iter().enumerate() {
        for (new, &old) in new_to_old.iter().enumerate() {
            row[new] = resp[i * k + old] as f32;
        }
    }
    let model = GmmModel {
        covariance: params.covariance,
        weights: new_to_old.iter().map(|&o| best.weights[o]).collect(),
        means: new_to_old.iter().map(|&o| best.comps.means[o * d..(o + 1) * d].to_vec()).collect(),
        precision_factors: new_to_old
            .iter()
            .map(|&o| best.comps.factors[o * d * d..(o + 1) * d * d].to_vec())
            .collect(),
    };
    let n_parameters = (k * params.covariance.parameters(d) + k * d + k - 1) as f64;
    let total = mean_log_likelihood * n as f64;
    Ok(GmmFit {
        labels,
        probabilities,
        model,
        mean_log_likelihood,
        bic: -2.0 * total + n_parameters * (n as f64).ln(),
        aic: -2.0 * total + 2.0 * n_parameters,
        n_iter: best.n_iter,
        converged: best.converged,
    })
}

impl GmmModel {
    fn components(&self) -> Components {
        let d = self.means.first().map_or(0, Vec::len);
        Components::new(
            &self.weights,
            self.means.concat(),
            self.precision_factors.concat(),
            d,
            self.covariance != CovarianceType::Full,
        )
    }

    /// Probability of each segment for each row of `x` (new customers in the fitted feature space).
    pub fn predict_proba(&self, x: ArrayView2<f64>) -> Result<Array2<f64>, ClusterError> {
        let d = self.means.first().map_or(0, Vec::len);
        check_new_data(x, d)?;
        let standard = x.as_standard_layout();
        let flat: &[f64] = standard.as_slice().unwrap_or_default();
        let k = self.weights.len();
        let mut resp = vec![0.0; x.nrows() * k];
        e_step(flat, x.nrows(), &self.components(), &mut resp);
        Array2::from_shape_vec((x.nrows(), k), resp).map_err(|e| ClusterError::Failed(e.to_string()))
    }

    /// The most probable segment of each row of `x`.
    pub fn predict(&self, x: ArrayView2<f64>) -> Result<Vec<usize>, ClusterError> {
        let p = self.predict_proba(x)?;
        Ok(p.rows()
            .into_iter()
            .map(|r| r.iter().enumerate().fold((0, f64::NEG_INFINITY), |b, (c, &v)| if v > b.1 { (c, v) } else { b }).0)
            .collect())
    }
}

/// The Gaussian mixture, described once for the CLI, the Model screen and the project file.
pub const METHOD: MethodInfo = MethodInfo {
    name: "gmm",
    label: "Gaussian mixture",
    hint: "Soft membership: each customer's probability per segment; BIC and AIC choose k.",
    has_k: true,
    settings: &[
        Setting::new(
            "covariance",
            "Covariance",
            "full: any ellipsoid; diag: axis-aligned; spherical: spheres",
            Kind::Choice {
                field: "covariance",
                choices: &[("full", "Full"), ("diag", "Diagonal"), ("spherical", "Spherical")],
                salt: "gmm-covariance",
                absent: None,
            },
        ),
        Setting::new(
            "n-init",
            "Initialisations",
            "Each from its own k-means run; the most likely is kept",
            Kind::Count { field: "n_init", min: 1, max: 20, suffix: "", max_field: None },
        ),
        Setting::new(
            "max-iter",
            "Iteration cap",
            "Iterations per initialisation at most",
            Kind::Count { field: "max_iter", min: 1, max: 10000, suffix: "", max_field: None },
        ),
        Setting::new(
            "tolerance",
            "Tolerance",
            "Convergence: change of the mean log-likelihood",
            Kind::Number { field: "tolerance", min: 0.0, max: 1.0, speed: 1e-4, decimals: None },
        )
        .cli_only(),
        Setting::new(
            "reg-covar",
            "Variance floor",
            "Added to every variance",
            Kind::Number { field: "reg_covar", min: 0.0, max: 1.0, speed: 1e-7, decimals: None },
        )
        .cli_only(),
    ],
};

params_with_k!(GmmParams, n_init);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::metrics::agreement::Crosstab;

    /// Three planted Gaussian blobs of different shapes in 3 dimensions.
    fn blobs(n_per: usize, seed: u64) -> (Array2<f64>, Vec<usize>) {
        let mut rng = SeededRng::new(seed);
        let mut normal = || {
            let (u, v) = (rng.next_f64().max(1e-12), rng.next_f64());
            (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
        };
        let centres = [[0.0, 0.0, 0.0], [6.0, 6.0, 0.0], [0.0, 7.0, 7.0]];
        let scales = [[1.0, 0.3, 0.5], [0.4, 1.5, 0.4], [0.8, 0.8, 0.8]];
        let mut values = Vec::new();
        let mut truth = Vec::new();
        for (g, (c, s)) in centres.iter().zip(&scales).enumerate() {
            for _ in 0..n_per {
                let a = normal();
                let b = normal();
                let e = normal();
                // A correlated pair in the first group.
                values.extend([c[0] + s[0] * a, c[1] + s[1] * (b + if g == 0 { a } else { 0.0 }), c[2] + s[2] * e]);
                truth.push(g);
            }
        }
        (Array2::from_shape_vec((3 * n_per, 3), values).unwrap(), truth)
    }

    fn ari(a: &[usize], b: &[usize]) -> f64 {
        let la: Vec<String> = a.iter().map(|v| v.to_string()).collect();
        let lb: Vec<String> = b.iter().map(|v| v.to_string()).collect();
        Crosstab::of(&la, &lb).unwrap().adjusted_rand_index()
    }

    #[test]
    fn recovers_planted_components_with_every_covariance_type() {
        let (x, truth) = blobs(400, 3);
        for covariance in CovarianceType::ALL {
            let fit = fit_gmm(x.view(), &GmmParams { covariance, ..GmmParams::new(3) }, &CancelToken::new()).unwrap();
            assert!(ari(&fit.labels, &truth) > 0.98, "{covariance:?}: ARI {}", ari(&fit.labels, &truth));
            for row in fit.probabilities.rows() {
                assert!((row.sum() - 1.0).abs() < 1e-5);
            }
            assert!((fit.model.weights.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            assert_eq!(fit.model.predict(x.view()).unwrap(), fit.labels);
        }
    }

    #[test]
    fn bic_is_lowest_at_the_planted_number_of_components() {
        let (x, _) = blobs(300, 5);
        let bic: Vec<f64> =
            (1..=5).map(|k| fit_gmm(x.view(), &GmmParams::new(k), &CancelToken::new()).unwrap().bic).collect();
        let best = bic.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)).unwrap().0 + 1;
        assert_eq!(best, 3, "BIC per k: {bic:?}");
    }

    #[test]
    fn matches_the_closed_form_of_one_component() {
        // k = 1: the mean and covariance are the sample's (maximum likelihood, divided by n).
        let x = ndarray::array![[1.0, 2.0], [2.0, 1.0], [3.0, 5.0], [4.0, 3.0], [0.0, 0.0]];
        let fit = fit_gmm(x.view(), &GmmParams { reg_covar: 0.0, ..GmmParams::new(1) }, &CancelToken::new()).unwrap();
        assert!((fit.model.means[0][0] - 2.0).abs() < 1e-12 && (fit.model.means[0][1] - 2.2).abs() < 1e-12);
        // Log-likelihood of a Gaussian at its MLE: -n/2 (d ln 2 pi + ln det S + d).
        let (sxx, sxy, syy) = (2.0, 1.8, 2.96);
        let det: f64 = sxx * syy - sxy * sxy;
        let expected = -0.5 * (2.0 * (2.0 * std::f64::consts::PI).ln() + det.ln() + 2.0);
        assert!((fit.mean_log_likelihood - expected).abs() < 1e-12, "{} vs {expected}", fit.mean_log_likelihood);
    }

    #[test]
    fn identical_on_one_two_and_three_threads() {
        let (x, _) = blobs(1500, 8);
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| fit_gmm(x.view(), &GmmParams::new(4), &CancelToken::new()).unwrap())
        };
        let one = on(1);
        assert_eq!(one, on(2));
        assert_eq!(one, on(3));
    }

    #[test]
    fn each_initialisation_reports_its_share_of_the_fit() {
        let x = Array2::from_shape_fn((300, 2), |(i, j)| ((i * 7 + j * 13) % 31) as f64 + (i % 3) as f64 * 40.0);
        let token = CancelToken::new();
        let params = GmmParams { n_init: 3, ..GmmParams::new(3) };
        fit_gmm(x.view(), &params, &token).unwrap();
        assert_eq!(token.step_fraction(), 1.0);
        // Every EM iteration and every initialisation's end: never backwards, and each third of
        // the bar is reached by its own initialisation.
        let steps = token.steps_reported();
        assert!(steps.windows(2).all(|w| w[0] <= w[1]), "{steps:?}");
        for third in [1.0 / 3.0, 2.0 / 3.0] {
            assert!(steps.iter().any(|&s| (s - third).abs() < 1e-12), "{third} in {steps:?}");
            assert!(
                steps.iter().any(|&s| s > third && s < third + 1.0 / 3.0),
                "inside the next initialisation: {steps:?}"
            );
        }
        // A cancel between initialisations takes effect in the next one.
        let token = CancelToken::new();
        token.cancel_when_past(0.4);
        assert_eq!(fit_gmm(x.view(), &params, &token), Err(ClusterError::Cancelled));
        assert!(token.steps_reported().iter().all(|&s| s <= 2.0 / 3.0 + 1e-12), "the third initialisation never ran");
    }

    #[test]
    fn bad_input_is_refused_not_a_panic() {
        let x = ndarray::array![[1.0, 1.0], [1.0, 1.0], [2.0, 2.0]];
        assert!(matches!(
            fit_gmm(x.view(), &GmmParams::new(3), &CancelToken::new()),
            Err(ClusterError::KTooLarge { .. })
        ));
        let empty = Array2::<f64>::zeros((0, 2));
        assert_eq!(fit_gmm(empty.view(), &GmmParams::new(1), &CancelToken::new()), Err(ClusterError::EmptyInput));
        let nan = ndarray::array![[1.0, f64::NAN]];
        assert!(matches!(
            fit_gmm(nan.view(), &GmmParams::new(1), &CancelToken::new()),
            Err(ClusterError::NonFinite { .. })
        ));
        assert!(fit_gmm(x.view(), &GmmParams { tolerance: -1.0, ..GmmParams::new(2) }, &CancelToken::new()).is_err());
        // A constant feature with no regularisation: refused with advice, not a panic.
        let flat = ndarray::array![[1.0, 0.0], [1.0, 1.0], [1.0, 2.0], [1.0, 3.0]];
        let err =
            fit_gmm(flat.view(), &GmmParams { reg_covar: 0.0, ..GmmParams::new(2) }, &CancelToken::new()).unwrap_err();
        assert!(matches!(err, ClusterError::Failed(_)), "{err:?}");
        let cancel = CancelToken::new();
        cancel.cancel();
        assert_eq!(fit_gmm(x.view(), &GmmParams::new(2), &cancel), Err(ClusterError::Cancelled));
    }
}
