//! The buy-till-you-die purchase models and the Gamma-Gamma spend model: their log-likelihoods in
//! log space, the probability a customer is alive, and expected purchases. Time is in the unit the
//! customer summary was made in; every formula here is unit-free.
//!
//! Expected purchases are computed as expectations over the posterior of the customer's purchase
//! and dropout rates (a one-dimensional integral, by quadrature) rather than through the Gaussian
//! hypergeometric function: the integral is finite for every parameter value, where the textbook
//! closed form divides by `a - 1` and its series overflows at large frequencies.

use serde::{Deserialize, Serialize};

use super::numeric::{beta_expectation, gauss_legendre_8, integrate, ln_beta, ln_gamma, log_add_exp};

/// Which purchase model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PurchaseModelKind {
    /// BG/NBD (Fader, Hardie and Lee 2005): a customer may drop out after each repeat purchase.
    BgNbd,
    /// MBG/NBD (Batislam, Denizel and Filiztekin 2007): also at time zero, so one-time buyers can be
    /// gone.
    MbgNbd,
    /// Pareto/NBD (Schmittlein, Morrison and Colombo 1987): dropout at any time.
    ParetoNbd,
}

impl PurchaseModelKind {
    /// Every model, in the order they are compared.
    pub const ALL: [PurchaseModelKind; 3] =
        [PurchaseModelKind::BgNbd, PurchaseModelKind::MbgNbd, PurchaseModelKind::ParetoNbd];

    /// The name people know the model by.
    pub fn label(self) -> &'static str {
        match self {
            PurchaseModelKind::BgNbd => "BG/NBD",
            PurchaseModelKind::MbgNbd => "MBG/NBD",
            PurchaseModelKind::ParetoNbd => "Pareto/NBD",
        }
    }

    /// The key the JSON output and the project file use.
    pub fn key(self) -> &'static str {
        match self {
            PurchaseModelKind::BgNbd => "bgnbd",
            PurchaseModelKind::MbgNbd => "mbgnbd",
            PurchaseModelKind::ParetoNbd => "pareto_nbd",
        }
    }

    /// The parameter names, in order.
    pub fn parameter_names(self) -> [&'static str; 4] {
        match self {
            PurchaseModelKind::BgNbd | PurchaseModelKind::MbgNbd => ["r", "alpha", "a", "b"],
            PurchaseModelKind::ParetoNbd => ["r", "alpha", "s", "beta"],
        }
    }
}

/// One customer's calibration summary, or several identical ones (`weight` of them).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RepeatSummary {
    /// Repeat purchases in the calibration period.
    pub x: f64,
    /// Time from the first to the last purchase.
    pub t_x: f64,
    /// Time from the first purchase to the calibration end.
    pub t_cal: f64,
    /// How many customers share these values.
    pub weight: f64,
}

/// A purchase model with its four parameters (see [`PurchaseModelKind::parameter_names`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PurchaseParams {
    /// Which model.
    pub kind: PurchaseModelKind,
    /// r, alpha, a, b (BG/NBD, MBG/NBD) or r, alpha, s, beta (Pareto/NBD).
    pub values: [f64; 4],
}

/// Relative tolerance of every quadrature: far below any figure's meaning, far above rounding.
const QUAD_TOL: f64 = 1e-11;

