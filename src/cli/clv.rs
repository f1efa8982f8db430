//! `strata clv`: customer lifetime value from a transaction log, by the buy-till-you-die models.

use serde_json::{Map, Value};

use super::*;
use crate::engine::features::{LogRows, log_rows};
use crate::engine::value::{
    self, DATA_CONTRACT, FitSummary, PurchaseModelKind, TimeUnit, ValueAnalysis, ValueSettings, ValueSpec,
};

/// The purchase model named on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ClvModel {
    /// BG/NBD (Fader, Hardie and Lee 2005).
    Bgnbd,
    /// MBG/NBD: one-time buyers may be gone from the start.
    Mbgnbd,
    /// Pareto/NBD: dropout at any time.
    #[value(name = "pareto-nbd")]
    ParetoNbd,
}

impl From<ClvModel> for PurchaseModelKind {
    fn from(model: ClvModel) -> Self {
        match model {
            ClvModel::Bgnbd => PurchaseModelKind::BgNbd,
            ClvModel::Mbgnbd => PurchaseModelKind::MbgNbd,
            ClvModel::ParetoNbd => PurchaseModelKind::ParetoNbd,
        }
    }
}

/// The model's time unit on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ClvUnit {
    /// Calendar days.
    Days,
    /// Weeks of 7 days.
    Weeks,
}

/// Arguments of `strata clv`.
#[derive(Debug, Args)]
pub struct ClvArgs {
    /// The transaction log (one row per purchase); a quoted glob reads every file it matches.
    #[arg(long, required_unless_present = "demo", conflicts_with = "demo")]
    pub transactions: Option<PathBuf>,
    /// Use the built-in CDNOW log (customer_id, date, dollar_value) instead of a file.
    #[arg(long)]
    pub demo: bool,
    /// Customer id column.
    #[arg(long, required_unless_present = "demo")]
    pub customer_id: Option<String>,
    /// Purchase date column.
    #[arg(long, required_unless_present = "demo")]
    pub date: Option<String>,
    /// Purchase amount column.
    #[arg(long, required_unless_present = "demo")]
    pub amount: Option<String>,
    /// The calibration period's last day (YYYY-MM-DD), inclusive.
    #[arg(long, value_parser = parse_date, required_unless_present = "demo")]
    pub calibration_end: Option<chrono::NaiveDate>,
    /// The model's time unit: days, or weeks of 7 days.
    #[arg(long, value_enum, default_value = "weeks")]
    pub time_unit: ClvUnit,
    /// The purchase model whose figures are reported (all three are fitted and compared).
    #[arg(long, value_enum, default_value = "bgnbd")]
    pub model: ClvModel,
    /// The holdout period's last day (YYYY-MM-DD): predicted against actual purchases after the
    /// calibration end.
    #[arg(long, value_parser = parse_date)]
    pub holdout_end: Option<chrono::NaiveDate>,
    /// Value horizon in calendar months.
    #[arg(long, default_value_t = 12)]
    pub horizon_months: u32,
    /// Annual discount rate as a fraction (0.10 = 10% a year); converted to the model's unit.
    #[arg(long, default_value_t = 0.10)]
    pub discount_rate: f64,
    /// Contribution margin rate (0.3 = 30% of revenue is profit); 1 reports revenue.
    #[arg(long, default_value_t = 1.0)]
    pub margin: f64,
    /// An L2 penalty on the parameters (lifetimes' penalizer_coef); none by default.
    #[arg(long, default_value_t = 0.0)]
    pub penalty: f64,
    /// Write one row per customer: customer_id, x, t_x, T, p_alive, expected_purchases,
    /// expected_spend, clv (.csv, .parquet or .xlsx).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the fit, assumptions and holdout as JSON.
    #[arg(long)]
    pub json: bool,
    /// Reader options.
    #[command(flatten)]
    pub read: ReadArgs,
}

