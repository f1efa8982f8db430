//! Which method segments and with which settings: the options `sweep`, `fit`, `stability` and
//! `over-time` share.

use super::*;

/// Which method segments, with its settings; shared by sweep and fit. Settings a method does not
/// have are refused rather than ignored.
#[derive(Debug, Args, Clone)]
pub struct ModelArgs {
    /// Segmentation method.
    #[arg(long, default_value = "kmeans", value_parser = clap::builder::PossibleValuesParser::new(Algorithm::NAMES))]
    pub algorithm: String,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Initialisations per k, the best kept (default: 5 for kmeans, 3 for minibatch-kmeans, 1 for gmm).
    #[arg(long)]
    pub n_init: Option<usize>,
    /// Iteration cap per initialisation (default: 300 for kmeans, 100 for gmm).
    #[arg(long)]
    pub max_iter: Option<usize>,
    /// Convergence tolerance (default: 1e-4 of the mean feature variance for kmeans; 1e-3 change of
    /// the mean log-likelihood for gmm).
    #[arg(long)]
    pub tolerance: Option<f64>,
    /// Customers per batch (minibatch-kmeans).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Covariance of each component (gmm): full, diag or spherical.
    #[arg(long, value_parser = ["full", "diag", "spherical"])]
    pub covariance: Option<String>,
    /// Added to every variance (gmm; default 1e-6).
    #[arg(long)]
    pub reg_covar: Option<f64>,
    /// Linkage (hierarchical): ward, average or complete.
    #[arg(long, value_parser = ["ward", "average", "complete"])]
    pub linkage: Option<String>,
    /// Customers clustered exactly (hierarchical; default 20000); above it, the tree is built on
    /// k-means micro-clusters.
    #[arg(long)]
    pub max_exact_rows: Option<usize>,
    /// Micro-clusters above --max-exact-rows (hierarchical; default 2000).
    #[arg(long)]
    pub micro_clusters: Option<usize>,
    /// Neighbourhood radius (dbscan; default: the knee of the k-distance curve). For optics: cut
    /// the reachability plot at this height instead of the xi method.
    #[arg(long)]
    pub eps: Option<f64>,
    /// Customers within eps, itself included, that make a core customer (dbscan, optics; default 5).
    #[arg(long)]
    pub min_samples: Option<usize>,
    /// The largest radius OPTICS looks (optics; default: any, every scale, slower).
    #[arg(long)]
    pub max_eps: Option<f64>,
    /// Relative steepness that starts or ends a group in the reachability plot (optics; default 0.05).
    #[arg(long)]
    pub xi: Option<f64>,
    /// Smallest group, in customers (optics; default 5% of the customers, at least --min-samples).
    #[arg(long)]
    pub min_cluster_size: Option<usize>,
    /// Weight of one differing category against squared numeric distance (kprototypes; default:
    /// half the mean standard deviation of the numeric features).
    #[arg(long)]
    pub gamma: Option<f64>,
    /// Map grid, rows x columns (som; default 10x10).
    #[arg(long, value_parser = parse_grid)]
    pub grid: Option<(usize, usize)>,
    /// Training passes (som; default 20).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Segments k-means finds inside each value tier (hybrid; default 2).
    #[arg(long)]
    pub k_per_tier: Option<usize>,
    /// Total RFM scores (3-15) where the mid and the high value tiers start (hybrid; default 8,12).
    #[arg(long, value_delimiter = ',')]
    pub tier_edges: Option<Vec<u8>>,
    /// Recency, frequency and monetary columns of the customer table (rfm, hybrid; default
    /// recency_days,frequency,monetary_total).
    #[arg(long, value_delimiter = ',')]
    pub rfm_columns: Option<Vec<String>>,
}

