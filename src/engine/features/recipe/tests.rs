//! Tests of the parent module.

use super::*;

fn no_roles() -> HashMap<String, ColumnRole> {
    HashMap::new()
}

#[test]
fn zscore_matches_population_standardisation() {
    let frame = df!("x" => [1.0, 2.0, 3.0, 4.0]).unwrap();
    let recipe = FeatureRecipe { features: vec![FeatureSpec::numeric("x")] };
    let (_, m) = recipe.fit_transform(&frame, &no_roles()).unwrap();
    let sd = 1.25f64.sqrt();
    let expected = [-1.5 / sd, -0.5 / sd, 0.5 / sd, 1.5 / sd];
    for (a, b) in m.values.column(0).iter().zip(expected) {
        assert!((a - b).abs() < 1e-12);
    }
}

#[test]
fn log_of_negative_values_keeps_the_sign_and_says_so() {
    let frame = df!("refunds" => [-9.0, 0.0, 9.0]).unwrap();
    let spec = FeatureSpec { log1p: true, scaling: Scaling::None, ..FeatureSpec::numeric("refunds") };
    let (_, m) = FeatureRecipe { features: vec![spec] }.fit_transform(&frame, &no_roles()).unwrap();
    assert_eq!(m.values.column(0).to_vec(), vec![-(10f64.ln()), 0.0, 10f64.ln()]);
    assert!(m.warnings.iter().any(|w| w.contains("1 negative value(s) log-transformed")), "{:?}", m.warnings);
}

#[test]
fn robust_minmax_log_clip_and_weight() {
    let frame = df!("x" => [0.0, 1.0, 3.0, 7.0, 1000.0]).unwrap();
    let spec = FeatureSpec {
        column: "x".into(),
        clip_percentiles: Some((0.0, 75.0)),
        log1p: true,
        scaling: Scaling::MinMax,
        weight: 2.0,
        ..FeatureSpec::default()
    };
    let (fitted, m) = FeatureRecipe { features: vec![spec] }.fit_transform(&frame, &no_roles()).unwrap();
    // Clipped at the 75th percentile (7), logged: ln(8) is the max, 0 the min.
    let got: Vec<f64> = m.values.column(0).to_vec();
    let max = 8f64.ln();
    let expected = [0.0, 2f64.ln() / max * 2.0, 4f64.ln() / max * 2.0, 2.0, 2.0];
    for (a, b) in got.iter().zip(expected) {
        assert!((a - b).abs() < 1e-12, "{got:?}");
    }
    // Applying the fitted recipe to new data uses the learned bounds, not new ones.
    let new = df!("x" => [3.0, 5000.0]).unwrap();
    let again = fitted.transform(&new).unwrap();
    assert!((again.values[[1, 0]] - 2.0).abs() < 1e-12);

    let robust = FeatureSpec { column: "x".into(), scaling: Scaling::Robust, ..FeatureSpec::default() };
    let (_, r) = FeatureRecipe { features: vec![robust] }.fit_transform(&frame, &no_roles()).unwrap();
    // median 3, IQR 7 - 1 = 6
    assert!((r.values[[4, 0]] - (1000.0 - 3.0) / 6.0).abs() < 1e-12);
}

#[test]
fn missing_rules_impute_drop_and_fallback() {
    let frame = df!("x" => [Some(1.0), None, Some(3.0), Some(f64::NAN)], "y" => [1.0, 2.0, 3.0, 4.0]).unwrap();
    let with = |missing| FeatureRecipe {
        features: vec![
            FeatureSpec { missing, scaling: Scaling::None, ..FeatureSpec::numeric("x") },
            FeatureSpec::numeric("y"),
        ],
    };
    let (_, m) = with(MissingRule::ImputeMedian).fit_transform(&frame, &no_roles()).unwrap();
    assert_eq!(m.values.column(0).to_vec(), vec![1.0, 2.0, 3.0, 2.0]);
    let (_, m) = with(MissingRule::ImputeConstant(-1.0)).fit_transform(&frame, &no_roles()).unwrap();
    assert_eq!(m.values.column(0).to_vec(), vec![1.0, -1.0, 3.0, -1.0]);
    let (_, m) = with(MissingRule::DropRows).fit_transform(&frame, &no_roles()).unwrap();
    assert_eq!((m.kept_rows.clone(), m.dropped_rows.clone()), (vec![0, 2], vec![1, 3]));
    let (_, m) = with(MissingRule::FallbackSegment).fit_transform(&frame, &no_roles()).unwrap();
    assert_eq!(m.fallback_rows, vec![1, 3]);
    assert!(m.values.iter().all(|v| v.is_finite()));
}

