//! From tables to features: transaction log to customer table (RFM and friends), the feature recipe,
//! correlation and multicollinearity checks.

pub mod behaviour;
pub mod correlation;
pub mod recipe;
pub mod rfm;
pub mod rfm_stream;

pub use recipe::{FeatureKind, FeatureMatrix, FeatureRecipe, FeatureSpec, FittedRecipe, MissingRule, Scaling};
pub use rfm::{
    JoinReport, LogRows, NegativeAmounts, RfmResult, TransactionColumns, aggregate_transactions,
    aggregate_transactions_with, join_attributes, log_rows,
};
