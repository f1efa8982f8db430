//! k-means (Lloyd's iterations, kernel 1, or Hamerly's bounds, kernel 2) with greedy k-means++
//! initialisation, several seeded initialisations and canonical segment numbers. Written here rather than taken from linfa: linfa's KMeans was 8-14x slower than
//! scikit-learn on a million rows and panics on empty input, infinities and k > n.

mod algorithm;
mod hamerly;
mod hyperparams;
mod lloyd;
pub mod minibatch;

pub use algorithm::{KMeansFit, fit, fit_from_centres, fit_micro_clusters};
pub use hyperparams::{KMeansKernel, KMeansParams, METHOD};
pub use lloyd::LloydState;
pub use minibatch::{MiniBatchParams, fit_minibatch};