/// The demo's columns and periods: CDNOW's first 39 weeks as calibration, the rest as holdout.
const DEMO_COLUMNS: (&str, &str, &str) = ("customer_id", "date", "dollar_value");

pub(crate) fn clv_command(args: ClvArgs) -> Result<(), CliError> {
    let (id, date, amount) = if args.demo {
        (DEMO_COLUMNS.0.to_string(), DEMO_COLUMNS.1.to_string(), DEMO_COLUMNS.2.to_string())
    } else {
        let missing = |what: &str| CliError(format!("give --{what} (or --demo)"));
        (
            args.customer_id.clone().ok_or_else(|| missing("customer-id"))?,
            args.date.clone().ok_or_else(|| missing("date"))?,
            args.amount.clone().ok_or_else(|| missing("amount"))?,
        )
    };
    let calibration_end = match (args.calibration_end, args.demo) {
        (Some(d), _) => d,
        (None, true) => chrono::NaiveDate::from_ymd_opt(1997, 9, 30).unwrap_or_default(),
        (None, false) => return Err(CliError("give --calibration-end YYYY-MM-DD".into())),
    };
    let holdout_end = match (args.holdout_end, args.demo && args.calibration_end.is_none()) {
        (Some(d), _) => Some(d),
        (None, true) => chrono::NaiveDate::from_ymd_opt(1998, 6, 30),
        (None, false) => None,
    };
    let spec = ValueSpec {
        calibration_end,
        holdout_end,
        unit: match args.time_unit {
            ClvUnit::Days => TimeUnit::Days,
            ClvUnit::Weeks => TimeUnit::Weeks,
        },
        model: args.model.into(),
        settings: ValueSettings {
            annual_discount_rate: args.discount_rate,
            horizon_months: args.horizon_months,
            margin: args.margin,
        },
        penalty: args.penalty,
    };
    spec.check().map_err(|e| CliError(e.to_string()))?;

    let options = args.read.options();
    options.formats.check()?;
    let source = SourceSpec {
        source: match &args.transactions {
            Some(path) if !args.demo => DataSource::File(project::paths::with_slashes(path)),
            _ => DataSource::DemoTransactions,
        },
        read_options: options.clone(),
        fingerprint: None,
    };
    let resolver = SourceResolver::user_chosen(&cwd());
    let needed = vec![id.clone(), date.clone(), amount.clone()];
    let table = pipeline::read_source_with(&source, &resolver, Some(&needed), std::slice::from_ref(&id))?;
    warn_all(&table.warnings);
    let columns = TransactionColumns {
        customer_id: id.clone(),
        date,
        amount: Some(amount),
        as_of: None,
        negative_amounts: NegativeAmounts::Allow,
        since: None,
        behaviour: Default::default(),
        value: None,
    };
    let LogRows { frame, warnings, .. } = log_rows(&table.frame, &columns, &options.formats)?;
    warn_all(&warnings);
    let analysis = value::analyse(&frame, &id, &spec, 0).map_err(|e| CliError(e.to_string()))?;
    warn_all(&analysis.warnings);

    if let Some(out) = &args.out {
        let mut customers = customers_frame(&analysis)?;
        data::write_table(&mut customers, out)?;
        eprintln!("wrote {} customers to {}", analysis.summary.len(), out.display());
    }
    let source_name = match &source.source {
        DataSource::File(stored) => stored.clone(),
        _ => crate::engine::DEMO_TRANSACTIONS_NAME.to_string(),
    };
    let fingerprint = pipeline::source_fingerprint(&source, &resolver)?;
    if args.json {
        print_json(&clv_json(&analysis, &source_name, &fingerprint))
    } else {
        print_clv(&analysis, &source_name, &fingerprint);
        Ok(())
    }
}

