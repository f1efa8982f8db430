//! The value models against published fits, independently computed likelihoods (mpmath) and
//! lifetimes 0.11.3 on the CDNOW sample, and against data simulated from known parameters.
//! References: tests/fixtures/reference/clv/ (gen_clv_reference.py regenerates them; SOURCE.md).

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use polars::prelude::*;
use serde_json::Value;
use strata::engine::rng::SeededRng;
use strata::engine::value::simulate::simulate_customer;
use strata::engine::value::{
    self, FitOptions, GammaGammaParams, Periods, PurchaseModelKind, PurchaseParams, RepeatSummary, SpendSummary,
    TimeUnit, ValueSettings, ValueSpec, fit_gamma_gamma, fit_purchase_model, summarize,
};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/reference/clv");

fn reference() -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{DIR}/clv_reference.json")).unwrap()).unwrap()
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// CDNOW_sample.txt (master index, id, YYYYMMDD, CDs, dollars) as log rows.
fn cdnow_rows() -> DataFrame {
    let text = std::fs::read_to_string(format!("{DIR}/CDNOW_sample.txt")).unwrap();
    let (mut ids, mut days, mut amounts) = (Vec::new(), Vec::new(), Vec::new());
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        ids.push(f[1].parse::<i64>().unwrap());
        let d = NaiveDate::parse_from_str(f[2], "%Y%m%d").unwrap();
        days.push(value::summary::days_since_epoch(d));
        amounts.push(f[4].parse::<f64>().unwrap());
    }
    df!("id" => ids, "__day" => days, "__amount" => amounts).unwrap()
}

fn cdnow_periods() -> Periods {
    Periods { calibration_end: date("1997-09-30"), holdout_end: Some(date("1998-06-30")), unit: TimeUnit::Weeks }
}

fn params(kind: PurchaseModelKind, p: &Value) -> PurchaseParams {
    let names = kind.parameter_names();
    PurchaseParams { kind, values: names.map(|n| p[n].as_f64().unwrap()) }
}

fn kind_of(key: &str) -> PurchaseModelKind {
    PurchaseModelKind::ALL.into_iter().find(|k| k.key() == key).unwrap()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300)
}

#[test]
fn the_summary_follows_the_data_contract_to_the_reference_customer_by_customer() {
    let summary = summarize(&cdnow_rows(), "id", cdnow_periods()).unwrap();
    let reference = std::fs::read_to_string(format!("{DIR}/summary_weeks.csv")).unwrap();
    let rows: Vec<Vec<&str>> = reference.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(summary.len(), rows.len());
    assert_eq!(summary.len(), 2357);
    assert_eq!(summary.n_repeat_customers(), 946);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(summary.ids[i].parse::<i64>().unwrap().to_string(), row[0]);
        let want: Vec<f64> = row[1..].iter().map(|v| v.parse().unwrap_or(f64::NAN)).collect();
        assert_eq!(summary.x[i], want[0], "x of customer {}", row[0]);
        assert!(close(summary.t_x[i], want[1], 1e-12) || want[1] == 0.0 && summary.t_x[i] == 0.0, "t_x {}", row[0]);
        assert!(close(summary.t_cal[i], want[2], 1e-12), "T of customer {}", row[0]);
        if want[0] > 0.0 {
            assert!(close(summary.mean_spend[i], want[3], 1e-12), "spend of {}", row[0]);
        }
        assert_eq!(summary.x_holdout[i], want[4], "holdout purchases of {}", row[0]);
    }
}

#[test]
fn log_likelihoods_equal_the_independently_computed_values() {
    let reference = reference();
    let summary = summarize(&cdnow_rows(), "id", cdnow_periods()).unwrap();
    let unique = summary.unique_repeat();
    let mut checked = 0;
    for case in reference["loglik"].as_array().unwrap() {
        let key = case["model"].as_str().unwrap();
        let want = case["total"].as_f64().unwrap();
        let got = if key == "gamma_gamma" {
            let p = &case["params"];
            let gg = GammaGammaParams {
                p: p["p"].as_f64().unwrap(),
                q: p["q"].as_f64().unwrap(),
                gamma: p["gamma"].as_f64().unwrap(),
            };
            summary.unique_spend().iter().map(|c| c.weight * gg.log_likelihood(c)).sum::<f64>()
        } else {
            let model = params(kind_of(key), &case["params"]);
            unique.iter().map(|c| c.weight * model.log_likelihood(c)).sum::<f64>()
        };
        assert!(close(got, want, 1e-10), "{key} {}: {got} vs {want}", case["param_set"]);
        checked += 1;
    }
    assert!(checked >= 8, "{checked}");
}

