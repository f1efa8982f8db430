//! The report's sections, in order: each returns its HTML, or `None` when the project has nothing
//! for it. Text from the project goes through [`escape`] before it reaches the page.

use super::{MAX_TABLE_ROWS, PAGE_ROWS, ReportCharts, ReportInputs, escape, figure, small_count};
use crate::engine::chart::{self, ChartError};
use crate::engine::cluster::describe::Kind;
use crate::engine::governance::suppress::Sizes;
use crate::engine::swot::SegmentRef;
use crate::engine::words::thousands;

type Section = fn(&ReportInputs, &ReportCharts) -> Result<Option<String>, ChartError>;

/// The sections: anchor, heading, builder.
pub(super) const SECTIONS: [(&str, &str, Section); 10] = [
    ("data", "The data and how it was prepared", data),
    ("k-choice", "Choosing k", k_choice),
    ("segments", "Segments", segments),
    ("over-time", "Segments over time", over_time),
    ("value", "What each segment is worth", value),
    ("rules", "Business rules, overrides and the audit log", rules),
    ("swot", "SWOT board and TOWS strategies", swot),
    ("presentation", "The presentation's steps", presentation),
    ("assumptions", "Assumptions: what the numbers depend on", assumptions),
    ("warnings", "Warnings of the run", warnings),
];

/// A table: `headers` (plain text) and rows of cells that are HTML already (escaped by the caller);
/// past [`PAGE_ROWS`] rows the rest is folded in pages, and past [`MAX_TABLE_ROWS`] a note says
/// how many rows were left out.
fn table(headers: &[&str], rows: &[Vec<String>], numeric: &[usize]) -> String {
    let head: String = headers.iter().map(|h| format!("<th>{}</th>", escape(h))).collect();
    let row_html = |row: &Vec<String>| {
        let cells: String = row
            .iter()
            .enumerate()
            .map(
                |(j, c)| {
                    if numeric.contains(&j) { format!("<td class=\"num\">{c}</td>") } else { format!("<td>{c}</td>") }
                },
            )
            .collect();
        format!("<tr>{cells}</tr>\n")
    };
    let shown = &rows[..rows.len().min(MAX_TABLE_ROWS)];
    let mut out = String::new();
    for (page, chunk) in shown.chunks(PAGE_ROWS).enumerate() {
        let body: String = chunk.iter().map(row_html).collect();
        // A table of facts (label, value) has no header row.
        let thead = if headers.iter().all(|h| h.is_empty()) {
            String::new()
        } else {
            format!("<thead><tr>{head}</tr></thead>")
        };
        let table = format!("<table>{thead}<tbody>\n{body}</tbody></table>\n");
        if page == 0 {
            out.push_str(&table);
        } else {
            let first = page * PAGE_ROWS + 1;
            let last = first + chunk.len() - 1;
            out.push_str(&format!("<details><summary>Rows {first} to {last}</summary>{table}</details>\n"));
        }
    }
    if rows.len() > shown.len() {
        out.push_str(&format!(
            "<p class=\"weak\">The first {} of {} rows are shown; the project file holds them all.</p>\n",
            thousands(shown.len()),
            thousands(rows.len())
        ));
    }
    out
}

fn paragraph(text: &str) -> String {
    format!("<p>{}</p>\n", escape(text))
}