/// One row per customer, by the `--out` contract.
fn customers_frame(analysis: &ValueAnalysis) -> Result<polars::prelude::DataFrame, CliError> {
    use polars::prelude::{Column, DataFrame};
    let s = &analysis.summary;
    let v = &analysis.values;
    let nan_as_missing = |values: &[f64]| values.iter().map(|v| v.is_finite().then_some(*v)).collect::<Vec<_>>();
    let mut columns = vec![
        Column::new("customer_id".into(), s.ids.clone()),
        Column::new("x".into(), s.x.clone()),
        Column::new("t_x".into(), s.t_x.clone()),
        Column::new("T".into(), s.t_cal.clone()),
        Column::new("p_alive".into(), v.p_alive.clone()),
        Column::new("expected_purchases".into(), v.expected_purchases.clone()),
        Column::new("expected_spend".into(), nan_as_missing(&v.expected_spend)),
        Column::new("clv".into(), nan_as_missing(&v.clv)),
    ];
    if s.periods.holdout_end.is_some() {
        columns.push(Column::new("x_holdout".into(), s.x_holdout.clone()));
    }
    DataFrame::new_infer_height(columns).map_err(|e| CliError(format!("could not build the customer table: {e}")))
}

fn fit_json(summary: &FitSummary) -> Map<String, Value> {
    let mut out = Map::new();
    for (i, name) in summary.names.iter().enumerate() {
        out.insert(name.clone(), json!(summary.estimates[i]));
    }
    for (i, name) in summary.names.iter().enumerate() {
        let se = summary.standard_errors.as_ref().map(|se| se[i]);
        out.insert(format!("{name}_se"), json!(se));
    }
    out.insert("log_likelihood".into(), json!(summary.log_likelihood));
    out.insert("bic".into(), json!(summary.bic));
    out.insert("converged".into(), json!(summary.converged));
    out.insert("issues".into(), json!(summary.issues));
    out.insert("penalty".into(), json!(summary.penalty));
    out.insert("n_customers".into(), json!(summary.n_customers));
    out.insert("n_unique".into(), json!(summary.n_unique));
    out
}

pub(crate) fn assumptions_json(analysis: &ValueAnalysis, source: &str, fingerprint: &str) -> Value {
    let spec = &analysis.spec;
    json!({
        "data_contract": DATA_CONTRACT,
        "source": source,
        "data_fingerprint": fingerprint,
        "calibration_start": analysis.summary.log_start.to_string(),
        "calibration_end": spec.calibration_end.to_string(),
        "holdout_end": spec.holdout_end.map(|d| d.to_string()),
        "time_unit": spec.unit.plural(),
        "model": spec.model.key(),
        "horizon_months": spec.settings.horizon_months,
        "horizon_units": analysis.conversion.horizon_units,
        "annual_discount_rate": spec.settings.annual_discount_rate,
        "discount_rate_per_unit": analysis.conversion.rate_per_unit,
        "discount_conversion": analysis.conversion.sentence,
        "margin": spec.settings.margin,
        "penalty": spec.penalty,
        "n_nonpositive_repeat_days": analysis.summary.n_nonpositive_repeat_days,
        "n_customers_after_calibration": analysis.summary.n_customers_after_calibration,
    })
}