#[test]
fn per_customer_figures_equal_the_reference() {
    let reference = reference();
    for case in reference["customers"].as_array().unwrap() {
        let model = params(kind_of(case["model"].as_str().unwrap()), &case["params"]);
        let c = RepeatSummary {
            x: case["x"].as_f64().unwrap(),
            t_x: case["t_x"].as_f64().unwrap(),
            t_cal: case["T"].as_f64().unwrap(),
            weight: 1.0,
        };
        let what = format!("{} customer {}", case["model"], case["customer_id"]);
        assert!(close(model.p_alive(&c), case["p_alive"].as_f64().unwrap(), 1e-10), "p_alive {what}");
        let e = model.conditional_expected_purchases(&c, 52.0);
        assert!(
            close(e, case["expected_52"].as_f64().unwrap(), 1e-8),
            "expected {what}: {e} vs {}",
            case["expected_52"]
        );
        assert!(close(model.log_likelihood(&c), case["log_likelihood"].as_f64().unwrap(), 1e-10), "ll {what}");
    }
    for case in reference["gg_customers"].as_array().unwrap() {
        let p = &case["params"];
        let gg = GammaGammaParams {
            p: p["p"].as_f64().unwrap(),
            q: p["q"].as_f64().unwrap(),
            gamma: p["gamma"].as_f64().unwrap(),
        };
        let (x, m) = (case["x"].as_f64().unwrap(), case["monetary"].as_f64().unwrap());
        let spend = gg.expected_spend(x, m).unwrap();
        assert!(close(spend, case["expected_spend"].as_f64().unwrap(), 1e-12));
        let ll = gg.log_likelihood(&SpendSummary { x, mean_spend: m, weight: 1.0 });
        assert!(close(ll, case["log_likelihood"].as_f64().unwrap(), 1e-10));
    }
}

#[test]
fn the_overflow_cases_give_finite_correct_results() {
    // Hardie's spreadsheet shows #NUM! here: (alpha+T)^(r+x) and Gamma(r+x) overflow a double.
    for case in reference()["overflow"].as_array().unwrap() {
        let model = params(kind_of(case["model"].as_str().unwrap()), &case["params"]);
        let c = RepeatSummary {
            x: case["x"].as_f64().unwrap(),
            t_x: case["t_x"].as_f64().unwrap(),
            t_cal: case["T"].as_f64().unwrap(),
            weight: 1.0,
        };
        let ll = model.log_likelihood(&c);
        assert!(close(ll, case["log_likelihood"].as_f64().unwrap(), 1e-12), "{ll} vs {}", case["log_likelihood"]);
        if let Some(p) = case["p_alive"].as_f64() {
            assert!(close(model.p_alive(&c), p, 1e-12));
        }
        assert!(model.conditional_expected_purchases(&c, 52.0).is_finite());
    }
}

#[test]
fn fits_reproduce_the_published_and_lifetimes_estimates() {
    let reference = reference();
    let summary = summarize(&cdnow_rows(), "id", cdnow_periods()).unwrap();
    let unique = summary.unique_repeat();
    for kind in PurchaseModelKind::ALL {
        let fit = fit_purchase_model(kind, &unique, FitOptions::default()).unwrap();
        assert!(fit.summary.converged && fit.summary.issues.is_empty(), "{kind:?}: {:?}", fit.summary.issues);
        let lifetimes = &reference["lifetimes_fit"][kind.key()];
        for (name, got) in kind.parameter_names().iter().zip(fit.params.values) {
            let want = lifetimes[name].as_f64().unwrap();
            assert!(close(got, want, 1e-4), "{kind:?} {name}: {got} vs lifetimes {want}");
            if let Some(published) = reference["published"][kind.key()][name].as_f64() {
                assert!(close(got, published, 2e-3), "{kind:?} {name}: {got} vs published {published}");
            }
        }
        let ll = lifetimes["log_likelihood"].as_f64().unwrap();
        assert!(fit.summary.log_likelihood >= ll - 1e-6, "{kind:?} {} < {ll}", fit.summary.log_likelihood);
        let se = fit.summary.standard_errors.as_ref().unwrap();
        assert!(se.iter().zip(fit.params.values).all(|(s, v)| *s > 0.0 && *s < v), "{kind:?} {se:?}");
    }
    let gg = fit_gamma_gamma(&summary.unique_spend(), FitOptions::default()).unwrap();
    let want = &reference["lifetimes_fit"]["gamma_gamma"];
    for (name, got) in ["p", "q", "gamma"].iter().zip([gg.params.p, gg.params.q, gg.params.gamma]) {
        assert!(close(got, want[name].as_f64().unwrap(), 1e-4), "GG {name}: {got} vs {}", want[name]);
    }
}

