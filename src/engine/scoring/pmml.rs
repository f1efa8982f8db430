//! The scoring definition as a PMML 4.4 `ClusteringModel` (`strata export-pmml`), for the tools
//! that read PMML (SPSS, KNIME, SAS, JPMML, PMML4S): the recipe as `LocalTransformations`, the
//! centres with squared Euclidean distance, the segments as clusters with their numbers and names,
//! one `affinity` output per segment, and a `ModelVerification` block of fitted customers with the
//! segment Strata gives them, so a consumer can check itself on load.
//!
//! Each step of the recipe is written as `Apply` of one arithmetic function (`-`, `/`, `*`, `min`,
//! `max`, `ln1p`), in the order Strata computes it, so a consumer doing IEEE double arithmetic gets
//! the same numbers. `NormContinuous` would say the same thing with fewer elements, but it
//! interpolates between two points and consumers evaluate that in different orders, which moves
//! the last bits and, at a near-tie, the nearest centre.
//!
//! What PMML's clustering model cannot say, the export refuses with the reason: a method that does
//! not assign by the nearest centre, business rules and overrides (unless the caller asks for the
//! model's assignment alone), and text that XML 1.0 cannot carry. A customer the recipe cannot place
//! (a missing value where the recipe imputes none, or a value so large that it overflows once
//! scaled, which the `Interval` of an unclipped feature bounds) gets no segment from a consumer
//! (an invalid result): Strata's fallback segment is for them. One difference stays: an infinite
//! value in such a feature is outside its interval for a consumer (no segment), where Strata
//! treats it as missing and imputes it.

use polars::prelude::{IdxCa, IdxSize};
use serde_json::Value;

use crate::engine::error::{DataError, PipelineError};
use crate::engine::features::recipe::FittedFeature;
use crate::engine::matrix::MAX_ABS_VALUE;
use crate::engine::naming::SegmentNote;
use crate::engine::pipeline::PipelineResult;
use crate::engine::rules::BusinessRules;

/// PMML's namespace for version 4.4.
pub const NAMESPACE: &str = "http://www.dmg.org/PMML-4_4";

/// The fitted customers written into `ModelVerification`: their raw values, one per feature of
/// the definition (in its order, `None` for missing), and the segment number Strata gives them.
#[derive(Clone, Debug, Default)]
pub struct Verification {
    /// Per customer, per feature, the raw value as text (numbers with round-trip precision).
    pub inputs: Vec<Vec<Option<String>>>,
    /// Per customer, the segment number (from 1) the model gives it.
    pub expected: Vec<usize>,
}

/// How many fitted customers [`Verification`] should hold.
pub const VERIFICATION_ROWS: usize = 20;

