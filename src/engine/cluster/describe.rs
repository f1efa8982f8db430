//! How a segmentation method is described: its name, what it is for, and its settings with their
//! ranges, help and command-line option. Each method's own file holds its description (`METHOD`)
//! and its parameters' [`MethodParams`] beside its fit; [`super::method`] lists them once. The CLI
//! builds its options from the descriptions and the Model screen draws its settings panel from them.
//!
//! Settings are read and written through the parameters' serialized form (the same one the project
//! file stores), so a description names fields and nothing is matched by hand per method.

use serde_json::Value;

use crate::engine::error::ClusterError;

/// [`MethodParams`] for parameters with the fields `k` and `seed` and a `check()` of their own;
/// `n_init` adds the field of that name as the initialisations per fit.
macro_rules! params_with_k {
    ($params:ty $(, $n_init:ident)?) => {
        impl $crate::engine::cluster::describe::MethodParams for $params {
            fn k(&self) -> Option<usize> {
                Some(self.k)
            }
            fn set_k(&mut self, k: usize) {
                self.k = k;
            }
            fn seed(&self) -> u64 {
                self.seed
            }
            fn set_seed(&mut self, seed: u64) {
                self.seed = seed;
            }
            $(fn $n_init(&self) -> usize {
                self.$n_init
            })?
            fn check(&self) -> Result<(), $crate::engine::error::ClusterError> {
                self.check()
            }
        }
    };
}
pub(crate) use params_with_k;

/// A method: what the menu, the CLI and the project file know it by, and its settings.
pub struct MethodInfo {
    /// The command-line name (`--algorithm`), also the menu key.
    pub name: &'static str,
    /// The name people read.
    pub label: &'static str,
    /// One line on what the method is for.
    pub hint: &'static str,
    /// Whether the method takes a number of segments (and so can sweep a k range); the panel shows
    /// k and the seed first for these.
    pub has_k: bool,
    /// The settings beyond k and seed, in the order the panel shows them.
    pub settings: &'static [Setting],
}

/// What every method's parameters answer, whatever the method.
pub trait MethodParams {
    /// The number of segments asked for; `None` for methods that find it themselves.
    fn k(&self) -> Option<usize> {
        None
    }
    /// Sets k (methods without a k ignore it).
    fn set_k(&mut self, _k: usize) {}
    /// The seed of every random choice (0 for methods without randomness).
    fn seed(&self) -> u64 {
        0
    }
    /// Sets the seed (methods without randomness ignore it).
    fn set_seed(&mut self, _seed: u64) {}
    /// Initialisations per fit, which multiply a sweep's work.
    fn n_init(&self) -> usize {
        1
    }
    /// The recency, frequency and monetary columns, for methods that score the customer table.
    fn rfm_columns(&self) -> Option<[&str; 3]> {
        None
    }
    /// Checks the settings against their documented bounds.
    fn check(&self) -> Result<(), ClusterError>;
}

/// One setting of a method.
pub struct Setting {
    /// The command-line option without its dashes (`n-init`); `None` for a window-only control.
    pub option: Option<&'static str>,
    /// The label on the Model screen.
    pub label: &'static str,
    /// What it does: the hover text, and the option's help on the command line.
    pub help: &'static str,
    /// Its value and how it is edited.
    pub kind: Kind,
    /// When the panel shows it.
    pub shown: Shown,
}