impl ModelArgs {
    /// The method at `k` (ignored by rfm), with every setting given.
    pub(crate) fn algorithm(&self, k: usize) -> Result<Algorithm, CliError> {
        let mut algorithm = Algorithm::by_name(&self.algorithm)
            .ok_or_else(|| CliError(format!("unknown algorithm '{}'", self.algorithm)))?;
        algorithm.set_k(k);
        algorithm.set_seed(self.seed);
        if self.rfm_columns.as_ref().is_some_and(|c| c.len() != 3) {
            return Err(CliError("--rfm-columns takes three columns: recency,frequency,monetary".into()));
        }
        if self.tier_edges.as_ref().is_some_and(|e| e.len() != 2) {
            return Err(CliError("--tier-edges takes two total scores: MID,HIGH (for example 8,12)".into()));
        }
        let label = algorithm.label();
        let refuse =
            |option: &str| Err(CliError(format!("--{option} is not a setting of {} ({label})", self.algorithm)));
        match &mut algorithm {
            Algorithm::KMeans(p) => {
                p.n_init = self.n_init.unwrap_or(p.n_init);
                p.max_iter = self.max_iter.unwrap_or(p.max_iter);
                p.tolerance = self.tolerance.unwrap_or(p.tolerance);
            }
            Algorithm::MiniBatchKMeans(p) => {
                p.n_init = self.n_init.unwrap_or(p.n_init);
                p.batch_size = self.batch_size.unwrap_or(p.batch_size);
            }
            Algorithm::Gmm(p) => {
                p.n_init = self.n_init.unwrap_or(p.n_init);
                p.max_iter = self.max_iter.unwrap_or(p.max_iter);
                p.tolerance = self.tolerance.unwrap_or(p.tolerance);
                p.reg_covar = self.reg_covar.unwrap_or(p.reg_covar);
                if let Some(name) = &self.covariance {
                    p.covariance = crate::engine::cluster::gmm::CovarianceType::ALL
                        .into_iter()
                        .find(|c| c.name() == name)
                        .unwrap_or_default();
                }
            }
            Algorithm::Hierarchical(p) => {
                if let Some(name) = &self.linkage {
                    p.linkage = crate::engine::cluster::hierarchical::Linkage::ALL
                        .into_iter()
                        .find(|l| l.name() == name)
                        .unwrap_or_default();
                }
                p.max_exact_rows = self.max_exact_rows.unwrap_or(p.max_exact_rows);
                p.micro_clusters = self.micro_clusters.unwrap_or(p.micro_clusters).min(p.max_exact_rows);
            }
            Algorithm::Dbscan(p) => {
                p.eps = self.eps.or(p.eps);
                p.min_samples = self.min_samples.unwrap_or(p.min_samples);
            }
            Algorithm::Optics(p) => {
                p.eps = self.eps.or(p.eps);
                p.min_samples = self.min_samples.unwrap_or(p.min_samples);
                p.max_eps = self.max_eps.or(p.max_eps);
                p.xi = self.xi.unwrap_or(p.xi);
                p.min_cluster_size = self.min_cluster_size.or(p.min_cluster_size);
            }
            Algorithm::KPrototypes(p) => {
                p.n_init = self.n_init.unwrap_or(p.n_init);
                p.max_iter = self.max_iter.unwrap_or(p.max_iter);
                p.gamma = self.gamma.or(p.gamma);
            }
            Algorithm::Som(p) => {
                if let Some((rows, cols)) = self.grid {
                    (p.rows, p.cols) = (rows, cols);
                }
                p.epochs = self.epochs.unwrap_or(p.epochs);
            }
            Algorithm::Hybrid(p) => {
                if let Some([r, f, m]) = self.rfm_columns.as_deref() {
                    (p.recency, p.frequency, p.monetary) = (r.clone(), f.clone(), m.clone());
                }
                p.k_per_tier = self.k_per_tier.unwrap_or(p.k_per_tier);
                if let Some([mid, top]) = self.tier_edges.as_deref() {
                    p.tier_edges = (*mid, *top);
                }
            }
            Algorithm::Rfm(p) => {
                if let Some([r, f, m]) = self.rfm_columns.as_deref() {
                    (p.recency, p.frequency, p.monetary) = (r.clone(), f.clone(), m.clone());
                }
            }
        }
        // Each option and the methods that have it; given to another method, it is refused.
        let owners: [(bool, &str, &[&str]); 20] = [
            (self.n_init.is_some(), "n-init", &["kmeans", "minibatch-kmeans", "gmm", "kprototypes"]),
            (self.max_iter.is_some(), "max-iter", &["kmeans", "gmm", "kprototypes"]),
            (self.tolerance.is_some(), "tolerance", &["kmeans", "gmm"]),
            (self.batch_size.is_some(), "batch-size", &["minibatch-kmeans"]),
            (self.covariance.is_some(), "covariance", &["gmm"]),
            (self.reg_covar.is_some(), "reg-covar", &["gmm"]),
            (self.linkage.is_some(), "linkage", &["hierarchical"]),
            (self.max_exact_rows.is_some(), "max-exact-rows", &["hierarchical"]),
            (self.micro_clusters.is_some(), "micro-clusters", &["hierarchical"]),
            (self.eps.is_some(), "eps", &["dbscan", "optics"]),
            (self.min_samples.is_some(), "min-samples", &["dbscan", "optics"]),
            (self.max_eps.is_some(), "max-eps", &["optics"]),
            (self.xi.is_some(), "xi", &["optics"]),
            (self.min_cluster_size.is_some(), "min-cluster-size", &["optics"]),
            (self.gamma.is_some(), "gamma", &["kprototypes"]),
            (self.grid.is_some(), "grid", &["som"]),
            (self.epochs.is_some(), "epochs", &["som"]),
            (self.k_per_tier.is_some(), "k-per-tier", &["hybrid"]),
            (self.tier_edges.is_some(), "tier-edges", &["hybrid"]),
            (self.rfm_columns.is_some(), "rfm-columns", &["rfm", "hybrid"]),
        ];
        if let Some((_, option, _)) =
            owners.iter().find(|(given, _, methods)| *given && !methods.contains(&self.algorithm.as_str()))
        {
            return refuse(option);
        }
        algorithm.check()?;
        Ok(algorithm)
    }
}
