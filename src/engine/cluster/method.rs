//! The segmentation methods behind one enum, and the [`Segmentation`] every one of them produces:
//! labels in canonical order, member means in the feature space the model saw, the sizes, and a
//! fitted model that assigns new customers the same way.

use ndarray::{Array2, ArrayView2};

use serde::{Deserialize, Serialize};

use super::dbscan::{DbscanModel, DbscanParams, KDistance, fit_dbscan};
use super::describe::{MethodInfo, MethodParams, Setting};
use super::gmm::{GmmModel, GmmParams, fit_gmm};
use super::hierarchical::{Dendrogram, HierarchicalParams, labels_at};
use super::hybrid::{HybridModel, HybridParams};
use super::kmeans::{KMeansFit, KMeansParams, MiniBatchParams, fit, fit_minibatch};
use super::kprototypes::{ColumnLayout, KPrototypesModel, KPrototypesParams, fit_kprototypes};
use super::optics::{OpticsModel, OpticsParams, ReachabilityPlot, fit_optics};
use super::rfm_rules::{RfmModel, RfmParams};
use super::som::{SomMap, SomModel, SomParams};
use super::{CentroidModel, bounds, segment_sizes};
use crate::engine::error::ClusterError;
use crate::engine::jobs::CancelToken;

/// Lists every method once: its variant of [`Algorithm`] (the name the project file stores), its
/// parameters and its description. The enum, the menu order and the dispatch to each method's
/// [`MethodParams`] are made from this list.
macro_rules! methods {
    ($($(#[$doc:meta])* $variant:ident($params:ty) => $info:path),* $(,)?) => {
        /// The segmentation method and its settings, as stored in the project.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        pub enum Algorithm {
            $($(#[$doc])* $variant($params),)*
        }

        /// Every method's description, in menu order.
        pub static METHODS: &[&MethodInfo] = &[$(&$info),*];

        impl Algorithm {
            /// Every method's command-line name (`--algorithm`), in menu order.
            pub const NAMES: [&'static str; [$($info.name),*].len()] = [$($info.name),*];

            /// The method with default settings, by its command-line name.
            pub fn by_name(name: &str) -> Option<Self> {
                $(if name == $info.name {
                    return Some(Algorithm::$variant(<$params>::default()));
                })*
                None
            }

            /// The method's description.
            pub fn info(&self) -> &'static MethodInfo {
                match self {
                    $(Algorithm::$variant(_) => &$info,)*
                }
            }

            fn params(&self) -> &dyn MethodParams {
                match self {
                    $(Algorithm::$variant(p) => p,)*
                }
            }

            fn params_mut(&mut self) -> &mut dyn MethodParams {
                match self {
                    $(Algorithm::$variant(p) => p,)*
                }
            }
        }
    };
}

methods! {
    /// k-means with k-means++ initialisation.
    KMeans(KMeansParams) => super::kmeans::METHOD,
    /// Mini-batch k-means, for data too large for full k-means.
    MiniBatchKMeans(MiniBatchParams) => super::kmeans::minibatch::METHOD,
    /// A Gaussian mixture: soft membership, BIC and AIC.
    Gmm(GmmParams) => super::gmm::METHOD,
    /// Agglomerative hierarchical clustering (Ward, average or complete linkage).
    Hierarchical(HierarchicalParams) => super::hierarchical::METHOD,
    /// Density-based groups and noise (DBSCAN).
    Dbscan(DbscanParams) => super::dbscan::METHOD,
    /// Density-based groups at every density (OPTICS), read from the reachability plot.
    Optics(OpticsParams) => super::optics::METHOD,
    /// k-prototypes: numeric means and categorical modes.
    KPrototypes(KPrototypesParams) => super::kprototypes::METHOD,
    /// A self-organising map whose nodes are clustered into segments.
    Som(SomParams) => super::som::METHOD,
    /// Named segments from quantile scores of recency, frequency and monetary value.
    Rfm(RfmParams) => super::rfm_rules::METHOD,
    /// RFM value tiers, with k-means segments inside each.
    Hybrid(HybridParams) => super::hybrid::METHOD,
}

/// A method's description by its command-line name.
pub fn method_info(name: &str) -> Option<&'static MethodInfo> {
    METHODS.iter().copied().find(|m| m.name == name)
}

/// Every command-line option some method has, each once: the option, its first description, and the
/// methods that have it.
pub fn method_options() -> Vec<(&'static str, &'static Setting, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, &'static Setting, Vec<&'static str>)> = Vec::new();
    for m in METHODS {
        for s in m.settings {
            let Some(option) = s.option else { continue };
            match out.iter_mut().find(|(o, _, _)| *o == option) {
                Some((_, _, methods)) => methods.push(m.name),
                None => out.push((option, s, vec![m.name])),
            }
        }
    }
    out
}

impl Algorithm {
    /// The command-line name.
    pub fn name(&self) -> &'static str {
        self.info().name
    }

    /// The name people read.
    pub fn label(&self) -> &'static str {
        self.info().label
    }

    /// The name people read, by command-line name.
    pub fn label_of(name: &str) -> &'static str {
        method_info(name).map_or("unknown method", |m| m.label)
    }

    /// The number of segments asked for; `None` for methods that find it themselves (rules).
    pub fn k(&self) -> Option<usize> {
        self.params().k()
    }

    /// Sets k (methods without a k ignore it).
    pub fn set_k(&mut self, k: usize) {
        self.params_mut().set_k(k);
    }

    /// The same method at another k.
    pub fn with_k(&self, k: usize) -> Self {
        let mut other = self.clone();
        other.set_k(k);
        other
    }

    /// The seed of every random choice (0 for methods without randomness).
    pub fn seed(&self) -> u64 {
        self.params().seed()
    }

    /// Sets the seed (methods without randomness ignore it).
    pub fn set_seed(&mut self, seed: u64) {
        self.params_mut().set_seed(seed);
    }

    /// Checks the settings; fitting checks them too.
    pub fn check(&self) -> Result<(), ClusterError> {
        self.params().check()
    }

    /// Whether a k range can be swept (methods with a k).
    pub fn sweeps(&self) -> bool {
        self.k().is_some()
    }

    /// Whether the method segments the feature matrix (rules read the customer table instead).
    pub fn uses_feature_matrix(&self) -> bool {
        !matches!(self, Algorithm::Rfm(_))
    }

    /// The recency, frequency and monetary columns the method reads from the customer table.
    pub fn rfm_columns(&self) -> Option<[&str; 3]> {
        self.params().rfm_columns()
    }

    /// The same method with the settings of `other` where both have them (k, seed), for switching
    /// methods in the window without losing the user's choices.
    pub fn switched_to(name: &str, from: &Algorithm) -> Option<Self> {
        let mut next = Self::by_name(name)?;
        if let Some(k) = from.k() {
            next.set_k(k);
        }
        if !matches!(from, Algorithm::Rfm(_)) {
            next.set_seed(from.seed());
        }
        Some(next)
    }

    /// Initialisations per fit (1 for methods that have no such setting), which multiply a sweep's work.
    pub fn n_init(&self) -> usize {
        self.params().n_init()
    }

    /// The parameters as their JSON object (the variant's content), to read and edit settings by
    /// field name as the method's description names them.
    pub fn params_json(&self) -> serde_json::Value {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut map)) => {
                map.values_mut().next().map(serde_json::Value::take).unwrap_or_default()
            }
            _ => serde_json::Value::Null,
        }
    }

    /// The same method with its parameters replaced by `params` (as [`Self::params_json`] gives
    /// them); what the serialized form skips (the recipe's column layout) is kept.
    pub fn with_params(&self, params: serde_json::Value) -> Result<Self, ClusterError> {
        let tag = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map.keys().next().cloned().unwrap_or_default(),
            _ => String::new(),
        };
        let mut wrapped = serde_json::Map::new();
        wrapped.insert(tag, params);
        let mut next: Algorithm = serde_json::from_value(serde_json::Value::Object(wrapped))
            .map_err(|e| ClusterError::InvalidParameter { name: "algorithm", problem: e.to_string() })?;
        if let (Algorithm::KPrototypes(old), Algorithm::KPrototypes(new)) = (self, &mut next) {
            new.layout = old.layout.clone();
        }
        Ok(next)
    }

    /// Fits a method that segments the feature matrix: settings checked before any work, and the
    /// result checked for values an overflow made infinite or NaN before it is returned.
    pub fn fit_matrix(&self, x: ArrayView2<f64>, cancel: &CancelToken) -> Result<Segmentation, ClusterError> {
        self.check()?;
        let mut fitted = self.fit_matrix_unnamed(x, cancel)?;
        fitted.method = self.name();
        fitted.check_finite()?;
        Ok(fitted)
    }

    fn fit_matrix_unnamed(&self, x: ArrayView2<f64>, cancel: &CancelToken) -> Result<Segmentation, ClusterError> {
        match self {
            Algorithm::KMeans(p) => Ok(Segmentation::from_kmeans(fit(x, p, cancel)?)),
            Algorithm::MiniBatchKMeans(p) => Ok(Segmentation::from_kmeans(fit_minibatch(x, p, cancel)?)),
            Algorithm::Gmm(p) => {
                let g = fit_gmm(x, p, cancel)?;
                let mut s = Segmentation::from_labels(x, g.labels, p.k, Vec::new(), FittedModel::Gmm(g.model))?;
                s.n_iter = g.n_iter;
                s.converged = g.converged;
                s.mixture = Some(Mixture {
                    probabilities: g.probabilities,
                    mean_log_likelihood: g.mean_log_likelihood,
                    bic: g.bic,
                    aic: g.aic,
                });
                Ok(s)
            }
            Algorithm::Hierarchical(p) => {
                let tree = std::sync::Arc::new(Dendrogram::build(x, p, cancel)?);
                Segmentation::from_tree(&tree, x, p.k)
            }
            Algorithm::KPrototypes(p) => {
                // Without a layout from the recipe every column is numeric (k-means with modes of nothing).
                let all_numeric = ColumnLayout { numeric: (0..x.ncols()).collect(), categorical: Vec::new() };
                let layout = p.layout.as_ref().unwrap_or(&all_numeric);
                let fit = fit_kprototypes(x, layout, p, cancel)?;
                let mut s =
                    Segmentation::from_labels(x, fit.labels, p.k, Vec::new(), FittedModel::KPrototypes(fit.model))?;
                s.n_iter = fit.n_iter;
                s.converged = fit.converged;
                Ok(s)
            }
            Algorithm::Som(p) => {
                let map = std::sync::Arc::new(SomMap::train(x, p, cancel)?);
                Segmentation::from_som(&map, x, p.k)
            }
            Algorithm::Dbscan(p) => {
                let fit = fit_dbscan(x, p, cancel)?;
                let (labels, k, names, n_noise) = with_noise_segment(&fit.labels, fit.n_clusters);
                let noise = fit.n_clusters;
                let d = x.ncols();
                let standard = x.as_standard_layout();
                let flat: &[f64] = standard.as_slice().unwrap_or_default();
                let core_rows: Vec<usize> = (0..x.nrows()).filter(|&r| fit.core[r]).collect();
                let model = DbscanModel {
                    eps: fit.eps,
                    d,
                    core_points: core_rows.iter().flat_map(|&r| flat[r * d..(r + 1) * d].iter().copied()).collect(),
                    core_labels: core_rows.iter().map(|&r| labels[r]).collect(),
                    noise_segment: noise,
                };
                let mut s = Segmentation::from_labels(x, labels, k, names, FittedModel::Dbscan(model))?;
                s.density = Some(Density {
                    eps: fit.eps,
                    eps_from_curve: fit.eps_from_curve,
                    min_samples: p.min_samples,
                    n_noise,
                    n_core: core_rows.len(),
                    k_distance: fit.k_distance,
                });
                Ok(s)
            }
            Algorithm::Optics(p) => {
                let fit = fit_optics(x, p, cancel)?;
                let (labels, k, names, _) = with_noise_segment(&fit.labels, fit.n_clusters);
                let model = OpticsModel::new(x, &fit, fit.n_clusters);
                let mut s = Segmentation::from_labels(x, labels, k, names, FittedModel::Optics(model))?;
                s.reachability = Some(fit.plot(p));
                Ok(s)
            }
            Algorithm::Rfm(_) | Algorithm::Hybrid(_) => Err(ClusterError::InvalidParameter {
                name: "algorithm",
                problem: "RFM scores need the customer table's recency, frequency and monetary columns; the \
                          pipeline reads them"
                    .into(),
            }),
        }
    }
}

