//! Constructors, accessors, semantic equality and type conformance for [`Value`].

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::path::{AttributePath, PathStep};
use super::{MAX_DEPTH, Number, Refinements, Type, Value, ValueError, ValueErrorKind};

impl Value {
    /// A wholly unknown value (no refinements).
    pub fn unknown() -> Self {
        Self::Unknown(Box::default())
    }

    /// An unknown value carrying `refinements`.
    pub fn unknown_refined(refinements: Refinements) -> Self {
        Self::Unknown(Box::new(refinements))
    }

    /// A string value.
    pub fn string(s: impl Into<String>) -> Self {
        Self::String(s.into())
    }

    /// A number value.
    pub fn number(n: impl Into<Number>) -> Self {
        Self::Number(n.into())
    }

    /// An object value from `(name, value)` pairs.
    pub fn object<K: Into<String>>(attributes: impl IntoIterator<Item = (K, Value)>) -> Self {
        Self::Object(attribute_map(attributes))
    }

    /// A value for a `Dynamic` position, tagged with its concrete type.
    pub fn dynamic(ty: Type, value: Value) -> Self {
        Self::Dynamic(Box::new(ty), Box::new(value))
    }

    /// The value with any dynamic wrappers removed.
    pub fn concrete(&self) -> &Value {
        let mut v = self;
        while let Self::Dynamic(_, inner) = v {
            v = inner;
        }
        v
    }

    /// Whether the value is null (a null wrapped with a concrete type counts).
    pub fn is_null(&self) -> bool {
        matches!(self.concrete(), Self::Null)
    }

    /// Whether the value itself is known; its elements may still be unknown.
    pub fn is_known(&self) -> bool {
        !matches!(self.concrete(), Self::Unknown(_))
    }

