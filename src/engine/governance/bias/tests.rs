//! The bias audit's statistics and rules against hand-computed values.

use super::*;

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300)
}

fn frame(groups: &[Option<&str>]) -> DataFrame {
    df!("group" => groups.to_vec()).unwrap()
}

fn names(k: usize) -> Vec<String> {
    (0..k).map(|s| format!("S{}", s + 1)).collect()
}

#[test]
fn disparate_impact_ratios_are_rates_over_the_highest_rate() {
    // A: 100 customers, 40 in S1; B: 100, 20 in S1; C: 50, 30 in S1.
    let mut groups = Vec::new();
    let mut segments = Vec::new();
    for (g, n, in_s1) in [("A", 100, 40), ("B", 100, 20), ("C", 50, 30)] {
        for i in 0..n {
            groups.push(Some(g));
            segments.push(Some(usize::from(i >= in_s1)));
        }
    }
    let customers = frame(&groups);
    let sensitive = vec!["group".to_string()];
    let audit = audit(&BiasInput {
        customers: &customers,
        segments: &segments,
        segment_names: &names(2),
        sensitive: &sensitive,
        features: &[],
        small_cells: 10,
    })
    .unwrap();
    let column = &audit.columns[0];
    assert_eq!(column.groups, ["A", "B", "C"]);
    let s1 = &column.segments[0];
    // Rates 0.4, 0.2, 0.6: the reference is C, ratios 0.4/0.6, 0.2/0.6, 1.
    assert_eq!(s1.reference, Some(2));
    let want = [0.4 / 0.6, 0.2 / 0.6, 1.0];
    for (got, want) in s1.ratios.iter().zip(want) {
        assert!(close(got.unwrap(), want, 1e-12), "{got:?} vs {want}");
    }
    // Shares of S1 (90 customers): 40/90, 20/90, 30/90.
    assert!(close(s1.shares[1].unwrap(), 20.0 / 90.0, 1e-12));
    // S2 against the rest: rates 0.6, 0.8, 0.4; reference B.
    let s2 = &column.segments[1];
    assert_eq!(s2.reference, Some(1));
    assert!(close(s2.ratios[2].unwrap(), 0.5, 1e-12));
    // Both A and B fall under 0.8 in S1 and the test is far from chance: flagged.
    assert!(s1.test.as_ref().unwrap().significant());
    assert_eq!(s1.flagged().collect::<Vec<_>>(), [0, 1]);
    // S2: rates 0.6, 0.8, 0.4; A at 0.75 and C at 0.5 fall under 0.8.
    assert_eq!(s2.flagged().collect::<Vec<_>>(), [0, 2]);
}

#[test]
fn the_flag_needs_both_signals() {
    assert_eq!(
        verdict(Some(0.5), Some(0.01)),
        Verdict { ratio_under: Some(true), significant: Some(true), flagged: true }
    );
    assert!(!verdict(Some(0.5), Some(0.2)).flagged, "under 0.8 but not significant");
    assert!(!verdict(Some(0.9), Some(0.001)).flagged, "significant but over 0.8");
    assert!(!verdict(Some(0.8), Some(0.001)).flagged, "exactly four fifths passes");
    assert_eq!(verdict(None, Some(0.001)), Verdict { ratio_under: None, significant: Some(true), flagged: false });
    assert_eq!(verdict(Some(0.1), None), Verdict { ratio_under: Some(true), significant: None, flagged: false });
}

#[test]
fn a_hidden_count_gives_no_rate_no_ratio_and_stays_out_of_the_test() {
    // D has 5 customers in all: its size is "<10", it gets no rate, and the tests leave it out.
    let mut groups = Vec::new();
    let mut segments = Vec::new();
    for (g, n, in_s1) in [("A", 60, 30), ("B", 60, 15), ("C", 80, 40), ("D", 5, 5), ("E", 100, 20)] {
        for i in 0..n {
            groups.push(Some(g));
            segments.push(Some(usize::from(i >= in_s1)));
        }
    }
    let customers = frame(&groups);
    let sensitive = vec!["group".to_string()];
    let audit = audit(&BiasInput {
        customers: &customers,
        segments: &segments,
        segment_names: &names(2),
        sensitive: &sensitive,
        features: &[],
        small_cells: 10,
    })
    .unwrap();
    let column = &audit.columns[0];
    assert_eq!(column.group_sizes[3], Cell::Small);
    // Its total hidden, another group's total is hidden with it so the sum cannot give it away,
    // and every count of a hidden total is hidden.
    assert_eq!(column.group_sizes.iter().filter(|c| c.count().is_none()).count(), 2);
    for (g, size) in column.group_sizes.iter().enumerate() {
        if size.count().is_none() {
            assert!(column.counts[g].iter().all(|c| c.count().is_none_or(|n| n == 0)), "{:?}", column.counts[g]);
            assert!(column.segments.iter().all(|s| s.rates[g].is_none() && s.ratios[g].is_none()));
        }
    }
    // A's total is hidden with D's; B's count in S1 is hidden with D's; C and E are tested.
    let s1 = &column.segments[0];
    assert_eq!(s1.left_out, [0, 1, 3]);
    assert_eq!(s1.test.as_ref().unwrap().chi_square.n, 180);
    assert_eq!(s1.rates[2], Some(0.5));
}

