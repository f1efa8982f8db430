//! `strata bench`: the building blocks benches/run times.

use super::*;

pub(crate) fn bench(args: BenchArgs) -> Result<(), CliError> {
    let failed = |e: crate::bench::BenchError| CliError(e.to_string());
    match args.command {
        BenchCommand::Gen { out, customers, transactions, datetime_transactions, seed } => {
            let written = crate::bench::generate(&out, &customers, &transactions, &datetime_transactions, seed)
                .map_err(failed)?;
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
    }
}