fn data(inputs: &ReportInputs, _: &ReportCharts) -> Result<Option<String>, ChartError> {
    use crate::engine::pipeline::{DataSource, TableKind};
    let spec = &inputs.project.spec;
    let result = inputs.result;
    let mut out = String::new();
    let mut sources = Vec::new();
    let describe = |source: &DataSource| match source {
        DataSource::File(path) => escape(path),
        DataSource::DemoTransactions => "CDNOW transaction log built into Strata".to_string(),
        DataSource::DemoAttributes => "synthetic demo attributes built into Strata (not CDNOW data)".to_string(),
    };
    let fingerprint =
        |f: &Option<String>| f.as_deref().map_or_else(|| "-".to_string(), |f| format!("<code>{}</code>", escape(f)));
    let table_kind = match &spec.table {
        TableKind::TransactionLog(_) => "transaction log",
        TableKind::CustomerTable { .. } => "customer table",
    };
    sources.push(vec![table_kind.to_string(), describe(&spec.source.source), fingerprint(&spec.source.fingerprint)]);
    if let Some(attributes) = &spec.attributes {
        sources.push(vec!["attributes".into(), describe(&attributes.source), fingerprint(&attributes.fingerprint)]);
    }
    for lookup in &spec.derived.lookups {
        sources.push(vec![
            format!("lookup on {}", escape(&lookup.on.join(", "))),
            escape(&lookup.path),
            fingerprint(&lookup.fingerprint),
        ]);
    }
    out.push_str("<h3>Sources</h3>\n");
    out.push_str(&table(&["What", "Source", "Fingerprint (blake3 of the bytes)"], &sources, &[]));
    let mut facts = Vec::new();
    if let TableKind::TransactionLog(columns) = &spec.table {
        facts.push(vec![
            "Columns".into(),
            escape(&format!(
                "customer id '{}', date '{}', amount {}",
                columns.customer_id,
                columns.date,
                columns.amount.as_deref().map_or_else(|| "none".to_string(), |a| format!("'{a}'"))
            )),
        ]);
    }
    let as_of = result.as_of.map_or_else(|| "not a transaction log".to_string(), |d| d.format("%Y-%m-%d").to_string());
    facts.push(vec!["As-of date".into(), escape(&as_of)]);
    facts.push(vec!["Customers".into(), thousands(result.customers.height())]);
    // The fallback segment is a segment: shown as the segments' sizes show it, and the customers
    // fitted on with it (they would give it away by subtraction).
    let sizes = Sizes::new(&chart::segment_sizes(result), inputs.project.governance.small_cells);
    let fallback = result.fit.k();
    let fallback_shown = result.matrix.fallback_rows.is_empty() || sizes.cell(fallback).is_shown();
    let fitted = if fallback_shown { thousands(result.matrix.kept_rows.len()) } else { "hidden".to_string() };
    facts.push(vec!["Customers the model was fitted on".into(), fitted]);
    if !result.matrix.fallback_rows.is_empty() {
        facts.push(vec!["Customers in the fallback segment (missing data)".into(), sizes.words(fallback)]);
    }
    if let Some(join) = &result.join {
        facts.push(vec!["Attributes joined".into(), format!("{:.1}% of customers matched", join.match_rate() * 100.0)]);
    }
    out.push_str(&table(&["", ""], &facts, &[]));
    // Data minimisation: what was loaded and is used by nothing.
    let unused = crate::engine::project::minimise::unused_in(inputs.project, result);
    let minimising = inputs.project.governance.minimise;
    out.push_str(&paragraph(&match (unused.is_empty(), minimising) {
        (true, _) => "Every loaded column is used: by a feature, a rule, the id, the value or the audit.".to_string(),
        (false, true) => format!(
            "Loaded but unused, and kept out of everything Strata stores and exports (data minimisation is on): {}.",
            unused.join(", ")
        ),
        (false, false) => format!(
            "Loaded but unused: {} (data minimisation, on the Data screen, keeps such columns out of everything \
             Strata stores and exports).",
            unused.join(", ")
        ),
    }));
    if !spec.derived.columns.is_empty() {
        out.push_str("<h3>Derived columns</h3>\n");
        let rows: Vec<Vec<String>> = spec
            .derived
            .columns
            .iter()
            .map(|c| vec![escape(&c.name), format!("<code>{}</code>", escape(&c.expression))])
            .collect();
        out.push_str(&table(&["Column", "Expression"], &rows, &[]));
    }
    out.push_str("<h3>Feature recipe</h3>\n");
    let rows: Vec<Vec<String>> = spec
        .recipe
        .features
        .iter()
        .map(|f| {
            vec![
                escape(&f.column),
                format!("{:?}", f.kind).to_lowercase(),
                escape(&format!("{:?}", f.missing)),
                f.clip_percentiles.map_or_else(|| "-".into(), |(lo, hi)| format!("{lo} to {hi}")),
                if f.log1p { "yes".into() } else { "no".into() },
                escape(&format!("{:?}", f.scaling)),
                format!("{}", f.weight),
            ]
        })
        .collect();
    out.push_str(&table(
        &["Feature", "Kind", "Missing values", "Clip (percentiles)", "ln(1 + x)", "Scaling", "Weight"],
        &rows,
        &[6],
    ));
    out.push_str("<h3>Model and settings</h3>\n");
    let algorithm = &spec.model.algorithm;
    let mut model = vec![vec!["Method".into(), escape(algorithm.label())]];
    if let Some(k) = algorithm.k() {
        model.push(vec!["k".into(), k.to_string()]);
    }
    model.push(vec!["Segments found".into(), result.fit.k().to_string()]);
    if let Some((lo, hi)) = spec.model.k_range {
        model.push(vec!["k range swept".into(), format!("{lo} to {hi}")]);
    }
    model.push(vec!["Seed".into(), algorithm.seed().to_string()]);
    if let Ok(serde_json::Value::Object(outer)) = serde_json::to_value(algorithm) {
        for inner in outer.values() {
            if let serde_json::Value::Object(settings) = inner {
                let mut text: Vec<String> = settings.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                // A choice the file leaves out has its stated meaning (k-means without a kernel is
                // kernel 1, Lloyd): said, so a reviewer sees which arithmetic the fit used.
                for setting in algorithm.info().settings {
                    if let Kind::Choice { field, absent: Some(meaning), .. } = setting.kind
                        && !settings.contains_key(field)
                    {
                        text.push(format!("{field} = \"{meaning}\" (not stored: the default for this file)"));
                    }
                }
                model.push(vec!["Settings".into(), escape(&text.join(", "))]);
            }
        }
    }
    model.push(vec![
        "Assignment fingerprint".into(),
        format!("<code>{}</code>", escape(&result.assignment_fingerprint)),
    ]);
    out.push_str(&table(&["", ""], &model, &[]));
    out.push_str("<h3>Software</h3>\n");
    let producer = &inputs.project.producer;
    let now = crate::engine::project::Producer::current();
    let rows = vec![
        vec!["Strata".into(), escape(&producer.strata), escape(&now.strata)],
        vec!["polars".into(), escape(&producer.polars), escape(&now.polars)],
        vec!["ndarray".into(), escape(&producer.ndarray), escape(&now.ndarray)],
        vec!["rayon".into(), escape(&producer.rayon), escape(&now.rayon)],
    ];
    out.push_str(&table(&["Component", "Wrote the project", "Wrote this report"], &rows, &[]));
    Ok(Some(out))
}

