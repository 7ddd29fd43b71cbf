//! The part of decoding the JSON and msgpack codecs share: walking lists, sets, tuples, maps
//! and objects down their type, with the depth limit, the tuple-length, duplicate-key and
//! attribute rules, and the path kept for error messages. Each codec reads its own scalars and
//! says, through [`Source`], how its containers' items are read and how lenient it is.

use std::collections::BTreeMap;

use super::error::Walk;
use super::path::PathStep;
use super::values::index_step;
use super::{Type, Value, ValueError, ValueErrorKind};

/// An input format whose containers [`array()`] and [`members`] decode.
pub(super) trait Source {
    /// One item not decoded yet: a parsed JSON node, or `()` for the next item of the msgpack
    /// stream.
    type Item;
    /// The members of a JSON object or msgpack map not read yet.
    type Members;

    /// The path and depth of the item being decoded.
    fn walk(&mut self) -> &mut Walk;

    /// Decodes `item` as a value of type `ty`.
    fn value(&mut self, item: Self::Item, ty: &Type) -> Result<Value, ValueError>;

    /// Reads the next member's key and item; `None` after the last one.
    fn next_member(
        &mut self,
        members: &mut Self::Members,
    ) -> Result<Option<(String, Self::Item)>, ValueError>;

    /// How many elements to allocate for up front when a container announces `len`.
    fn capacity(&self, len: usize) -> usize {
        len
    }

    /// An object member whose name the type does not have: an error, or `Ok` to drop it.
    fn unknown_attribute(&mut self, name: String, item: Self::Item) -> Result<(), ValueError>;

    /// The value of an attribute the input left out (or the error saying it is missing).
    fn missing_attribute(&mut self, name: &str) -> Result<Value, ValueError>;
}

/// Decodes an array as a value of type `ty`, which must be a list, set or tuple.
pub(super) fn array<S: Source>(
    s: &mut S,
    ty: &Type,
    items: impl ExactSizeIterator<Item = S::Item>,
) -> Result<Value, ValueError> {
    match ty {
        Type::List(ety) => elements(s, items, ety).map(Value::List),
        Type::Set(ety) => elements(s, items, ety).map(Value::Set),
        Type::Tuple(etys) => tuple(s, items, etys),
        ty => Err(ValueError::mismatch(
            &s.walk().path,
            ty.to_string(),
            "array",
        )),
    }
}

/// Decodes the members of a JSON object or msgpack map (named `found` in errors) as a value
/// of type `ty`, which must be a map or object.
pub(super) fn members<S: Source>(
    s: &mut S,
    ty: &Type,
    members: S::Members,
    found: &'static str,
) -> Result<Value, ValueError> {
    match ty {
        Type::Map(ety) => map(s, members, ety),
        Type::Object(attrs) => object(s, members, attrs),
        ty => Err(ValueError::mismatch(&s.walk().path, ty.to_string(), found)),
    }
}

/// Decodes `item` at the child path `step`.
fn child<S: Source>(
    s: &mut S,
    step: PathStep,
    item: S::Item,
    ty: &Type,
) -> Result<Value, ValueError> {
    s.walk().path.push(step);
    let result = s.value(item, ty);
    s.walk().path.pop();
    result
}

fn elements<S: Source>(
    s: &mut S,
    items: impl ExactSizeIterator<Item = S::Item>,
    ety: &Type,
) -> Result<Vec<Value>, ValueError> {
    s.walk().enter()?;
    let mut values = Vec::with_capacity(s.capacity(items.len()));
    for (i, item) in items.enumerate() {
        values.push(child(s, index_step(i), item, ety)?);
    }
    s.walk().leave();
    Ok(values)
}

fn tuple<S: Source>(
    s: &mut S,
    items: impl ExactSizeIterator<Item = S::Item>,
    etys: &[Type],
) -> Result<Value, ValueError> {
    if items.len() != etys.len() {
        return Err(s.walk().fail(ValueErrorKind::TupleLength {
            expected: etys.len(),
            found: items.len(),
        }));
    }
    s.walk().enter()?;
    let mut values = Vec::with_capacity(etys.len());
    for (i, (item, ety)) in items.zip(etys).enumerate() {
        values.push(child(s, index_step(i), item, ety)?);
    }
    s.walk().leave();
    Ok(Value::Tuple(values))
}

fn map<S: Source>(s: &mut S, mut members: S::Members, ety: &Type) -> Result<Value, ValueError> {
    s.walk().enter()?;
    let mut entries = BTreeMap::new();
    while let Some((key, item)) = s.next_member(&mut members)? {
        if entries.contains_key(&key) {
            return Err(s.walk().fail(ValueErrorKind::DuplicateKey(key)));
        }
        let value = child(s, PathStep::ElementKeyString(key.clone()), item, ety)?;
        entries.insert(key, value);
    }
    s.walk().leave();
    Ok(Value::Map(entries))
}

fn object<S: Source>(
    s: &mut S,
    mut members: S::Members,
    attrs: &BTreeMap<String, Type>,
) -> Result<Value, ValueError> {
    s.walk().enter()?;
    let mut values = BTreeMap::new();
    while let Some((name, item)) = s.next_member(&mut members)? {
        let Some(aty) = attrs.get(&name) else {
            s.unknown_attribute(name, item)?;
            continue;
        };
        if values.contains_key(&name) {
            return Err(s.walk().fail(ValueErrorKind::DuplicateKey(name)));
        }
        let value = child(s, PathStep::Attribute(name.clone()), item, aty)?;
        values.insert(name, value);
    }
    for name in attrs.keys() {
        if !values.contains_key(name) {
            let value = s.missing_attribute(name)?;
            values.insert(name.clone(), value);
        }
    }
    s.walk().leave();
    Ok(Value::Object(values))
}

/// The value a dynamic position's `{type, value}` wrapper stands for. A wrapper naming
/// `dynamic` adds nothing: its content is already dynamic.
pub(super) fn dynamic(ty: Type, value: Value) -> Value {
    if ty == Type::Dynamic {
        value
    } else {
        Value::dynamic(ty, value)
    }
}