/// The PMML document of the scoring definition `model` (see [`super::definition::definition`]).
/// With `model_only`, business rules and overrides are left out (the caller has said so to the
/// user); without it, a definition with any of them is refused.
pub fn document(model: &Value, verification: &Verification, model_only: bool) -> Result<String, String> {
    let features = model["features"].as_array().ok_or("the definition has no features")?;
    let centres = model["centres"].as_array().ok_or("the definition has no centres")?;
    let segments = model["segments"].as_array().ok_or("the definition has no segments")?;
    match model["assign"].as_str() {
        Some("nearest k-means centre" | "nearest segment mean") => {}
        Some("nearest map node") => {
            return Err("the self-organising map assigns through its nodes, several per segment, and a PMML \
                        clustering model would answer with the node, not the segment; `strata export-sql`, \
                        `strata export-model` and `strata serve` write it"
                .into());
        }
        Some("highest posterior") => {
            return Err("the Gaussian mixture assigns by the highest posterior probability, which a PMML 4.4 \
                        clustering model (a distance to centres) cannot express; `strata export-sql`, \
                        `strata export-model` and `strata serve` write it"
                .into());
        }
        Some("nearest prototype") => {
            return Err("k-prototypes adds gamma per category that differs from a prototype's mode, computed from \
                        the one-hot outputs, which this PMML export does not write (it writes centres in the \
                        recipe's outputs); `strata export-sql`, `strata export-model` and `strata serve` write it"
                .into());
        }
        Some("rfm scores" | "value tier, then nearest centroid") => {
            return Err("RFM scores come from stored quintile edges on the raw measures and a table of rules or \
                        value tiers, which a PMML clustering model (a distance to centres) cannot express; \
                        `strata export-sql`, `strata export-model` and `strata serve` write it"
                .into());
        }
        other => {
            return Err(format!(
                "the model assigns by {}, which a PMML clustering model cannot express",
                other.unwrap_or("an assignment this version does not know")
            ));
        }
    }
    let n_rules = model["rules"].as_array().map_or(0, Vec::len);
    let n_overrides = model["overrides"].as_array().map_or(0, Vec::len);
    if !model_only && n_rules + n_overrides > 0 {
        return Err(format!(
            "the project has {n_rules} business rule(s) and {n_overrides} override(s), which a PMML clustering \
             model cannot express; `strata export-sql` and `strata serve` apply them, or give --model-only to \
             export the model's assignment alone"
        ));
    }
    let columns: Vec<&str> =
        features.iter().map(|f| f["column"].as_str().ok_or("a feature without a column")).collect::<Result<_, _>>()?;
    for name in columns.iter().copied().chain(segments.iter().filter_map(|s| s["name"].as_str())) {
        xml_text(name)?;
    }
    // Derived field names that no input column has.
    let mut prefix = String::from("strata.");
    while columns.iter().any(|c| c.starts_with(&prefix)) {
        prefix.insert(0, '_');
    }
    let mut out = String::new();
    let push = |out: &mut String, depth: usize, line: &str| {
        out.push_str(&"  ".repeat(depth));
        out.push_str(line);
        out.push('\n');
    };
    push(&mut out, 0, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    push(&mut out, 0, &format!(r#"<PMML xmlns="{NAMESPACE}" version="4.4">"#));
    push(
        &mut out,
        1,
        &format!(
            r#"<Header description="{}" modelVersion="{}">"#,
            attr(&format!(
                "Strata segmentation ({}); {}{}",
                model["method"].as_str().unwrap_or_default(),
                model["determinism"].as_str().unwrap_or_default(),
                if model_only && n_rules + n_overrides > 0 {
                    format!(
                        "; the model's assignment only: the project's {n_rules} business rule(s) and \
                         {n_overrides} override(s) are not applied"
                    )
                } else {
                    String::new()
                }
            )),
            attr(model["assignment_fingerprint"].as_str().unwrap_or_default())
        ),
    );
    push(
        &mut out,
        2,
        &format!(r#"<Application name="Strata" version="{}"/>"#, attr(model["strata"].as_str().unwrap_or_default())),
    );
    push(&mut out, 1, "</Header>");
    // The inputs.
    push(&mut out, 1, &format!(r#"<DataDictionary numberOfFields="{}">"#, features.len()));
    let mut bounded = vec![false; features.len()];
    for (j, (f, column)) in features.iter().zip(&columns).enumerate() {
        if f["kind"] != "numeric" {
            push(
                &mut out,
                2,
                &format!(r#"<DataField name="{}" optype="categorical" dataType="string"/>"#, attr(column)),
            );
            continue;
        }
        match valid_interval(f, column)? {
            Some((lo, hi)) => {
                bounded[j] = true;
                push(
                    &mut out,
                    2,
                    &format!(r#"<DataField name="{}" optype="continuous" dataType="double">"#, attr(column)),
                );
                push(
                    &mut out,
                    3,
                    &format!(
                        r#"<Interval closure="closedClosed" leftMargin="{}" rightMargin="{}"/>"#,
                        number(lo)?,
                        number(hi)?
                    ),
                );
                push(&mut out, 2, "</DataField>");
            }
            None => push(
                &mut out,
                2,
                &format!(r#"<DataField name="{}" optype="continuous" dataType="double"/>"#, attr(column)),
            ),
        }
    }
    push(&mut out, 1, "</DataDictionary>");
    let k = centres.len();
    push(
        &mut out,
        1,
        &format!(
            r#"<ClusteringModel modelName="strata" functionName="clustering" algorithmName="{}" modelClass="centerBased" numberOfClusters="{k}">"#,
            attr(model["method"].as_str().unwrap_or_default())
        ),
    );
    // How missing and unseen values are treated.
    push(&mut out, 2, "<MiningSchema>");
    for (j, (f, column)) in features.iter().zip(&columns).enumerate() {
        let missing = match &f["impute"] {
            Value::Number(n) => format!(
                r#" missingValueReplacement="{}" missingValueTreatment="asValue""#,
                number(n.as_f64().unwrap_or(f64::NAN))?
            ),
            Value::String(level) => {
                format!(r#" missingValueReplacement="{}" missingValueTreatment="asValue""#, attr(level))
            }
            _ => r#" missingValueTreatment="returnInvalid""#.to_string(),
        };
        // Outside its interval a value is too large to place: no segment, as Strata's fallback.
        let invalid = if bounded[j] { "returnInvalid" } else { "asIs" };
        push(
            &mut out,
            3,
            &format!(
                r#"<MiningField name="{}" usageType="active"{missing} invalidValueTreatment="{invalid}"/>"#,
                attr(column)
            ),
        );
    }
    push(&mut out, 2, "</MiningSchema>");
    // The outputs: the segment number, its name, and the squared distance to every segment.
    push(&mut out, 2, "<Output>");
    push(
        &mut out,
        3,
        r#"<OutputField name="segment_number" feature="predictedValue" optype="categorical" dataType="string"/>"#,
    );
    push(
        &mut out,
        3,
        r#"<OutputField name="segment_name" feature="predictedDisplayValue" optype="categorical" dataType="string"/>"#,
    );
    for s in 1..=k {
        push(
            &mut out,
            3,
            &format!(
                r#"<OutputField name="affinity_{s}" feature="affinity" value="{s}" optype="continuous" dataType="double"/>"#
            ),
        );
    }
    push(&mut out, 2, "</Output>");
    // The recipe, one output at a time.
    push(&mut out, 2, "<LocalTransformations>");
    let mut outputs: Vec<String> = Vec::new();
    for (j, (f, column)) in features.iter().zip(&columns).enumerate() {
        let weight = f["weight"].as_f64().ok_or("a feature without a weight")?;
        let field = format!(r#"<FieldRef field="{}"/>"#, attr(column));
        if f["kind"] == "numeric" {
            // Not a number and the infinities are missing, as in the recipe.
            let finite = apply(
                "and",
                &[
                    apply("greaterOrEqual", &[field.clone(), constant(-f64::MAX)?]),
                    apply("lessOrEqual", &[field.clone(), constant(f64::MAX)?]),
                ],
            );
            let mut x = match f["impute"].as_f64() {
                Some(v) => apply("if", &[finite, field.clone(), constant(v)?]),
                None => apply("if", &[finite, field.clone()]),
            };
            if let Some(c) = f["clip"].as_array() {
                let (lo, hi) = (c[0].as_f64().unwrap_or(f64::MIN), c[1].as_f64().unwrap_or(f64::MAX));
                x = apply("max", &[apply("min", &[x, constant(hi)?]), constant(lo)?]);
            }
            let name = format!("{prefix}prepared.{j}");
            derived(&mut out, &name, &x);
            let mut x = format!(r#"<FieldRef field="{}"/>"#, attr(&name));
            if f["log1p"].as_bool().unwrap_or(false) {
                // sign(x) * ln(1 + |x|)
                let ln = apply("ln1p", &[apply("abs", &[x.clone()])]);
                x = apply(
                    "if",
                    &[apply("lessThan", &[x, constant(0.0)?]), apply("*", &[constant(-1.0)?, ln.clone()]), ln],
                );
            }
            let center = f["center"].as_f64().ok_or("a numeric feature without a center")?;
            let scale = f["scale"].as_f64().ok_or("a numeric feature without a scale")?;
            let x =
                apply("*", &[apply("/", &[apply("-", &[x, constant(center)?]), constant(scale)?]), constant(weight)?]);
            let name = format!("{prefix}x{}", outputs.len());
            derived(&mut out, &name, &x);
            outputs.push(name);
        } else {
            for level in f["levels"].as_array().ok_or("a categorical feature without levels")? {
                let level = level.as_str().ok_or("a level that is not text")?;
                xml_text(level)?;
                let x = apply(
                    "if",
                    &[
                        apply(
                            "equal",
                            &[field.clone(), format!(r#"<Constant dataType="string">{}</Constant>"#, attr(level))],
                        ),
                        constant(weight)?,
                        constant(0.0)?,
                    ],
                );
                let name = format!("{prefix}x{}", outputs.len());
                derived(&mut out, &name, &x);
                outputs.push(name);
            }
        }
    }
    push(&mut out, 2, "</LocalTransformations>");
    push(&mut out, 2, r#"<ComparisonMeasure kind="distance" compareFunction="absDiff">"#);
    push(&mut out, 3, "<squaredEuclidean/>");
    push(&mut out, 2, "</ComparisonMeasure>");
    for name in &outputs {
        push(&mut out, 2, &format!(r#"<ClusteringField field="{}" compareFunction="absDiff"/>"#, attr(name)));
    }
    for (s, centre) in centres.iter().enumerate() {
        let centre = centre.as_array().ok_or("a centre that is not a list")?;
        if centre.len() != outputs.len() {
            return Err(format!("centre {} has {} values for {} outputs", s + 1, centre.len(), outputs.len()));
        }
        let values: Vec<String> =
            centre.iter().map(|v| number(v.as_f64().unwrap_or(f64::NAN))).collect::<Result<_, _>>()?;
        let name = segments.get(s).and_then(|x| x["name"].as_str()).unwrap_or_default();
        push(&mut out, 2, &format!(r#"<Cluster id="{}" name="{}">"#, s + 1, attr(name)));
        push(&mut out, 3, &format!(r#"<Array n="{}" type="real">{}</Array>"#, values.len(), values.join(" ")));
        push(&mut out, 2, "</Cluster>");
    }
    verification_block(&mut out, verification, &columns)?;
    push(&mut out, 1, "</ClusteringModel>");
    push(&mut out, 0, "</PMML>");
    Ok(out)
}

fn verification_block(out: &mut String, v: &Verification, columns: &[&str]) -> Result<(), String> {
    if v.expected.is_empty() {
        return Ok(());
    }
    if v.inputs.len() != v.expected.len() || v.inputs.iter().any(|r| r.len() != columns.len()) {
        return Err("the verification rows do not match the features".into());
    }
    out.push_str(&format!(
        "    <ModelVerification recordCount=\"{}\" fieldCount=\"{}\">\n      <VerificationFields>\n",
        v.expected.len(),
        columns.len() + 1
    ));
    for (j, column) in columns.iter().enumerate() {
        out.push_str(&format!("        <VerificationField field=\"{}\" column=\"in{j}\"/>\n", attr(column)));
    }
    out.push_str("        <VerificationField field=\"segment_number\" column=\"expected\"/>\n      </VerificationFields>\n      <InlineTable>\n");
    for (row, expected) in v.inputs.iter().zip(&v.expected) {
        out.push_str("        <row>");
        for (j, value) in row.iter().enumerate() {
            if let Some(value) = value {
                xml_text(value)?;
                out.push_str(&format!("<in{j}>{}</in{j}>", attr(value)));
            }
        }
        out.push_str(&format!("<expected>{expected}</expected></row>\n"));
    }
    out.push_str("      </InlineTable>\n    </ModelVerification>\n");
    Ok(())
}

/// Up to [`VERIFICATION_ROWS`] of `result`'s fitted customers, spread over the table with at
/// least one per segment where there are enough, each with the segment the model gives it when
/// scored as new (the business rules are not part of PMML).
pub fn verification(result: &PipelineResult, notes: &[SegmentNote]) -> Result<Verification, PipelineError> {
    use crate::engine::data;
    let fitted = &result.matrix.kept_rows;
    if fitted.is_empty() {
        return Ok(Verification::default());
    }
    // Candidates evenly spaced over the fitted customers; scored, then one per segment first.
    let step = (fitted.len() / (4 * VERIFICATION_ROWS)).max(1);
    let candidates: Vec<usize> = fitted.iter().step_by(step).copied().take(4 * VERIFICATION_ROWS).collect();
    let index = IdxCa::from_vec("rows".into(), candidates.iter().map(|&r| r as IdxSize).collect());
    let frame = result.customers.take(&index).map_err(DataError::from)?;
    let scored = super::score(result, &BusinessRules::default(), notes, None, &frame)?;
    let k = result.fit.k();
    let placed: Vec<(usize, usize)> =
        scored.model_segments.iter().enumerate().filter_map(|(i, s)| s.filter(|&s| s < k).map(|s| (i, s))).collect();
    let mut chosen: Vec<(usize, usize)> = Vec::new();
    for s in 0..k {
        if let Some(&first) = placed.iter().find(|(_, t)| *t == s) {
            chosen.push(first);
        }
    }
    for &p in &placed {
        if chosen.len() >= VERIFICATION_ROWS {
            break;
        }
        if !chosen.contains(&p) {
            chosen.push(p);
        }
    }
    chosen.truncate(VERIFICATION_ROWS);
    chosen.sort_unstable();
    let mut columns: Vec<Vec<Option<String>>> = Vec::new();
    for feature in &result.fitted_recipe.features {
        columns.push(match feature {
            FittedFeature::Numeric(f) => data::quality::numeric_values(data::column(&frame, &f.column)?)?
                .into_iter()
                .map(|v| v.filter(|v| v.is_finite()).map(|v| format!("{v:?}")))
                .collect(),
            FittedFeature::Categorical(c) => data::column_texts(&frame, &c.column)?,
        });
    }
    Ok(Verification {
        inputs: chosen.iter().map(|&(i, _)| columns.iter().map(|c| c[i].clone()).collect()).collect(),
        expected: chosen.iter().map(|&(_, s)| s + 1).collect(),
    })
}

/// The raw values of a numeric feature that scale to at most [`MAX_ABS_VALUE`] in magnitude (beyond
/// it Strata cannot place the customer): `None` when every finite value does (clipped or logged
/// features), else an interval a relative 1e-12 inside the exact bounds. A feature whose clipped
/// or logged values can still scale beyond it is refused.
fn valid_interval(f: &Value, column: &str) -> Result<Option<(f64, f64)>, String> {
    let center = f["center"].as_f64().ok_or("a numeric feature without a center")?;
    let scale = f["scale"].as_f64().ok_or("a numeric feature without a scale")?;
    let weight = f["weight"].as_f64().ok_or("a feature without a weight")?;
    if weight == 0.0 {
        return Ok(None);
    }
    let log = f["log1p"].as_bool().unwrap_or(false);
    let clip = f["clip"].as_array().map(|c| (c[0].as_f64().unwrap_or(f64::MIN), c[1].as_f64().unwrap_or(f64::MAX)));
    if !log && clip.is_none() {
        let half = MAX_ABS_VALUE * scale / weight * (1.0 - 1e-12);
        return Ok(Some((center - half, center + half)));
    }
    let (lo, hi) = clip.unwrap_or((f64::MIN, f64::MAX));
    let prepared = |x: f64| if log { x.signum() * x.abs().ln_1p() } else { x };
    let largest =
        [prepared(lo), prepared(hi)].iter().map(|x| ((x - center) / scale * weight).abs()).fold(0.0, f64::max);
    if largest.is_finite() && largest <= MAX_ABS_VALUE {
        Ok(None)
    } else {
        Err(format!("'{column}' can scale beyond {MAX_ABS_VALUE:e}, which this PMML export does not bound; clip it"))
    }
}

/// A continuous `DerivedField` called `name` holding the expression `x`, in LocalTransformations.
fn derived(out: &mut String, name: &str, x: &str) {
    out.push_str(&format!(
        "      <DerivedField name=\"{}\" optype=\"continuous\" dataType=\"double\">\n        {x}\n      </DerivedField>\n",
        attr(name)
    ));
}

/// `<Apply function="f">` around `arguments`.
fn apply(function: &str, arguments: &[String]) -> String {
    format!(r#"<Apply function="{}">{}</Apply>"#, attr(function), arguments.concat())
}

/// A double constant with round-trip precision.
fn constant(x: f64) -> Result<String, String> {
    Ok(format!(r#"<Constant dataType="double">{}</Constant>"#, number(x)?))
}

/// A finite number with round-trip precision, as XML Schema's double reads it.
fn number(x: f64) -> Result<String, String> {
    if !x.is_finite() {
        return Err(format!("the definition holds {x}, which PMML cannot carry"));
    }
    Ok(format!("{x:?}"))
}

/// Text as an XML attribute value or element content; [`xml_text`] must have accepted it. The
/// report's escaping, with tabs and line breaks as character references so that attribute-value
/// normalisation keeps them.
fn attr(t: &str) -> String {
    crate::engine::report::escape(t).replace('\t', "&#9;").replace('\n', "&#10;").replace('\r', "&#13;")
}

/// Refuses text that XML 1.0 cannot carry at all (control characters other than tab and line
/// breaks, U+FFFE and U+FFFF), naming it.
fn xml_text(t: &str) -> Result<(), String> {
    match t.chars().find(|&c| (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')) {
        Some(c) => Err(format!(
            "{t:?} holds the character U+{:04X}, which XML (and so PMML) cannot carry; rename it",
            c as u32
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_what_xml_cannot_carry_is_refused() {
        assert_eq!(attr("a<b & \"c\"\n"), "a&lt;b &amp; &quot;c&quot;&#10;");
        assert!(xml_text("spend\u{0}").unwrap_err().contains("U+0000"));
        assert!(xml_text("tab\there").is_ok());
        assert!(number(f64::NAN).is_err());
        assert_eq!(number(0.1).unwrap(), "0.1");
        assert_eq!(number(1e100).unwrap().parse::<f64>().unwrap(), 1e100);
    }
}
