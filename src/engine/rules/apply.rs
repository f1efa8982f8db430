//! Applying the rules and overrides to a run's customers, in order, and what each one did.

use super::*;

pub(crate) enum Column_<'a> {
    Numeric(Vec<Option<f64>>),
    Text(Vec<Option<String>>, &'a str),
}

pub(crate) fn column_values<'a>(frame: &DataFrame, name: &'a str) -> Result<Column_<'a>, String> {
    let column = frame.column(name).map_err(|_| {
        format!("the customer table has no column '{name}' (it has {})", crate::engine::data::column_list(frame))
    })?;
    if column.dtype().is_primitive_numeric() || column.dtype().is_bool() {
        Ok(Column_::Numeric(numeric_values(column).map_err(|e| e.to_string())?))
    } else {
        Ok(Column_::Text(crate::engine::data::column_texts(frame, name).map_err(|e| e.to_string())?, name))
    }
}

/// The finite values of `values`, sorted: what a percentile is taken over.
pub fn sorted_finite(values: &[Option<f64>]) -> Vec<f64> {
    let mut sorted: Vec<f64> = values.iter().flatten().copied().filter(|x| x.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    sorted
}

/// Customers matching a condition, and its text with percentiles resolved.
pub(crate) fn evaluate(condition: &Condition, ctx: &RuleContext<'_>) -> Result<(Vec<bool>, String), String> {
    let n = ctx.customers.height();
    match condition {
        Condition::NoSegment => Ok((ctx.segments.iter().map(Option::is_none).collect(), condition.to_string())),
        Condition::Missing { column, negated } => {
            let missing: Vec<bool> = match column_values(ctx.customers, column)? {
                Column_::Numeric(v) => v.iter().map(|x| !x.is_some_and(f64::is_finite)).collect(),
                Column_::Text(v, _) => v.iter().map(|x| x.as_deref().is_none_or(|t| t.trim().is_empty())).collect(),
            };
            Ok((missing.into_iter().map(|m| m != *negated).collect(), condition.to_string()))
        }
        Condition::Compare { column, op, value } => match (column_values(ctx.customers, column)?, value) {
            (Column_::Numeric(v), Value::Number(_) | Value::Percentile(_)) => {
                let (threshold, text) = match value {
                    Value::Percentile(p) => {
                        let computed;
                        let sorted: &[f64] = match ctx.reference_sorted.and_then(|m| m.get(column)) {
                            Some(sorted) => sorted,
                            None => {
                                let reference_values;
                                let over: &[Option<f64>] = match ctx.reference {
                                    Some(reference) => {
                                        reference_values = match column_values(reference, column)? {
                                            Column_::Numeric(r) => r,
                                            Column_::Text(..) => {
                                                return Err(format!("'{column}' holds text in the fitted customers"));
                                            }
                                        };
                                        &reference_values
                                    }
                                    None => &v,
                                };
                                computed = sorted_finite(over);
                                &computed
                            }
                        };
                        if sorted.is_empty() {
                            return Err(format!("'{column}' has no values to take a percentile of"));
                        }
                        let t = quantile_sorted(sorted, p / 100.0);
                        (t, format!("{condition} ({})", short_number(t)))
                    }
                    Value::Number(x) => (*x, condition.to_string()),
                    Value::Text(_) => unreachable!("matched above"),
                };
                let mask =
                    v.iter().map(|x| x.is_some_and(|x| x.is_finite() && op.holds(x.total_cmp(&threshold)))).collect();
                Ok((mask, text))
            }
            (Column_::Numeric(_), Value::Text(t)) => {
                Err(format!("'{column}' holds numbers, so it cannot be compared with the text \"{t}\""))
            }
            (Column_::Text(v, _), Value::Text(t)) => {
                if !matches!(op, Op::Eq | Op::Ne) {
                    return Err(format!("'{column}' holds text: compare it with = or != (or 'is', 'is not')"));
                }
                let mask =
                    v.iter().map(|x| x.as_deref().is_some_and(|x| (x.trim() == t.trim()) == (*op == Op::Eq))).collect();
                Ok((mask, condition.to_string()))
            }
            (Column_::Text(v, name), Value::Number(x)) => {
                // A text column of numbers written as text: compare as numbers where they read.
                let parsed: Vec<Option<f64>> =
                    v.iter().map(|t| t.as_deref().and_then(|t| t.trim().parse().ok())).collect();
                if parsed.iter().all(Option::is_none) && n > 0 {
                    return Err(format!("'{name}' holds text, so it cannot be compared with the number {x}"));
                }
                let mask = parsed.iter().map(|p| p.is_some_and(|p| op.holds(p.total_cmp(x)))).collect();
                Ok((mask, condition.to_string()))
            }
            (Column_::Text(_, name), Value::Percentile(_)) => {
                Err(format!("'{name}' holds text, so it has no percentiles"))
            }
        },
    }
}

/// Applies the rules, then the overrides, to the model's segments. Never fails: a rule or override
/// that cannot be applied changes nothing and says why in its effect.
pub fn apply(rules: &BusinessRules, ctx: &RuleContext<'_>) -> RulesOutcome {
    let mut state = Applying {
        ctx,
        segments: ctx.segments.to_vec(),
        changed_by: vec![None; ctx.customers.height()],
        rule_segments: Vec::new(),
    };
    let effects: Vec<RuleEffect> = rules.rules.iter().enumerate().map(|(r, rule)| state.rule(r, rule)).collect();
    let override_effects = state.overrides(&rules.overrides);
    let kept_names = state.drop_empty_rule_segments();
    let warnings = warnings_of(rules, &effects, &override_effects);
    let (moved_in, moved_out) = moves(&state.segments, ctx.segments, ctx.names.len() + kept_names.len());
    let Applying { segments, changed_by, .. } = state;
    RulesOutcome {
        n_without_segment: segments.iter().filter(|s| s.is_none()).count(),
        moved_in,
        moved_out,
        segments,
        model_segments: ctx.segments.to_vec(),
        rule_segments: kept_names,
        rules: effects,
        overrides: override_effects,
        changed_by,
        warnings,
    }
}

/// The customers' segments while the rules and overrides apply one after the other.
struct Applying<'c, 'a> {
    ctx: &'c RuleContext<'a>,
    /// Each customer's segment so far.
    segments: Vec<Option<usize>>,
    /// What last moved each customer ("rule 2", "override").
    changed_by: Vec<Option<String>>,
    /// Segments the rules made, numbered after the model's (and the fallback).
    rule_segments: Vec<String>,
}

impl Applying<'_, '_> {
    /// A name: a segment of the model's (or the fallback) by its name, else one the rules make.
    fn target(&mut self, name: &str) -> usize {
        let base = self.ctx.names.len();
        if let Some(i) = self.ctx.names.iter().position(|n| same_name(n, name)) {
            return i;
        }
        match self.rule_segments.iter().position(|n| same_name(n, name)) {
            Some(i) => base + i,
            None => {
                self.rule_segments.push(name.trim().to_string());
                base + self.rule_segments.len() - 1
            }
        }
    }

    /// Moves customer `i` to `s` on behalf of `label`; whether it moved.
    fn move_to(&mut self, i: usize, s: usize, label: &str) -> bool {
        if self.segments[i] == Some(s) {
            return false;
        }
        self.segments[i] = Some(s);
        self.changed_by[i] = Some(label.to_string());
        true
    }

    /// Rule number `r` (from 0): its conditions evaluated, its action applied.
    fn rule(&mut self, r: usize, rule: &BusinessRule) -> RuleEffect {
        let failed =
            |error: String| RuleEffect { error: Some(error), resolved: rule.text.clone(), ..Default::default() };
        let parsed = match parse_rule(&rule.text) {
            Ok(p) => p,
            Err(e) => return failed(e),
        };
        let mut mask = vec![true; self.ctx.customers.height()];
        let mut texts = Vec::new();
        for condition in &parsed.conditions {
            match evaluate(condition, self.ctx) {
                Ok((m, text)) => {
                    for (a, b) in mask.iter_mut().zip(m) {
                        *a &= b;
                    }
                    texts.push(text);
                }
                Err(e) => return failed(e),
            }
        }
        let resolved = format!(
            "when {} then {}",
            texts.join(" and "),
            parsed.to_string().split_once(" then ").map_or("", |(_, a)| a)
        );
        let matched = mask.iter().filter(|&&m| m).count();
        let label = format!("rule {}", r + 1);
        let rows = mask.iter().enumerate().filter(|(_, m)| **m).map(|(i, _)| i);
        match &parsed.action {
            Action::Segment(name) => {
                let s = self.target(name);
                let changed = rows.filter(|&i| self.move_to(i, s, &label)).count();
                RuleEffect { matched, changed, resolved, error: None }
            }
            Action::NotLowPriority => self.out_of_low_priority(rows.collect(), &label, matched, resolved),
        }
    }

    /// `not low priority`: the matched customers in a low-priority segment move to their nearest
    /// segment that is not.
    fn out_of_low_priority(&mut self, rows: Vec<usize>, label: &str, matched: usize, resolved: String) -> RuleEffect {
        let ctx = self.ctx;
        let low = |s: usize| ctx.low_priority.get(s).copied().unwrap_or(false);
        let allowed: Vec<bool> = (0..ctx.n_fitted).map(|s| !low(s)).collect();
        if !allowed.iter().any(|&a| a) && ctx.low_priority.iter().any(|&l| l) {
            return RuleEffect {
                matched,
                error: Some(
                    "every segment of the model is marked low priority, so there is nowhere to move customers".into(),
                ),
                resolved,
                ..Default::default()
            };
        }
        let (mut changed, mut stuck) = (0, 0);
        for i in rows {
            let Some(current) = self.segments[i] else { continue };
            if !low(current) {
                continue;
            }
            match (ctx.nearest)(i).and_then(|order| order.into_iter().find(|&s| allowed[s])) {
                Some(s) => {
                    self.segments[i] = Some(s);
                    self.changed_by[i] = Some(label.to_string());
                    changed += 1;
                }
                None => stuck += 1,
            }
        }
        let error = (stuck > 0).then(|| {
            format!(
                "{} in a low-priority segment {} no place in the model's space (no features), so {} stayed",
                crate::engine::words::count(stuck, "customer"),
                crate::engine::words::noun(stuck, "has"),
                if stuck == 1 { "it" } else { "they" }
            )
        });
        RuleEffect { matched, changed, resolved, error }
    }

    /// Overrides, after every rule: by id, else by row number from 1.
    fn overrides(&mut self, overrides: &[Override]) -> Vec<OverrideEffect> {
        let ctx = self.ctx;
        let n = ctx.customers.height();
        let ids: Option<Vec<Option<String>>> = ctx.id_column.and_then(|id| {
            let column = ctx.customers.column(id).ok()?.cast(&DataType::String).ok()?;
            Some(column.str().ok()?.iter().map(|v| v.map(|t| t.trim().to_string())).collect())
        });
        let position: std::collections::HashMap<&str, usize> = ids
            .as_ref()
            .map(|ids| ids.iter().enumerate().filter_map(|(i, id)| id.as_deref().map(|id| (id, i))).collect())
            .unwrap_or_default();
        let failed = |error: String| OverrideEffect { changed: false, error: Some(error) };
        let mut effects = Vec::with_capacity(overrides.len());
        for o in overrides {
            let key = o.customer.trim();
            let row = match &ids {
                Some(_) => position.get(key).copied(),
                None => key.parse::<usize>().ok().filter(|&r| (1..=n).contains(&r)).map(|r| r - 1),
            };
            let Some(row) = row else {
                effects.push(failed(match ctx.id_column {
                    Some(id) if ids.is_some() => format!("no customer has {id} '{key}'"),
                    _ => format!("'{key}' is not a row number from 1 to {n} (the table has no id column)"),
                }));
                continue;
            };
            if o.segment.trim().is_empty() {
                effects.push(failed("no segment named".into()));
                continue;
            }
            let s = self.target(&o.segment);
            let changed = self.move_to(row, s, "override");
            effects.push(OverrideEffect { changed, error: None });
        }
        effects
    }

    /// Segments the rules made that ended with nobody are not kept, so every segment has customers;
    /// the rest are numbered again in order. Returns the kept names.
    fn drop_empty_rule_segments(&mut self) -> Vec<String> {
        let base = self.ctx.names.len();
        let mut count = vec![0usize; self.rule_segments.len()];
        for s in self.segments.iter().flatten() {
            if *s >= base {
                count[*s - base] += 1;
            }
        }
        let mut renumber = vec![None; self.rule_segments.len()];
        let mut kept_names = Vec::new();
        for (i, name) in self.rule_segments.iter().enumerate() {
            if count[i] > 0 {
                renumber[i] = Some(base + kept_names.len());
                kept_names.push(name.clone());
            }
        }
        for s in self.segments.iter_mut().flatten() {
            if *s >= base {
                *s = renumber[*s - base].unwrap_or(*s);
            }
        }
        kept_names
    }
}

/// One warning per rule or override that could not do what it says.
fn warnings_of(rules: &BusinessRules, effects: &[RuleEffect], overrides: &[OverrideEffect]) -> Vec<String> {
    let rules_failed =
        effects.iter().zip(&rules.rules).enumerate().filter_map(|(i, (e, rule))| {
            e.error.as_ref().map(|error| format!("rule {} ({}): {error}", i + 1, rule.text))
        });
    let overrides_failed = overrides.iter().zip(&rules.overrides).enumerate().filter_map(|(i, (e, o))| {
        e.error.as_ref().map(|error| format!("override {} (customer {}): {error}", i + 1, o.customer))
    });
    rules_failed.chain(overrides_failed).collect()
}

/// Customers who moved into and out of each of `n_segments` segments.
fn moves(now: &[Option<usize>], before: &[Option<usize>], n_segments: usize) -> (Vec<usize>, Vec<usize>) {
    let (mut moved_in, mut moved_out) = (vec![0; n_segments], vec![0; n_segments]);
    for (now, before) in now.iter().zip(before) {
        if now != before {
            if let Some(s) = now {
                moved_in[*s] += 1;
            }
            if let Some(s) = before.filter(|&s| s < n_segments) {
                moved_out[s] += 1;
            }
        }
    }
    (moved_in, moved_out)
}