fn k_choice(inputs: &ReportInputs, charts: &ReportCharts) -> Result<Option<String>, ChartError> {
    let Some(sweep) = &inputs.result.sweep else {
        return Ok(Some(paragraph("This run tried one k only, so there is no k choice to show.")));
    };
    let mut out = paragraph(&sweep.reason);
    let chosen = inputs.result.fit.k();
    out.push_str(&paragraph(&format!(
        "Chosen: k = {chosen}{}{}.",
        sweep.suggested_k.map_or_else(String::new, |k| format!("; suggested: k = {k}")),
        sweep.knee_k.map_or_else(String::new, |k| format!("; knee of the elbow: k = {k}"))
    )));
    out.push_str("<div class=\"charts\">\n");
    for name in ["elbow", "silhouette", "calinski-harabasz", "davies-bouldin", "bic-aic"] {
        if let Some(c) = charts.chart(inputs, name) {
            out.push_str(&figure(&c)?);
        }
    }
    out.push_str("</div>\n");
    let value = |v: Option<f64>| v.map_or_else(|| "-".into(), chart::format_value);
    let mixture = sweep.runs.iter().any(|r| r.bic.is_some());
    let rows: Vec<Vec<String>> = sweep
        .runs
        .iter()
        .map(|r| {
            let mut row = vec![
                r.k.to_string(),
                chart::format_value(r.inertia),
                value(r.silhouette),
                value(r.calinski_harabasz),
                value(r.davies_bouldin),
                r.sizes.iter().min().map_or_else(|| "-".into(), |n| small_count(inputs, *n)),
            ];
            if mixture {
                row.push(value(r.bic));
                row.push(value(r.aic));
            }
            row
        })
        .collect();
    let mut headers = vec!["k", "Inertia", "Silhouette", "Calinski-Harabasz", "Davies-Bouldin", "Smallest segment"];
    if mixture {
        headers.extend(["BIC", "AIC"]);
    }
    let numeric: Vec<usize> = (0..headers.len()).collect();
    out.push_str(&table(&headers, &rows, &numeric));
    Ok(Some(out))
}

/// A segment's distinguishing features in words: the features whose mean sits furthest from
/// everyone's (at least a quarter of a population SD), largest first.
pub fn features_in_words(columns: &[String], distance_sd: &[f64], means: &[f64], population: &[f64]) -> Vec<String> {
    let mut order: Vec<usize> = (0..columns.len().min(distance_sd.len()))
        .filter(|&j| distance_sd[j].is_finite() && distance_sd[j].abs() >= crate::engine::profile::DISTINCT_SD)
        .collect();
    order.sort_by(|&a, &b| distance_sd[b].abs().total_cmp(&distance_sd[a].abs()).then(a.cmp(&b)));
    order
        .into_iter()
        .take(3)
        .map(|j| {
            let d = distance_sd[j];
            format!(
                "{}: {:.2} SD {} everyone's (mean {} against {})",
                columns[j],
                d.abs(),
                if d > 0.0 { "above" } else { "below" },
                means.get(j).map_or_else(|| "-".into(), |m| chart::format_value(*m)),
                population.get(j).map_or_else(|| "-".into(), |m| chart::format_value(*m)),
            )
        })
        .collect()
}