/// A density method's groups (`None`: noise) as segments: "Group 1".. in their order, then "Noise"
/// last when any customer is noise. Returns the labels, k, the names and the noise count.
fn with_noise_segment(groups: &[Option<usize>], n_groups: usize) -> (Vec<usize>, usize, Vec<String>, usize) {
    let n_noise = groups.iter().filter(|l| l.is_none()).count();
    let labels = groups.iter().map(|l| l.unwrap_or(n_groups)).collect();
    let mut names: Vec<String> = (1..=n_groups).map(|g| format!("Group {g}")).collect();
    if n_noise > 0 {
        names.push(NOISE.to_string());
    }
    (labels, n_groups + usize::from(n_noise > 0), names, n_noise)
}

/// What a mixture adds to a segmentation.
#[derive(Clone, Debug, PartialEq)]
pub struct Mixture {
    /// Rows x k probability of each segment.
    pub probabilities: Array2<f32>,
    /// Mean log-likelihood per customer.
    pub mean_log_likelihood: f64,
    /// Bayesian information criterion (lower is better).
    pub bic: f64,
    /// Akaike information criterion (lower is better).
    pub aic: f64,
}

/// The name of DBSCAN's segment of customers in no dense region.
pub const NOISE: &str = "Noise";

/// What DBSCAN adds to a segmentation.
#[derive(Clone, Debug, PartialEq)]
pub struct Density {
    /// The radius used.
    pub eps: f64,
    /// Whether it was read from the k-distance curve.
    pub eps_from_curve: bool,
    /// Customers within eps that make a core customer.
    pub min_samples: usize,
    /// Customers in no dense region.
    pub n_noise: usize,
    /// Core customers.
    pub n_core: usize,
    /// The k-distance curve.
    pub k_distance: KDistance,
}