pub(crate) fn clv_json(analysis: &ValueAnalysis, source: &str, fingerprint: &str) -> Value {
    let mut out = Map::new();
    out.insert("model".into(), json!(analysis.spec.model.key()));
    for fit in &analysis.fits {
        out.insert(fit.params.kind.key().into(), Value::Object(fit_json(&fit.summary)));
    }
    out.insert("gamma_gamma".into(), Value::Object(fit_json(&analysis.spend.summary)));
    out.insert("n_customers".into(), json!(analysis.summary.len()));
    out.insert("n_repeat_customers".into(), json!(analysis.summary.n_repeat_customers()));
    out.insert("assumptions".into(), assumptions_json(analysis, source, fingerprint));
    let v = &analysis.values;
    let finite: Vec<f64> = v.clv.iter().copied().filter(|c| c.is_finite()).collect();
    let total: f64 = finite.iter().sum();
    out.insert(
        "value".into(),
        json!({
            "total_clv": total,
            "mean_clv": if finite.is_empty() { f64::NAN } else { total / finite.len() as f64 },
            "mean_p_alive": v.p_alive.iter().sum::<f64>() / v.p_alive.len().max(1) as f64,
            "expected_purchases": v.expected_purchases.iter().sum::<f64>(),
        }),
    );
    out.insert("calibration_histogram".into(), json!(analysis.histogram));
    out.insert(
        "holdout".into(),
        match analysis.chosen_holdout() {
            Some(h) => json!({
                "length": analysis.summary.holdout_length(),
                "groups": h.groups,
                "weekly": h.weekly,
                "mean_absolute_error": h.mean_absolute_error,
                "group_error": h.group_error,
                "total_predicted": h.total_predicted,
                "total_actual": h.total_actual,
                "verdict": h.verdict,
            }),
            None => Value::Null,
        },
    );
    out.insert("comparison".into(), json!({"models": analysis.comparison, "reasons": analysis.comparison_reasons}));
    out.insert("warnings".into(), json!(analysis.warnings));
    Value::Object(out)
}

fn print_clv(analysis: &ValueAnalysis, source: &str, fingerprint: &str) {
    let spec = &analysis.spec;
    let s = &analysis.summary;
    println!(
        "{} customers ({} with repeat purchases) from {source}, calibration {} to {}, in {}",
        s.len(),
        s.n_repeat_customers(),
        s.log_start,
        spec.calibration_end,
        spec.unit.plural()
    );
    println!("data fingerprint {}", &fingerprint[..fingerprint.len().min(16)]);
    println!();
    println!("{:<12} {:>12} {:>12} {:>12} {:>12} {:>14} {:>10}", "model", "p1", "p2", "p3", "p4", "log-lik", "BIC");
    for fit in &analysis.fits {
        let f = &fit.summary;
        let mark = if fit.params.kind == spec.model { "*" } else { " " };
        let params: Vec<String> =
            f.names.iter().zip(&f.estimates).map(|(n, e)| format!("{n}={}", significant(*e))).collect();
        println!(
            "{mark}{:<11} {:>12} {:>12} {:>12} {:>12} {:>14.2} {:>10.1}",
            fit.params.kind.label(),
            params[0],
            params[1],
            params[2],
            params[3],
            f.log_likelihood,
            f.bic
        );
    }
    let g = &analysis.spend.summary;
    println!(
        " {:<11} p={} q={} gamma={}  log-lik {:.2}",
        "Gamma-Gamma",
        significant(g.estimates[0]),
        significant(g.estimates[1]),
        significant(g.estimates[2]),
        g.log_likelihood
    );
    println!();
    println!("{}", analysis.conversion.sentence);
    if spec.penalty > 0.0 {
        println!("penalty {} (the estimates are not plain maximum likelihood)", spec.penalty);
    }
    let total: f64 = analysis.values.clv.iter().filter(|v| v.is_finite()).sum();
    println!(
        "value over {} month(s) at margin {}: total {:.2}, {:.2} per customer",
        spec.settings.horizon_months,
        spec.settings.margin,
        total,
        total / s.len().max(1) as f64
    );
    if let Some(h) = analysis.chosen_holdout() {
        println!();
        println!(
            "holdout to {} ({:.1} {}):",
            spec.holdout_end.map(|d| d.to_string()).unwrap_or_default(),
            s.holdout_length(),
            spec.unit.plural()
        );
        println!("{:>6} {:>10} {:>10} {:>10}", "x", "customers", "actual", "predicted");
        for group in &h.groups {
            println!("{:>6} {:>10} {:>10.3} {:>10.3}", group.group, group.n_customers, group.actual, group.predicted);
        }
        for line in &h.verdict {
            println!("{} {line}", spec.model.label());
        }
    }
    println!();
    for reason in &analysis.comparison_reasons {
        println!("{reason}");
    }
}

