//! Attribute validators. They run at ValidateResourceConfig on known, non-null values only:
//! unknown values are checked again once Terraform knows them.

use crate::value::Value;
use crate::value::path::AttributePath;

use super::diagnostics::{Diagnostic, Diagnostics};

/// Checks one attribute value.
pub trait Validator: Send + Sync {
    /// Plain-language rule, used in generated docs.
    fn description(&self) -> String;
    /// Records problems with `value` (known and non-null) at `path`.
    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics);
}

/// The value must be exactly one of a fixed set of strings. A near miss (other casing or
/// spacing) gets a message naming the accepted spelling.
pub struct OneOf {
    allowed: Vec<&'static str>,
}

impl OneOf {
    pub fn new(allowed: &[&'static str]) -> Self {
        Self {
            allowed: allowed.to_vec(),
        }
    }
}

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

impl Validator for OneOf {
    fn description(&self) -> String {
        let quoted: Vec<String> = self.allowed.iter().map(|a| format!("`{a}`")).collect();
        format!("one of {}", quoted.join(", "))
    }

    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let Some(s) = value.as_str() else { return };
        if self.allowed.contains(&s) {
            return;
        }
        let listed: Vec<String> = self.allowed.iter().map(|a| format!("\"{a}\"")).collect();
        let detail = match self.allowed.iter().find(|a| squash(a) == squash(s)) {
            Some(close) => format!(
                "\"{s}\" is not accepted as written: use \"{close}\" (exact casing, no spaces). Accepted values: {}.",
                listed.join(", ")
            ),
            None => format!(
                "\"{s}\" is not an accepted value. Accepted values: {}.",
                listed.join(", ")
            ),
        };
        diags.push(Diagnostic::error("Invalid value", detail).at(path.clone()));
    }
}

/// A validator built from a function returning an error message.
pub struct Check<F> {
    description: String,
    check: F,
}

impl<F> Check<F> {
    pub fn new(description: impl Into<String>, check: F) -> Self {
        Self {
            description: description.into(),
            check,
        }
    }
}

impl<F> Validator for Check<F>
where
    F: Fn(&Value) -> Result<(), String> + Send + Sync,
{
    fn description(&self) -> String {
        self.description.clone()
    }

    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        if let Err(msg) = (self.check)(value) {
            diags.push(Diagnostic::error("Invalid value", msg).at(path.clone()));
        }
    }
}

/// Applies a string check to each element of a set or list of strings (or to a single
/// string), reporting problems at the collection's path (set elements cannot be addressed).
/// It holds its description and check like [`Check`]; only what is checked differs.
pub struct EachString<F>(Check<F>);

impl<F> EachString<F>
where
    F: Fn(&str) -> Result<(), String> + Send + Sync,
{
    pub fn new(description: impl Into<String>, check: F) -> Self {
        Self(Check::new(description, check))
    }
}

impl<F> Validator for EachString<F>
where
    F: Fn(&str) -> Result<(), String> + Send + Sync,
{
    fn description(&self) -> String {
        self.0.description.clone()
    }

    fn validate(&self, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        let items: Vec<&Value> = match value {
            Value::Set(v) | Value::List(v) => v.iter().collect(),
            other => vec![other],
        };
        for item in items {
            if let Some(s) = item.as_str()
                && let Err(msg) = (self.0.check)(s)
            {
                diags.push(Diagnostic::error("Invalid value", msg).at(path.clone()));
            }
        }
    }
}