impl PurchaseParams {
    /// One customer's log-likelihood (weight not applied).
    pub fn log_likelihood(&self, c: &RepeatSummary) -> f64 {
        let [r, alpha, p3, p4] = self.values;
        let (x, t_x, t) = (c.x, c.t_x, c.t_cal);
        let common = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
        match self.kind {
            PurchaseModelKind::BgNbd => {
                let (a, b) = (p3, p4);
                let beta_part = ln_beta(a, b + x) - ln_beta(a, b);
                let alive = -(r + x) * (alpha + t).ln();
                let gone = if x > 0.0 {
                    a.ln() - (b + x - 1.0).ln() - (r + x) * (alpha + t_x).ln()
                } else {
                    f64::NEG_INFINITY
                };
                common + beta_part + log_add_exp(alive, gone)
            }
            PurchaseModelKind::MbgNbd => {
                let (a, b) = (p3, p4);
                let alive = ln_beta(a, b + x + 1.0) - ln_beta(a, b) - (r + x) * (alpha + t).ln();
                let gone = ln_beta(a + 1.0, b + x) - ln_beta(a, b) - (r + x) * (alpha + t_x).ln();
                common + log_add_exp(alive, gone)
            }
            PurchaseModelKind::ParetoNbd => {
                let (s, beta) = (p3, p4);
                let (alive, gone) = pareto_terms(r, alpha, s, beta, x, t_x, t);
                common + s * beta.ln() + log_add_exp(alive, gone)
            }
        }
    }

    /// The probability the customer is still active at the end of the calibration period.
    pub fn p_alive(&self, c: &RepeatSummary) -> f64 {
        let [r, alpha, p3, p4] = self.values;
        let (x, t_x, t) = (c.x, c.t_x, c.t_cal);
        match self.kind {
            PurchaseModelKind::BgNbd => {
                if x <= 0.0 {
                    return 1.0;
                }
                let (a, b) = (p3, p4);
                let log_odds = a.ln() - (b + x - 1.0).ln() + (r + x) * ((alpha + t).ln() - (alpha + t_x).ln());
                logistic_of_negative(log_odds)
            }
            PurchaseModelKind::MbgNbd => {
                let (a, b) = (p3, p4);
                let log_odds = a.ln() - (b + x).ln() + (r + x) * ((alpha + t).ln() - (alpha + t_x).ln());
                logistic_of_negative(log_odds)
            }
            PurchaseModelKind::ParetoNbd => {
                let (alive, gone) = pareto_terms(r, alpha, p3, p4, x, t_x, t);
                logistic_of_negative(gone - alive)
            }
        }
    }

    /// Expected purchases in the `horizon` after the calibration end, for this customer.
    pub fn conditional_expected_purchases(&self, c: &RepeatSummary, horizon: f64) -> f64 {
        if horizon <= 0.0 {
            return 0.0;
        }
        let [r, alpha, p3, p4] = self.values;
        let (x, t) = (c.x, c.t_cal);
        let alive = self.p_alive(c);
        match self.kind {
            PurchaseModelKind::BgNbd => alive * bg_expected(r + x, alpha + t, p3, p4 + x, horizon),
            PurchaseModelKind::MbgNbd => alive * bg_expected(r + x, alpha + t, p3, p4 + x + 1.0, horizon),
            PurchaseModelKind::ParetoNbd => {
                let (s, beta) = (p3, p4);
                alive * (r + x) / (alpha + t) * pareto_lifetime_integral(s, beta + t, horizon)
            }
        }
    }

    /// Expected repeat purchases in the first `elapsed` time after a new customer's first purchase.
    pub fn expected_purchases(&self, elapsed: f64) -> f64 {
        if elapsed <= 0.0 {
            return 0.0;
        }
        let [r, alpha, p3, p4] = self.values;
        match self.kind {
            PurchaseModelKind::BgNbd => bg_expected(r, alpha, p3, p4, elapsed),
            PurchaseModelKind::MbgNbd => p4 / (p3 + p4) * bg_expected(r, alpha, p3, p4 + 1.0, elapsed),
            PurchaseModelKind::ParetoNbd => r / alpha * pareto_lifetime_integral(p3, p4, elapsed),
        }
    }
}

/// `1 / (1 + e^z)` without overflow.
fn logistic_of_negative(z: f64) -> f64 {
    if z > 0.0 {
        let e = (-z).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + z.exp())
    }
}