#[test]
fn degenerate_tables_say_why_and_never_give_nan() {
    assert_eq!(chi_square_independence(&[]), Err(Degenerate::NoCustomers));
    assert_eq!(chi_square_independence(&[vec![0, 0], vec![0, 0]]), Err(Degenerate::NoCustomers));
    assert_eq!(chi_square_independence(&[vec![3, 4], vec![0, 0]]), Err(Degenerate::OneRow));
    assert_eq!(chi_square_independence(&[vec![3, 0], vec![5, 0]]), Err(Degenerate::OneColumn));
    // Empty rows and columns are left out, not divided by.
    let t = chi_square_independence(&[vec![10, 0, 20], vec![0, 0, 0], vec![30, 0, 5]]).unwrap();
    assert_eq!(t.df, 1);
    assert!(t.statistic.is_finite() && t.p_value.is_finite());
    assert_eq!(fisher_exact([[0, 0], [3, 4]]), 1.0);
    assert_eq!(correlation_ratio(&[0, 0, 0], &[1.0, 2.0, 3.0]), None);
    assert_eq!(correlation_ratio(&[0, 1, 1], &[2.0, 2.0, 2.0]), None);

    // One segment, one group, an all-missing column: the audit says why, no NaN anywhere.
    let customers = df!("one" => ["a"; 20], "none" => [None::<&str>; 20]).unwrap();
    let segments = vec![Some(0); 20];
    let sensitive = vec!["one".to_string(), "none".to_string()];
    let audit = audit(&BiasInput {
        customers: &customers,
        segments: &segments,
        segment_names: &names(1),
        sensitive: &sensitive,
        features: &[],
        small_cells: 10,
    })
    .unwrap();
    let one = &audit.columns[0];
    assert_eq!(one.segments[0].test.as_ref().unwrap_err(), "fewer than two groups to compare");
    assert!(one.overall.is_err());
    assert!(one.notes[0].contains("one value only"), "{:?}", one.notes);
    let none = &audit.columns[1];
    assert_eq!(none.groups, [MISSING_GROUP]);
    assert!(none.notes[0].contains("every value"), "{:?}", none.notes);
    assert_eq!(none.segments[0].ratios, [Some(1.0)]);
}

#[test]
fn many_values_are_pooled_or_refused_and_numbers_with_few_values_are_groups() {
    let n = 2_000;
    let ids: Vec<String> = (0..n).map(|i| format!("id{i}")).collect();
    let codes: Vec<i64> = (0..n).map(|i| (i % 3) as i64 + 1).collect();
    let spend: Vec<f64> = (0..n).map(|i| i as f64 * 1.5).collect();
    let customers = df!("id" => ids, "code" => codes, "spend" => spend).unwrap();
    let segments: Vec<Option<usize>> = (0..n).map(|i| Some(i % 2)).collect();
    let sensitive = vec!["id".to_string(), "code".to_string(), "spend".to_string()];
    let audit = audit(&BiasInput {
        customers: &customers,
        segments: &segments,
        segment_names: &names(2),
        sensitive: &sensitive,
        features: &[],
        small_cells: 10,
    })
    .unwrap();
    let id = &audit.columns[0];
    assert_eq!(id.groups.len(), MAX_GROUPS);
    assert_eq!(id.groups.last().map(String::as_str), Some(OTHER_GROUP));
    assert!(id.notes[0].contains("2000 distinct values"), "{:?}", id.notes);
    let code = &audit.columns[1];
    assert_eq!(
        (code.kind, code.groups.clone()),
        (GroupingKind::NumericCodes, vec!["1".into(), "2".into(), "3".into()])
    );
    assert_eq!(audit.skipped[0].column, "spend");
    assert!(audit.skipped[0].why.contains("band it"), "{}", audit.skipped[0].why);
    // The intersection of the pooled ids and the codes has too many groups.
    assert_eq!(audit.skipped[1].column, "id x code");
}

