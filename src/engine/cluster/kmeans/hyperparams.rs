//! k-means hyperparameters as a builder validated by `check()` before fitting.

use serde::{Deserialize, Serialize};

use crate::engine::cluster::bounds;
use crate::engine::cluster::describe::{Kind, MethodInfo, Setting, params_with_k};
use crate::engine::error::ClusterError;

/// k-means settings; every field has a sensible default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KMeansParams {
    /// Number of segments.
    pub k: usize,
    /// Independent k-means++ initialisations; the one with the lowest inertia is kept.
    pub n_init: usize,
    /// Iteration cap per initialisation.
    pub max_iter: usize,
    /// Convergence tolerance on the squared centroid shift, relative to the mean feature variance
    /// (scikit-learn's definition).
    pub tolerance: f64,
    /// Seed of every random choice.
    pub seed: u64,
    /// The arithmetic the fit runs: recorded so a project re-runs with the kernel it was fitted
    /// with. A file without it was fitted before kernels were versioned, with Lloyd's.
    #[serde(default = "KMeansKernel::unrecorded", skip_serializing_if = "KMeansKernel::is_lloyd")]
    pub kernel: KMeansKernel,
}

/// How k-means iterates. Both start from the same centres (k-means++ in double precision) and
/// give every customer the nearest centre of the final centres; the kernel decides the arithmetic
/// of the iterations, so a re-run reproduces a stored assignment only with the kernel that made it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum KMeansKernel {
    /// Kernel 1 (every project fitted before format 12): Lloyd's iterations in double precision,
    /// every distance every iteration, each centre's sum added afresh in row order.
    Lloyd,
    /// Kernel 2 (new fits from format 12 on): Hamerly's bounds skip every block of sixteen
    /// customers they prove keeps its centres; distances are ranked in single precision on the
    /// rows scaled by a power of two, the centres kept as double-precision sums of the customers
    /// that move; the final centres are the exact means and the inertia is computed in double
    /// precision. Same result on any thread count and instruction set.
    #[default]
    Hamerly,
}

impl KMeansKernel {
    /// The kernel of a file that does not name one.
    pub fn unrecorded() -> Self {
        KMeansKernel::Lloyd
    }

    /// Whether this is the kernel a file without the key means (so the key is not written).
    pub fn is_lloyd(&self) -> bool {
        *self == KMeansKernel::Lloyd
    }

    /// Its version number and name, for reports.
    pub fn label(self) -> &'static str {
        match self {
            KMeansKernel::Lloyd => "kernel 1 (Lloyd)",
            KMeansKernel::Hamerly => "kernel 2 (Hamerly's bounds, single-precision ranking)",
        }
    }
}

impl Default for KMeansParams {
    fn default() -> Self {
        Self { k: 4, n_init: 5, max_iter: 300, tolerance: 1e-4, seed: 42, kernel: KMeansKernel::default() }
    }
}

impl KMeansParams {
    /// Defaults with the given k.
    pub fn new(k: usize) -> Self {
        Self { k, ..Self::default() }
    }

    /// Sets the kernel.
    pub fn kernel(mut self, kernel: KMeansKernel) -> Self {
        self.kernel = kernel;
        self
    }

    /// Sets the number of initialisations.
    pub fn n_init(mut self, n_init: usize) -> Self {
        self.n_init = n_init;
        self
    }

    /// Sets the iteration cap.
    pub fn max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// Sets the tolerance.
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks every setting against its bound in [`bounds`]; fitting calls this first.
    pub fn check(&self) -> Result<(), ClusterError> {
        bounds::count_in("k", self.k, 1, bounds::MAX_K, "segments")?;
        bounds::count_in("n_init", self.n_init, 1, bounds::MAX_N_INIT, "initialisations")?;
        bounds::count_in("max_iter", self.max_iter, 1, bounds::MAX_ITER, "iterations")?;
        bounds::real_in("tolerance", self.tolerance, 0.0, false, bounds::MAX_TOLERANCE)
    }
}

/// k-means, described once for the CLI, the Model screen and the project file.
pub const METHOD: MethodInfo = MethodInfo {
    name: "kmeans",
    label: "k-means",
    hint: "Compact, similar-sized segments; the usual first choice.",
    has_k: true,
    settings: &[
        Setting::new(
            "n-init",
            "Initialisations",
            "k-means++ starts; the tightest is kept",
            Kind::Count { field: "n_init", min: 1, max: 100, suffix: "", max_field: None },
        ),
        Setting::new(
            "max-iter",
            "Iteration cap",
            "Iterations per initialisation at most",
            Kind::Count { field: "max_iter", min: 1, max: 10000, suffix: "", max_field: None },
        ),
        Setting::new(
            "kernel",
            "Kernel",
            "hamerly: kernel 2, Hamerly's bounds skip the distances they prove need not be computed, and \
             centres are ranked in single precision (new fits); lloyd: kernel 1, every distance in double precision \
             (projects fitted before format 12). Stored with the model, so a project re-runs as it was fitted",
            Kind::Choice {
                field: "kernel",
                choices: &[("hamerly", "Hamerly"), ("lloyd", "Lloyd")],
                salt: "kmeans-kernel",
                absent: Some("Lloyd"),
            },
        ),
        Setting::new(
            "tolerance",
            "Tolerance",
            "Convergence tolerance, relative to the mean feature variance",
            Kind::Number { field: "tolerance", min: 0.0, max: 1.0, speed: 1e-5, decimals: None },
        )
        .cli_only(),
    ],
};

params_with_k!(KMeansParams, n_init);