fn segments(inputs: &ReportInputs, charts: &ReportCharts) -> Result<Option<String>, ChartError> {
    let result = inputs.result;
    let summary = inputs.summary;
    let mut out = String::from("<div class=\"charts\">\n");
    for name in ["segment-sizes", "projection"] {
        if let Some(c) = charts.chart(inputs, name) {
            out.push_str(&figure(&c)?);
        }
    }
    out.push_str("</div>\n");
    if let Some(c) = charts.chart(inputs, "profile-heat") {
        out.push_str(&figure(&c)?);
    }
    let sizes = chart::segment_sizes(result);
    let threshold = inputs.project.governance.small_cells;
    let shown = Sizes::new(&sizes, threshold);
    for (s, &size) in sizes.iter().enumerate() {
        if size == 0 && s >= result.fit.k() {
            continue;
        }
        let colour = charts.colours.of(s).css();
        let name = charts.names.get(s).cloned().unwrap_or_else(|| result.default_segment_name(s));
        let share = shown.share(s).map_or_else(|| "-".to_string(), |share| format!("{:.1}%", share * 100.0));
        out.push_str(&format!(
            "<div class=\"card\" style=\"border-left-color: {colour}\" id=\"segment-{}\">\n<h3><span class=\"swatch\" style=\"background: {colour}\"></span>{}</h3>\n",
            s + 1,
            escape(&name)
        ));
        out.push_str(&format!(
            "<p><b>{}</b> customers, <b>{share}</b> of those in segments. Segment {}.</p>\n",
            shown.words(s),
            s + 1
        ));
        if let Some(note) = inputs.project.segments.iter().find(|n| n.segment == s).filter(|n| !n.notes.is_empty()) {
            out.push_str(&format!("<p><i>Notes:</i> {}</p>\n", escape(&note.notes)));
        }
        let profile = summary.profiles.iter().find(|p| p.segment == s);
        let distances = summary.distance_sd.get(s);
        if shown.is_small(s) {
            out.push_str(&format!(
                "<p class=\"weak\">Fewer than {threshold} customers: the profile is not shown.</p>\n"
            ));
        } else if let (Some(profile), Some(distances)) = (profile, distances) {
            let words = features_in_words(&summary.columns, distances, &profile.means, &summary.population_means);
            if words.is_empty() {
                out.push_str("<p>No feature's mean sits a quarter of an SD or more from everyone's.</p>\n");
            } else {
                let items: String = words.iter().map(|w| format!("<li>{}</li>", escape(w))).collect();
                out.push_str(&format!("<p>What sets it apart:</p><ul>{items}</ul>\n"));
            }
            let suggested = crate::engine::profile::suggest_name(&summary.columns, distances);
            out.push_str(&format!("<p class=\"weak\">Suggested name from its features: {}</p>\n", escape(&suggested)));
            {
                let rows: Vec<Vec<String>> = summary
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(j, column)| {
                        vec![
                            escape(column),
                            profile.means.get(j).map_or_else(|| "-".into(), |m| chart::format_value(*m)),
                            profile.medians.get(j).map_or_else(|| "-".into(), |m| chart::format_value(*m)),
                            summary.population_means.get(j).map_or_else(|| "-".into(), |m| chart::format_value(*m)),
                            distances.get(j).map_or_else(|| "-".into(), |d| format!("{d:+.2}")),
                        ]
                    })
                    .collect();
                out.push_str(&table(
                    &["Feature", "Mean", "Median", "Everyone's mean", "SD from everyone's"],
                    &rows,
                    &[1, 2, 3, 4],
                ));
            }
        }
        out.push_str("</div>\n");
    }
    Ok(Some(out))
}

fn over_time(inputs: &ReportInputs, charts: &ReportCharts) -> Result<Option<String>, ChartError> {
    let Some(windows) = inputs.over_time else { return Ok(None) };
    let mut out = String::new();
    if let Some(c) = charts.chart(inputs, "sizes-over-time") {
        out.push_str(&figure(&c)?);
    }
    let threshold = inputs.project.governance.small_cells;
    let mut headers = vec!["Window".to_string(), "Customers".to_string()];
    headers.extend(charts.over_time_names.iter().cloned());
    headers.push("Without a segment".to_string());
    let rows: Vec<Vec<String>> = windows
        .windows
        .iter()
        .map(|w| {
            let shown = w.sizes_shown(threshold);
            let mut row =
                vec![format!("{} to {}", w.start.format("%Y-%m-%d"), w.end.format("%Y-%m-%d")), shown.total_words()];
            row.extend((0..shown.counts.len()).map(|i| shown.words(i)));
            row
        })
        .collect();
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let numeric: Vec<usize> = (1..headers.len()).collect();
    out.push_str(&table(&header_refs, &rows, &numeric));
    for t in &windows.transitions {
        let stayed = match t.stayed_shown(threshold) {
            Some(stayed) => {
                format!("{:.1}% of the customers present in both stayed in the same segment", stayed * 100.0)
            }
            None => format!("the share who stayed in the same segment is not shown (a count under {threshold})"),
        };
        out.push_str(&paragraph(&format!("From window {} to window {}: {stayed}.", t.from + 1, t.to + 1)));
    }
    Ok(Some(out))
}