/// How a fitted segmentation assigns new customers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FittedModel {
    /// The nearest centroid (k-means, mini-batch k-means).
    Centroids(CentroidModel),
    /// The nearest segment mean, for methods that have no rule of their own for new customers
    /// (hierarchical clustering).
    SegmentMeans(CentroidModel),
    /// The highest posterior probability.
    Gmm(GmmModel),
    /// The score cut points and the rules.
    Rfm(RfmModel),
    /// The nearest core customer within eps, else noise.
    Dbscan(DbscanModel),
    /// The nearest grouped customer, when within its group's reachability, else noise.
    Optics(OpticsModel),
    /// The RFM tier by score, then the nearest centroid of that tier.
    Hybrid(HybridModel),
    /// The best-matching node's segment.
    Som(SomModel),
    /// The nearest prototype (numeric distance plus gamma per differing category).
    KPrototypes(KPrototypesModel),
}

impl FittedModel {
    /// How new customers are assigned, in words.
    pub fn describe(&self) -> &'static str {
        match self {
            FittedModel::Centroids(_) => "nearest centroid",
            FittedModel::SegmentMeans(_) => {
                "nearest segment mean (the method itself cannot place new customers, so they join the segment whose \
                 mean is closest)"
            }
            FittedModel::Gmm(_) => "highest posterior probability",
            FittedModel::Rfm(_) => "quantile scores against the fitted customers, then the rules",
            FittedModel::Dbscan(_) => "the group of the nearest core customer within eps, otherwise noise",
            FittedModel::Optics(_) => {
                "the group of the nearest grouped customer when it is no farther than that group's customers are \
                 from each other (its largest reachability), otherwise noise"
            }
            FittedModel::Hybrid(_) => "the value tier of the RFM scores, then the nearest centroid in that tier",
            FittedModel::Som(_) => "the segment of the best-matching node of the map",
            FittedModel::KPrototypes(_) => "the nearest prototype (numeric distance plus gamma per differing category)",
        }
    }
}

