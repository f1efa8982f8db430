//! Strata: a workbench for customer segmentation.
//!
//! `engine` computes and never touches the window; the GUI (behind the `gui` feature) and the
//! headless CLI both drive it.

#[cfg(feature = "gui")]
pub mod app;
pub mod bench;
pub mod cli;
pub mod engine;
pub mod serve;
