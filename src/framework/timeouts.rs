//! The `timeouts` block (a block rather than an attribute so Terraform 1.0 accepts it) and
//! Go-style duration strings such as `30m` or `1h30m`.

use std::time::Duration;

use super::model::Field;
use super::schema::{Attribute, Block, BlockNesting};
use super::validators::Check;
use crate::value::Value;

/// Operations a `timeouts` block can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Read,
    Update,
    Delete,
}

impl Operation {
    fn name(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Read => "read",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

/// Adds a `timeouts` block with the defaults of all four operations to a block.
pub fn add_block(block: Block, ops: &[(Operation, Duration)]) -> Block {
    let mut inner =
        Block::new().describe("Per-operation time limits, as Go durations such as `30m` or `1h`.");
    for (op, default) in ops {
        inner = inner.attribute(
            Attribute::string(op.name())
                .optional()
                .describe(format!(
                    "Time limit for {} (default `{}`).",
                    op.name(),
                    format_duration(*default)
                ))
                .validate(Check::new(
                    "a Go duration such as `30m`",
                    |v: &Value| match v.as_str() {
                        Some(s) => parse_duration(s).map(|_| ()),
                        None => Ok(()),
                    },
                )),
        );
    }
    block.block("timeouts", BlockNesting::Single, inner)
}

/// The configured timeout for `op`, or `default`.
pub fn get(model_timeouts: &Field<Timeouts>, op: Operation, default: Duration) -> Duration {
    model_timeouts
        .known()
        .and_then(|t| t.get(op))
        .unwrap_or(default)
}

/// The `timeouts` block's values as strings, as configured (the block has all four).
#[derive(Debug, Clone, Default, PartialEq, Eq, super::Model)]
pub struct Timeouts {
    pub create: Option<String>,
    pub read: Option<String>,
    pub update: Option<String>,
    pub delete: Option<String>,
}

impl Timeouts {
    pub fn get(&self, op: Operation) -> Option<Duration> {
        let s = match op {
            Operation::Create => &self.create,
            Operation::Read => &self.read,
            Operation::Update => &self.update,
            Operation::Delete => &self.delete,
        };
        s.as_deref().and_then(|s| parse_duration(s).ok())
    }
}

/// Parses a Go duration (`300ms`, `1.5h`, `2h45m`); negative values are refused.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "\"{s}\" is not a duration: use a number with a unit, such as \"30s\", \"20m\" or \"1h30m\""
        )
    };
    if s.is_empty() {
        return Err(bad());
    }
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if num_len == 0 {
            return Err(bad());
        }
        let n: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += n * scale;
        rest = &rest[unit_len..];
    }
    if !total.is_finite() || total > 1e9 {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(total))
}

/// Formats a whole-second duration the way Go would (`20m0s` is written `20m`).
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        for bad in ["", "10", "m", "5x", "-5m", "1h-2m", "1e400h"] {
            assert!(parse_duration(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn formats_durations() {
        assert_eq!(format_duration(Duration::from_secs(1200)), "20m");
        assert_eq!(format_duration(Duration::from_secs(3725)), "1h2m5s");
        assert_eq!(format_duration(Duration::ZERO), "0s");
    }
}