/// A fitted segmentation, whatever the method.
#[derive(Clone, Debug, PartialEq)]
pub struct Segmentation {
    /// The command-line name of the method that made it.
    pub method: &'static str,
    /// Segment of each row.
    pub labels: Vec<usize>,
    /// k x d member means in the feature space the model saw (k-means' centroids).
    pub centroids: Array2<f64>,
    /// Sum of squared distances of rows to their segment's mean.
    pub inertia: f64,
    /// Rows per segment.
    pub sizes: Vec<usize>,
    /// Iterations of the kept run (0 for rules).
    pub n_iter: usize,
    /// Whether it converged before its cap (rules always do).
    pub converged: bool,
    /// Names the method gives its segments (rules); empty when segments are numbered.
    pub names: Vec<String>,
    /// Probabilities and likelihood criteria, for mixtures.
    pub mixture: Option<Mixture>,
    /// Assignment of new customers.
    pub model: FittedModel,
    /// Per customer (recency, frequency, monetary) scores, for RFM rules.
    pub rfm_scores: Option<Vec<[u8; 3]>>,
    /// The tree, for hierarchical clustering.
    pub tree: Option<std::sync::Arc<Dendrogram>>,
    /// Radius, noise and the k-distance curve, for DBSCAN.
    pub density: Option<Density>,
    /// The trained map, for self-organising maps.
    pub som: Option<std::sync::Arc<SomMap>>,
    /// The reachability plot, for OPTICS.
    pub reachability: Option<ReachabilityPlot>,
}