    /// Whether the value and everything inside it is known.
    pub fn is_wholly_known(&self) -> bool {
        match self.concrete() {
            Self::Unknown(_) => false,
            Self::List(items) | Self::Set(items) | Self::Tuple(items) => {
                items.iter().all(Value::is_wholly_known)
            }
            Self::Map(m) | Self::Object(m) => m.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// The refinements of an unknown value.
    pub fn refinements(&self) -> Option<&Refinements> {
        match self.concrete() {
            Self::Unknown(r) => Some(r),
            _ => None,
        }
    }

    /// The string, if this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self.concrete() {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is a known bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self.concrete() {
            Self::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if this is a known number.
    pub fn as_number(&self) -> Option<&Number> {
        match self.concrete() {
            Self::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The attributes, if this is a known object.
    pub fn as_object(&self) -> Option<&BTreeMap<String, Value>> {
        match self.concrete() {
            Self::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The entries, if this is a known map.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self.concrete() {
            Self::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The elements, if this is a known list, set or tuple.
    pub fn as_elements(&self) -> Option<&[Value]> {
        match self.concrete() {
            Self::List(items) | Self::Set(items) | Self::Tuple(items) => Some(items),
            _ => None,
        }
    }

    /// One attribute of a known object.
    pub fn get_attr(&self, name: &str) -> Option<&Value> {
        self.as_object()?.get(name)
    }

    /// The part of the value at `path`: attributes of objects, keys of maps, indexes of lists
    /// and tuples. Set elements cannot be addressed (as in the protocol).
    pub fn get_path(&self, path: &AttributePath) -> Option<&Value> {
        path.steps()
            .iter()
            .try_fold(self, |v, step| match (step, v.concrete()) {
                (PathStep::Attribute(name), Self::Object(m)) => m.get(name),
                (PathStep::ElementKeyString(key), Self::Map(m)) => m.get(key),
                (PathStep::ElementKeyInt(i), Self::List(items) | Self::Tuple(items)) => {
                    items.get(usize::try_from(*i).ok()?)
                }
                _ => None,
            })
    }

    /// Mutable access to the part of the value at `path` (see [`Value::get_path`]).
    pub fn get_path_mut(&mut self, path: &AttributePath) -> Option<&mut Value> {
        let mut v = self;
        for step in path.steps() {
            while let Self::Dynamic(_, inner) = v {
                v = inner;
            }
            v = match (step, v) {
                (PathStep::Attribute(name), Self::Object(m)) => m.get_mut(name)?,
                (PathStep::ElementKeyString(key), Self::Map(m)) => m.get_mut(key)?,
                (PathStep::ElementKeyInt(i), Self::List(items) | Self::Tuple(items)) => {
                    items.get_mut(usize::try_from(*i).ok()?)?
                }
                _ => return None,
            };
        }
        Some(v)
    }

    /// A short description of what kind of value this is, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Unknown(_) => "unknown value",
            Self::Bool(_) => "bool",
            Self::Number(_) => "number",
            Self::String(_) => "string",
            Self::List(_) => "list",
            Self::Set(_) => "set",
            Self::Map(_) => "map",
            Self::Object(_) => "object",
            Self::Tuple(_) => "tuple",
            Self::Dynamic(..) => "dynamic-wrapped value",
        }
    }

    /// Whether the value fits `ty` (see [`Value::check_type`]).
    pub fn conforms_to(&self, ty: &Type) -> bool {
        self.check_type(ty).is_ok()
    }

    /// Checks that the value fits `ty`, naming the first part that does not.
    ///
    /// Null and unknown fit every type. Objects must have exactly the type's attributes, tuples
    /// exactly its length. A `Dynamic` position takes null, unknown, or [`Value::Dynamic`] whose
    /// inner value fits its (non-dynamic) concrete type; other positions never take
    /// [`Value::Dynamic`]. Refinements must suit the type (a string prefix only on strings, and
    /// so on). Both codecs run this check before encoding.
    pub fn check_type(&self, ty: &Type) -> Result<(), ValueError> {
        check(self, ty, &mut Vec::new())
    }
}

fn check(v: &Value, ty: &Type, path: &mut Vec<PathStep>) -> Result<(), ValueError> {
    if path.len() > MAX_DEPTH {
        return Err(ValueError::at(
            path,
            ValueErrorKind::TooDeep { limit: MAX_DEPTH },
        ));
    }
    let mut each = |step: PathStep, v: &Value, ty: &Type| {
        path.push(step);
        let result = check(v, ty, path);
        path.pop();
        result
    };
    match (ty, v) {
        (_, Value::Null) => Ok(()),
        (Type::Dynamic, Value::Unknown(_)) => Ok(()),
        (Type::Dynamic, Value::Dynamic(inner_ty, inner)) => {
            if **inner_ty == Type::Dynamic {
                return Err(ValueError::at(
                    path,
                    ValueErrorKind::InvalidDynamic("the concrete type cannot be dynamic".into()),
                ));
            }
            check(inner, inner_ty, path)
        }
        (Type::Dynamic, other) => Err(ValueError::mismatch(
            path,
            "a value wrapped with its concrete type (Value::Dynamic)",
            other.kind_name(),
        )),
        (_, Value::Unknown(r)) => check_refinements(r, ty)
            .map_err(|msg| ValueError::at(path, ValueErrorKind::InvalidRefinement(msg))),
        (Type::Bool, Value::Bool(_))
        | (Type::Number, Value::Number(_))
        | (Type::String, Value::String(_)) => Ok(()),
        (Type::List(ety), Value::List(items)) | (Type::Set(ety), Value::Set(items)) => {
            for (i, item) in items.iter().enumerate() {
                each(index_step(i), item, ety)?;
            }
            Ok(())
        }
        (Type::Map(ety), Value::Map(m)) => {
            for (k, item) in m {
                each(PathStep::ElementKeyString(k.clone()), item, ety)?;
            }
            Ok(())
        }
        (Type::Object(attrs), Value::Object(m)) => {
            if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(ValueError::at(
                    path,
                    ValueErrorKind::UnsupportedAttribute(extra.clone()),
                ));
            }
            for (name, aty) in attrs {
                let Some(item) = m.get(name) else {
                    return Err(ValueError::at(
                        path,
                        ValueErrorKind::MissingAttribute(name.clone()),
                    ));
                };
                each(PathStep::Attribute(name.clone()), item, aty)?;
            }
            Ok(())
        }
        (Type::Tuple(etys), Value::Tuple(items)) => {
            if etys.len() != items.len() {
                return Err(ValueError::at(
                    path,
                    ValueErrorKind::TupleLength {
                        expected: etys.len(),
                        found: items.len(),
                    },
                ));
            }
            for (i, (item, ety)) in items.iter().zip(etys).enumerate() {
                each(index_step(i), item, ety)?;
            }
            Ok(())
        }
        (ty, other) => Err(ValueError::mismatch(
            path,
            ty.to_string(),
            other.kind_name(),
        )),
    }
}

/// Which refinements a type can carry; the message says what does not fit.
pub(crate) fn check_refinements(r: &Refinements, ty: &Type) -> Result<(), String> {
    if r.string_prefix.is_some() && *ty != Type::String {
        return Err(format!("a string prefix cannot refine a {ty}"));
    }
    if (r.number_lower.is_some() || r.number_upper.is_some()) && *ty != Type::Number {
        return Err(format!("number bounds cannot refine a {ty}"));
    }
    if (r.length_lower.is_some() || r.length_upper.is_some()) && !ty.is_collection() {
        return Err(format!("length bounds cannot refine a {ty}"));
    }
    Ok(())
}

/// The attributes of an object (type or value) from `(name, item)` pairs.
pub(crate) fn attribute_map<K: Into<String>, T>(
    attributes: impl IntoIterator<Item = (K, T)>,
) -> BTreeMap<String, T> {
    attributes
        .into_iter()
        .map(|(name, item)| (name.into(), item))
        .collect()
}

/// The path step of element `i` (indexes beyond `i64` cannot occur in memory).
pub(crate) fn index_step(i: usize) -> PathStep {
    PathStep::ElementKeyInt(i64::try_from(i).unwrap_or(i64::MAX))
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Value {}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A total order consistent with semantic equality: sets are compared as sorted sequences.
impl Ord for Value {
    fn cmp(&self, other: &Self) -> Ordering {
        fn rank(v: &Value) -> u8 {
            match v {
                Value::Null => 0,
                Value::Unknown(_) => 1,
                Value::Bool(_) => 2,
                Value::Number(_) => 3,
                Value::String(_) => 4,
                Value::List(_) => 5,
                Value::Set(_) => 6,
                Value::Map(_) => 7,
                Value::Object(_) => 8,
                Value::Tuple(_) => 9,
                Value::Dynamic(..) => 10,
            }
        }
        match (self, other) {
            (Self::Unknown(a), Self::Unknown(b)) => a.cmp(b),
            (Self::Bool(a), Self::Bool(b)) => a.cmp(b),
            (Self::Number(a), Self::Number(b)) => a.cmp(b),
            (Self::String(a), Self::String(b)) => a.cmp(b),
            (Self::List(a), Self::List(b)) | (Self::Tuple(a), Self::Tuple(b)) => a.cmp(b),
            (Self::Set(a), Self::Set(b)) => a.len().cmp(&b.len()).then_with(|| {
                let mut a: Vec<&Value> = a.iter().collect();
                let mut b: Vec<&Value> = b.iter().collect();
                a.sort();
                b.sort();
                a.cmp(&b)
            }),
            (Self::Map(a), Self::Map(b)) | (Self::Object(a), Self::Object(b)) => a.cmp(b),
            (Self::Dynamic(ta, va), Self::Dynamic(tb, vb)) => ta.cmp(tb).then_with(|| va.cmp(vb)),
            _ => rank(self).cmp(&rank(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::string(v)
    }

    #[test]
    fn sets_compare_without_order() {
        assert_eq!(
            Value::Set(vec![s("a"), s("b")]),
            Value::Set(vec![s("b"), s("a")])
        );
        assert_ne!(
            Value::Set(vec![s("a"), s("b")]),
            Value::Set(vec![s("a"), s("c")])
        );
        assert_ne!(Value::Set(vec![s("a")]), Value::Set(vec![s("a"), s("a")]));
        assert_ne!(
            Value::List(vec![s("a"), s("b")]),
            Value::List(vec![s("b"), s("a")])
        );
        // Nested sets too.
        let inner1 = Value::Set(vec![Value::number(1), Value::number(2)]);
        let inner2 = Value::Set(vec![Value::number(2), Value::number(1)]);
        assert_eq!(
            Value::Set(vec![inner1.clone(), Value::Set(vec![])]),
            Value::Set(vec![Value::Set(vec![]), inner2])
        );
        assert_eq!(Value::number(1), Value::Number("1.000".parse().unwrap()));
    }

    #[test]
    fn known_and_null_helpers_see_through_dynamic() {
        let obj = Value::object([
            ("a", Value::unknown()),
            ("b", Value::dynamic(Type::String, Value::Null)),
        ]);
        assert!(obj.is_known());
        assert!(!obj.is_wholly_known());
        assert!(obj.get_attr("b").unwrap().is_null());
        assert!(!obj.get_attr("a").unwrap().is_known());
        let wrapped = Value::dynamic(Type::String, s("x"));
        assert_eq!(wrapped.as_str(), Some("x"));
        assert!(Value::List(vec![s("x")]).is_wholly_known());
        assert_eq!(Value::Bool(true).as_bool(), Some(true));
        assert_eq!(s("x").as_bool(), None);
    }

    #[test]
    fn get_path_walks_objects_maps_and_lists() {
        let v = Value::object([
            ("identity", Value::object([("type", s("SystemAssigned"))])),
            ("tags", Value::Map(BTreeMap::from([("k".into(), s("v"))]))),
            ("list", Value::List(vec![s("zero"), s("one")])),
            ("set", Value::Set(vec![s("zero")])),
        ]);
        let p = AttributePath::root();
        assert_eq!(
            v.get_path(&p.clone().attr("identity").attr("type"))
                .and_then(Value::as_str),
            Some("SystemAssigned")
        );
        assert_eq!(v.get_path(&p.clone().attr("tags").key("k")), Some(&s("v")));
        assert_eq!(
            v.get_path(&p.clone().attr("list").index(1)),
            Some(&s("one"))
        );
        assert_eq!(v.get_path(&p.clone().attr("list").index(2)), None);
        assert_eq!(v.get_path(&p.clone().attr("list").index(-1)), None);
        assert_eq!(v.get_path(&p.clone().attr("set").index(0)), None);
        assert_eq!(v.get_path(&p.clone().attr("tags").attr("k")), None);
        assert_eq!(v.get_path(&p), Some(&v));
        let mut v = v;
        *v.get_path_mut(&p.clone().attr("list").index(0)).unwrap() = Value::unknown();
        assert!(!v.get_path(&p.attr("list").index(0)).unwrap().is_known());
    }

    #[test]
    fn conformance_names_the_offending_path() {
        let ty = Type::object([
            ("identity", Type::object([("type", Type::String)])),
            ("pair", Type::Tuple(vec![Type::String, Type::Number])),
            ("any", Type::Dynamic),
        ]);
        let good = Value::object([
            ("identity", Value::object([("type", s("x"))])),
            ("pair", Value::Tuple(vec![s("a"), Value::number(1)])),
            (
                "any",
                Value::dynamic(Type::list(Type::String), Value::List(vec![s("q")])),
            ),
        ]);
        assert!(good.conforms_to(&ty));

        let mut bad = good.clone();
        *bad.get_path_mut(&AttributePath::root().attr("identity").attr("type"))
            .unwrap() = Value::Bool(true);
        assert_eq!(
            bad.check_type(&ty).unwrap_err().to_string(),
            "at identity.type: expected string, got bool"
        );

        let mut bad = good.clone();
        *bad.get_path_mut(&AttributePath::root().attr("pair"))
            .unwrap() = Value::Tuple(vec![s("a")]);
        assert!(matches!(
            bad.check_type(&ty).unwrap_err().kind,
            ValueErrorKind::TupleLength {
                expected: 2,
                found: 1
            }
        ));

        let mut bad = good.clone();
        *bad.get_path_mut(&AttributePath::root().attr("any"))
            .unwrap() = s("bare");
        assert!(!bad.conforms_to(&ty));

        let missing = Value::object([("identity", Value::Null), ("pair", Value::Null)]);
        assert_eq!(
            missing.check_type(&ty).unwrap_err().kind,
            ValueErrorKind::MissingAttribute("any".into())
        );
        let extra = Value::object([
            ("identity", Value::Null),
            ("pair", Value::Null),
            ("any", Value::Null),
            ("zzz", Value::Null),
        ]);
        assert_eq!(
            extra.check_type(&ty).unwrap_err().kind,
            ValueErrorKind::UnsupportedAttribute("zzz".into())
        );
    }

    #[test]
    fn refinements_must_suit_the_type() {
        let prefixed = Value::unknown_refined(Refinements {
            string_prefix: Some("ab".into()),
            ..Refinements::default()
        });
        assert!(prefixed.conforms_to(&Type::String));
        assert!(!prefixed.conforms_to(&Type::Number));
        let lengths = Value::unknown_refined(Refinements {
            length_lower: Some(1),
            ..Refinements::default()
        });
        assert!(lengths.conforms_to(&Type::set(Type::String)));
        assert!(!lengths.conforms_to(&Type::String));
        // Dynamic positions drop refinements on the wire, so anything goes there.
        assert!(prefixed.conforms_to(&Type::Dynamic));
    }
}