#[test]
fn unknown_columns_and_no_columns_are_refused_in_words() {
    let customers = frame(&[Some("a")]);
    let segments = [Some(0)];
    let with = |sensitive: Vec<String>| {
        audit(&BiasInput {
            customers: &customers,
            segments: &segments,
            segment_names: &[],
            sensitive: &sensitive,
            features: &[],
            small_cells: 10,
        })
    };
    assert_eq!(with(Vec::new()), Err(BiasError::NoSensitiveColumns));
    let e = with(vec!["nope".to_string()]).unwrap_err();
    assert_eq!(e.to_string(), "column 'nope' is not in the customer table; columns are: group");
}

#[test]
fn proxies_find_a_feature_that_follows_the_groups() {
    let n = 300;
    let groups: Vec<&str> = (0..n).map(|i| if i % 2 == 0 { "x" } else { "y" }).collect();
    // spend depends on the group; noise does not; channel repeats the group.
    let spend: Vec<f64> = (0..n).map(|i| if i % 2 == 0 { 10.0 } else { 20.0 } + (i % 7) as f64).collect();
    let noise: Vec<f64> = (0..n).map(|i| ((i / 2) % 11) as f64).collect();
    let channel: Vec<&str> = (0..n).map(|i| if i % 2 == 0 { "web" } else { "shop" }).collect();
    let customers = df!("group" => groups, "spend" => spend, "noise" => noise, "channel" => channel).unwrap();
    let segments: Vec<Option<usize>> = (0..n).map(|i| Some(i % 3)).collect();
    let features = [
        FeatureSpec { column: "spend".into(), ..Default::default() },
        FeatureSpec { column: "noise".into(), ..Default::default() },
        FeatureSpec { column: "channel".into(), kind: FeatureKind::Categorical, ..Default::default() },
        FeatureSpec { column: "group".into(), kind: FeatureKind::Categorical, ..Default::default() },
    ];
    let sensitive = vec!["group".to_string()];
    let audit = audit(&BiasInput {
        customers: &customers,
        segments: &segments,
        segment_names: &names(3),
        sensitive: &sensitive,
        features: &features,
        small_cells: 10,
    })
    .unwrap();
    let proxies = &audit.columns[0].proxies;
    assert_eq!(proxies.len(), 3, "the column itself is no proxy of itself");
    assert!(proxies[0].value.clone().unwrap() > 0.8);
    assert!(proxies[1].value.clone().unwrap() < 0.05);
    assert_eq!(proxies[2].measure, ProxyMeasure::CramersV);
    assert!(close(proxies[2].value.clone().unwrap(), 1.0, 1e-12));
}

#[test]
fn intersections_are_audited_when_no_cell_is_small() {
    let n = 400;
    let a: Vec<&str> = (0..n).map(|i| if i % 2 == 0 { "a1" } else { "a2" }).collect();
    let b: Vec<&str> = (0..n).map(|i| if (i / 2) % 2 == 0 { "b1" } else { "b2" }).collect();
    let rare: Vec<&str> = (0..n).map(|i| if i < 3 { "r1" } else { "r2" }).collect();
    let customers = df!("a" => a, "b" => b, "rare" => rare).unwrap();
    let segments: Vec<Option<usize>> = (0..n).map(|i| Some(i % 5 % 2)).collect();
    let sensitive = vec!["a".to_string(), "b".to_string(), "rare".to_string()];
    let audit = audit(&BiasInput {
        customers: &customers,
        segments: &segments,
        segment_names: &names(2),
        sensitive: &sensitive,
        features: &[],
        small_cells: 10,
    })
    .unwrap();
    let names: Vec<&str> = audit.columns.iter().map(|c| c.column.as_str()).collect();
    assert_eq!(names, ["a", "b", "rare", "a x b"]);
    assert_eq!(audit.columns[3].groups, ["a1 x b1", "a1 x b2", "a2 x b1", "a2 x b2"]);
    assert_eq!(audit.columns[3].kind, GroupingKind::Intersection);
    let skipped: Vec<&str> = audit.skipped.iter().map(|s| s.column.as_str()).collect();
    assert_eq!(skipped, ["a x rare", "b x rare"]);
    assert!(audit.skipped[0].why.contains("fewer than 10 customers"), "{}", audit.skipped[0].why);
}

#[test]
fn fisher_matches_the_textbook_tea_tasting() {
    // scipy.stats.fisher_exact([[8, 2], [1, 5]]).pvalue and the lady tasting tea [[3, 1], [1, 3]].
    assert!(close(fisher_exact([[8, 2], [1, 5]]), 0.034965034965034975, 1e-12));
    assert!(close(fisher_exact([[3, 1], [1, 3]]), 0.48571428571428565, 1e-12));
}