/// A number to 4 significant digits for the text table (JSON keeps full precision).
fn significant(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let digits = (3 - v.abs().max(1e-300).log10().floor() as i32).max(0) as usize;
    format!("{v:.digits$}")
}

/// The value per segment of a re-run project, for `strata run`: the assumptions, the chosen model
/// and one entry per segment (small segments hidden as every other count is).
pub(crate) fn run_value_json(project: &Project, result: &PipelineResult, small_cells: usize) -> Option<Value> {
    let analysis = result.value.as_ref()?;
    let segments = value_segments(project, result)?;
    let fingerprint = result.source_fingerprints.first().cloned().unwrap_or_default();
    let source = match &project.spec.source.source {
        DataSource::File(stored) => stored.clone(),
        _ => crate::engine::DEMO_TRANSACTIONS_NAME.to_string(),
    };
    let chosen = analysis.chosen();
    let rows: Vec<Value> = segments
        .iter()
        .map(|s| {
            if s.n_customers > 0 && s.n_customers < small_cells {
                json!({"segment": s.segment, "segment_number": s.segment + 1, "name": s.name, "suppressed": true})
            } else {
                let mut row = serde_json::to_value(s).unwrap_or(Value::Null);
                row["segment_number"] = json!(s.segment + 1);
                row
            }
        })
        .collect();
    Some(json!({
        "model": chosen.params.kind.key(),
        chosen.params.kind.key(): Value::Object(fit_json(&chosen.summary)),
        "gamma_gamma": Value::Object(fit_json(&analysis.spend.summary)),
        "assumptions": assumptions_json(analysis, &source, &fingerprint),
        "band": format!("10th to 90th percentile of {} parameter draws", crate::engine::value::clv::N_DRAWS),
        "segments": rows,
    }))
}

/// Each segment's value under the project's names, when the re-run has a value analysis.
pub(crate) fn value_segments(
    project: &Project,
    result: &PipelineResult,
) -> Option<Vec<crate::engine::value::SegmentValue>> {
    let mut segments = crate::engine::profile::summary::value_segments_of(result)?;
    for s in &mut segments {
        s.name = segment_name(project, result, s.segment);
    }
    Some(segments)
}

/// The value per segment as a table, for `strata run` without --json.
pub(crate) fn print_run_value(project: &Project, result: &PipelineResult, small_cells: usize) {
    let (Some(analysis), Some(segments)) = (result.value.as_ref(), value_segments(project, result)) else { return };
    let spec = &analysis.spec;
    println!();
    println!(
        "value over {} month(s) by {} (calibration to {}, discounted at {}% a year, margin {}%):",
        spec.settings.horizon_months,
        spec.model.label(),
        spec.calibration_end,
        spec.settings.annual_discount_rate * 100.0,
        spec.settings.margin * 100.0
    );
    println!(
        "{:<24} {:>9} {:>12} {:>8} {:>12} {:>22} {:>8} {:>8}",
        "segment", "customers", "revenue", "share", "per customer", "band (p10-p90)", "value %", "alive"
    );
    for s in &segments {
        if s.n_customers > 0 && s.n_customers < small_cells {
            println!("{:<24} {:>9}", s.name, format!("<{small_cells}"));
            continue;
        }
        println!(
            "{:<24} {:>9} {:>12.2} {:>7.1}% {:>12.2} {:>22} {:>7.1}% {:>8.3}",
            s.name,
            s.n_customers,
            s.revenue,
            s.revenue_share * 100.0,
            s.value_per_customer_median,
            format!("{:.2} - {:.2}", s.value_per_customer_p10, s.value_per_customer_p90),
            s.value_share * 100.0,
            s.p_alive
        );
    }
}
