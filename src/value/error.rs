//! Errors of the value layer, each tied to the attribute path where it happened.

use std::fmt;

use super::path::{AttributePath, PathStep};

/// A decoding, encoding or type-checking failure, with the path of the offending part.
///
/// Displays as `at identity.type: expected string, got bool`, or without the `at …:` prefix
/// when the problem is at the root.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{kind}", PathPrefix(.path))]
pub struct ValueError {
    /// Where in the value the problem is.
    pub path: AttributePath,
    /// What the problem is.
    pub kind: ValueErrorKind,
}

/// What went wrong; see [`ValueError`] for where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueErrorKind {
    #[error("input is {size} bytes, more than the limit of {limit}")]
    InputTooLarge { size: usize, limit: usize },
    #[error("value is nested more than {limit} levels deep")]
    TooDeep { limit: usize },
    #[error("malformed msgpack at byte {offset}: {reason}")]
    Msgpack { offset: usize, reason: String },
    #[error("malformed JSON: {0}")]
    Json(String),
    #[error("{count} unexpected bytes after the end of the value")]
    TrailingBytes { count: usize },
    #[error("expected {expected}, got {found}")]
    TypeMismatch { expected: String, found: String },
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    #[error("object is missing attribute {0:?}")]
    MissingAttribute(String),
    #[error("unsupported attribute {0:?}")]
    UnsupportedAttribute(String),
    #[error("duplicate key {0:?}")]
    DuplicateKey(String),
    #[error("expected a tuple of {expected} elements, got {found}")]
    TupleLength { expected: usize, found: usize },
    #[error("invalid dynamic value: {0}")]
    InvalidDynamic(String),
    #[error("invalid type description: {0}")]
    InvalidType(String),
    #[error("invalid number: {0}")]
    InvalidNumber(String),
    #[error("unsupported msgpack extension type {code} with a {len}-byte payload")]
    UnsupportedExtension { code: i8, len: usize },
    #[error("unknown-value refinements take {size} bytes, more than the limit of {limit}")]
    RefinementTooLarge { size: usize, limit: usize },
    #[error("invalid unknown-value refinement: {0}")]
    InvalidRefinement(String),
    #[error("unknown values cannot be encoded as JSON")]
    UnknownInJson,
    #[error("infinity cannot be encoded as JSON")]
    InfinityInJson,
}

impl ValueError {
    /// An error at `path`.
    pub fn new(path: AttributePath, kind: ValueErrorKind) -> Self {
        Self { path, kind }
    }

    /// An error at the root of the value.
    pub fn at_root(kind: ValueErrorKind) -> Self {
        Self::new(AttributePath::root(), kind)
    }

    /// Shorthand for a [`ValueErrorKind::TypeMismatch`] at `path`.
    pub(crate) fn mismatch(
        path: &[PathStep],
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Self::new(
            AttributePath::new(path.to_vec()),
            ValueErrorKind::TypeMismatch {
                expected: expected.into(),
                found: found.into(),
            },
        )
    }

    /// An error at the path given as a step slice (the codecs keep their path as a stack).
    pub(crate) fn at(path: &[PathStep], kind: ValueErrorKind) -> Self {
        Self::new(AttributePath::new(path.to_vec()), kind)
    }
}

/// Where a codec is in the value it walks: the path for error messages, and the nesting depth,
/// bounded by [`MAX_DEPTH`](super::MAX_DEPTH) so hostile input cannot exhaust the stack.
#[derive(Debug, Default)]
pub(crate) struct Walk {
    pub path: Vec<PathStep>,
    depth: usize,
}

impl Walk {
    /// An error at the current path.
    pub fn fail(&self, kind: ValueErrorKind) -> ValueError {
        ValueError::at(&self.path, kind)
    }

    /// Steps into a collection; fails past the depth limit.
    pub fn enter(&mut self) -> Result<(), ValueError> {
        self.depth += 1;
        if self.depth > super::MAX_DEPTH {
            return Err(self.fail(ValueErrorKind::TooDeep {
                limit: super::MAX_DEPTH,
            }));
        }
        Ok(())
    }

    /// Steps out of the collection [`Walk::enter`] stepped into.
    pub fn leave(&mut self) {
        self.depth -= 1;
    }
}

struct PathPrefix<'a>(&'a AttributePath);

impl fmt::Display for PathPrefix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_root() {
            Ok(())
        } else {
            write!(f, "at {}: ", self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_the_path() {
        let e = ValueError::new(
            AttributePath::root().attr("identity").attr("type"),
            ValueErrorKind::TypeMismatch {
                expected: "string".into(),
                found: "bool".into(),
            },
        );
        assert_eq!(e.to_string(), "at identity.type: expected string, got bool");
        let e = ValueError::at_root(ValueErrorKind::MissingAttribute("name".into()));
        assert_eq!(e.to_string(), "object is missing attribute \"name\"");
    }
}
