//! How long a run will take, roughly, before it starts: the window lets long runs wait for Run
//! instead of starting on every click, and shows this estimate.

use super::PipelineSpec;
use crate::engine::cluster::bounds::MAX_EXACT_ROWS;
use crate::engine::pipeline::Algorithm;

/// Above this many customers exact hierarchical clustering (O(n²) time and memory) is long.
pub const LONG_HIERARCHICAL_CUSTOMERS: usize = 10_000;

/// Seconds per squared customer of one exact hierarchical fit (about 12 s for 23,570 customers on
/// a laptop core, as measured on the CDNOW demo).
const HIERARCHICAL_SECS_PER_PAIR: f64 = 2.2e-8;

/// Seconds per customer and segment of one fit of the other methods (k-means-like: about 0.1 s
/// for 23,570 customers at k = 4).
const OTHER_SECS_PER_CUSTOMER_SEGMENT: f64 = 1.0e-6;

/// A rough estimate of a run before it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct RunEstimate {
    /// Expected seconds, rough (within a factor of a few).
    pub secs: f64,
    /// Whether the run is long enough to wait for Run: exact hierarchical above
    /// [`LONG_HIERARCHICAL_CUSTOMERS`] customers, or any stability check.
    pub is_long: bool,
    /// What makes it long, in words ("hierarchical on 23,570 customers, 20 re-fits per k").
    pub why: String,
}

/// The estimate for `spec` on `n_customers` customers.
///
/// The formula: `secs = per_fit × fits`, where `per_fit` is `2.2e-8 × n²` for exact hierarchical
/// (n up to the exact limit; above it the method works on micro-clusters) and `1e-6 × n × k`
/// otherwise, and `fits` is one for the fit, plus one per k of the sweep (hierarchical builds its
/// tree once for every k), plus `bootstrap × (1 + ks swept)` re-fits when stability is checked.
pub fn estimate_run(spec: &PipelineSpec, n_customers: usize) -> RunEstimate {
    let algorithm = &spec.model.algorithm;
    let n = n_customers as f64;
    let k = algorithm.k().unwrap_or(4).max(1) as f64;
    let hierarchical = matches!(algorithm, Algorithm::Hierarchical(_)) && n_customers <= MAX_EXACT_ROWS;
    let per_fit =
        if hierarchical { HIERARCHICAL_SECS_PER_PAIR * n * n } else { OTHER_SECS_PER_CUSTOMER_SEGMENT * n * k };
    let ks = match spec.model.k_range {
        Some((lo, hi)) if algorithm.sweeps() && hi >= lo => hi - lo + 1,
        _ => 0,
    };
    let sweep_fits = if hierarchical { ks.min(1) } else { ks };
    let bootstrap = spec.model.stability.as_ref().map_or(0, |s| s.bootstrap);
    let refits = bootstrap * (1 + ks);
    let fits = 1 + sweep_fits + refits;
    let long_hierarchical = hierarchical && n_customers > LONG_HIERARCHICAL_CUSTOMERS;
    let mut why = format!("{} on {}", algorithm.label(), crate::engine::words::count(n_customers, "customer"));
    if bootstrap > 0 {
        why.push_str(&format!(", {} for the stability check", crate::engine::words::count(refits, "re-fit")));
    }
    RunEstimate { secs: per_fit * fits as f64, is_long: long_hierarchical || bootstrap > 0, why }
}

/// Seconds as people say them: "about 40 s", "about 4 min".
pub fn duration_in_words(secs: f64) -> String {
    if secs < 1.0 {
        "under a second".to_string()
    } else if secs < 90.0 {
        format!("about {:.0} s", secs.ceil())
    } else if secs < 90.0 * 60.0 {
        format!("about {:.0} min", (secs / 60.0).round())
    } else {
        format!("about {:.1} h", secs / 3600.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::cluster::stability::StabilityParams;

    #[test]
    fn hierarchical_on_many_customers_and_stability_are_long() {
        let mut spec = crate::engine::project::parse(crate::engine::DEMO_PROJECT).unwrap().project.spec;
        let kmeans = estimate_run(&spec, 23_570);
        assert!(!kmeans.is_long, "{kmeans:?}");
        spec.model.algorithm = Algorithm::Hierarchical(Default::default());
        let small = estimate_run(&spec, 5_000);
        assert!(!small.is_long);
        let big = estimate_run(&spec, 23_570);
        assert!(big.is_long && big.why.contains("23,570 customers"), "{big:?}");
        // 2.2e-8 × 23,570² ≈ 12 s per fit; one fit and one tree for the sweep.
        assert!((big.secs - 2.0 * 2.2e-8 * 23_570f64 * 23_570.0).abs() < 1e-6, "{big:?}");
        spec.model.stability = Some(StabilityParams { bootstrap: 20, seed: 1 });
        let checked = estimate_run(&spec, 23_570);
        assert!(checked.is_long && checked.secs > 10.0 * big.secs && checked.why.contains("re-fits"), "{checked:?}");
        assert_eq!(duration_in_words(250.0), "about 4 min");
        assert_eq!(duration_in_words(12.2), "about 13 s");
    }
}