/// Value per segment from the value models, with every assumption it rests on, the fit and how it
/// did on the holdout; `None` when the project asks for no customer value.
fn value(inputs: &ReportInputs, charts: &ReportCharts) -> Result<Option<String>, ChartError> {
    let (Some(analysis), Some(segments)) = (inputs.result.value.as_ref(), inputs.summary.value_segments.as_ref())
    else {
        return Ok(None);
    };
    let spec = &analysis.spec;
    let chosen = analysis.chosen();
    let mut out = paragraph(&format!(
        "Each customer's value is the spend the {} and Gamma-Gamma models expect over the next {} month(s) after {}, \
         discounted at {}% a year and taken at a margin of {}%. The figure per segment is the median over {} draws \
         of the models' parameters, with the 10th to 90th percentile of those draws as its band.",
        spec.model.label(),
        spec.settings.horizon_months,
        spec.calibration_end,
        spec.settings.annual_discount_rate * 100.0,
        spec.settings.margin * 100.0,
        crate::engine::value::clv::N_DRAWS
    ));
    out.push_str(&paragraph(&analysis.conversion.sentence));
    let threshold = inputs.project.governance.small_cells;
    let money = |v: f64| if v.is_finite() { format!("{v:.2}") } else { "-".to_string() };
    let percent = crate::engine::swot::evidence::percent;
    let rows: Vec<Vec<String>> = segments
        .iter()
        .filter(|s| s.n_customers > 0)
        .map(|s| {
            let name = escape(&name_of(charts, s.segment));
            if s.n_customers < threshold {
                let mut row = vec![name, format!("&lt;{threshold}")];
                row.extend(std::iter::repeat_n("-".to_string(), 9));
                return row;
            }
            vec![
                name,
                thousands(s.n_customers),
                crate::engine::words::thousands_f64(s.revenue),
                percent(s.revenue_share),
                money(s.average_order_value),
                format!("{:.3}", s.orders_per_month),
                money(s.value_per_customer_median),
                format!("{} - {}", money(s.value_per_customer_p10), money(s.value_per_customer_p90)),
                crate::engine::words::thousands_f64(s.total_value),
                percent(s.value_share),
                format!("{:.3}", s.p_alive),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "Segment",
            "Customers",
            "Revenue",
            "Revenue share",
            "Average order",
            "Orders a month",
            "Value per customer",
            "10-90% band",
            "Total value",
            "Value share",
            "P(alive)",
        ],
        &rows,
        &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    ));
    let words = |names: &[String], estimates: &[f64]| {
        names.iter().zip(estimates).map(|(n, v)| format!("{n} = {v:.4}")).collect::<Vec<_>>().join(", ")
    };
    out.push_str(&paragraph(&format!(
        "{} fitted on {} customers ({} with a repeat purchase) from {} to {} in {}: {}; log-likelihood {:.2}. \
         Gamma-Gamma: {}.{}",
        spec.model.label(),
        thousands(analysis.summary.len()),
        thousands(analysis.summary.n_repeat_customers()),
        analysis.summary.log_start,
        spec.calibration_end,
        spec.unit.plural(),
        words(&chosen.summary.names, &chosen.summary.estimates),
        chosen.summary.log_likelihood,
        words(&analysis.spend.summary.names, &analysis.spend.summary.estimates),
        if spec.penalty > 0.0 { format!(" A penalty of {} was used.", spec.penalty) } else { String::new() }
    )));
    for issue in analysis.fit_issues() {
        out.push_str(&format!("<p><b>Doubt about the fit:</b> {}</p>\n", escape(&issue)));
    }
    if let Some(holdout) = analysis.chosen_holdout() {
        let items: String = holdout.verdict.iter().map(|v| format!("<li>{}</li>", escape(v))).collect();
        out.push_str(&format!(
            "<p>On the holdout period (to {}), the model predicted {:.0} repeat purchases against {:.0} made:</p><ul>{items}</ul>\n",
            spec.holdout_end.map(|d| d.to_string()).unwrap_or_default(),
            holdout.total_predicted,
            holdout.total_actual
        ));
    }
    if !analysis.comparison_reasons.is_empty() {
        let items: String = analysis.comparison_reasons.iter().map(|r| format!("<li>{}</li>", escape(r))).collect();
        out.push_str(&format!("<p>Choosing among the models:</p><ul>{items}</ul>\n"));
    }
    out.push_str(&format!("<p class=\"weak small\">{}</p>\n", escape(crate::engine::value::DATA_CONTRACT)));
    Ok(Some(out))
}

