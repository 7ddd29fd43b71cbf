//! Typed models: a resource's Rust struct on one side, a cty object on the other.
//!
//! Each field is a [`Field`] because config values may be null or not yet known (nested
//! objects are `Option`s). A model is one struct with `#[derive(Model)]`: each field maps to
//! the attribute of its name through [`ModelField`], using [`ObjectReader`] /
//! [`ObjectBuilder`], which check types and put the attribute path on every error.

use std::collections::{BTreeMap, BTreeSet};

use crate::value::path::AttributePath;
use crate::value::{Number, Value};

use super::diagnostics::{Diagnostic, Diagnostics};

/// A value that may be null or unknown (known after apply).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Field<T> {
    #[default]
    Null,
    Unknown,
    Known(T),
}

impl<T> Field<T> {
    pub fn known(&self) -> Option<&T> {
        match self {
            Field::Known(v) => Some(v),
            _ => None,
        }
    }
    pub fn into_known(self) -> Option<T> {
        match self {
            Field::Known(v) => Some(v),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Field::Null)
    }
    pub fn is_unknown(&self) -> bool {
        matches!(self, Field::Unknown)
    }
    pub fn is_known(&self) -> bool {
        matches!(self, Field::Known(_))
    }
    pub fn as_ref(&self) -> Field<&T> {
        match self {
            Field::Null => Field::Null,
            Field::Unknown => Field::Unknown,
            Field::Known(v) => Field::Known(v),
        }
    }
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Field<U> {
        match self {
            Field::Null => Field::Null,
            Field::Unknown => Field::Unknown,
            Field::Known(v) => Field::Known(f(v)),
        }
    }
}

impl<T> From<Option<T>> for Field<T> {
    fn from(o: Option<T>) -> Self {
        match o {
            Some(v) => Field::Known(v),
            None => Field::Null,
        }
    }
}

/// A Rust struct that maps to and from the root object of a schema (`#[derive(Model)]`).
pub trait Model: FromValue + ToValue + Sized + Send + Sync {
    /// The model of a whole resource or data source object.
    fn from_root(v: &Value) -> Result<Self, Diagnostics> {
        <Self as FromValue>::from_value(v, &AttributePath::root())
    }
}

/// The fields of a model read from, and written to, an object (`#[derive(Model)]`); a
/// `#[model(flatten)]` field of another model reads and writes its attributes in that model's
/// object.
pub trait ModelFields: Sized {
    fn read_fields(o: &ObjectReader<'_>) -> Result<Self, Diagnostics>;
    fn write_fields(&self, b: ObjectBuilder) -> ObjectBuilder;
}

/// How one model field reads its attribute from an object and writes it back.
pub trait ModelField: Sized {
    fn read(o: &ObjectReader<'_>, name: &str) -> Result<Self, Diagnostics>;
    fn write(&self) -> Value;
}

/// An attribute (or whole nested object) that may be null or unknown.
impl<T: FromValue + ToValue> ModelField for Field<T> {
    fn read(o: &ObjectReader<'_>, name: &str) -> Result<Self, Diagnostics> {
        o.field(name)
    }
    fn write(&self) -> Value {
        self.to_value()
    }
}

/// A nested block or object attribute: `None` when null or not yet known.
impl<T: FromValue + ToValue> ModelField for Option<T> {
    fn read(o: &ObjectReader<'_>, name: &str) -> Result<Self, Diagnostics> {
        match o.raw(name)? {
            Value::Null | Value::Unknown(_) => Ok(None),
            v => T::from_value(v, &o.path(name)).map(Some),
        }
    }
    fn write(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

/// A plain value in an object the provider itself writes (a computed attribute's fields): null
/// or unknown reads as the type's default.
macro_rules! plain_model_field {
    ($($t:ty),*) => {$(
        impl ModelField for $t {
            fn read(o: &ObjectReader<'_>, name: &str) -> Result<Self, Diagnostics> {
                Ok(o.field::<$t>(name)?.into_known().unwrap_or_default())
            }
            fn write(&self) -> Value {
                self.to_value()
            }
        }
    )*};
}
plain_model_field!(String, bool);

/// Conversion of one known, non-null attribute value to a Rust type.
pub trait FromValue: Sized {
    fn from_value(v: &Value, path: &AttributePath) -> Result<Self, Diagnostics>;
}

/// Conversion of a Rust value to an attribute value.
pub trait ToValue {
    fn to_value(&self) -> Value;
}

fn type_error(path: &AttributePath, expected: &str) -> Diagnostics {
    Diagnostic::error(
        "Unexpected value type",
        format!("expected {expected}; this is a provider bug, please report it"),
    )
    .at(path.clone())
    .into()
}

impl FromValue for String {
    fn from_value(v: &Value, path: &AttributePath) -> Result<Self, Diagnostics> {
        match v {
            Value::String(s) => Ok(s.clone()),
            _ => Err(type_error(path, "a string")),
        }
    }
}

impl FromValue for bool {
    fn from_value(v: &Value, path: &AttributePath) -> Result<Self, Diagnostics> {
        match v {
            Value::Bool(b) => Ok(*b),
            _ => Err(type_error(path, "a bool")),
        }
    }
}

impl FromValue for i64 {
    fn from_value(v: &Value, path: &AttributePath) -> Result<Self, Diagnostics> {
        match v {
            Value::Number(n) => n.as_i64().ok_or_else(|| {
                Diagnostic::error(
                    "Invalid number",
                    format!("{n} is not a whole number within the 64-bit range"),
                )
                .at(path.clone())
                .into()
            }),
            _ => Err(type_error(path, "a number")),
        }
    }
}

fn elements<'v>(v: &'v Value, path: &AttributePath) -> Result<&'v [Value], Diagnostics> {
    match v {
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => Ok(items),
        _ => Err(type_error(path, "a list or set")),
    }
}

/// Elements of a set or list. Unknown elements are rejected: models hold known collections;
/// callers check `Field::Unknown` for the whole collection first.
impl<T: FromValue + Ord> FromValue for BTreeSet<T> {
    fn from_value(v: &Value, path: &AttributePath) -> Result<Self, Diagnostics> {
        let items = elements(v, path)?;
        let mut out = BTreeSet::new();
        for item in items {
            if matches!(item, Value::Unknown(_)) {
                return Err(Diagnostic::error(
                    "Value not yet known",
                    "an element of this collection is not known yet",
                )
                .at(path.clone())
                .into());
            }
            out.insert(T::from_value(item, path)?);
        }
        Ok(out)
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(v: &Value, path: &AttributePath) -> Result<Self, Diagnostics> {
        elements(v, path)?
            .iter()
            .enumerate()
            .map(|(i, item)| T::from_value(item, &path.clone().index(i as i64)))
            .collect()
    }
}

impl<T: FromValue> FromValue for BTreeMap<String, T> {
    fn from_value(v: &Value, path: &AttributePath) -> Result<Self, Diagnostics> {
        match v {
            Value::Map(m) | Value::Object(m) => m
                .iter()
                .map(|(k, item)| Ok((k.clone(), T::from_value(item, &path.clone().key(k))?)))
                .collect(),
            _ => Err(type_error(path, "a map")),
        }
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::String(self.clone())
    }
}
impl ToValue for &str {
    fn to_value(&self) -> Value {
        Value::String((*self).to_string())
    }
}
impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
}
impl ToValue for i64 {
    fn to_value(&self) -> Value {
        Value::Number(Number::from(*self))
    }
}
impl<T: ToValue> ToValue for BTreeSet<T> {
    fn to_value(&self) -> Value {
        Value::Set(self.iter().map(ToValue::to_value).collect())
    }
}
impl<T: ToValue> ToValue for Vec<T> {
    fn to_value(&self) -> Value {
        Value::List(self.iter().map(ToValue::to_value).collect())
    }
}
impl<T: ToValue> ToValue for BTreeMap<String, T> {
    fn to_value(&self) -> Value {
        Value::Map(
            self.iter()
                .map(|(k, v)| (k.clone(), v.to_value()))
                .collect(),
        )
    }
}
impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

impl<T: ToValue> Field<T> {
    pub fn to_value(&self) -> Value {
        match self {
            Field::Null => Value::Null,
            Field::Unknown => Value::Unknown(Default::default()),
            Field::Known(v) => v.to_value(),
        }
    }
}

/// Reads attributes of an object value.
pub struct ObjectReader<'a> {
    attrs: &'a BTreeMap<String, Value>,
    path: AttributePath,
}

impl<'a> ObjectReader<'a> {
    pub fn new(v: &'a Value, path: AttributePath) -> Result<Self, Diagnostics> {
        match v {
            Value::Object(attrs) => Ok(Self { attrs, path }),
            _ => Err(type_error(&path, "an object")),
        }
    }

