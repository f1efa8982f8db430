//! Maximum-likelihood fits of the purchase and spend models: on the log scale of the parameters,
//! from several starts, over customers compressed to unique summaries, with a Hessian-based
//! standard error per parameter and every doubt about the fit said in words.

use serde::{Deserialize, Serialize};

use super::models::{
    GammaGammaParams, PreparedCustomers, PurchaseModelKind, PurchaseParams, RepeatSummary, SpendSummary,
};
use super::numeric::{bfgs, gradient, hessian, refine, spd_inverse};
use crate::engine::error::ValueError;

/// How a fit is run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitOptions {
    /// An L2 penalty on the parameters as lifetimes' `penalizer_coef` applies it (`penalty * Σ θ²`
    /// added to the mean negative log-likelihood per customer); 0, the default, is plain maximum
    /// likelihood. Shown beside every figure when set.
    pub penalty: f64,
    /// The optimiser's budget of likelihood evaluations per start.
    pub max_evaluations: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions { penalty: 0.0, max_evaluations: 2_000 }
    }
}

/// A fitted model's figures, whatever the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitSummary {
    /// Parameter names, in order.
    pub names: Vec<String>,
    /// The estimates.
    pub estimates: Vec<f64>,
    /// Standard errors (delta method from the log-scale Hessian); `None` where the Hessian is not
    /// positive definite.
    pub standard_errors: Option<Vec<f64>>,
    /// The covariance of the log parameters (for parameter draws), when it exists.
    pub covariance_log: Option<Vec<Vec<f64>>>,
    /// The log-likelihood at the estimates (the penalty not included).
    pub log_likelihood: f64,
    /// Bayesian information criterion: `k ln n - 2 LL`.
    pub bic: f64,
    /// Whether the optimiser converged and the gradient vanished.
    pub converged: bool,
    /// Every doubt about the fit, one plain sentence each; empty for a clean fit.
    pub issues: Vec<String>,
    /// The penalty used.
    pub penalty: f64,
    /// Customers the fit used.
    pub n_customers: usize,
    /// Unique summaries the likelihood summed over.
    pub n_unique: usize,
}

/// A fitted purchase model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PurchaseFit {
    /// The model and its parameters.
    pub params: PurchaseParams,
    /// Its figures.
    pub summary: FitSummary,
}

/// A fitted spend model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpendFit {
    /// The parameters.
    pub params: GammaGammaParams,
    /// Its figures.
    pub summary: FitSummary,
}

/// Log parameters beyond this size sit at a boundary: the data do not pin them down.
const LOG_BOUND: f64 = 18.0;

/// Fits a purchase model by maximum likelihood.
pub fn fit_purchase_model(
    kind: PurchaseModelKind,
    customers: &[RepeatSummary],
    options: FitOptions,
) -> Result<PurchaseFit, ValueError> {
    check_repeat(customers)?;
    let n_customers: f64 = customers.iter().map(|c| c.weight).sum();
    let mean_t = customers.iter().map(|c| c.weight * c.t_cal).sum::<f64>() / n_customers;
    let scale = mean_t.max(1e-3).ln();
    let prepared = PreparedCustomers::new(customers);
    let ll = |log_params: &[f64]| -> f64 {
        let values = [log_params[0].exp(), log_params[1].exp(), log_params[2].exp(), log_params[3].exp()];
        prepared.log_likelihood(&PurchaseParams { kind, values })
    };
    let starts: Vec<[f64; 4]> = match kind {
        PurchaseModelKind::BgNbd | PurchaseModelKind::MbgNbd => {
            vec![[0.0, scale - 2.0, 0.0, 0.0], [-1.0, scale - 1.0, -0.5, 1.0], [0.5, scale, 0.5, 2.0]]
        }
        PurchaseModelKind::ParetoNbd => {
            vec![[0.0, scale - 2.0, 0.0, scale - 2.0], [-0.7, scale - 1.0, -0.5, scale - 1.0], [0.5, scale, 0.5, scale]]
        }
    };
    let names = kind.parameter_names().iter().map(|s| s.to_string()).collect();
    let (estimates, summary) = fit_on_log_scale(&ll, &starts, names, n_customers, customers.len(), options);
    let values = [estimates[0], estimates[1], estimates[2], estimates[3]];
    Ok(PurchaseFit { params: PurchaseParams { kind, values }, summary })
}