fn rules(inputs: &ReportInputs, _: &ReportCharts) -> Result<Option<String>, ChartError> {
    let project = inputs.project;
    if project.rules.is_empty() && project.audit.is_empty() {
        return Ok(Some(paragraph(
            "The project has no business rules or overrides: every customer is in the segment the model gave.",
        )));
    }
    let outcome = inputs.result.rules.as_ref();
    let mut out = String::new();
    if !project.rules.rules.is_empty() {
        out.push_str("<h3>Rules, applied in order</h3>\n");
        let rows: Vec<Vec<String>> = project
            .rules
            .rules
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                let effect = outcome.and_then(|o| o.rules.get(i));
                vec![
                    (i + 1).to_string(),
                    format!("<code>{}</code>", escape(&rule.text)),
                    escape(&rule.why),
                    effect.map_or_else(|| "-".into(), |e| small_count(inputs, e.matched)),
                    effect.map_or_else(|| "-".into(), |e| small_count(inputs, e.changed)),
                    effect.map_or_else(String::new, |e| match &e.error {
                        Some(error) => format!("not applied: {}", escape(error)),
                        None => escape(&e.resolved),
                    }),
                ]
            })
            .collect();
        out.push_str(&table(&["#", "Rule", "Why", "Matched", "Moved", "As applied"], &rows, &[0, 3, 4]));
    }
    if !project.rules.overrides.is_empty() {
        out.push_str("<h3>Overrides</h3>\n");
        let rows: Vec<Vec<String>> = project
            .rules
            .overrides
            .iter()
            .map(|o| vec![escape(&o.customer), escape(&o.segment), escape(&o.why)])
            .collect();
        out.push_str(&table(&["Customer", "Segment", "Why"], &rows, &[]));
    }
    if !project.audit.is_empty() {
        out.push_str("<h3>Audit log</h3>\n");
        let rows: Vec<Vec<String>> = project
            .audit
            .iter()
            .map(|a| {
                vec![
                    escape(&a.when),
                    escape(&a.who),
                    escape(&a.what),
                    escape(&a.why),
                    a.customers.map_or_else(|| "-".into(), |n| small_count(inputs, n)),
                ]
            })
            .collect();
        out.push_str(&table(&["When (UTC)", "Who", "What", "Why", "Customers moved"], &rows, &[4]));
        let head = crate::engine::governance::audit::head(&project.audit);
        out.push_str(&paragraph(&format!(
            "Audit head {} after {} entries. The log is tamper-evident, not tamper-proof: an entry changed, deleted \
             or inserted breaks its hash chain (strata audit verify names the first); a log cut short shows against \
             this head, kept here outside the project.",
            head.hash, head.count
        )));
    }
    for s in &project.governance.signoffs {
        let decision = match s.decision {
            crate::engine::governance::Decision::Approve => "approved",
            crate::engine::governance::Decision::RequestChanges => "requested changes to",
        };
        out.push_str(&paragraph(&format!(
            "Sign-off: {} ({}) {decision} version {} on {}: {} (audit head {} at {} entries).",
            s.reviewer,
            s.role,
            crate::engine::governance::audit::short(&s.version_hash),
            s.when,
            s.comment,
            crate::engine::governance::audit::short(&s.audit_head),
            s.audit_count
        )));
    }
    Ok(Some(out))
}