/// A setting's value, the fields of the parameters it lives in, and its bounds (the panel's range;
/// the parameters' `check` holds the documented bounds). Each variant's text says what its fields
/// are.
#[allow(missing_docs)]
pub enum Kind {
    /// A whole number in `field`, from `min` to `max` (or to the value of `max_field`, when given).
    Count { field: &'static str, min: u64, max: u64, suffix: &'static str, max_field: Option<&'static str> },
    /// A number in `field`.
    Number { field: &'static str, min: f64, max: f64, speed: f64, decimals: Option<usize> },
    /// An optional whole number in `field`: a checkbox (ticked: none, the method decides) and a value.
    AutoCount {
        field: &'static str,
        auto: &'static str,
        auto_help: &'static str,
        default: u64,
        min: u64,
        max: u64,
        suffix: &'static str,
    },
    /// An optional number in `field`: a checkbox (ticked: none, the method decides) and a value.
    AutoNumber {
        field: &'static str,
        auto: &'static str,
        auto_help: &'static str,
        default: f64,
        min: f64,
        max: f64,
        decimals: Option<usize>,
    },
    /// An optional number in `field` edited only while it is set (see [`Kind::Mode`]).
    SetNumber { field: &'static str, default: f64, min: f64, max: f64, decimals: Option<usize> },
    /// Two ways to run, chosen by whether `field` is set: `unset` (label, help) or `set` (label,
    /// help, and the value it starts from).
    Mode { field: &'static str, unset: (&'static str, &'static str), set: (&'static str, &'static str, f64) },
    /// One of `choices` (command-line name, stored name) in `field`; `absent` is the stored name a
    /// file without the field means (the field is then not written for it).
    Choice {
        field: &'static str,
        choices: &'static [(&'static str, &'static str)],
        salt: &'static str,
        absent: Option<&'static str>,
    },
    /// Two whole numbers `fields`, written `ROWSxCOLS` on the command line, two rows on the panel.
    Grid { fields: [&'static str; 2], labels: [&'static str; 2], min: u64, max: u64 },
    /// A pair of whole numbers in one `field`, written `A,B`, the second above the first.
    Pair { field: &'static str, labels: [&'static str; 2], ranges: [(u64, u64); 2], example: &'static str },
    /// The recency, frequency and monetary columns, written `R,F,M`, picked from numeric columns.
    Columns { fields: [&'static str; 3] },
}

/// When a setting is on the panel.
#[derive(Clone, Copy)]
pub enum Shown {
    /// Always.
    Always,
    /// While the optional field is unset.
    Unset(&'static str),
    /// While the optional field is set.
    Set(&'static str),
    /// Never: a command-line option only.
    Never,
}

impl Setting {
    /// A setting with an option, shown always.
    pub const fn new(option: &'static str, label: &'static str, help: &'static str, kind: Kind) -> Self {
        Self { option: Some(option), label, help, kind, shown: Shown::Always }
    }

    /// The same, shown only as `shown` says.
    pub const fn shown(mut self, shown: Shown) -> Self {
        self.shown = shown;
        self
    }

    /// The same on the command line only.
    pub const fn cli_only(mut self) -> Self {
        self.shown = Shown::Never;
        self
    }

    /// The same without a command-line option.
    pub const fn window_only(mut self) -> Self {
        self.option = None;
        self
    }

    /// What the option's value looks like, for the CLI's help.
    pub fn value_name(&self) -> &'static str {
        match self.kind {
            Kind::Count { .. } | Kind::AutoCount { .. } => "N",
            Kind::Number { .. } | Kind::AutoNumber { .. } | Kind::SetNumber { .. } | Kind::Mode { .. } => "X",
            Kind::Choice { .. } => "NAME",
            Kind::Grid { .. } => "ROWSxCOLS",
            Kind::Pair { .. } => "A,B",
            Kind::Columns { .. } => "R,F,M",
        }
    }
}

/// A field of parameters as JSON: `name`, or `name.0` for an element of a pair.
pub fn field<'a>(params: &'a Value, path: &str) -> Option<&'a Value> {
    match path.split_once('.') {
        Some((name, index)) => params.get(name)?.get(index.parse::<usize>().ok()?),
        None => params.get(path),
    }
}

/// A field of parameters as JSON, to change it.
pub fn field_mut<'a>(params: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    match path.split_once('.') {
        Some((name, index)) => params.get_mut(name)?.get_mut(index.parse::<usize>().ok()?),
        None => params.get_mut(path),
    }
}

/// Sets a choice's stored name, adding the field when the parameters leave it out (a choice whose
/// `absent` name is not written).
pub fn put_choice(params: &mut Value, path: &str, stored: &str) {
    match field_mut(params, path) {
        Some(slot) => *slot = stored.into(),
        None => {
            if let Some(object) = params.as_object_mut().filter(|_| !path.contains('.')) {
                object.insert(path.to_string(), stored.into());
            }
        }
    }
}

/// Sets the setting of option `option` from its command-line text; the error is one line naming
/// the option.
pub fn set_from_text(params: &mut Value, setting: &Setting, text: &str) -> Result<(), String> {
    let option = setting.option.unwrap_or(setting.label);
    let count = |t: &str| t.trim().parse::<u64>().map_err(|_| format!("--{option}: '{t}' is not a whole number"));
    let number = |t: &str| match t.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("--{option}: '{t}' is not a number")),
    };
    let put = |params: &mut Value, path: &str, value: Value| {
        if let Some(slot) = field_mut(params, path) {
            *slot = value;
        }
    };
    match &setting.kind {
        Kind::Count { field, .. } => put(params, field, count(text)?.into()),
        Kind::AutoCount { field, .. } => put(params, field, count(text)?.into()),
        Kind::Number { field, .. } | Kind::AutoNumber { field, .. } | Kind::SetNumber { field, .. } => {
            put(params, field, number(text)?.into())
        }
        Kind::Mode { field, .. } => put(params, field, number(text)?.into()),
        Kind::Choice { field, choices, .. } => {
            let stored =
                choices.iter().find(|(cli, _)| *cli == text.trim()).map(|(_, stored)| *stored).ok_or_else(|| {
                    let names: Vec<&str> = choices.iter().map(|(cli, _)| *cli).collect();
                    format!("--{option}: '{text}' is not one of {}", names.join(", "))
                })?;
            put_choice(params, field, stored);
        }
        Kind::Grid { fields, .. } => {
            let (rows, cols) = text
                .split_once(['x', 'X'])
                .ok_or_else(|| format!("--{option} takes rows x columns, for example 10x10"))?;
            let (rows, cols) = (count(rows)?, count(cols)?);
            put(params, fields[0], rows.into());
            put(params, fields[1], cols.into());
        }
        Kind::Pair { field, example, .. } => {
            let parts: Vec<&str> = text.split(',').collect();
            let [a, b] = parts.as_slice() else {
                return Err(format!("--{option} takes two total scores: MID,HIGH (for example {example})"));
            };
            let small = |t: &str| {
                count(t)?.try_into().map_err(|_| format!("--{option}: '{t}' is not a whole number from 0 to 255"))
            };
            let (a, b): (u8, u8) = (small(a)?, small(b)?);
            put(params, field, serde_json::json!([a, b]));
        }
        Kind::Columns { fields } => {
            let parts: Vec<&str> = text.split(',').collect();
            if parts.len() != 3 {
                return Err(format!("--{option} takes three columns: recency,frequency,monetary"));
            }
            for (f, column) in fields.iter().zip(parts) {
                put(params, f, column.trim().into());
            }
        }
    }
    Ok(())
}

/// Holds each whole number that is bounded by another field (`max_field`) to it, after settings
/// were given in any order.
pub fn apply_limits(params: &mut Value, settings: &[Setting]) {
    for s in settings {
        if let Kind::Count { field: name, max_field: Some(limit), .. } = s.kind
            && let (Some(v), Some(limit)) =
                (field(params, name).and_then(Value::as_u64), field(params, limit).and_then(Value::as_u64))
            && v > limit
            && let Some(slot) = field_mut(params, name)
        {
            *slot = limit.into();
        }
    }
}