#[test]
fn simulated_customers_give_back_their_parameters_within_their_standard_errors() {
    let truths = [
        (PurchaseModelKind::BgNbd, [0.5, 6.0, 0.7, 3.0]),
        (PurchaseModelKind::MbgNbd, [0.6, 5.0, 0.9, 2.5]),
        (PurchaseModelKind::ParetoNbd, [0.6, 8.0, 0.8, 10.0]),
    ];
    for (kind, truth) in truths {
        let model = PurchaseParams { kind, values: truth };
        let mut rng = SeededRng::new(20_261_203);
        let customers: Vec<RepeatSummary> = (0..8_000)
            .map(|_| {
                let t = 26.0 + (rng.below(27 * 7) as f64) / 7.0;
                simulate_customer(&mut rng, &model, t)
            })
            .collect();
        let fit = fit_purchase_model(kind, &customers, FitOptions::default()).unwrap();
        let se = fit.summary.standard_errors.clone().unwrap();
        for i in 0..4 {
            let z = (fit.params.values[i] - truth[i]) / se[i];
            // Four parameters per model, three models: |z| < 3.5 holds for all of them unless the
            // fit or the standard errors are wrong.
            assert!(
                z.abs() < 3.5,
                "{kind:?} {}: {} vs {} (se {})",
                kind.parameter_names()[i],
                fit.params.values[i],
                truth[i],
                se[i]
            );
        }
    }
}

#[test]
fn an_annual_rate_is_converted_to_the_unit_and_the_value_does_not_depend_on_the_unit() {
    // The trap (CLVTools #162): a rate meant per year applied per week discounts a year's value
    // away. 15% a year is about 0.27% a week.
    let settings = ValueSettings { annual_discount_rate: 0.15, horizon_months: 12, margin: 1.0 };
    let weekly = settings.convert(TimeUnit::Weeks);
    assert!(close(weekly.rate_per_unit, 1.15f64.powf(7.0 / 365.25) - 1.0, 1e-15));
    assert!((weekly.rate_per_unit - 0.002682).abs() < 1e-6, "{}", weekly.rate_per_unit);
    assert!(
        weekly.sentence.contains("0.2682% a week") && weekly.sentence.contains("not 15.00%"),
        "{}",
        weekly.sentence
    );
    let daily = settings.convert(TimeUnit::Days);
    assert!(close((1.0 + daily.rate_per_unit).powf(365.25), 1.15, 1e-12));

    let rows = cdnow_rows();
    let spec = |unit| ValueSpec {
        calibration_end: date("1997-09-30"),
        holdout_end: None,
        unit,
        model: PurchaseModelKind::BgNbd,
        settings,
        penalty: 0.0,
    };
    let by_week = value::analyse(&rows, "id", &spec(TimeUnit::Weeks), 0).unwrap();
    let by_day = value::analyse(&rows, "id", &spec(TimeUnit::Days), 0).unwrap();
    let total = |a: &value::ValueAnalysis| a.values.clv.iter().sum::<f64>();
    assert!(close(total(&by_week), total(&by_day), 1e-3), "{} vs {}", total(&by_week), total(&by_day));
    // 15% applied per week is an annual rate of about 1,466 (146,600%): refused as not an annual rate.
    let mistaken = ValueSettings { annual_discount_rate: (1.15f64).powf(365.25 / 7.0) - 1.0, ..settings };
    let wrong = value::analyse(&rows, "id", &ValueSpec { settings: mistaken, ..spec(TimeUnit::Weeks) }, 0);
    assert!(wrong.is_err(), "a rate of {} a year is refused as not an annual rate", mistaken.annual_discount_rate);
}