fn assumptions(inputs: &ReportInputs, _: &ReportCharts) -> Result<Option<String>, ChartError> {
    use crate::engine::profile::summary::{EXPLAIN_ROWS, MEMBER_SILHOUETTE_ROWS, SCATTER_POINTS};
    let result = inputs.result;
    let spec = &inputs.project.spec;
    let mut items: Vec<String> = Vec::new();
    match result.as_of {
        Some(date) => items.push(format!(
            "Recency and every behavioural feature are counted as of {}; transactions after it are left out.",
            date.format("%Y-%m-%d")
        )),
        None => items.push("The customer table is taken as it is; no as-of date applies.".into()),
    }
    items.push(format!(
        "The model is {} with seed {}: the same data, settings and seed give the same segments (the assignment fingerprint above).",
        spec.model.algorithm.label(),
        spec.model.algorithm.seed()
    ));
    if !inputs.project.rules.is_empty() {
        items.push(format!(
            "{} business rules and {} overrides move customers after the model; sizes and profiles count customers where the rules put them.",
            inputs.project.rules.rules.len(),
            inputs.project.rules.overrides.len()
        ));
    }
    if let Some(detail) = result
        .sweep
        .as_ref()
        .and_then(|s| s.runs.iter().find_map(|r| r.silhouette_detail.as_ref()))
        .filter(|d| !d.exact)
    {
        items.push(format!(
            "Silhouettes in the k choice are computed on a seeded sample of {} customers per k (95% intervals in the project).",
            thousands(detail.sample_size)
        ));
    }
    items.push(format!(
        "The projection shades the density of every customer and draws at most {} sampled customers as dots.",
        thousands(SCATTER_POINTS)
    ));
    items.push(format!(
        "Member silhouettes are shown for at most {} customers (a seeded sample above); the explaining tree is trained on at most {}.",
        thousands(MEMBER_SILHOUETTE_ROWS),
        thousands(EXPLAIN_ROWS)
    ));
    items.push(format!(
        "A segment is called distinct when a feature's mean sits at least {} population SD from everyone's.",
        crate::engine::profile::DISTINCT_SD
    ));
    let threshold = inputs.project.governance.small_cells;
    if threshold > 1 {
        items.push(format!(
            "Counts under {threshold} customers are shown as \"<{threshold}\", and their shares and profiles are not \
             shown; where a hidden count could be worked out from the totals, counts beside it are shown as \"hidden\"."
        ));
    } else {
        items.push("Small-cell suppression is off (threshold 1): every count is shown as it is.".into());
    }
    if spec.recipe.features.iter().any(|f| f.log1p) {
        items.push(
            "Features marked ln(1 + x) are log-scaled before the model sees them; profiles are in original units."
                .into(),
        );
    }
    if let Some(share) = spec.model.min_segment_share {
        items.push(format!("The smallest segment the business accepts: {:.1}% of the customers.", share * 100.0));
    }
    let list: String = items.iter().map(|i| format!("<li>{}</li>", escape(i))).collect();
    Ok(Some(format!("<ul>{list}</ul>\n")))
}

fn warnings(inputs: &ReportInputs, _: &ReportCharts) -> Result<Option<String>, ChartError> {
    let lines = crate::engine::warnings::summarise(&inputs.result.warnings);
    if lines.is_empty() {
        return Ok(None);
    }
    let list: String = lines.iter().map(|l| format!("<li>{}</li>", escape(l))).collect();
    Ok(Some(format!("<ul>{list}</ul>\n")))
}

/// A segment's name as the report shows it (the decision list's words for a detached card).
fn segment_label(charts: &ReportCharts, segment: &SegmentRef) -> String {
    crate::engine::swot::decisions::ref_name(segment, &|s| name_of(charts, s))
}

fn name_of(charts: &ReportCharts, segment: usize) -> String {
    charts.names.get(segment).cloned().unwrap_or_else(|| format!("Segment {}", segment + 1))
}

