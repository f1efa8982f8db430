//! The documented bound of every numeric method setting, and the checks each `check()` uses.
//!
//! A project file is shared: a setting typed by someone else (or by nobody) must never make a run
//! hang, abort on an allocation or panic on overflow. Every bound is generous (far beyond anything a
//! segmentation needs) but finite, and products of settings that size an allocation are computed
//! with checked arithmetic before anything is allocated. A refusal names the key, the value and the
//! bound: "n_init is 1000000000000; at most 1000 initialisations are allowed".

use crate::engine::error::ClusterError;

/// Most segments (k) any method makes, and the top of a k range.
pub const MAX_K: usize = 1_000;
/// Most initialisations (`n_init`) of k-means, mini-batch k-means, GMM and k-prototypes.
pub const MAX_N_INIT: usize = 1_000;
/// Most iterations (`max_iter`) per initialisation.
pub const MAX_ITER: usize = 100_000;
/// Most training passes (`epochs` of a map, `max_epochs` of mini-batch k-means).
pub const MAX_EPOCHS: usize = 10_000;
/// Most batches without improvement before mini-batch k-means stops (`max_no_improvement`).
pub const MAX_NO_IMPROVEMENT: usize = 100_000;
/// Most customers per mini-batch (`batch_size`).
pub const MAX_BATCH_SIZE: usize = 10_000_000;
/// Most nodes of a self-organising map (`rows × cols`).
pub const MAX_GRID_NODES: usize = 10_000;
/// Most bootstrap re-fits (`stability.bootstrap`).
pub const MAX_BOOTSTRAP: usize = 1_000;
/// Most resampled customers over all bootstrap re-fits (`bootstrap × customers`).
pub const MAX_BOOTSTRAP_ROWS: usize = 1_000_000_000;
/// Most customers that make a neighbourhood dense (`min_samples` of DBSCAN and OPTICS).
pub const MAX_MIN_SAMPLES: usize = 10_000;
/// Most customers in an OPTICS group's minimum size (`min_cluster_size`).
pub const MAX_MIN_CLUSTER_SIZE: usize = 1_000_000_000;
/// Most customers clustered exactly by hierarchical clustering (`max_exact_rows`): its distance
/// matrix holds n² / 2 values, 10 GB at this bound.
pub const MAX_EXACT_ROWS: usize = 50_000;
/// Most named segments in the RFM rules.
pub const MAX_RFM_RULES: usize = 1_000;
/// Longest name of an RFM rule, in characters.
pub const MAX_RULE_NAME_CHARS: usize = 200;
/// Largest convergence tolerance (`tolerance` of k-means and GMM); it must also be finite and >= 0.
pub const MAX_TOLERANCE: f64 = 1e6;
/// Largest variance added to a GMM's covariances (`reg_covar`); finite and >= 0.
pub const MAX_REG_COVAR: f64 = 1e6;
/// Largest weight of a differing category in k-prototypes (`gamma`); finite and >= 0.
pub const MAX_GAMMA: f64 = 1e6;
/// Largest radius (`eps`, `max_eps`) of DBSCAN and OPTICS in the scaled feature space; finite and > 0.
pub const MAX_EPS: f64 = 1e12;
/// Most values a model's working arrays may hold for one fit (k × d × d covariances, rows × k
/// responsibilities, nodes × d map weights): 2 GB of f64.
pub const MAX_MODEL_VALUES: usize = 250_000_000;
/// Most fits one k sweep makes (`(k_max - k_min + 1) × n_init`).
pub const MAX_SWEEP_FITS: usize = 100_000;
/// Most rows an exact silhouette is computed on in a sweep (`silhouette rows`): it costs rows² distances.
pub const MAX_SILHOUETTE_ROWS: usize = 200_000;
pub use crate::engine::matrix::MAX_ABS_VALUE;

/// A count setting that must be at least 1 and at most `max`; `what` names the unit in the message
/// ("initialisations").
pub(crate) fn count_in(
    name: &'static str,
    value: usize,
    min: usize,
    max: usize,
    what: &str,
) -> Result<(), ClusterError> {
    if value < min {
        return Err(ClusterError::InvalidParameter { name, problem: format!("is {value}; it must be at least {min}") });
    }
    if value > max {
        return Err(ClusterError::OutOfBounds {
            name,
            value: value.to_string(),
            limit: format!("at most {max} {what} are allowed"),
        });
    }
    Ok(())
}

/// A real setting that must be finite, at least `min` (above it when `min_exclusive`) and at most
/// `max`.
pub(crate) fn real_in(
    name: &'static str,
    value: f64,
    min: f64,
    min_exclusive: bool,
    max: f64,
) -> Result<(), ClusterError> {
    let low_ok = if min_exclusive { value > min } else { value >= min };
    if !value.is_finite() || !low_ok {
        let relation = if min_exclusive { "above" } else { "at least" };
        return Err(ClusterError::InvalidParameter {
            name,
            problem: format!("is {value}; it must be a finite number {relation} {min}"),
        });
    }
    if value > max {
        return Err(ClusterError::OutOfBounds {
            name,
            value: format!("{value:e}"),
            limit: format!("at most {max:e} is allowed"),
        });
    }
    Ok(())
}

/// The product of `factors`, refused (never wrapped) when it overflows or exceeds `max`; `name`
/// spells the product ("rows × cols") and `what` its unit.
pub(crate) fn product_within(
    name: &'static str,
    factors: &[usize],
    max: usize,
    what: &str,
) -> Result<usize, ClusterError> {
    let spelled = factors.iter().map(|f| f.to_string()).collect::<Vec<_>>().join(" × ");
    let product = factors.iter().try_fold(1usize, |acc, &f| acc.checked_mul(f));
    match product {
        Some(p) if p <= max => Ok(p),
        Some(p) => Err(ClusterError::OutOfBounds {
            name,
            value: format!("{spelled} = {p}"),
            limit: format!("at most {max} {what} are allowed"),
        }),
        None => Err(ClusterError::OutOfBounds {
            name,
            value: format!("{spelled} (more than this computer can count)"),
            limit: format!("at most {max} {what} are allowed"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_key_the_value_and_the_bound() {
        let e = count_in("n_init", 1_000_000_000_000, 1, MAX_N_INIT, "initialisations").unwrap_err();
        assert_eq!(e.to_string(), "n_init is 1000000000000; at most 1000 initialisations are allowed");
        let e = count_in("n_init", 0, 1, MAX_N_INIT, "initialisations").unwrap_err();
        assert!(e.to_string().contains("n_init") && e.to_string().contains("at least 1"), "{e}");
        assert!(real_in("tolerance", f64::NAN, 0.0, false, MAX_TOLERANCE).is_err());
        assert!(real_in("eps", 0.0, 0.0, true, MAX_EPS).is_err());
        assert!(real_in("eps", 1e300, 0.0, true, MAX_EPS).unwrap_err().to_string().contains("eps is 1e300"));
        assert_eq!(product_within("rows × cols", &[3, 4], 12, "nodes"), Ok(12));
        let e = product_within("rows × cols", &[usize::MAX / 2 + 1, 2], MAX_GRID_NODES, "grid nodes").unwrap_err();
        assert!(e.to_string().starts_with("rows × cols is 9223372036854775808 × 2"), "{e}");
    }
}