/// E over p ~ Beta(a, b), λ ~ Gamma(r, alpha) of the purchases of a customer alive at the start,
/// who buys at rate λ and drops out after each purchase with probability p: `(1 - e^(-λ p t)) / p`.
fn bg_expected(r: f64, alpha: f64, a: f64, b: f64, t: f64) -> f64 {
    if let Some(closed) = bg_expected_series(r, alpha, a, b, t) {
        return closed;
    }
    // E_λ[(1 - e^(-λ p t))] = 1 - (alpha / (alpha + p t))^r, finite as p -> 0 (limit r t / alpha).
    let g = |p: f64| {
        if p * t < 1e-12 * alpha {
            return r * t / alpha;
        }
        -(-r * (p * t / alpha).ln_1p()).exp_m1() / p
    };
    beta_expectation(g, a, b, QUAD_TOL)
}

/// The same expectation in closed form, `(a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1;
/// t/(alpha+t))]` (Fader, Hardie and Lee 2005, eq. 9 and 10), summed as a series; `None` where that
/// is slow or loses digits (a near 1, a+b-1 small, z near 1, or a small bracket), and the quadrature
/// answers instead.
pub(crate) fn bg_expected_series(r: f64, alpha: f64, a: f64, b: f64, t: f64) -> Option<f64> {
    let c = a + b - 1.0;
    if (a - 1.0).abs() < 0.05 || c < 0.5 {
        return None;
    }
    let z = t / (alpha + t);
    if z > 0.9 {
        return None;
    }
    let (mut term, mut sum) = (1.0f64, 1.0f64);
    let mut done = false;
    for n in 0..4_000 {
        let n = n as f64;
        term *= (r + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        sum += term;
        if !sum.is_finite() {
            return None;
        }
        if term < 1e-17 * sum && (r + n) * (b + n) * z < (c + n) * (n + 1.0) {
            done = true;
            break;
        }
    }
    if !done {
        return None;
    }
    let ln_p = r * (alpha / (alpha + t)).ln() + sum.ln();
    let bracket = -ln_p.exp_m1();
    if bracket.abs() < 1e-4 {
        return None;
    }
    Some(c / (a - 1.0) * bracket)
}

/// E over μ ~ Gamma(s, beta) of the expected time alive within `t`, `(1 - e^(-μ t)) / μ`:
/// `beta / (s - 1) * (1 - (beta / (beta + t))^(s - 1))`, continuous through s = 1.
fn pareto_lifetime_integral(s: f64, beta: f64, t: f64) -> f64 {
    let log_ratio = -(t / beta).ln_1p();
    let k = s - 1.0;
    if k.abs() < 1e-10 {
        return -beta * log_ratio;
    }
    beta * -(k * log_ratio).exp_m1() / k
}

/// The two log terms of the Pareto/NBD likelihood (without the common factor): alive throughout
/// the calibration period, and gone at some time between the last purchase and its end. The
/// second is `s ∫ (alpha+τ)^-(r+x) (beta+τ)^-(s+1) dτ` over [t_x, T], integrated after the
/// substitution `u = ((alpha+t_x)/(alpha+τ))^m`, m = r+s+x, which leaves a bounded monotone integrand
/// however large x is: no hypergeometric series, no cancellation.
fn pareto_terms(r: f64, alpha: f64, s: f64, beta: f64, x: f64, t_x: f64, t: f64) -> (f64, f64) {
    let alive = -(r + x) * (alpha + t).ln() - s * (beta + t).ln();
    (alive, pareto_gone(r, alpha, s, beta, x, t_x, t))
}

/// The log of the Pareto/NBD likelihood's second term (without the common factor):
/// `s ∫ (alpha+τ)^-(r+x) (beta+τ)^-(s+1) dτ` over [t_x, T]. By the Gaussian hypergeometric series
/// where it converges fast and the two ends do not nearly cancel; otherwise by quadrature after
/// the substitution `u = ((alpha+t_x)/(alpha+τ))^m`, m = r+s+x, which leaves a bounded monotone
/// integrand however large x is.
fn pareto_gone(r: f64, alpha: f64, s: f64, beta: f64, x: f64, t_x: f64, t: f64) -> f64 {
    if t <= t_x {
        return f64::NEG_INFINITY;
    }
    let m = r + s + x;
    if let Some(gone) = pareto_gone_series(r, alpha, s, beta, x, t_x, t) {
        return gone;
    }
    let a_tx = alpha + t_x;
    let u_end = (m * (a_tx.ln() - (alpha + t).ln())).exp();
    let shift = (beta - alpha) / a_tx;
    let integrand = |u: f64| (-(s + 1.0) * (shift * u.powf(1.0 / m)).ln_1p()).exp();
    // Far from u = 0 the integrand is analytic and nearly flat: a fixed rule is exact there.
    let j =
        if u_end > 0.5 { gauss_legendre_8(integrand, u_end, 1.0) } else { integrate(integrand, u_end, 1.0, QUAD_TOL) };
    s.ln() - m * a_tx.ln() - m.ln() + j.ln()
}

/// The hypergeometric form (Fader and Hardie's note): `s/m [F(t_x) - F(T)]` with `F(τ) =
/// 2F1(m, b; m+1; z(τ)) / (κ+τ)^m`, κ and b by whichever of alpha and beta is larger; `None` when
/// the series would converge slowly or the difference lose digits.
fn pareto_gone_series(r: f64, alpha: f64, s: f64, beta: f64, x: f64, t_x: f64, t: f64) -> Option<f64> {
    let shape = ParetoSeries::new(r, alpha, s, beta, x);
    pareto_gone_from(s, shape.m, shape.ln_f(t_x)?, shape.ln_f(t)?)
}

/// `s/m [F(t_x) - F(T)]` in logs from `ln F` at both ends; `None` when the far end is not clearly
/// smaller (the difference would lose digits: quadrature then).
fn pareto_gone_from(s: f64, m: f64, high: f64, low: f64) -> Option<f64> {
    let ratio = low - high;
    if ratio > -0.1 {
        return None;
    }
    Some(s.ln() - m.ln() + high + (-ratio.exp()).ln_1p())
}

/// `F(τ) = 2F1(m, b; m+1; z(τ)) / (κ+τ)^m` of the Pareto/NBD likelihood, κ and b by whichever of
/// alpha and beta is larger.
#[derive(Clone, Copy, Debug)]
struct ParetoSeries {
    m: f64,
    kappa: f64,
    b: f64,
    gap: f64,
}

impl ParetoSeries {
    fn new(r: f64, alpha: f64, s: f64, beta: f64, x: f64) -> Self {
        let m = r + s + x;
        if alpha >= beta {
            ParetoSeries { m, kappa: alpha, b: s + 1.0, gap: alpha - beta }
        } else {
            ParetoSeries { m, kappa: beta, b: r + x, gap: beta - alpha }
        }
    }

    /// `ln F(τ)`, or `None` where the series would converge slowly.
    fn ln_f(&self, tau: f64) -> Option<f64> {
        let ParetoSeries { m, kappa, b, gap } = *self;
        let z = gap / (kappa + tau);
        // Up to z = 0.95 the series needs at most a few hundred terms (the bound below stops it).
        if z > 0.95 {
            return None;
        }
        // 2F1(m, b; m+1; z) = Σ m/(m+n) (b)_n / n! z^n, all terms positive.
        let (mut term, mut sum) = (1.0f64, 1.0f64);
        for n in 0..2_000 {
            let n = n as f64;
            term *= (b + n) / (n + 1.0) * z;
            let add = term * m / (m + n + 1.0);
            sum += add;
            if add < 1e-17 * sum && (b + n) * z < (n + 1.0) {
                return Some(sum.ln() - m * (kappa + tau).ln());
            }
        }
        None
    }
}

/// The Gamma-Gamma spend model's parameters (Fader, Hardie and Lee 2005; Colombo and Jiang 1999).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GammaGammaParams {
    /// Shape of a transaction's spend around the customer's mean.
    pub p: f64,
    /// Shape of the customers' mean spend across customers.
    pub q: f64,
    /// Scale of the customers' mean spend across customers.
    pub gamma: f64,
}