/// Fits the Gamma-Gamma spend model on the repeat customers' mean spend.
pub fn fit_gamma_gamma(customers: &[SpendSummary], options: FitOptions) -> Result<SpendFit, ValueError> {
    let n_customers: f64 = customers.iter().map(|c| c.weight).sum();
    if customers.len() < 2 || n_customers < 3.0 {
        return Err(ValueError::NoCustomers {
            why: format!(
                "the spend model needs repeat customers with a positive repeat purchase, and there are {n_customers}"
            ),
        });
    }
    if let Some(bad) = customers.iter().find(|c| !(c.mean_spend > 0.0 && c.mean_spend.is_finite() && c.x >= 1.0)) {
        return Err(ValueError::BadSetting {
            setting: "spend".into(),
            problem: format!("a mean spend of {} over {} purchase(s) cannot be modelled", bad.mean_spend, bad.x),
        });
    }
    let mean = customers.iter().map(|c| c.weight * c.mean_spend).sum::<f64>() / n_customers;
    // The terms that depend only on x, once per distinct x; per customer two logarithms.
    let mut xs: Vec<f64> = customers.iter().map(|c| c.x).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let rows: Vec<(usize, f64, f64, f64)> = customers
        .iter()
        .map(|c| {
            let xi = xs.binary_search_by(|v| v.total_cmp(&c.x)).unwrap_or(0);
            (xi, c.mean_spend.ln(), c.mean_spend * c.x, c.weight)
        })
        .collect();
    let ll = |log_params: &[f64]| -> f64 {
        let (p, q, gamma) = (log_params[0].exp(), log_params[1].exp(), log_params[2].exp());
        let ln_gamma_scale = gamma.ln();
        let per_x: Vec<f64> = xs
            .iter()
            .map(|&x| {
                super::numeric::ln_gamma(p * x + q) - super::numeric::ln_gamma(p * x) - super::numeric::ln_gamma(q)
                    + q * ln_gamma_scale
                    + p * x * x.ln()
            })
            .collect();
        super::numeric::ordered_sum(&rows, |&(xi, ln_m, mx, w)| {
            let px = p * xs[xi];
            w * (per_x[xi] + (px - 1.0) * ln_m - (px + q) * (gamma + mx).ln())
        })
    };
    let m = mean.ln();
    let starts = vec![[0.0, 0.0, m], [1.5, 1.0, m + 1.0], [0.5, 2.0, m + 2.0]];
    let names = ["p", "q", "gamma"].iter().map(|s| s.to_string()).collect();
    let (estimates, mut summary) = fit_on_log_scale(&ll, &starts, names, n_customers, customers.len(), options);
    let params = GammaGammaParams { p: estimates[0], q: estimates[1], gamma: estimates[2] };
    if params.q <= 1.0 {
        summary.issues.push(format!(
            "q = {:.3} is not above 1, so the model's mean spend is infinite: expected spend and value cannot be given",
            params.q
        ));
    }
    Ok(SpendFit { params, summary })
}

fn check_repeat(customers: &[RepeatSummary]) -> Result<(), ValueError> {
    let n: f64 = customers.iter().map(|c| c.weight).sum();
    if n < 2.0 {
        return Err(ValueError::NoCustomers { why: format!("a purchase model needs customers, and there are {n}") });
    }
    if !customers.iter().any(|c| c.x > 0.0) {
        return Err(ValueError::NoCustomers {
            why: "no customer made a repeat purchase in the calibration period, so purchase rates cannot be estimated; choose a later calibration end".into(),
        });
    }
    if let Some(bad) = customers
        .iter()
        .find(|c| !(c.x >= 0.0 && c.t_x >= 0.0 && c.t_cal >= c.t_x && c.t_cal.is_finite() && c.x.is_finite()))
    {
        return Err(ValueError::BadSetting {
            setting: "customer summary".into(),
            problem: format!("x = {}, t_x = {}, T = {} is not a possible summary", bad.x, bad.t_x, bad.t_cal),
        });
    }
    Ok(())
}