fn swot(inputs: &ReportInputs, charts: &ReportCharts) -> Result<Option<String>, ChartError> {
    use crate::engine::swot::evidence::{board_evidence, percent};
    use crate::engine::swot::{Quadrant, Subject, TowsCell};
    let Some(board) = inputs.project.board.as_ref().filter(|b| !b.is_empty()) else { return Ok(None) };
    let evidence = board_evidence(
        inputs.result,
        Some(inputs.summary),
        &charts.names,
        board.revenue_column.as_deref(),
        inputs.over_time,
        inputs.project.governance.small_cells,
    );
    let mut out = String::from("<div class=\"quadrants\">\n");
    for quadrant in Quadrant::ALL {
        out.push_str(&format!("<div class=\"quadrant\"><h3>{}</h3><ul>\n", quadrant.label()));
        let mut any = false;
        for card in board.cards_in(quadrant) {
            any = true;
            let mut item = match &card.subject {
                Subject::Segment(r) => {
                    let swatch = r.segment().map_or_else(String::new, |s| {
                        format!("<span class=\"swatch\" style=\"background: {}\"></span>", charts.colours.of(s).css())
                    });
                    let mut text = format!("{swatch}<b>{}</b>", escape(&segment_label(charts, r)));
                    if let Some(e) = r.segment().and_then(|s| evidence.segments.get(s)) {
                        let mut facts = vec![format!("{} customers", e.size_words())];
                        if !e.is_small() {
                            if let Some(share) = e.share {
                                facts.push(format!("{} of customers", percent(share)));
                            }
                            if let Some(r) = e.revenue_share {
                                facts.push(format!("{} of revenue", percent(r)));
                            }
                            if let (Some(per), Some((lo, hi))) = (e.value_per_customer, e.value_band) {
                                let share = e.value_share.map(|v| format!(", {} of value", percent(v)));
                                facts.push(format!(
                                    "value {per:.2} per customer (10-90%: {lo:.2}-{hi:.2}){}",
                                    share.unwrap_or_default()
                                ));
                            }
                            if let Some(st) = e.stability
                                && st.is_finite()
                            {
                                facts.push(format!("stability {st:.2}"));
                            }
                            // The trend is the relative change of the share (0.1: up a tenth), not points.
                            if let Some(change) = e.trend.as_ref().and_then(|t| t.change) {
                                facts.push(format!("share {:+.0}% over the windows", change * 100.0));
                            }
                        }
                        text.push_str(&format!("<br><span class=\"small\">{}</span>", escape(&facts.join(", "))));
                        if !e.words.is_empty() {
                            text.push_str(&format!("<br><span class=\"small weak\">{}</span>", escape(&e.words)));
                        }
                    }
                    text
                }
                Subject::Text(t) => format!("<b>{}</b> <span class=\"weak small\">(not a segment)</span>", escape(t)),
            };
            if !card.note.is_empty() {
                item.push_str(&format!("<br><i>Why:</i> {}", escape(&card.note)));
            }
            out.push_str(&format!("<li>{item}</li>\n"));
        }
        if !any {
            out.push_str("<li class=\"weak\">Nothing placed.</li>\n");
        }
        out.push_str("</ul></div>\n");
    }
    out.push_str("</div>\n");
    if !board.strategies.is_empty() {
        out.push_str("<h3>TOWS strategies (the decision list)</h3>\n");
        let rows: Vec<Vec<String>> = crate::engine::swot::decisions::decisions(board, &|s| name_of(charts, s))
            .into_iter()
            .map(|d| {
                let meaning = TowsCell::ALL.iter().find(|c| c.code() == d.cell).map_or("", |c| c.meaning());
                vec![
                    format!("<b>{}</b><br><span class=\"small weak\">{}</span>", d.cell, meaning),
                    escape(&d.action),
                    escape(&d.owner),
                    escape(&d.segments.join(", ")),
                    escape(&d.pairs.join("; ")),
                ]
            })
            .collect();
        out.push_str(&table(&["Cell", "Action", "Owner", "Segments targeted", "Pairs"], &rows, &[]));
    }
    if !evidence.notes.is_empty() {
        let notes: String = evidence.notes.iter().map(|n| format!("<li>{}</li>", escape(n))).collect();
        out.push_str(&format!(
            "<p class=\"weak\">What the cards cannot show yet:</p><ul class=\"weak small\">{notes}</ul>\n"
        ));
    }
    Ok(Some(out))
}

fn presentation(inputs: &ReportInputs, charts: &ReportCharts) -> Result<Option<String>, ChartError> {
    use crate::engine::presentation::View;
    let Some(presentation) = inputs.project.presentation.as_ref().filter(|p| !p.steps.is_empty()) else {
        return Ok(None);
    };
    let name = |r: &SegmentRef| segment_label(charts, r);
    let mut out = String::new();
    let mut group = String::new();
    for (i, step) in presentation.steps.iter().enumerate() {
        if step.group != group && !step.group.is_empty() {
            out.push_str(&format!("<h3>{}</h3>\n", escape(&step.group)));
        }
        group = step.group.clone();
        let target = match &step.view {
            View::KChoice { .. } => Some("#k-choice".to_string()),
            View::Segments { .. } => Some("#segments".to_string()),
            View::Segment { segment: SegmentRef::Segment(s) } => Some(format!("#segment-{}", s + 1)),
            View::Chart { chart, .. } if chart::CHARTS.iter().any(|c| c.name == chart) => {
                Some(format!("#chart-{chart}"))
            }
            View::Board { .. } | View::Tows => Some("#swot".to_string()),
            _ => None,
        };
        let shows = escape(&step.view.describe(&name));
        let shows = match target {
            Some(anchor) => format!("<a href=\"{anchor}\">{shows}</a>"),
            None => shows,
        };
        out.push_str(&format!(
            "<div class=\"step\"><b>Step {}: {}</b><br><span class=\"small\">Shows: {shows}</span>\n",
            i + 1,
            escape(&step.caption)
        ));
        if !step.notes.is_empty() {
            out.push_str(&format!("<p class=\"small\"><i>Speaker notes:</i> {}</p>\n", escape(&step.notes)));
        }
        out.push_str("</div>\n");
    }
    Ok(Some(out))
}