impl Segmentation {
    /// A k-means fit as a segmentation (its centroids are the member means).
    pub fn from_kmeans(fit: KMeansFit) -> Self {
        let model = FittedModel::Centroids(CentroidModel {
            centroids: fit.centroids.rows().into_iter().map(|r| r.to_vec()).collect(),
        });
        Self {
            method: "kmeans",
            labels: fit.labels,
            centroids: fit.centroids,
            inertia: fit.inertia,
            sizes: fit.sizes,
            n_iter: fit.n_iter,
            converged: fit.converged,
            names: Vec::new(),
            mixture: None,
            model,
            rfm_scores: None,
            tree: None,
            density: None,
            som: None,
            reachability: None,
        }
    }

    /// A tree cut at k: its segments, their means as the model for new customers.
    pub fn from_tree(tree: &std::sync::Arc<Dendrogram>, x: ArrayView2<f64>, k: usize) -> Result<Self, ClusterError> {
        // A shared tree skips the settings' check: k is checked here.
        bounds::count_in("k", k, 1, bounds::MAX_K, "segments")?;
        let labels = labels_at(tree, x, k)?;
        let placeholder = FittedModel::SegmentMeans(CentroidModel { centroids: Vec::new() });
        let mut s = Self::from_labels(x, labels, k, Vec::new(), placeholder)?;
        s.model = FittedModel::SegmentMeans(CentroidModel {
            centroids: s.centroids.rows().into_iter().map(|r| r.to_vec()).collect(),
        });
        s.tree = Some(tree.clone());
        s.method = "hierarchical";
        Ok(s)
    }

