//! `strata bench`: the building blocks benches/run times.

use super::*;

pub(crate) fn bench(args: BenchArgs) -> Result<(), CliError> {
    let failed = |e: crate::bench::BenchError| CliError(e.to_string());
    match args.command {
        BenchCommand::Gen { out, customers, transactions, datetime_transactions, large_transactions, seed } => {
            let mut written = crate::bench::generate(&out, &customers, &transactions, &datetime_transactions, seed)
                .map_err(failed)?;
            for n in large_transactions {
                written.extend(crate::bench::write_large_log(&out, n, seed).map_err(failed)?);
            }
            for path in written {
                eprintln!("wrote {}", path.display());
            }
            Ok(())
        }
        BenchCommand::Case {
            case,
            input,
            k,
            k_range,
            seed,
            rows,
            silhouette_rows,
            iterations,
            n_init,
            eps,
            calibration_end,
        } => {
            let options = crate::bench::CaseOptions {
                eps,
                k,
                k_min: k_range.0,
                k_max: k_range.1,
                seed,
                rows,
                silhouette_rows,
                iterations,
                n_init,
                calibration_end,
            };
            let report = crate::bench::run_case(&case, &input, &options).map_err(failed)?;
            println!("{report}");
            Ok(())
        }
        #[cfg(feature = "gui")]
        BenchCommand::Frame { input, features, k, k_range, frames } => {
            let features = (!features.is_empty()).then_some(features.as_slice());
            let report = crate::app::frame_bench::measure(&input, features, k, k_range, frames).map_err(CliError)?;
            println!("{report}");
            Ok(())
        }
        #[cfg(feature = "gui")]
        BenchCommand::Latency { input, customers, data, repeats, only, json } => {
            latency(input, &customers, data, repeats, &only, json)
        }
    }
}

/// `strata bench latency`: generates the customer tables when none is given, measures each, prints.
#[cfg(feature = "gui")]
fn latency(
    mut inputs: Vec<PathBuf>,
    customers: &[usize],
    data: Option<PathBuf>,
    repeats: usize,
    only: &[String],
    json: bool,
) -> Result<(), CliError> {
    const SEED: u64 = 42;
    let edits = crate::app::latency_bench::edits(only).map_err(CliError)?;
    if inputs.is_empty() {
        let dir = data.unwrap_or_else(|| std::env::temp_dir().join("strata-latency"));
        for &n in customers {
            let path = dir.join(format!("customers_{n}_s{SEED}.parquet"));
            if !path.is_file() {
                eprintln!("generating {}", path.display());
                crate::bench::generate(&dir, &[n], &[], &[], SEED).map_err(|e| CliError(e.to_string()))?;
            }
            inputs.push(path);
        }
    }
    let mut rows = Vec::new();
    for input in &inputs {
        eprintln!("measuring {}", input.display());
        rows.extend(crate::app::latency_bench::measure(input, &edits, repeats).map_err(CliError)?);
    }
    if json {
        let report = serde_json::json!({
            "case": "latency",
            "threads": rayon::current_num_threads(),
            "isa": crate::engine::kernels::Isa::detect().name(),
            "repeats": repeats.max(1),
            "rows": rows,
        });
        println!("{report}");
        return Ok(());
    }
    println!("{:>10}  {:<22} {:>10} {:>10}  provisional on screen first", "customers", "edit", "median", "exact");
    for row in &rows {
        let provisional: Vec<&str> =
            row["provisional"].as_array().into_iter().flatten().filter_map(|v| v.as_str()).collect();
        println!(
            "{:>10}  {:<22} {:>7.0} ms {:>7.0} ms  {}",
            row["customers"].as_u64().unwrap_or(0),
            row["edit"].as_str().unwrap_or(""),
            row["median_ms"].as_f64().unwrap_or(f64::NAN),
            row["exact_median_ms"].as_f64().unwrap_or(f64::NAN),
            if provisional.is_empty() { "none".to_string() } else { provisional.join(", ") }
        );
    }
    Ok(())
}