/// One repeat customer's spend summary: `x` repeat purchases with mean value `mean_spend`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpendSummary {
    /// Repeat purchases whose values make the mean.
    pub x: f64,
    /// Their mean value.
    pub mean_spend: f64,
    /// How many customers share these values.
    pub weight: f64,
}

impl GammaGammaParams {
    /// One customer's log-likelihood of their mean spend.
    pub fn log_likelihood(&self, c: &SpendSummary) -> f64 {
        let GammaGammaParams { p, q, gamma } = *self;
        let (x, m) = (c.x, c.mean_spend);
        ln_gamma(p * x + q) - ln_gamma(p * x) - ln_gamma(q) + q * gamma.ln() + (p * x - 1.0) * m.ln() + p * x * x.ln()
            - (p * x + q) * (gamma + m * x).ln()
    }

    /// Expected spend per purchase of a customer with `x` repeat purchases of mean `mean_spend`
    /// (the population mean `p gamma / (q - 1)` for a customer with none). `None` when q <= 1, where
    /// the model's mean spend is infinite.
    pub fn expected_spend(&self, x: f64, mean_spend: f64) -> Option<f64> {
        let GammaGammaParams { p, q, gamma } = *self;
        if q <= 1.0 {
            return None;
        }
        if x <= 0.0 {
            return Some(p * gamma / (q - 1.0));
        }
        Some((gamma + x * mean_spend) * p / (p * x + q - 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CDNOW_BG: [f64; 4] = [0.242_593, 4.413_59, 0.792_92, 2.425_88];

    #[test]
    fn expected_purchases_agree_with_the_closed_forms() {
        // BG/NBD's E[X(t)] for a new customer, closed form with scipy's 2F1 at these parameters:
        // (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))].
        let bg = PurchaseParams { kind: PurchaseModelKind::BgNbd, values: CDNOW_BG };
        let direct = bg.expected_purchases(39.0);
        let series = {
            let [r, alpha, a, b] = CDNOW_BG;
            let z = 39.0 / (alpha + 39.0);
            let (mut term, mut sum) = (1.0, 1.0);
            for n in 0..10_000 {
                let n = n as f64;
                term *= (r + n) * (b + n) / ((a + b - 1.0 + n) * (n + 1.0)) * z;
                sum += term;
            }
            (a + b - 1.0) / (a - 1.0) * (1.0 - (alpha / (alpha + 39.0)).powf(r) * sum)
        };
        assert!((direct - series).abs() < 1e-9 * series, "{direct} vs {series}");
        // Pareto/NBD with s = 1 exactly is the limit of its neighbours.
        let p = |s: f64| PurchaseParams { kind: PurchaseModelKind::ParetoNbd, values: [0.5, 10.0, s, 12.0] };
        let at_one = p(1.0).expected_purchases(52.0);
        let near = 0.5 * (p(1.0 + 1e-7).expected_purchases(52.0) + p(1.0 - 1e-7).expected_purchases(52.0));
        assert!((at_one - near).abs() < 1e-6 * at_one);
    }

    #[test]
    fn pareto_likelihood_integral_matches_the_hypergeometric_form_at_moderate_values() {
        // For alpha >= beta the gone-term is s/(r+s+x) [2F1(.., (alpha-beta)/(alpha+t_x)) /
        // (alpha+t_x)^m - 2F1(.., (alpha-beta)/(alpha+T)) / (alpha+T)^m], 2F1(m, s+1; m+1; z).
        let (r, alpha, s, beta) = (0.55, 10.6, 0.61, 8.0);
        let (x, t_x, t) = (3.0, 20.0, 38.0);
        let m = r + s + x;
        let f21 = |z: f64| {
            let (mut term, mut sum) = (1.0, 1.0);
            for n in 0..5_000 {
                let n = n as f64;
                term *= (m + n) * (s + 1.0 + n) / ((m + 1.0 + n) * (n + 1.0)) * z;
                sum += term;
            }
            sum
        };
        let expected = s / m
            * (f21((alpha - beta) / (alpha + t_x)) / (alpha + t_x).powf(m)
                - f21((alpha - beta) / (alpha + t)) / (alpha + t).powf(m));
        let (_, gone) = pareto_terms(r, alpha, s, beta, x, t_x, t);
        assert!((gone.exp() - expected).abs() < 1e-10 * expected, "{} vs {expected}", gone.exp());
    }

    #[test]
    fn hundreds_of_repeat_purchases_stay_finite() {
        let c = RepeatSummary { x: 300.0, t_x: 38.5, t_cal: 39.0, weight: 1.0 };
        for kind in PurchaseModelKind::ALL {
            let values = if kind == PurchaseModelKind::ParetoNbd { [0.55, 10.58, 0.61, 11.67] } else { CDNOW_BG };
            let model = PurchaseParams { kind, values };
            let ll = model.log_likelihood(&c);
            let alive = model.p_alive(&c);
            let expected = model.conditional_expected_purchases(&c, 52.0);
            assert!(ll.is_finite() && alive.is_finite() && expected.is_finite(), "{kind:?} {ll} {alive} {expected}");
            assert!(alive > 0.9 && expected > 150.0, "{kind:?} {alive} {expected}");
        }
    }
}

/// Customers prepared for fast likelihood sums: the terms that depend only on `x` are computed once
/// per distinct `x`, and logarithms of `alpha + t` (and `beta + t`) once per distinct time.
#[derive(Clone, Debug, Default)]
pub struct PreparedCustomers {
    /// Distinct frequencies.
    xs: Vec<f64>,
    /// Distinct times (`t_x` and `T` values together).
    times: Vec<f64>,
    /// (index into `xs`, index of `t_x`, index of `T`, weight) per unique summary.
    members: Vec<(u32, u32, u32, f64)>,
    /// Distinct (x, time) pairs the members use, and per member the pair of its `t_x` and its `T`:
    /// Pareto/NBD's series is summed once per pair.
    pairs: Vec<(u32, u32)>,
    member_pairs: Vec<(u32, u32)>,
}

impl PreparedCustomers {
    /// Prepares unique summaries (see [`super::CustomerSummary::unique_repeat`]).
    pub fn new(customers: &[RepeatSummary]) -> Self {
        let mut xs: Vec<f64> = customers.iter().map(|c| c.x).collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        let mut times: Vec<f64> = customers.iter().flat_map(|c| [c.t_x, c.t_cal]).collect();
        times.sort_by(f64::total_cmp);
        times.dedup();
        let find = |list: &[f64], v: f64| list.binary_search_by(|p| p.total_cmp(&v)).unwrap_or(0) as u32;
        let members: Vec<(u32, u32, u32, f64)> =
            customers.iter().map(|c| (find(&xs, c.x), find(&times, c.t_x), find(&times, c.t_cal), c.weight)).collect();
        let mut pairs: Vec<(u32, u32)> = members.iter().flat_map(|m| [(m.0, m.1), (m.0, m.2)]).collect();
        pairs.sort_unstable();
        pairs.dedup();
        let pair = |p: (u32, u32)| pairs.binary_search(&p).unwrap_or(0) as u32;
        let member_pairs = members.iter().map(|m| (pair((m.0, m.1)), pair((m.0, m.2)))).collect();
        PreparedCustomers { xs, times, members, pairs, member_pairs }
    }

    /// The weighted total log-likelihood of every customer under `params`.
    pub fn log_likelihood(&self, params: &PurchaseParams) -> f64 {
        let [r, alpha, p3, p4] = params.values;
        let ln_alpha_t: Vec<f64> = self.times.iter().map(|t| (alpha + t).ln()).collect();
        let common: Vec<f64> = self.xs.iter().map(|&x| ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln()).collect();
        match params.kind {
            PurchaseModelKind::BgNbd => {
                let (a, b) = (p3, p4);
                let ln_beta_ab = ln_beta(a, b);
                let per_x: Vec<(f64, f64)> = self
                    .xs
                    .iter()
                    .zip(&common)
                    .map(|(&x, c)| {
                        let gone = if x > 0.0 { a.ln() - (b + x - 1.0).ln() } else { f64::NEG_INFINITY };
                        (c + ln_beta(a, b + x) - ln_beta_ab, gone)
                    })
                    .collect();
                self.sum(|&(xi, txi, ti, w)| {
                    let x = self.xs[xi as usize];
                    let (base, gone) = per_x[xi as usize];
                    let alive = -(r + x) * ln_alpha_t[ti as usize];
                    let gone = gone - (r + x) * ln_alpha_t[txi as usize];
                    w * (base + log_add_exp(alive, gone))
                })
            }
            PurchaseModelKind::MbgNbd => {
                let (a, b) = (p3, p4);
                let ln_beta_ab = ln_beta(a, b);
                let per_x: Vec<(f64, f64)> = self
                    .xs
                    .iter()
                    .zip(&common)
                    .map(|(&x, c)| (c + ln_beta(a, b + x + 1.0) - ln_beta_ab, c + ln_beta(a + 1.0, b + x) - ln_beta_ab))
                    .collect();
                self.sum(|&(xi, txi, ti, w)| {
                    let x = self.xs[xi as usize];
                    let (alive, gone) = per_x[xi as usize];
                    w * log_add_exp(
                        alive - (r + x) * ln_alpha_t[ti as usize],
                        gone - (r + x) * ln_alpha_t[txi as usize],
                    )
                })
            }
            PurchaseModelKind::ParetoNbd => {
                let (s, beta) = (p3, p4);
                use rayon::prelude::*;
                let ln_beta_t: Vec<f64> = self.times.iter().map(|t| (beta + t).ln()).collect();
                let ln_f: Vec<Option<f64>> = self
                    .pairs
                    .par_iter()
                    .with_min_len(256)
                    .map(|&(xi, ti)| {
                        ParetoSeries::new(r, alpha, s, beta, self.xs[xi as usize]).ln_f(self.times[ti as usize])
                    })
                    .collect();
                let indexed: Vec<usize> = (0..self.members.len()).collect();
                let members = &self.members;
                indexed
                    .par_chunks(1024)
                    .map(|chunk| {
                        chunk
                            .iter()
                            .map(|&i| {
                                let (xi, txi, ti, w) = members[i];
                                let x = self.xs[xi as usize];
                                let (t_x, t) = (self.times[txi as usize], self.times[ti as usize]);
                                let alive = -(r + x) * ln_alpha_t[ti as usize] - s * ln_beta_t[ti as usize];
                                let (p_tx, p_t) = self.member_pairs[i];
                                let gone = if t <= t_x {
                                    f64::NEG_INFINITY
                                } else {
                                    match (ln_f[p_tx as usize], ln_f[p_t as usize]) {
                                        (Some(high), Some(low)) => pareto_gone_from(s, r + s + x, high, low),
                                        _ => None,
                                    }
                                    .unwrap_or_else(|| pareto_gone(r, alpha, s, beta, x, t_x, t))
                                };
                                w * (common[xi as usize] + s * beta.ln() + log_add_exp(alive, gone))
                            })
                            .sum::<f64>()
                    })
                    .collect()
            }
        }
        .into_iter()
        .sum::<f64>()
    }

    fn sum(&self, f: impl Fn(&(u32, u32, u32, f64)) -> f64 + Sync) -> Vec<f64> {
        use rayon::prelude::*;
        self.members.par_chunks(1024).map(|chunk| chunk.iter().map(&f).sum::<f64>()).collect()
    }
}