    /// The attribute `name`; an error when the object has no such attribute (a model field
    /// that names no schema attribute is a provider bug, never a silent null).
    pub fn raw(&self, name: &str) -> Result<&'a Value, Diagnostics> {
        self.attrs.get(name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown attribute",
                format!(
                    "the object has no attribute `{name}`; this is a provider bug, please report it"
                ),
            )
            .at(self.path(name))
            .into()
        })
    }

    /// Whether the object has attribute `name` (for a model several schemas share).
    pub fn has(&self, name: &str) -> bool {
        self.attrs.contains_key(name)
    }

    pub fn path(&self, name: &str) -> AttributePath {
        self.path.clone().attr(name)
    }

    /// A typed field; null maps to [`Field::Null`], and a value that is not wholly known
    /// (e.g. a set with one unknown element) to [`Field::Unknown`].
    pub fn field<T: FromValue>(&self, name: &str) -> Result<Field<T>, Diagnostics> {
        match self.raw(name)? {
            Value::Null => Ok(Field::Null),
            v if !v.is_wholly_known() => Ok(Field::Unknown),
            v => T::from_value(v, &self.path(name)).map(Field::Known),
        }
    }

    /// A nested single block or object attribute, `None` when null or unknown.
    pub fn object(&self, name: &str) -> Result<Option<ObjectReader<'a>>, Diagnostics> {
        match self.raw(name)? {
            Value::Null | Value::Unknown(_) => Ok(None),
            v => ObjectReader::new(v, self.path(name)).map(Some),
        }
    }
}

/// Builds an object value attribute by attribute.
#[derive(Default)]
pub struct ObjectBuilder {
    attrs: BTreeMap<String, Value>,
}

impl ObjectBuilder {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn field<T: ToValue>(mut self, name: &str, f: &Field<T>) -> Self {
        self.attrs.insert(name.to_string(), f.to_value());
        self
    }
    pub fn value(mut self, name: &str, v: Value) -> Self {
        self.attrs.insert(name.to_string(), v);
        self
    }
    pub fn build(self) -> Value {
        Value::Object(self.attrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_an_attribute_the_object_lacks_is_an_error_not_null() {
        let v = Value::Object(BTreeMap::from([("name".to_string(), Value::Null)]));
        let o = ObjectReader::new(&v, AttributePath::root()).unwrap();
        assert_eq!(o.field::<String>("name").unwrap(), Field::Null);
        let e = o.field::<String>("nmae").unwrap_err();
        assert!(e.to_string().contains("nmae"), "{e}");
    }
}
