//! What the caller tells the host: protocol versions, serve options and command-line parsing.

use std::ffi::OsString;
use std::fmt;

/// The provider source address used in debug mode when none is given.
pub const DEFAULT_PROVIDER_ADDRESS: &str = "registry.terraform.io/amlauth/amlauth";

/// A Terraform plugin protocol major version this binary can serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProtocolVersion {
    /// `tfplugin5.Provider` (Terraform 0.12 and later).
    V5,
    /// `tfplugin6.Provider` (Terraform 0.15 and later).
    V6,
}

impl ProtocolVersion {
    /// Every served version, highest (preferred) first.
    pub const SERVED: [ProtocolVersion; 2] = [ProtocolVersion::V6, ProtocolVersion::V5];

    /// The major number as written in the handshake line and in `PLUGIN_PROTOCOL_VERSIONS`.
    pub const fn number(self) -> u32 {
        match self {
            ProtocolVersion::V5 => 5,
            ProtocolVersion::V6 => 6,
        }
    }

    /// The version with this major number, if we serve it.
    pub const fn from_number(n: u32) -> Option<Self> {
        match n {
            5 => Some(ProtocolVersion::V5),
            6 => Some(ProtocolVersion::V6),
            _ => None,
        }
    }

    /// The fully qualified gRPC service name of the provider service for this version.
    pub const fn provider_service_name(self) -> &'static str {
        match self {
            ProtocolVersion::V5 => "tfplugin5.Provider",
            ProtocolVersion::V6 => "tfplugin6.Provider",
        }
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

/// How [`serve`](crate::plugin::serve) should run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeOptions {
    /// Provider source address announced in the debug-mode `TF_REATTACH_PROVIDERS` value.
    pub provider_address: String,
    /// Debug mode: started by a developer rather than Terraform. No cookie check, plaintext,
    /// a reattach banner instead of the handshake line, runs until Ctrl-C.
    pub debug: bool,
    /// Protocol served in debug mode (there is no negotiation then).
    pub debug_protocol: ProtocolVersion,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            provider_address: DEFAULT_PROVIDER_ADDRESS.to_owned(),
            debug: false,
            debug_protocol: ProtocolVersion::V6,
        }
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Serve the provider (the normal case: Terraform passes no arguments).
    Serve(ServeOptions),
    /// Print usage and exit.
    Help,
    /// Print the version and exit.
    Version,
}

/// A command line this binary does not understand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    /// An argument that is not one of the known flags.
    #[error("unexpected argument {0:?}; run with --help to see the accepted flags")]
    UnexpectedArgument(String),
    /// A flag that needs a value was last on the line.
    #[error("{0} expects a value, e.g. {0}=registry.terraform.io/amlauth/amlauth")]
    MissingValue(&'static str),
    /// `--debug-protocol` with something other than 5 or 6.
    #[error("--debug-protocol must be 5 or 6, got {0:?}")]
    BadProtocol(String),
}

/// Usage text printed by `--help`.
pub const USAGE: &str = "\
terraform-provider-amlauth: Terraform provider for Azure Machine Learning authentication settings.

Terraform starts this program itself; you do not need to run it.

Usage:
  terraform-provider-amlauth [--debug [--provider-address=ADDR] [--debug-protocol=5|6]]

Options:
  --debug, -debug          serve in debug mode: plaintext on a unix socket, print a
                           TF_REATTACH_PROVIDERS value to paste into Terraform's shell,
                           and run until Ctrl-C
  --provider-address=ADDR  provider source address for the reattach value
                           (default registry.terraform.io/amlauth/amlauth)
  --debug-protocol=N       protocol major version to serve in debug mode (default 6)
  --version, -V            print the version and exit
  --help, -h               print this help and exit

Logging: set TF_LOG_PROVIDER or TF_LOG (TRACE, DEBUG, INFO, WARN, ERROR) as for Terraform.
";

impl Command {
    /// Parses the arguments after the program name.
    pub fn parse<I>(args: I) -> Result<Command, CliError>
    where
        I: IntoIterator<Item = OsString>,
    {
        let mut opts = ServeOptions::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let arg = arg.to_string_lossy().into_owned();
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
                _ => (arg.clone(), None),
            };
            let mut value = |name: &'static str| -> Result<String, CliError> {
                match inline.clone() {
                    Some(v) => Ok(v),
                    None => args
                        .next()
                        .map(|v| v.to_string_lossy().into_owned())
                        .ok_or(CliError::MissingValue(name)),
                }
            };
            match flag.as_str() {
                "-h" | "--help" => return Ok(Command::Help),
                "-V" | "--version" => return Ok(Command::Version),
                // Go providers take `-debug`; accept it too for muscle memory.
                "--debug" | "-debug" if inline.is_none() => opts.debug = true,
                "--provider-address" => opts.provider_address = value("--provider-address")?,
                "--debug-protocol" => {
                    let v = value("--debug-protocol")?;
                    opts.debug_protocol = v
                        .trim()
                        .parse()
                        .ok()
                        .and_then(ProtocolVersion::from_number)
                        .ok_or(CliError::BadProtocol(v))?;
                }
                _ => return Err(CliError::UnexpectedArgument(arg)),
            }
        }
        Ok(Command::Serve(opts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, CliError> {
        Command::parse(args.iter().map(OsString::from))
    }

    #[test]
    fn no_arguments_serves_for_terraform() {
        assert_eq!(parse(&[]), Ok(Command::Serve(ServeOptions::default())));
    }

    #[test]
    fn debug_flags_are_parsed_in_both_spellings() {
        let Ok(Command::Serve(o)) = parse(&[
            "--debug",
            "--provider-address",
            "example.com/a/b",
            "--debug-protocol=5",
        ]) else {
            panic!("expected serve");
        };
        assert!(o.debug);
        assert_eq!(o.provider_address, "example.com/a/b");
        assert_eq!(o.debug_protocol, ProtocolVersion::V5);
    }

    #[test]
    fn go_style_single_dash_debug_is_accepted() {
        let Ok(Command::Serve(o)) = parse(&["-debug"]) else {
            panic!("expected serve");
        };
        assert!(o.debug);
    }

    #[test]
    fn help_and_version_win() {
        assert_eq!(parse(&["--debug", "-h"]), Ok(Command::Help));
        assert_eq!(parse(&["--version"]), Ok(Command::Version));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert_eq!(
            parse(&["serve"]),
            Err(CliError::UnexpectedArgument("serve".into()))
        );
        assert_eq!(
            parse(&["--provider-address"]),
            Err(CliError::MissingValue("--provider-address"))
        );
        assert_eq!(
            parse(&["--debug-protocol=4"]),
            Err(CliError::BadProtocol("4".into()))
        );
        assert_eq!(
            parse(&["--debug=yes"]),
            Err(CliError::UnexpectedArgument("--debug=yes".into()))
        );
    }
}
