//! Which events to emit, from the same variables Terraform uses to filter provider logs.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;

/// Provider-specific level, read first.
pub const TF_LOG_PROVIDER: &str = "TF_LOG_PROVIDER";
/// Global level, used when `TF_LOG_PROVIDER` is unset.
pub const TF_LOG: &str = "TF_LOG";
/// Developer override in `tracing` directive syntax (e.g. `amlauth=trace,h2=debug`).
pub const AMLAUTH_LOG: &str = "AMLAUTH_LOG";

/// Our own crates; everything else (tonic, h2, rustls, reqwest...) is capped at WARN unless
/// [`AMLAUTH_LOG`] asks for more, because their TRACE output is per-frame noise.
const OWN_TARGETS: [&str; 2] = ["amlauth", "terraform_provider_amlauth"];

/// The level Terraform will keep for this provider's lines, or `None` when it discards them all.
///
/// Terraform reads `TF_LOG_PROVIDER`, falling back to `TF_LOG`; unset or empty means logging is
/// off, `JSON` means TRACE, and a value it does not recognise also means TRACE. Emitting exactly
/// what it keeps means no formatting work when `TF_LOG` is unset (the common case) and nothing
/// lost when it is set.
pub fn terraform_level(provider: Option<&str>, global: Option<&str>) -> Option<LevelFilter> {
    let raw = [provider, global]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|v| !v.is_empty())?;
    match raw.to_ascii_uppercase().as_str() {
        "OFF" => Some(LevelFilter::OFF),
        "ERROR" => Some(LevelFilter::ERROR),
        "WARN" => Some(LevelFilter::WARN),
        "INFO" => Some(LevelFilter::INFO),
        "DEBUG" => Some(LevelFilter::DEBUG),
        _ => Some(LevelFilter::TRACE),
    }
}

/// The target filter for `level`: our crates at `level`, dependencies at no more than WARN.
pub fn targets(level: LevelFilter) -> Targets {
    let deps = level.min(LevelFilter::WARN);
    OWN_TARGETS
        .into_iter()
        .fold(Targets::new().with_default(deps), |t, target| {
            t.with_target(target, level)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn unset_means_off() {
        assert_eq!(terraform_level(None, None), None);
        assert_eq!(terraform_level(Some(""), Some("  ")), None);
    }

    #[test]
    fn provider_variable_wins_and_falls_back_to_tf_log() {
        assert_eq!(
            terraform_level(Some("error"), Some("TRACE")),
            Some(LevelFilter::ERROR)
        );
        assert_eq!(
            terraform_level(None, Some("debug")),
            Some(LevelFilter::DEBUG)
        );
        assert_eq!(
            terraform_level(Some(""), Some("INFO")),
            Some(LevelFilter::INFO)
        );
    }

    #[test]
    fn json_and_unknown_values_mean_trace_like_terraform() {
        assert_eq!(
            terraform_level(None, Some("JSON")),
            Some(LevelFilter::TRACE)
        );
        assert_eq!(
            terraform_level(None, Some("loud")),
            Some(LevelFilter::TRACE)
        );
        assert_eq!(terraform_level(None, Some("off")), Some(LevelFilter::OFF));
    }

    #[test]
    fn dependencies_are_capped_at_warn() {
        let t = targets(LevelFilter::TRACE);
        assert!(t.would_enable("amlauth::azure", &Level::TRACE));
        assert!(t.would_enable("terraform_provider_amlauth", &Level::TRACE));
        assert!(!t.would_enable("h2::codec", &Level::DEBUG));
        assert!(t.would_enable("h2::codec", &Level::WARN));
        let t = targets(LevelFilter::ERROR);
        assert!(!t.would_enable("rustls", &Level::WARN));
    }
}
