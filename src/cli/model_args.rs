//! Which method segments and with which settings: the options `sweep`, `fit`, `stability` and
//! `over-time` share. The method options are not listed here: each comes from the description of
//! the methods that have it (`engine::cluster::describe`), so a new method brings its own.

use clap::{Arg, ArgAction, ArgMatches, FromArgMatches};

use super::*;
use crate::engine::cluster::describe::{Kind, apply_limits, set_from_text};
use crate::engine::cluster::method::method_options;

/// Which method segments, with its settings; shared by sweep and fit. Settings a method does not
/// have are refused rather than ignored.
#[derive(Debug, Clone)]
pub struct ModelArgs {
    /// Segmentation method (`--algorithm`).
    pub algorithm: String,
    /// Seed of every random choice (`--seed`).
    pub seed: u64,
    /// The method settings given, as (option, text), in the order the methods describe them.
    pub settings: Vec<(&'static str, String)>,
}

impl Args for ModelArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let cmd = cmd
            .arg(
                Arg::new("algorithm")
                    .long("algorithm")
                    .default_value("kmeans")
                    .value_parser(clap::builder::PossibleValuesParser::new(Algorithm::NAMES))
                    .help("Segmentation method"),
            )
            .arg(
                Arg::new("seed")
                    .long("seed")
                    .default_value("42")
                    .value_parser(clap::value_parser!(u64))
                    .help("Seed of every random choice"),
            );
        method_options().into_iter().fold(cmd, |cmd, (option, setting, _)| {
            let mut arg = Arg::new(option)
                .long(option)
                .value_name(setting.value_name())
                .action(ArgAction::Set)
                .help(help_of(option));
            arg = match setting.kind {
                Kind::Choice { choices, .. } => {
                    let names: Vec<&'static str> = choices.iter().map(|(cli, _)| *cli).collect();
                    arg.value_parser(clap::builder::PossibleValuesParser::new(names))
                }
                // Malformed values are refused by the parser, before any data is read, as a usage error.
                _ => arg.value_parser(clap::builder::ValueParser::new(move |text: &str| {
                    set_from_text(&mut serde_json::json!({}), setting, text).map(|()| text.to_string())
                })),
            };
            cmd.arg(arg)
        })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

/// An option's help: each method's own text, with the methods it applies to.
fn help_of(option: &str) -> String {
    let mut helps: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for m in crate::engine::cluster::method::METHODS {
        for s in m.settings.iter().filter(|s| s.option == Some(option)) {
            match helps.iter_mut().find(|(help, _)| *help == s.help) {
                Some((_, methods)) => methods.push(m.name),
                None => helps.push((s.help, vec![m.name])),
            }
        }
    }
    let parts: Vec<String> = helps.iter().map(|(help, methods)| format!("{help} ({})", methods.join(", "))).collect();
    parts.join("; ")
}

impl FromArgMatches for ModelArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let algorithm = matches.get_one::<String>("algorithm").cloned().unwrap_or_else(|| "kmeans".into());
        let seed = matches.get_one::<u64>("seed").copied().unwrap_or(42);
        let settings = method_options()
            .into_iter()
            .filter_map(|(option, _, _)| matches.get_one::<String>(option).map(|text| (option, text.clone())))
            .collect();
        Ok(Self { algorithm, seed, settings })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl ModelArgs {
    /// The method at `k` (ignored by methods without one), with every setting given; a setting the
    /// method does not have is refused.
    pub(crate) fn algorithm(&self, k: usize) -> Result<Algorithm, CliError> {
        let mut algorithm = Algorithm::by_name(&self.algorithm)
            .ok_or_else(|| CliError(format!("unknown algorithm '{}'", self.algorithm)))?;
        algorithm.set_k(k);
        algorithm.set_seed(self.seed);
        let info = algorithm.info();
        let mut params = algorithm.params_json();
        for (option, text) in &self.settings {
            let Some(setting) = info.settings.iter().find(|s| s.option == Some(*option)) else {
                return Err(CliError(format!("--{option} is not a setting of {} ({})", info.name, info.label)));
            };
            set_from_text(&mut params, setting, text).map_err(CliError)?;
        }
        apply_limits(&mut params, info.settings);
        let algorithm = algorithm.with_params(params)?;
        algorithm.check()?;
        Ok(algorithm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_option_is_on_the_command_line_once() {
        let cmd = ModelArgs::augment_args(clap::Command::new("t"));
        for m in crate::engine::cluster::method::METHODS {
            for s in m.settings.iter().filter_map(|s| s.option) {
                assert_eq!(cmd.get_arguments().filter(|a| a.get_long() == Some(s)).count(), 1, "--{s}");
            }
        }
    }
}