/// Minimises the (penalised) negative log-likelihood over log parameters from each start, keeps the
/// best, and describes it.
fn fit_on_log_scale<const K: usize>(
    ll: &(impl Fn(&[f64]) -> f64 + Sync),
    starts: &[[f64; K]],
    names: Vec<String>,
    n_customers: f64,
    n_unique: usize,
    options: FitOptions,
) -> (Vec<f64>, FitSummary) {
    let penalty = options.penalty;
    let objective = |z: &[f64]| -> f64 {
        if z.iter().any(|v| v.abs() > 2.0 * LOG_BOUND) {
            return f64::INFINITY;
        }
        let pen: f64 = z.iter().map(|v| v.exp() * v.exp()).sum::<f64>() * penalty * n_customers;
        -ll(z) + pen
    };
    let mut best: Option<super::numeric::Minimum> = None;
    let mut disagreeing_starts = 0;
    for start in starts {
        let m = bfgs(&objective, start, options.max_evaluations);
        if let Some(b) = &best
            && (m.value - b.value).abs() > 1e-4 * b.value.abs().max(1.0)
        {
            disagreeing_starts += 1;
        }
        if best.as_ref().is_none_or(|b: &super::numeric::Minimum| m.value < b.value) {
            best = Some(m);
        }
    }
    // A simplex from the best quasi-Newton optimum confirms it (and improves it where the
    // gradient misled).
    let best = best.map(|quick| {
        let polish = refine(&objective, &quick.point, options.max_evaluations / 4);
        let n_evaluations = quick.n_evaluations + polish.n_evaluations;
        if polish.value < quick.value {
            super::numeric::Minimum { converged: polish.converged, n_evaluations, ..polish }
        } else {
            super::numeric::Minimum { converged: quick.converged || polish.converged, n_evaluations, ..quick }
        }
    });
    let Some(best) = best else {
        return (vec![f64::NAN; K], FitSummary::failed(names, penalty, n_customers, n_unique));
    };
    let z = best.point.clone();
    let estimates: Vec<f64> = z.iter().map(|v| v.exp()).collect();
    let log_likelihood = ll(&z);
    let mut issues = Vec::new();
    let mut converged = best.converged && best.value.is_finite();
    if !best.value.is_finite() {
        issues.push("the likelihood could not be evaluated at any starting point: no estimates can be given".into());
    }
    let grad = gradient(&objective, &z);
    let grad_norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
    if grad_norm > 1e-2 * n_customers.sqrt().max(1.0) {
        converged = false;
        issues.push(format!(
            "the optimiser stopped where the likelihood is not flat (gradient {grad_norm:.2e}); the estimates are not a maximum"
        ));
    } else if !best.converged {
        issues
            .push(format!("the optimiser used its budget of {} evaluations without settling", options.max_evaluations));
    }
    for (name, v) in names.iter().zip(&z) {
        if v.abs() > LOG_BOUND {
            converged = false;
            let side = if *v > 0.0 { "very large" } else { "near zero" };
            issues.push(format!(
                "{name} = {:.3e} is {side}, at the edge of what the data can pin down; the model may not suit these customers",
                v.exp()
            ));
        }
    }
    if disagreeing_starts > 0 {
        issues.push(format!(
            "{disagreeing_starts} of {} starting points ended at a worse optimum; the best is reported",
            starts.len()
        ));
    }
    let h = hessian(&objective, &z);
    let covariance_log = spd_inverse(&h);
    let standard_errors = covariance_log
        .as_ref()
        .map(|c| estimates.iter().enumerate().map(|(i, e)| e * c[i][i].max(0.0).sqrt()).collect::<Vec<f64>>());
    if covariance_log.is_none() {
        issues.push(
            "the likelihood is flat or curved the wrong way at the estimates: no standard errors can be given".into(),
        );
    }
    if penalty > 0.0 {
        issues.push(format!(
            "a penalty of {penalty} pulls the parameters towards zero; the estimates are not plain maximum likelihood"
        ));
    }
    let k = K as f64;
    let summary = FitSummary {
        names,
        estimates: estimates.clone(),
        standard_errors,
        covariance_log,
        log_likelihood,
        bic: k * n_customers.ln() - 2.0 * log_likelihood,
        converged,
        issues,
        penalty,
        n_customers: n_customers as usize,
        n_unique,
    };
    (estimates, summary)
}

impl FitSummary {
    fn failed(names: Vec<String>, penalty: f64, n_customers: f64, n_unique: usize) -> FitSummary {
        FitSummary {
            estimates: vec![f64::NAN; names.len()],
            names,
            standard_errors: None,
            covariance_log: None,
            log_likelihood: f64::NAN,
            bic: f64::NAN,
            converged: false,
            issues: vec!["no starting point was given to the optimiser".into()],
            penalty,
            n_customers: n_customers as usize,
            n_unique,
        }
    }
}
