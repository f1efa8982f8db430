//! The stage cache: the slow stages' last results, each under a key of what it depends on.

use super::*;

/// The results of the slow stages of the last run, each under a key of everything it depends on
/// (the sources' bytes, the spec's parts), so a run that changes only k reads no file and sweeps
/// nothing again, and one that changes only the recipe reads no file. Shared with jobs through `Arc`.
#[derive(Default)]
pub struct StageCache {
    pub(crate) table: CachedStage<CustomerTable>,
    /// The quality report depends on the table alone, so a recipe edit reuses it.
    pub(crate) quality: CachedStage<Arc<QualityReport>>,
    /// So do the guessed roles (counting distinct values of every column takes long).
    pub(crate) roles: CachedStage<Arc<Vec<RoleGuess>>>,
    pub(crate) recipe: CachedStage<Arc<RecipeStage>>,
    pub(crate) sweep: CachedStage<SweptStage>,
    pub(crate) model: CachedStage<ModelStage>,
}

/// The customer table's roles and quality, the fitted recipe and its matrix: what a run that
/// changes only the model reuses.
pub(crate) struct RecipeStage {
    pub(crate) roles: Vec<RoleGuess>,
    pub(crate) quality: Arc<QualityReport>,
    pub(crate) fitted_recipe: FittedRecipe,
    pub(crate) matrix: FeatureMatrix,
    pub(crate) multicollinearity: Multicollinearity,
}

/// A sweep and the fit of every k it made (empty when too large to keep), so changing k within the
/// swept range fits nothing.
#[derive(Clone)]
pub(crate) struct SweptStage {
    pub(crate) result: SweepResult,
    pub(crate) fits: Arc<Vec<Arc<Segmentation>>>,
}

/// The fit at k with its indices and stability: what a run that changes only the business rules
/// (or nothing) reuses.
#[derive(Clone)]
pub(crate) struct ModelStage {
    pub(crate) fit: Segmentation,
    pub(crate) indices: Indices,
    pub(crate) stability: Option<crate::engine::cluster::stability::Stability>,
    pub(crate) k_stability: Vec<crate::engine::cluster::stability::KStability>,
    pub(crate) warnings: Vec<String>,
}

/// How often each cached stage was reused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StageHits {
    /// Customer tables reused.
    pub table: usize,
    /// Fitted recipes (with their matrix, roles and quality report) reused.
    pub recipe: usize,
    /// Sweeps reused.
    pub sweep: usize,
    /// Fits (with their indices and stability) reused.
    pub model: usize,
}

impl StageCache {
    /// Reuse counts so far.
    pub fn hits(&self) -> StageHits {
        StageHits {
            table: self.table.hits.load(Ordering::Relaxed),
            recipe: self.recipe.hits.load(Ordering::Relaxed),
            sweep: self.sweep.hits.load(Ordering::Relaxed),
            model: self.model.hits.load(Ordering::Relaxed),
        }
    }
}

/// One stage's last result under its key, and how often it was reused.
pub(crate) struct CachedStage<T> {
    entry: std::sync::Mutex<Option<(String, T)>>,
    hits: AtomicUsize,
}

impl<T> Default for CachedStage<T> {
    fn default() -> Self {
        Self { entry: std::sync::Mutex::new(None), hits: AtomicUsize::new(0) }
    }
}

impl<T: Clone> CachedStage<T> {
    /// Whether the kept result is the one for `key`.
    pub(crate) fn holds(&self, key: &str) -> bool {
        self.entry.lock().is_ok_and(|entry| entry.as_ref().is_some_and(|(kept, _)| kept == key))
    }

    /// The kept result when it is the one for `key` (not counted as a reuse).
    pub(crate) fn peek(&self, key: &str) -> Option<T> {
        let entry = self.entry.lock().ok()?;
        entry.as_ref().filter(|(kept, _)| kept == key).map(|(_, value)| value.clone())
    }

    /// The kept result when `key` matches, otherwise `build`'s, which is then kept.
    pub(crate) fn get_or_build(
        &self,
        key: &str,
        build: impl FnOnce() -> Result<T, PipelineError>,
    ) -> Result<T, PipelineError> {
        if let Ok(entry) = self.entry.lock()
            && let Some((cached_key, value)) = entry.as_ref()
            && cached_key == key
        {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(value.clone());
        }
        let value = build()?;
        if let Ok(mut entry) = self.entry.lock() {
            *entry = Some((key.to_string(), value.clone()));
        }
        Ok(value)
    }
}

/// The parts of a spec a stage is known not to depend on, as paths into its serialized form. A
/// stage's key is the whole spec without these, so a field added to the spec later is part of every
/// key until someone states that a stage ignores it: a forgotten field costs a recomputation, never
/// a stale result.
pub(crate) mod ignores {
    /// The stored fingerprints: the key holds the fingerprints of the bytes actually read instead.
    const FINGERPRINTS: [&str; 2] = ["source.fingerprint", "attributes.fingerprint"];
    /// Reading and aggregating the customer table (the role overrides stay in: a column marked as
    /// the id, or no longer, changes which duplicates the duplicate-id rule sees).
    pub(crate) const TABLE: [&str; 4] = [FINGERPRINTS[0], FINGERPRINTS[1], "recipe", "model"];
    /// Roles, quality report, fitted recipe and feature matrix.
    pub(crate) const RECIPE: [&str; 3] = [FINGERPRINTS[0], FINGERPRINTS[1], "model"];
    /// The sweep (its algorithm is keyed at the sweep's first k, so k itself is not in it).
    pub(crate) const SWEEP: [&str; 6] = [
        FINGERPRINTS[0],
        FINGERPRINTS[1],
        "model.algorithm",
        "model.stability",
        "model.min_segment_share",
        "model.explain_depth",
    ];
    /// The fit at k, its indices and stability (the algorithm is keyed as the recipe adapted it).
    pub(crate) const MODEL: [&str; 5] =
        [FINGERPRINTS[0], FINGERPRINTS[1], "model.algorithm", "model.min_segment_share", "model.explain_depth"];
}

/// A stage's cache key: blake3 of the spec's JSON without the `ignored` paths, and of `extra` (what
/// the stage depends on beyond the spec: the bytes' fingerprints, the algorithm as run).
pub(crate) fn stage_key(spec: &PipelineSpec, ignored: &[&str], extra: impl Serialize) -> String {
    let mut tree = serde_json::to_value(spec).unwrap_or_default();
    for path in ignored {
        let mut parts: Vec<&str> = path.split('.').collect();
        let Some(last) = parts.pop() else { continue };
        let parent = parts.iter().try_fold(&mut tree, |node, part| node.get_mut(*part));
        if let Some(serde_json::Value::Object(map)) = parent {
            map.remove(last);
        }
    }
    let text = serde_json::to_string(&(tree, extra)).unwrap_or_default();
    blake3::hash(text.as_bytes()).to_hex().to_string()
}