    /// A segmentation from labels (each below k, every segment non-empty): member means and inertia
    /// computed on `x`.
    pub fn from_labels(
        x: ArrayView2<f64>,
        labels: Vec<usize>,
        k: usize,
        names: Vec<String>,
        model: FittedModel,
    ) -> Result<Self, ClusterError> {
        // Checks the labels (one per row, below k, no empty segment) as it sums.
        let inertia = crate::engine::metrics::inertia(x, &labels, k)?;
        let centroids = crate::engine::metrics::segment_means(x, &labels, k);
        let sizes = segment_sizes(&labels, k);
        let segmentation = Self {
            method: "",
            labels,
            centroids,
            inertia,
            sizes,
            n_iter: 0,
            converged: true,
            names,
            mixture: None,
            model,
            rfm_scores: None,
            tree: None,
            density: None,
            som: None,
            reachability: None,
        };
        segmentation.check_finite()?;
        Ok(segmentation)
    }

    /// Refuses a result an overflow inside the fit made infinite or NaN (a mean, a centroid, the
    /// inertia, a probability, a mixture's parameters), so no NaN segmentation ever reports success.
    pub fn check_finite(&self) -> Result<(), ClusterError> {
        if let Some(i) = self.centroids.iter().position(|v| !v.is_finite()) {
            let d = self.centroids.ncols().max(1);
            return Err(ClusterError::NotFiniteResult {
                what: "the segment means",
                detail: format!("segment {}, feature {}", i / d, i % d),
            });
        }
        if !self.inertia.is_finite() {
            return Err(ClusterError::NotFiniteResult {
                what: "the inertia",
                detail: format!("{}: squared distances overflow", self.inertia),
            });
        }
        let model_values: Vec<f64> = match &self.model {
            FittedModel::Centroids(m) | FittedModel::SegmentMeans(m) => m.centroids.concat(),
            FittedModel::Gmm(g) => g
                .weights
                .iter()
                .chain(g.means.concat().iter())
                .chain(g.precision_factors.concat().iter())
                .copied()
                .collect(),
            FittedModel::Som(s) => s.weights.clone(),
            FittedModel::Hybrid(h) => h.tiers.iter().flatten().flat_map(|(c, _)| c.centroids.concat()).collect(),
            _ => Vec::new(),
        };
        if let Some(i) = model_values.iter().position(|v| !v.is_finite()) {
            return Err(ClusterError::NotFiniteResult {
                what: "the fitted model",
                detail: format!("parameter {i} of {}", self.model.describe()),
            });
        }
        if let Some(mixture) = &self.mixture {
            if let Some(i) = mixture.probabilities.iter().position(|p| !p.is_finite()) {
                let k = mixture.probabilities.ncols().max(1);
                return Err(ClusterError::NotFiniteResult {
                    what: "the segment probabilities",
                    detail: format!("customer {}, segment {}", i / k, i % k),
                });
            }
            if !(mixture.mean_log_likelihood.is_finite() && mixture.bic.is_finite() && mixture.aic.is_finite()) {
                return Err(ClusterError::NotFiniteResult {
                    what: "the likelihood",
                    detail: format!("mean log-likelihood {}", mixture.mean_log_likelihood),
                });
            }
        }
        Ok(())
    }

    /// A trained map's nodes clustered into k segments; new customers go by best-matching node.
    pub fn from_som(map: &std::sync::Arc<SomMap>, x: ArrayView2<f64>, k: usize) -> Result<Self, ClusterError> {
        bounds::count_in("k", k, 1, bounds::MAX_K, "segments")?;
        let node_segments = map.node_segments(k)?;
        let labels: Vec<usize> = map.bmu.iter().map(|&b| node_segments[b]).collect();
        let model = FittedModel::Som(SomModel {
            weights: map.weights.iter().copied().collect(),
            d: map.weights.ncols(),
            node_segments,
        });
        let mut s = Self::from_labels(x, labels, k, Vec::new(), model)?;
        s.som = Some(map.clone());
        s.method = "som";
        Ok(s)
    }

