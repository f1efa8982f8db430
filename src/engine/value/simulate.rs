//! Drawing customers from a fitted purchase model (seeded): the model's side of the calibration
//! histogram, and the data of the tests that recover known parameters.

use super::models::{PurchaseModelKind, PurchaseParams, RepeatSummary};
use crate::engine::rng::SeededRng;

/// A standard normal draw (Box-Muller).
pub fn normal(rng: &mut SeededRng) -> f64 {
    let u1 = rng.next_f64().max(f64::MIN_POSITIVE);
    let u2 = rng.next_f64();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A Gamma(shape, rate) draw (Marsaglia and Tsang, with the boost for shape < 1).
pub fn gamma(rng: &mut SeededRng, shape: f64, rate: f64) -> f64 {
    if shape < 1.0 {
        let u = rng.next_f64().max(f64::MIN_POSITIVE);
        return gamma(rng, shape + 1.0, rate) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let z = normal(rng);
        let v = (1.0 + c * z).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u = rng.next_f64().max(f64::MIN_POSITIVE);
        if u.ln() < 0.5 * z * z + d - d * v + d * v.ln() {
            return d * v / rate;
        }
    }
}

/// A Beta(a, b) draw.
pub fn beta(rng: &mut SeededRng, a: f64, b: f64) -> f64 {
    let x = gamma(rng, a, 1.0);
    let y = gamma(rng, b, 1.0);
    if x + y > 0.0 { x / (x + y) } else { 0.5 }
}

/// One simulated customer observed for `t_cal` after their first purchase: their summary.
pub fn simulate_customer(rng: &mut SeededRng, model: &PurchaseParams, t_cal: f64) -> RepeatSummary {
    let [r, alpha, p3, p4] = model.values;
    let lambda = gamma(rng, r, alpha).max(1e-300);
    let mut x = 0.0;
    let mut last = 0.0;
    match model.kind {
        PurchaseModelKind::BgNbd | PurchaseModelKind::MbgNbd => {
            let p = beta(rng, p3, p4);
            if model.kind == PurchaseModelKind::MbgNbd && rng.next_f64() < p {
                return RepeatSummary { x: 0.0, t_x: 0.0, t_cal, weight: 1.0 };
            }
            let mut now = 0.0;
            loop {
                now += -rng.next_f64().max(f64::MIN_POSITIVE).ln() / lambda;
                if now > t_cal {
                    break;
                }
                x += 1.0;
                last = now;
                if rng.next_f64() < p {
                    break;
                }
            }
        }
        PurchaseModelKind::ParetoNbd => {
            let mu = gamma(rng, p3, p4).max(1e-300);
            let lifetime = -rng.next_f64().max(f64::MIN_POSITIVE).ln() / mu;
            let end = lifetime.min(t_cal);
            let mut now = 0.0;
            loop {
                now += -rng.next_f64().max(f64::MIN_POSITIVE).ln() / lambda;
                if now > end {
                    break;
                }
                x += 1.0;
                last = now;
            }
        }
    }
    RepeatSummary { x, t_x: last, t_cal, weight: 1.0 }
}