#[test]
fn constant_and_all_missing_columns_are_excluded_with_warnings() {
    let frame = df!("c" => [5.0, 5.0, 5.0], "m" => [None::<f64>, None, None], "x" => [1.0, 2.0, 4.0]).unwrap();
    let recipe = FeatureRecipe {
        features: vec![FeatureSpec::numeric("c"), FeatureSpec::numeric("m"), FeatureSpec::numeric("x")],
    };
    let (fitted, m) = recipe.fit_transform(&frame, &no_roles()).unwrap();
    assert_eq!(fitted.output_names(), vec!["x"]);
    assert_eq!(m.warnings.len(), 2, "{:?}", m.warnings);
    assert!(m.values.iter().all(|v| v.is_finite()));
}

#[test]
fn no_usable_feature_and_no_rows_left_are_errors() {
    let frame = df!("c" => [5.0, 5.0], "x" => [None::<f64>, Some(1.0)], "y" => [1.0, 2.0]).unwrap();
    let only_constant = FeatureRecipe { features: vec![FeatureSpec::numeric("c")] };
    assert!(matches!(only_constant.fit_transform(&frame, &no_roles()), Err(FeatureError::NoUsableFeature { .. })));
    assert!(matches!(
        FeatureRecipe::default().fit_transform(&frame, &no_roles()),
        Err(FeatureError::NoUsableFeature { .. })
    ));
    let frame = df!("x" => [None::<f64>, None, Some(1.0), Some(2.0)], "y" => [None::<f64>, Some(1.0), None, Some(3.0)])
        .unwrap();
    let drop = |c: &str| FeatureSpec { missing: MissingRule::DropRows, ..FeatureSpec::numeric(c) };
    let fitted = FeatureRecipe { features: vec![drop("x"), drop("y")] };
    let (f, m) = fitted.fit_transform(&frame, &no_roles()).unwrap();
    assert_eq!(m.kept_rows, vec![3]);
    let all_missing = df!("x" => [None::<f64>], "y" => [Some(1.0)]).unwrap();
    assert!(matches!(f.transform(&all_missing), Err(FeatureError::NoRowsLeft)));
}

#[test]
fn sensitive_columns_need_an_explicit_override() {
    let frame = df!("age" => [20.0, 30.0, 40.0]).unwrap();
    let roles = HashMap::from([("age".to_string(), ColumnRole::Sensitive)]);
    let plain = FeatureRecipe { features: vec![FeatureSpec::numeric("age")] };
    assert!(matches!(plain.fit_transform(&frame, &roles), Err(FeatureError::SensitiveFeature { .. })));
    let allowed =
        FeatureRecipe { features: vec![FeatureSpec { allow_sensitive: true, ..FeatureSpec::numeric("age") }] };
    let (_, m) = allowed.fit_transform(&frame, &roles).unwrap();
    assert!(m.warnings.iter().any(|w| w.contains("explicit override")));
}

#[test]
fn categoricals_are_one_hot_encoded() {
    let frame = df!("region" => [Some("N"), Some("S"), None, Some("N")]).unwrap();
    let spec = FeatureSpec {
        column: "region".into(),
        kind: FeatureKind::Categorical,
        missing: MissingRule::ImputeConstant(0.0),
        ..FeatureSpec::default()
    };
    let (fitted, m) = FeatureRecipe { features: vec![spec] }.fit_transform(&frame, &no_roles()).unwrap();
    assert_eq!(fitted.output_names(), vec!["region=N", "region=S", "region=(missing)"]);
    assert_eq!(m.values.row(2).to_vec(), vec![0.0, 0.0, 1.0]);
    assert_eq!(m.values.row(3).to_vec(), vec![1.0, 0.0, 0.0]);
}