    /// Number of segments.
    pub fn k(&self) -> usize {
        self.sizes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn every_method_is_described_once_and_every_field_it_names_exists() {
        use crate::engine::cluster::describe::{Kind, field};
        let mut names: Vec<&str> = METHODS.iter().map(|m| m.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), METHODS.len());
        assert_eq!(Algorithm::NAMES.len(), METHODS.len());
        for m in METHODS {
            let algorithm = Algorithm::by_name(m.name).unwrap();
            assert_eq!(algorithm.name(), m.name);
            assert_eq!(algorithm.k().is_some(), m.has_k, "{}", m.name);
            let params = algorithm.params_json();
            for s in m.settings {
                let fields: Vec<&str> = match &s.kind {
                    Kind::Count { field, .. }
                    | Kind::Number { field, .. }
                    | Kind::AutoCount { field, .. }
                    | Kind::AutoNumber { field, .. }
                    | Kind::SetNumber { field, .. }
                    | Kind::Mode { field, .. }
                    | Kind::Choice { field, .. }
                    | Kind::Pair { field, .. } => vec![field],
                    Kind::Grid { fields, .. } => fields.to_vec(),
                    Kind::Columns { fields } => fields.to_vec(),
                };
                for f in fields {
                    assert!(field(&params, f).is_some(), "{}: no field {f}", m.name);
                }
                if let Kind::Choice { field: f, choices, .. } = &s.kind {
                    // Every stored name is one the parameters accept.
                    for (_, stored) in *choices {
                        let mut p = params.clone();
                        p[*f] = (*stored).into();
                        assert!(algorithm.with_params(p).is_ok(), "{}: {stored}", m.name);
                    }
                }
            }
            // Parameters round-trip through their JSON.
            assert_eq!(algorithm.with_params(params).unwrap(), algorithm);
        }
    }

    #[test]
    fn options_are_set_from_text_and_bad_text_is_one_line_naming_the_option() {
        use crate::engine::cluster::describe::set_from_text;
        let setting = |method: &str, option: &str| {
            method_info(method).unwrap().settings.iter().find(|s| s.option == Some(option)).unwrap()
        };
        let mut params = Algorithm::by_name("kmeans").unwrap().params_json();
        set_from_text(&mut params, setting("kmeans", "n-init"), "7").unwrap();
        assert_eq!(params["n_init"], 7);
        assert_eq!(
            set_from_text(&mut params, setting("kmeans", "n-init"), "seven").unwrap_err(),
            "--n-init: 'seven' is not a whole number"
        );
        // k-means' kernel: kernel 1 is not written, and choosing kernel 2 adds the field.
        let lloyd = Algorithm::KMeans(
            crate::engine::cluster::kmeans::KMeansParams::new(3)
                .kernel(crate::engine::cluster::kmeans::KMeansKernel::Lloyd),
        );
        let mut params = lloyd.params_json();
        assert!(params.get("kernel").is_none());
        set_from_text(&mut params, setting("kmeans", "kernel"), "hamerly").unwrap();
        let chosen = lloyd.with_params(params.clone()).unwrap();
        assert!(
            matches!(chosen, Algorithm::KMeans(p) if p.kernel == crate::engine::cluster::kmeans::KMeansKernel::Hamerly)
        );
        assert!(
            set_from_text(&mut params, setting("kmeans", "kernel"), "elkan").unwrap_err().contains("hamerly, lloyd")
        );
        let gmm = Algorithm::by_name("gmm").unwrap();
        let mut params = gmm.params_json();
        set_from_text(&mut params, setting("gmm", "covariance"), "diag").unwrap();
        assert!(matches!(gmm.with_params(params.clone()).unwrap(), Algorithm::Gmm(p) if p.covariance.name() == "diag"));
        let refused = set_from_text(&mut params, setting("gmm", "covariance"), "round").unwrap_err();
        assert!(refused.contains("full, diag, spherical"), "{refused}");
        let mut params = Algorithm::by_name("som").unwrap().params_json();
        set_from_text(&mut params, setting("som", "grid"), "6x7").unwrap();
        assert_eq!((params["rows"].as_u64(), params["cols"].as_u64()), (Some(6), Some(7)));
        assert!(set_from_text(&mut params, setting("som", "grid"), "6").is_err());
        let mut params = Algorithm::by_name("hybrid").unwrap().params_json();
        set_from_text(&mut params, setting("hybrid", "tier-edges"), "7,12").unwrap();
        assert_eq!(params["tier_edges"], serde_json::json!([7, 12]));
        let refused = set_from_text(&mut params, setting("hybrid", "rfm-columns"), "a,b").unwrap_err();
        assert!(refused.contains("three columns"), "{refused}");
        let mut params = Algorithm::by_name("hierarchical").unwrap().params_json();
        set_from_text(&mut params, setting("hierarchical", "max-exact-rows"), "500").unwrap();
        set_from_text(&mut params, setting("hierarchical", "micro-clusters"), "900").unwrap();
        crate::engine::cluster::describe::apply_limits(&mut params, method_info("hierarchical").unwrap().settings);
        assert_eq!(params["micro_clusters"], 500, "micro-clusters stay at most the exact size");
    }

