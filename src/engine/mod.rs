//! Everything that computes: readers, features, clustering, metrics, the project file.
//!
//! Nothing in here imports egui, eframe, egui_plot or rfd.

pub mod chart;
pub mod cluster;
pub mod data;
pub mod derive;
pub mod error;
pub mod export;
pub mod features;
pub mod governance;
pub mod jobs;
pub mod kernels;
pub mod matrix;
pub mod memo;
pub mod metrics;
pub mod monitor;
pub mod naming;
pub mod over_time;
pub mod pipeline;
pub mod presentation;
pub mod profile;
pub mod project;
pub mod report;
pub mod rng;
pub mod rules;
pub mod scoring;
pub mod stats;
pub mod swot;
pub mod value;
pub mod warnings;
pub mod words;

/// The CDNOW transaction log that ships inside the binary as the demo data set.
pub const DEMO_TRANSACTIONS: &[u8] = include_bytes!("../../assets/CDNOW_master.txt");

/// The built-in demo project: the window opens it on first start, `strata demo` runs it.
pub const DEMO_PROJECT: &str = include_str!("../../projects/cdnow-demo.strata");

/// The file name the demo data is known by inside a project file.
pub const DEMO_TRANSACTIONS_NAME: &str = "CDNOW_master.txt";

/// SYNTHETIC attributes of the demo customers (age group and region drawn at random with a fixed
/// seed by `assets/gen_demo_attributes.py`; not CDNOW data), so the demo has columns to audit.
pub const DEMO_ATTRIBUTES: &[u8] = include_bytes!("../../assets/cdnow-synthetic-attributes.csv");

/// The file name the demo's synthetic attribute table is known by inside a project file.
pub const DEMO_ATTRIBUTES_NAME: &str = "cdnow-synthetic-attributes.csv";