/// The parameters as they were learned before the fit stopped sorting twice: every value imputed,
/// clipped and logged in row order, then sorted.
fn reference_parameters(spec: &FeatureSpec, values: &[Option<f64>]) -> (f64, f64) {
    let mut observed: Vec<f64> = values.iter().flatten().copied().collect();
    observed.sort_by(f64::total_cmp);
    let impute_value = match spec.missing {
        MissingRule::ImputeMedian => Some(quantile_sorted(&observed, 0.5)),
        MissingRule::ImputeMean => Some(observed.iter().sum::<f64>() / observed.len() as f64),
        MissingRule::ImputeMode => Some(mode_f64(&observed)),
        MissingRule::ImputeConstant(v) => Some(v),
        MissingRule::DropRows | MissingRule::FallbackSegment => None,
    };
    let clip = spec
        .clip_percentiles
        .map(|(lo, hi)| (quantile_sorted(&observed, lo / 100.0), quantile_sorted(&observed, hi / 100.0)));
    let mut prepared: Vec<f64> =
        values.iter().filter_map(|v| v.or(impute_value)).map(|x| prepare(x, clip, spec.log1p)).collect();
    prepared.sort_by(f64::total_cmp);
    let n = prepared.len() as f64;
    let (center, spread) = match spec.scaling {
        Scaling::ZScore => {
            let mean = prepared.iter().sum::<f64>() / n;
            (mean, (prepared.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt())
        }
        Scaling::Robust => {
            let median = quantile_sorted(&prepared, 0.5);
            (median, quantile_sorted(&prepared, 0.75) - quantile_sorted(&prepared, 0.25))
        }
        Scaling::MinMax => (prepared[0], prepared[prepared.len() - 1] - prepared[0]),
        Scaling::None => (0.0, 1.0),
    };
    (center, if spread > 0.0 { spread } else { 1.0 })
}

#[test]
fn parameters_are_learned_bit_for_bit_as_when_every_prepared_value_was_sorted() {
    let mut rng = crate::engine::rng::SeededRng::new(3);
    // Skewed values with ties, negatives, both zeros and gaps, as customer tables have them.
    let values: Vec<Option<f64>> = (0..20_000)
        .map(|i| match i % 17 {
            0 => None,
            1 => Some(-0.0),
            2 => Some(0.0),
            _ => Some(((rng.next_f64() - 0.2) * 50.0).powi(3).round() / 7.0),
        })
        .collect();
    let missing_rules = [
        MissingRule::ImputeMedian,
        MissingRule::ImputeMean,
        MissingRule::ImputeMode,
        MissingRule::ImputeConstant(-3.5),
        MissingRule::ImputeConstant(1e9),
        MissingRule::DropRows,
    ];
    for missing in missing_rules {
        for clip_percentiles in [None, Some((1.0, 99.0)), Some((10.0, 60.0))] {
            for log1p in [false, true] {
                for scaling in [Scaling::ZScore, Scaling::Robust, Scaling::MinMax, Scaling::None] {
                    let spec = FeatureSpec { missing, clip_percentiles, log1p, scaling, ..FeatureSpec::numeric("x") };
                    let Ok(fitted) = fit_numeric(&spec, &values) else { panic!("{spec:?} refused") };
                    let (center, scale) = reference_parameters(&spec, &values);
                    assert_eq!(
                        (fitted.center.to_bits(), fitted.scale.to_bits()),
                        (center.to_bits(), scale.to_bits()),
                        "{missing:?} {clip_percentiles:?} log1p {log1p} {scaling:?}"
                    );
                }
            }
        }
    }
}