    #[test]
    fn every_name_round_trips_and_switching_keeps_k_and_seed() {
        for name in Algorithm::NAMES {
            let algorithm = Algorithm::by_name(name).unwrap();
            assert_eq!(algorithm.name(), name);
            assert_ne!(algorithm.label(), "unknown method");
        }
        assert_eq!(Algorithm::by_name("kmedoids"), None);
        let mut from = Algorithm::KMeans(KMeansParams::new(7));
        from.set_seed(3);
        let to = Algorithm::switched_to("gmm", &from).unwrap();
        assert_eq!((to.k(), to.seed()), (Some(7), 3));
        assert_eq!(Algorithm::switched_to("rfm", &from).unwrap().k(), None);
    }

    #[test]
    fn every_method_refuses_the_input_policy_bad_matrices_without_panicking() {
        let cancel = CancelToken::new();
        let empty = Array2::<f64>::zeros((0, 2));
        let nan = ndarray::array![[1.0, 2.0], [f64::NAN, 0.0], [3.0, 1.0]];
        let infinite = ndarray::array![[1.0, f64::INFINITY], [0.0, 0.0]];
        let two_distinct = ndarray::array![[1.0, 1.0], [1.0, 1.0], [2.0, 2.0], [2.0, 2.0]];
        for name in Algorithm::NAMES {
            let algorithm = Algorithm::by_name(name).unwrap();
            if !algorithm.uses_feature_matrix() || algorithm.rfm_columns().is_some() {
                continue; // rules and the hybrid read the customer table; tested with the pipeline
            }
            assert!(algorithm.fit_matrix(empty.view(), &cancel).is_err(), "{name}: empty");
            assert!(
                matches!(algorithm.fit_matrix(nan.view(), &cancel), Err(ClusterError::NonFinite { row: 1, column: 0 })),
                "{name}: NaN"
            );
            assert!(algorithm.fit_matrix(infinite.view(), &cancel).is_err(), "{name}: infinity");
            if algorithm.k().is_some() {
                // More segments than distinct customers.
                assert!(algorithm.with_k(3).fit_matrix(two_distinct.view(), &cancel).is_err(), "{name}: k > distinct");
                assert!(algorithm.with_k(0).check().is_err(), "{name}: k = 0");
            }
        }
    }

    #[test]
    fn member_means_and_inertia_from_labels() {
        let x = ndarray::array![[0.0, 0.0], [2.0, 0.0], [10.0, 10.0]];
        let s = Segmentation::from_labels(
            x.view(),
            vec![0, 0, 1],
            2,
            vec![],
            FittedModel::Centroids(CentroidModel { centroids: vec![] }),
        )
        .unwrap();
        assert_eq!(s.centroids, ndarray::array![[1.0, 0.0], [10.0, 10.0]]);
        assert_eq!(s.inertia, 2.0);
        assert_eq!(s.sizes, vec![2, 1]);
    }
}
