//! Attribute paths: where inside a value something is (diagnostics, `requires_replace`).

use std::fmt;

/// One step of an [`AttributePath`], mirroring the protocol's `AttributePath.Step` oneof.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    /// An object attribute or nested block name.
    Attribute(String),
    /// A map key.
    ElementKeyString(String),
    /// A list or tuple index. Codec errors inside a set also use it, for the element's position
    /// in the received array, although the protocol cannot address set elements.
    ElementKeyInt(i64),
}

/// A path from the root of a value to one of its parts. The empty path is the root itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct AttributePath {
    steps: Vec<PathStep>,
}

impl AttributePath {
    /// The path of the whole value.
    pub fn root() -> Self {
        Self::default()
    }

    /// A path made of the given steps.
    pub fn new(steps: Vec<PathStep>) -> Self {
        Self { steps }
    }

    /// This path followed by the attribute `name`.
    #[must_use]
    pub fn attr(mut self, name: impl Into<String>) -> Self {
        self.steps.push(PathStep::Attribute(name.into()));
        self
    }

    /// This path followed by the map key `key`.
    #[must_use]
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.steps.push(PathStep::ElementKeyString(key.into()));
        self
    }

    /// This path followed by the list or tuple index `index`.
    #[must_use]
    pub fn index(mut self, index: i64) -> Self {
        self.steps.push(PathStep::ElementKeyInt(index));
        self
    }

    /// This path followed by `step`, leaving `self` untouched.
    #[must_use]
    pub fn child(&self, step: PathStep) -> Self {
        let mut steps = self.steps.clone();
        steps.push(step);
        Self { steps }
    }

    /// Appends a step in place.
    pub fn push(&mut self, step: PathStep) {
        self.steps.push(step);
    }

    /// Removes and returns the last step.
    pub fn pop(&mut self) -> Option<PathStep> {
        self.steps.pop()
    }

    /// The path without its last step (`None` for the root).
    pub fn parent(&self) -> Option<Self> {
        let (_, init) = self.steps.split_last()?;
        Some(Self {
            steps: init.to_vec(),
        })
    }

    /// The steps, from the root outwards.
    pub fn steps(&self) -> &[PathStep] {
        &self.steps
    }

    /// Whether this is the root path.
    pub fn is_root(&self) -> bool {
        self.steps.is_empty()
    }

    /// Whether `self` equals `other` or lies inside it.
    pub fn starts_with(&self, other: &AttributePath) -> bool {
        self.steps.starts_with(&other.steps)
    }
}

impl From<Vec<PathStep>> for AttributePath {
    fn from(steps: Vec<PathStep>) -> Self {
        Self { steps }
    }
}

impl FromIterator<PathStep> for AttributePath {
    fn from_iter<I: IntoIterator<Item = PathStep>>(iter: I) -> Self {
        Self {
            steps: iter.into_iter().collect(),
        }
    }
}

/// Renders the path as Terraform users write it: `identity.type`, `tags["k"]`, `rule[0].name`.
/// The root renders as the empty string.
impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Attribute(name) if i == 0 => f.write_str(name)?,
                PathStep::Attribute(name) => write!(f, ".{name}")?,
                // Debug quoting escapes quotes and control characters, close to HCL's own.
                PathStep::ElementKeyString(key) => write!(f, "[{key:?}]")?,
                PathStep::ElementKeyInt(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_follows_terraform_syntax() {
        let p = AttributePath::root().attr("identity").attr("type");
        assert_eq!(p.to_string(), "identity.type");
        let p = AttributePath::root().attr("tags").key("k");
        assert_eq!(p.to_string(), "tags[\"k\"]");
        let p = AttributePath::root().attr("list").index(0).attr("name");
        assert_eq!(p.to_string(), "list[0].name");
        let p = AttributePath::root().attr("m").key("a\"b");
        assert_eq!(p.to_string(), "m[\"a\\\"b\"]");
        assert_eq!(AttributePath::root().to_string(), "");
    }

    #[test]
    fn navigation_helpers() {
        let p = AttributePath::root().attr("a").index(2);
        assert_eq!(p.parent(), Some(AttributePath::root().attr("a")));
        assert_eq!(AttributePath::root().parent(), None);
        assert!(p.starts_with(&AttributePath::root().attr("a")));
        assert!(!p.starts_with(&AttributePath::root().attr("b")));
        assert_eq!(p.child(PathStep::Attribute("x".into())).steps().len(), 3);
        let mut q = p.clone();
        assert_eq!(q.pop(), Some(PathStep::ElementKeyInt(2)));
        q.push(PathStep::ElementKeyString("k".into()));
        assert_eq!(q.to_string(), "a[\"k\"]");
        assert!(AttributePath::root().is_root());
        let collected: AttributePath = vec![PathStep::Attribute("z".into())].into_iter().collect();
        assert_eq!(
            collected,
            AttributePath::from(vec![PathStep::Attribute("z".into())])
        );
    }
}
