//! What a segmentation is made of, as stored in the project: the sources, what the main table
//! holds, the duplicate-id rule, the recipe and the model.

use super::*;

/// Where a table comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DataSource {
    /// A file; relative paths are relative to the project file's folder.
    File(String),
    /// The CDNOW transaction log built into Strata.
    DemoTransactions,
    /// The demo customers' SYNTHETIC attributes built into Strata (age group and region drawn at
    /// random, not CDNOW data): an attribute table for the demo's bias audit (format 9).
    DemoAttributes,
}

impl DataSource {
    /// The name a built-in table is known by (its file name in `assets/`), `None` for a file.
    pub fn built_in_name(&self) -> Option<&'static str> {
        match self {
            DataSource::File(_) => None,
            DataSource::DemoTransactions => Some(crate::engine::DEMO_TRANSACTIONS_NAME),
            DataSource::DemoAttributes => Some(crate::engine::DEMO_ATTRIBUTES_NAME),
        }
    }
}

/// A source with its reader options and the fingerprint of the content it was built from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceSpec {
    /// Where.
    pub source: DataSource,
    /// How to read it.
    pub read_options: ReadOptions,
    /// blake3 of the file's bytes when the project was last run.
    pub fingerprint: Option<String>,
}

/// What the main source holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TableKind {
    /// One row per customer (duplicates handled by the duplicate-id rule).
    CustomerTable {
        /// The id column, if any; without one, a column guessed to be the id is still checked for
        /// repeated ids.
        id_column: Option<String>,
        /// The user said the table has no id column, so no column is guessed to be one.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        no_id: bool,
    },
    /// A transaction log aggregated to customers as of a date.
    TransactionLog(TransactionColumns),
}

/// What to do when a customer table repeats an id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DuplicateIdRule {
    /// Stop and report them, so the user chooses.
    #[default]
    Refuse,
    /// Keep the first row of each id.
    KeepFirst,
    /// One row per id: numeric columns averaged, others from the first row.
    Aggregate,
}

/// Model settings: the algorithm with its chosen k, and an optional k range to sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// Algorithm and parameters (including k and seed).
    pub algorithm: Algorithm,
    /// k range to sweep, inclusive.
    pub k_range: Option<(usize, usize)>,
    /// Business feasibility: the smallest share of customers a segment may have (0.05 = 5%); the
    /// k-choice view marks the k whose smallest segment is below it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_segment_share: Option<f64>,
    /// Bootstrap stability, checked with every run when set (the fit, and every k of the sweep).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stability: Option<crate::engine::cluster::stability::StabilityParams>,
    /// Depth of the decision tree that explains the segments on the Segments screen (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explain_depth: Option<usize>,
}

/// Everything that defines a segmentation; small, comparable and stored in the project.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PipelineSpec {
    /// The main table.
    pub source: SourceSpec,
    /// What it holds.
    pub table: TableKind,
    /// A customer attribute table joined by id.
    pub attributes: Option<SourceSpec>,
    /// The attribute table's key column when it is not named like the customer id (a table from
    /// another system); `None`: the same name. Written only when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes_key: Option<String>,
    /// Duplicate-id rule for customer tables.
    pub duplicate_ids: DuplicateIdRule,
    /// Roles the user set, overriding the guesses.
    pub role_overrides: Vec<(String, ColumnRole)>,
    /// The feature recipe.
    pub recipe: FeatureRecipe,
    /// The model.
    pub model: ModelSpec,
    /// Derived columns and lookup tables, applied to the main table as read (before a log is
    /// aggregated); written only when used.
    #[serde(default, skip_serializing_if = "crate::engine::derive::DerivedColumns::is_empty")]
    pub derived: crate::engine::derive::DerivedColumns,
}

impl PipelineSpec {
    /// The id column of the customer table, if known.
    pub fn id_column(&self) -> Option<&str> {
        match &self.table {
            TableKind::CustomerTable { id_column, .. } => id_column.as_deref(),
            TableKind::TransactionLog(t) => Some(&t.customer_id),
        }
    }
}
