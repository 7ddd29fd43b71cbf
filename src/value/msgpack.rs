//! The msgpack form of values (`DynamicValue.msgpack`), byte-compatible with go-cty's
//! `cty/msgpack`.
//!
//! Decoding is schema-driven over a small bounds-checked reader, so hostile input yields an
//! error naming the byte offset or attribute path, never a panic, an unbounded allocation or a
//! deep recursion. Deviations from go-cty, all on input Terraform never produces: trailing bytes,
//! duplicate map keys, the reserved byte `0xc1` and NaN are rejected, an empty msgpack map is not
//! accepted for an object type with attributes, and unsigned integers above `i64::MAX` are
//! written as msgpack uint64 (go-cty writes them as decimal strings; both decode the same).

use rmp::Marker;
use rmp::encode::ByteBuf;

use super::decode::{self, Source};
use super::error::Walk;
use super::path::PathStep;
use super::values::{check_refinements, index_step};
use super::{
    MAX_DEPTH, MAX_INPUT_BYTES, MAX_REFINEMENT_BYTES, Number, Refinements, Type, Value, ValueError,
    ValueErrorKind,
};

/// Extension type go-cty uses for unknown values that carry refinements.
const REFINED_UNKNOWN_EXT: i8 = 0x0c;

/// The compact wholly-unknown value: fixext1, type 0, one zero byte.
const UNKNOWN_BYTES: [u8; 3] = [0xd4, 0x00, 0x00];

// Refinement payload keys (a msgpack map from these to their values).
const KEY_NULLNESS: i64 = 1;
const KEY_STRING_PREFIX: i64 = 2;
const KEY_NUMBER_LOWER: i64 = 3;
const KEY_NUMBER_UPPER: i64 = 4;
const KEY_LENGTH_LOWER: i64 = 5;
const KEY_LENGTH_UPPER: i64 = 6;

/// Longest string prefix written into a refinement, so the payload stays under the limit.
const MAX_PREFIX_BYTES: usize = 256;

/// Decodes msgpack `bytes` as a value of type `ty`.
///
/// The whole input must be one value: trailing bytes are an error.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(ValueError::at_root(ValueErrorKind::InputTooLarge {
            size: bytes.len(),
            limit: MAX_INPUT_BYTES,
        }));
    }
    let mut decoder = Decoder {
        rd: Reader::new(bytes),
        walk: Walk::default(),
    };
    let value = decoder.value((), ty)?;
    let rest = decoder.rd.remaining();
    if rest > 0 {
        return Err(ValueError::at_root(ValueErrorKind::TrailingBytes {
            count: rest,
        }));
    }
    Ok(value)
}

/// Encodes `value` as msgpack for type `ty`, after checking it conforms
/// (see [`Value::check_type`]).
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, ValueError> {
    value.check_type(ty)?;
    let mut encoder = Encoder {
        out: Out(ByteBuf::new()),
        path: Vec::new(),
    };
    encoder.value(value, ty)?;
    Ok(encoder.out.0.into_vec())
}

/// One msgpack item with its payload; containers carry only their length.
#[derive(Debug, Clone, Copy)]
enum Head<'a> {
    Nil,
    Bool(bool),
    Int(i64),
    Uint(u64),
    F32(f32),
    F64(f64),
    Str(&'a [u8]),
    Bin(&'a [u8]),
    Array(usize),
    Map(usize),
    Ext(i8, &'a [u8]),
}

impl Head<'_> {
    fn describe(&self) -> &'static str {
        match self {
            Head::Nil => "nil",
            Head::Bool(_) => "bool",
            Head::Int(_) | Head::Uint(_) => "integer",
            Head::F32(_) | Head::F64(_) => "float",
            Head::Str(_) => "string",
            Head::Bin(_) => "binary",
            Head::Array(_) => "array",
            Head::Map(_) => "map",
            Head::Ext(..) => "extension",
        }
    }
}

/// A bounds-checked cursor over the input.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn malformed(&self, reason: impl Into<String>) -> ValueErrorKind {
        ValueErrorKind::Msgpack {
            offset: self.pos,
            reason: reason.into(),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ValueErrorKind> {
        let slice = self
            .pos
            .checked_add(n)
            .and_then(|end| self.buf.get(self.pos..end))
            .ok_or_else(|| {
                self.malformed(format!(
                    "unexpected end of input ({n} bytes needed, {} left)",
                    self.remaining()
                ))
            })?;
        self.pos += n;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ValueErrorKind> {
        let bytes = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, ValueErrorKind> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, ValueErrorKind> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, ValueErrorKind> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, ValueErrorKind> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A big-endian length of `W` (1, 2 or 4) bytes.
    fn len<const W: usize>(&mut self) -> Result<usize, ValueErrorKind> {
        let bytes: [u8; W] = self.array()?;
        let len = bytes.iter().fold(0u64, |len, &b| len << 8 | u64::from(b));
        usize::try_from(len).map_err(|_| self.malformed("length does not fit in memory"))
    }

    /// A payload preceded by its length of `W` bytes (str and bin).
    fn sized<const W: usize>(&mut self) -> Result<&'a [u8], ValueErrorKind> {
        let len = self.len::<W>()?;
        self.take(len)
    }

    fn ext(&mut self, len: usize) -> Result<Head<'a>, ValueErrorKind> {
        let code = i8::from_be_bytes(self.array()?);
        Ok(Head::Ext(code, self.take(len)?))
    }

    /// An extension whose payload length comes first, in `W` bytes.
    fn sized_ext<const W: usize>(&mut self) -> Result<Head<'a>, ValueErrorKind> {
        let len = self.len::<W>()?;
        self.ext(len)
    }

    /// Reads one item header and, for scalars, its payload.
    fn head(&mut self) -> Result<Head<'a>, ValueErrorKind> {
        let marker = Marker::from_u8(self.u8()?);
        Ok(match marker {
            Marker::FixPos(v) => Head::Int(v.into()),
            Marker::FixNeg(v) => Head::Int(v.into()),
            Marker::Null => Head::Nil,
            Marker::True => Head::Bool(true),
            Marker::False => Head::Bool(false),
            Marker::U8 => Head::Uint(self.u8()?.into()),
            Marker::U16 => Head::Uint(self.u16()?.into()),
            Marker::U32 => Head::Uint(self.u32()?.into()),
            Marker::U64 => Head::Uint(self.u64()?),
            Marker::I8 => Head::Int(i8::from_be_bytes(self.array()?).into()),
            Marker::I16 => Head::Int(i16::from_be_bytes(self.array()?).into()),
            Marker::I32 => Head::Int(i32::from_be_bytes(self.array()?).into()),
            Marker::I64 => Head::Int(i64::from_be_bytes(self.array()?)),
            Marker::F32 => Head::F32(f32::from_bits(self.u32()?)),
            Marker::F64 => Head::F64(f64::from_bits(self.u64()?)),
            Marker::FixStr(len) => Head::Str(self.take(len.into())?),
            Marker::Str8 => Head::Str(self.sized::<1>()?),
            Marker::Str16 => Head::Str(self.sized::<2>()?),
            Marker::Str32 => Head::Str(self.sized::<4>()?),
            Marker::Bin8 => Head::Bin(self.sized::<1>()?),
            Marker::Bin16 => Head::Bin(self.sized::<2>()?),
            Marker::Bin32 => Head::Bin(self.sized::<4>()?),
            Marker::FixArray(len) => Head::Array(len.into()),
            Marker::Array16 => Head::Array(self.len::<2>()?),
            Marker::Array32 => Head::Array(self.len::<4>()?),
            Marker::FixMap(len) => Head::Map(len.into()),
            Marker::Map16 => Head::Map(self.len::<2>()?),
            Marker::Map32 => Head::Map(self.len::<4>()?),
            Marker::FixExt1 => self.ext(1)?,
            Marker::FixExt2 => self.ext(2)?,
            Marker::FixExt4 => self.ext(4)?,
            Marker::FixExt8 => self.ext(8)?,
            Marker::FixExt16 => self.ext(16)?,
            Marker::Ext8 => self.sized_ext::<1>()?,
            Marker::Ext16 => self.sized_ext::<2>()?,
            Marker::Ext32 => self.sized_ext::<4>()?,
            Marker::Reserved => {
                self.pos -= 1;
                return Err(self.malformed("reserved marker byte 0xc1"));
            }
        })
    }

    /// Skips one complete item (used for refinement keys this version does not know).
    fn skip(&mut self, depth: usize) -> Result<(), ValueErrorKind> {
        if depth > MAX_DEPTH {
            return Err(ValueErrorKind::TooDeep { limit: MAX_DEPTH });
        }
        let items = match self.head()? {
            Head::Array(n) => n,
            Head::Map(n) => n.saturating_mul(2),
            _ => 0,
        };
        for _ in 0..items {
            self.skip(depth + 1)?;
        }
        Ok(())
    }
}

/// Walks the input and the type together, tracking the path for error messages.
struct Decoder<'a> {
    rd: Reader<'a>,
    walk: Walk,
}

impl Source for Decoder<'_> {
    /// Items are read from the stream in order, so there is nothing to hold.
    type Item = ();
    /// How many members are left to read.
    type Members = usize;

    fn walk(&mut self) -> &mut Walk {
        &mut self.walk
    }

    fn value(&mut self, (): (), ty: &Type) -> Result<Value, ValueError> {
        let head = self.head()?;
        // Any extension is an unknown value, whatever the type (dynamic included).
        if let Head::Ext(code, payload) = head {
            return self.unknown(code, payload, ty);
        }
        if *ty == Type::Dynamic {
            return self.dynamic(head);
        }
        match (ty, head) {
            (_, Head::Nil) => Ok(Value::Null),
            (Type::Bool, Head::Bool(b)) => Ok(Value::Bool(b)),
            (Type::Number, head) => number_from_head(&head)
                .map(Value::Number)
                .map_err(|kind| self.walk.fail(kind)),
            (Type::String, Head::Str(bytes)) => utf8(bytes)
                .map(Value::String)
                .map_err(|kind| self.walk.fail(kind)),
            (ty, Head::Array(n)) => decode::array(self, ty, std::iter::repeat_n((), n)),
            (ty, Head::Map(n)) => decode::members(self, ty, n, "map"),
            (ty, head) => Err(ValueError::mismatch(
                &self.walk.path,
                ty.to_string(),
                head.describe(),
            )),
        }
    }

    fn next_member(&mut self, left: &mut usize) -> Result<Option<(String, ())>, ValueError> {
        if *left == 0 {
            return Ok(None);
        }
        *left -= 1;
        Ok(Some((self.key()?, ())))
    }

    /// Every element takes at least one byte, which bounds the allocation by the input.
    fn capacity(&self, len: usize) -> usize {
        len.min(self.rd.remaining())
    }

    fn unknown_attribute(&mut self, name: String, (): ()) -> Result<(), ValueError> {
        Err(self.walk.fail(ValueErrorKind::UnsupportedAttribute(name)))
    }

    fn missing_attribute(&mut self, name: &str) -> Result<Value, ValueError> {
        Err(self
            .walk
            .fail(ValueErrorKind::MissingAttribute(name.to_owned())))
    }
}

impl<'a> Decoder<'a> {
    fn head(&mut self) -> Result<Head<'a>, ValueError> {
        self.rd.head().map_err(|kind| self.walk.fail(kind))
    }

    /// Reads a map key, which must be a UTF-8 string.
    fn key(&mut self) -> Result<String, ValueError> {
        match self.head()? {
            Head::Str(bytes) => utf8(bytes).map_err(|kind| self.walk.fail(kind)),
            other => Err(ValueError::mismatch(
                &self.walk.path,
                "a string key",
                other.describe(),
            )),
        }
    }

    /// A known value (or typed null) of a dynamic position: `[type JSON, value]`.
    fn dynamic(&mut self, head: Head<'a>) -> Result<Value, ValueError> {
        let invalid = |d: &Self, msg: String| d.walk.fail(ValueErrorKind::InvalidDynamic(msg));
        match head {
            Head::Nil => Ok(Value::Null),
            Head::Array(2) => {
                self.walk.enter()?;
                let type_json = match self.head()? {
                    // go-cty writes bin; str carries the same bytes.
                    Head::Bin(bytes) | Head::Str(bytes) => bytes,
                    other => {
                        let msg = format!("the type must be JSON bytes, got {}", other.describe());
                        return Err(invalid(self, msg));
                    }
                };
                let ty = Type::from_json_bytes(type_json)
                    .map_err(|e| invalid(self, format!("bad type: {}", e.kind)))?;
                let value = self.value((), &ty)?;
                self.walk.leave();
                Ok(decode::dynamic(ty, value))
            }
            Head::Array(n) => Err(invalid(
                self,
                format!("expected a [type, value] array, got {n} elements"),
            )),
            other => Err(ValueError::mismatch(
                &self.walk.path,
                "a [type, value] array for a dynamic value",
                other.describe(),
            )),
        }
    }

    fn unknown(&mut self, code: i8, payload: &[u8], ty: &Type) -> Result<Value, ValueError> {
        if payload.len() <= 1 {
            return Ok(Value::unknown());
        }
        if code != REFINED_UNKNOWN_EXT {
            return Err(self.walk.fail(ValueErrorKind::UnsupportedExtension {
                code,
                len: payload.len(),
            }));
        }
        if payload.len() > MAX_REFINEMENT_BYTES {
            return Err(self.walk.fail(ValueErrorKind::RefinementTooLarge {
                size: payload.len(),
                limit: MAX_REFINEMENT_BYTES,
            }));
        }
        match decode_refinements(payload, ty).map_err(|kind| self.walk.fail(kind))? {
            Some(refinements) => Ok(Value::unknown_refined(refinements)),
            // "Definitely null" leaves only one possible value.
            None => Ok(Value::Null),
        }
    }
}

fn utf8(bytes: &[u8]) -> Result<String, ValueErrorKind> {
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| ValueErrorKind::InvalidUtf8)
}

/// A number from any of the forms go-cty accepts: integers, floats, or a decimal string.
fn number_from_head(head: &Head<'_>) -> Result<Number, ValueErrorKind> {
    let from_float = |f: f64| {
        Number::from_f64(f)
            .ok_or_else(|| ValueErrorKind::InvalidNumber("NaN is not a number".into()))
    };
    match *head {
        Head::Int(i) => Ok(Number::from(i)),
        Head::Uint(u) => Ok(Number::from(u)),
        Head::F32(f) => from_float(f64::from(f)),
        Head::F64(f) => from_float(f),
        Head::Str(bytes) => utf8(bytes)?
            .parse::<Number>()
            .map_err(|e| ValueErrorKind::InvalidNumber(e.to_string())),
        ref other => Err(ValueErrorKind::TypeMismatch {
            expected: "number".into(),
            found: other.describe().into(),
        }),
    }
}

/// Reads an extension-12 payload. `None` means the value is definitely null.
fn decode_refinements(payload: &[u8], ty: &Type) -> Result<Option<Refinements>, ValueErrorKind> {
    let invalid = |msg: String| ValueErrorKind::InvalidRefinement(msg);
    let malformed = |kind: ValueErrorKind| invalid(kind.to_string());
    let mut rd = Reader::new(payload);
    let entries = match rd.head().map_err(malformed)? {
        Head::Map(n) => n,
        other => return Err(invalid(format!("expected a map, got {}", other.describe()))),
    };
    let mut r = Refinements::default();
    // go-cty reads the map header, then ignores refinements of dynamic values.
    if *ty == Type::Dynamic {
        return Ok(Some(r));
    }
    let mut null = false;
    for _ in 0..entries {
        let key = match rd.head().map_err(malformed)? {
            Head::Int(i) => i,
            Head::Uint(u) => i64::try_from(u).unwrap_or(i64::MAX),
            other => {
                return Err(invalid(format!(
                    "keys must be integers, got {}",
                    other.describe()
                )));
            }
        };
        let applies = |r: &Refinements| check_refinements(r, ty).map_err(invalid);
        match key {
            KEY_NULLNESS => match rd.head().map_err(malformed)? {
                Head::Bool(true) => null = true,
                Head::Bool(false) => r.not_null = true,
                other => {
                    return Err(invalid(format!(
                        "nullness must be a bool, got {}",
                        other.describe()
                    )));
                }
            },
            KEY_STRING_PREFIX => {
                let prefix = match rd.head().map_err(malformed)? {
                    Head::Str(bytes) => utf8(bytes)?,
                    other => {
                        return Err(invalid(format!(
                            "the string prefix must be a string, got {}",
                            other.describe()
                        )));
                    }
                };
                r.string_prefix = Some(prefix);
                applies(&r)?;
            }
            KEY_NUMBER_LOWER | KEY_NUMBER_UPPER => {
                let bound = number_bound(&mut rd)?;
                if key == KEY_NUMBER_LOWER {
                    r.number_lower = Some(bound);
                } else {
                    r.number_upper = Some(bound);
                }
                applies(&r)?;
            }
            KEY_LENGTH_LOWER | KEY_LENGTH_UPPER => {
                let len = match rd.head().map_err(malformed)? {
                    Head::Uint(u) => u,
                    Head::Int(i) if i >= 0 => i.unsigned_abs(),
                    other => {
                        return Err(invalid(format!(
                            "a length bound must be a non-negative integer, got {}",
                            other.describe()
                        )));
                    }
                };
                if key == KEY_LENGTH_LOWER {
                    r.length_lower = Some(len);
                } else {
                    r.length_upper = Some(len);
                }
                applies(&r)?;
            }
            // Refinements from a newer Terraform: skip them.
            _ => rd.skip(0).map_err(malformed)?,
        }
    }
    // Bytes after the map are ignored on purpose: go-cty reserves them for future use.
    if null {
        return Ok(None);
    }
    // Drop promises that say nothing, so equal meanings compare and encode alike.
    r.string_prefix = r.string_prefix.filter(|p| !p.is_empty());
    r.number_lower = r.number_lower.filter(|(n, _)| *n != Number::neg_infinity());
    r.number_upper = r.number_upper.filter(|(n, _)| *n != Number::infinity());
    r.length_lower = r.length_lower.filter(|l| *l > 0);
    Ok(Some(r))
}

/// A number bound: `[number, inclusive]`.
fn number_bound(rd: &mut Reader<'_>) -> Result<(Number, bool), ValueErrorKind> {
    let invalid = |msg: String| ValueErrorKind::InvalidRefinement(msg);
    let malformed = |kind: ValueErrorKind| invalid(kind.to_string());
    let shape = || invalid("a number bound must be a [number, bool] array".into());
    if !matches!(rd.head().map_err(malformed)?, Head::Array(2)) {
        return Err(shape());
    }
    let head = rd.head().map_err(malformed)?;
    let bound = number_from_head(&head).map_err(|_| shape())?;
    let Head::Bool(inclusive) = rd.head().map_err(malformed)? else {
        return Err(shape());
    };
    Ok((bound, inclusive))
}

/// The output buffer. `ByteBuf` writes cannot fail (its error type is `Infallible`), so the
/// methods drop the always-`Ok` results.
struct Out(ByteBuf);

impl Out {
    fn nil(&mut self) {
        let _ = rmp::encode::write_nil(&mut self.0);
    }

    fn bool(&mut self, b: bool) {
        let _ = rmp::encode::write_bool(&mut self.0, b);
    }

    fn sint(&mut self, i: i64) {
        let _ = rmp::encode::write_sint(&mut self.0, i);
    }

    fn uint(&mut self, u: u64) {
        let _ = rmp::encode::write_uint(&mut self.0, u);
    }

    fn f64(&mut self, f: f64) {
        let _ = rmp::encode::write_f64(&mut self.0, f);
    }

    fn str(&mut self, s: &str) {
        let _ = rmp::encode::write_str(&mut self.0, s);
    }

    fn bin(&mut self, b: &[u8]) {
        let _ = rmp::encode::write_bin(&mut self.0, b);
    }

    fn array_len(&mut self, len: u32) {
        let _ = rmp::encode::write_array_len(&mut self.0, len);
    }

    fn map_len(&mut self, len: u32) {
        let _ = rmp::encode::write_map_len(&mut self.0, len);
    }

    fn ext(&mut self, code: i8, payload: &[u8]) -> Result<(), ValueErrorKind> {
        let len = u32::try_from(payload.len()).map_err(|_| ValueErrorKind::RefinementTooLarge {
            size: payload.len(),
            limit: MAX_REFINEMENT_BYTES,
        })?;
        let _ = rmp::encode::write_ext_meta(&mut self.0, len, code);
        self.raw(payload);
        Ok(())
    }

    fn raw(&mut self, bytes: &[u8]) {
        let _ = rmp::encode::RmpWrite::write_bytes(&mut self.0, bytes);
    }

    fn number(&mut self, n: &Number) {
        // go-cty's order of preference: exact integer, exact non-integer float, decimal text.
        if let Some(i) = n.as_i64() {
            self.sint(i);
        } else if let Some(u) = n.as_u64() {
            self.uint(u);
        } else if n.is_infinite() {
            self.f64(n.as_f64());
        } else if let Some(f) = n.exact_f64().filter(|_| !n.is_integer()) {
            self.f64(f);
        } else {
            self.str(&n.to_string());
        }
    }
}

struct Encoder {
    out: Out,
    path: Vec<PathStep>,
}

impl Encoder {
    fn len(&self, n: usize) -> Result<u32, ValueError> {
        u32::try_from(n).map_err(|_| {
            ValueError::at(
                &self.path,
                ValueErrorKind::Msgpack {
                    offset: self.out.0.as_slice().len(),
                    reason: format!("{n} elements do not fit a msgpack length"),
                },
            )
        })
    }

    fn child(&mut self, step: PathStep, v: &Value, ty: &Type) -> Result<(), ValueError> {
        self.path.push(step);
        let result = self.value(v, ty);
        self.path.pop();
        result
    }

    fn value(&mut self, v: &Value, ty: &Type) -> Result<(), ValueError> {
        if *ty == Type::Dynamic {
            return match v {
                Value::Null => {
                    self.out.nil();
                    Ok(())
                }
                // Dynamic unknowns never carry refinements on the wire.
                Value::Unknown(_) => {
                    self.out.raw(&UNKNOWN_BYTES);
                    Ok(())
                }
                Value::Dynamic(inner_ty, inner) => {
                    self.out.array_len(2);
                    self.out.bin(&inner_ty.to_json_bytes());
                    self.value(inner, inner_ty)
                }
                other => Err(self.mismatch(ty, other)),
            };
        }
        match (ty, v) {
            (_, Value::Null) => self.out.nil(),
            (_, Value::Unknown(r)) => {
                let payload = encode_refinements(r, ty);
                if payload.is_empty() {
                    self.out.raw(&UNKNOWN_BYTES);
                } else {
                    self.out
                        .ext(REFINED_UNKNOWN_EXT, &payload)
                        .map_err(|kind| ValueError::at(&self.path, kind))?;
                }
            }
            (Type::Bool, Value::Bool(b)) => self.out.bool(*b),
            (Type::Number, Value::Number(n)) => self.out.number(n),
            (Type::String, Value::String(s)) => self.out.str(s),
            (Type::List(ety), Value::List(items)) | (Type::Set(ety), Value::Set(items)) => {
                let len = self.len(items.len())?;
                self.out.array_len(len);
                for (i, item) in items.iter().enumerate() {
                    self.child(index_step(i), item, ety)?;
                }
            }
            (Type::Tuple(etys), Value::Tuple(items)) if etys.len() == items.len() => {
                let len = self.len(items.len())?;
                self.out.array_len(len);
                for (i, (item, ety)) in items.iter().zip(etys).enumerate() {
                    self.child(index_step(i), item, ety)?;
                }
            }
            (Type::Map(ety), Value::Map(entries)) => {
                let len = self.len(entries.len())?;
                self.out.map_len(len);
                for (key, item) in entries {
                    self.out.str(key);
                    self.child(PathStep::ElementKeyString(key.clone()), item, ety)?;
                }
            }
            (Type::Object(attrs), Value::Object(values)) if attrs.len() == values.len() => {
                let len = self.len(attrs.len())?;
                self.out.map_len(len);
                // BTreeMap iteration gives the sorted key order go-cty writes.
                for (name, aty) in attrs {
                    let Some(item) = values.get(name) else {
                        return Err(ValueError::at(
                            &self.path,
                            ValueErrorKind::MissingAttribute(name.clone()),
                        ));
                    };
                    self.out.str(name);
                    self.child(PathStep::Attribute(name.clone()), item, aty)?;
                }
            }
            (ty, other) => return Err(self.mismatch(ty, other)),
        }
        Ok(())
    }

    fn mismatch(&self, ty: &Type, v: &Value) -> ValueError {
        ValueError::mismatch(&self.path, ty.to_string(), v.kind_name())
    }
}

/// The extension-12 payload for `r` at type `ty`, or empty when nothing needs saying (then the
/// compact unknown is written). Bounds that promise nothing (-inf lower, length 0 lower) are
/// left out, as go-cty does.
fn encode_refinements(r: &Refinements, ty: &Type) -> Vec<u8> {
    let with_bounds = refinement_payload(r, ty, true);
    if with_bounds.len() <= MAX_REFINEMENT_BYTES {
        return with_bounds;
    }
    // Huge decimal bounds would make Terraform reject the value; dropping a promise is safe.
    refinement_payload(r, ty, false)
}

fn refinement_payload(r: &Refinements, ty: &Type, number_bounds: bool) -> Vec<u8> {
    let mut body = Out(ByteBuf::new());
    let mut count = 0u32;
    if r.not_null {
        count += 1;
        body.sint(KEY_NULLNESS);
        body.bool(false);
    }
    match ty {
        Type::String => {
            if let Some(prefix) = r.string_prefix.as_deref().filter(|p| !p.is_empty()) {
                count += 1;
                body.sint(KEY_STRING_PREFIX);
                body.str(truncate_prefix(prefix));
            }
        }
        Type::Number if number_bounds => {
            let bounds = [
                (KEY_NUMBER_LOWER, &r.number_lower, Number::neg_infinity()),
                (KEY_NUMBER_UPPER, &r.number_upper, Number::infinity()),
            ];
            for (key, bound, no_op) in bounds {
                if let Some((n, inclusive)) = bound.as_ref().filter(|(n, _)| *n != no_op) {
                    count += 1;
                    body.sint(key);
                    body.array_len(2);
                    body.number(n);
                    body.bool(*inclusive);
                }
            }
        }
        ty if ty.is_collection() => {
            if let Some(lower) = r.length_lower.filter(|l| *l > 0) {
                count += 1;
                body.sint(KEY_LENGTH_LOWER);
                body.uint(lower);
            }
            if let Some(upper) = r.length_upper {
                count += 1;
                body.sint(KEY_LENGTH_UPPER);
                body.uint(upper);
            }
        }
        _ => {}
    }
    if count == 0 {
        return Vec::new();
    }
    let mut payload = Out(ByteBuf::new());
    payload.map_len(count);
    payload.raw(body.0.as_slice());
    payload.0.into_vec()
}

/// Shortens a long prefix to under [`MAX_PREFIX_BYTES`]. It also drops the last character kept,
/// which might combine with the characters cut off; a shorter prefix is a weaker, still true,
/// promise.
fn truncate_prefix(prefix: &str) -> &str {
    if prefix.len() <= MAX_PREFIX_BYTES {
        return prefix;
    }
    let mut end = MAX_PREFIX_BYTES - 1;
    while !prefix.is_char_boundary(end) {
        end -= 1;
    }
    let kept = &prefix[..end];
    kept.char_indices()
        .last()
        .map_or(kept, |(last, _)| &kept[..last])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_prefixes_are_truncated_at_char_boundaries() {
        let long = "é".repeat(300);
        let cut = truncate_prefix(&long);
        assert!(cut.len() < MAX_PREFIX_BYTES);
        assert!(long.starts_with(cut));
        assert_eq!(truncate_prefix("short"), "short");
    }

    #[test]
    fn huge_number_bounds_are_dropped_to_fit() {
        let big: Number = "1".repeat(1100).parse().unwrap();
        let r = Refinements {
            not_null: true,
            number_lower: Some((big, true)),
            ..Refinements::default()
        };
        let payload = encode_refinements(&r, &Type::Number);
        assert_eq!(payload, vec![0x81, 0x01, 0xc2]);
    }

    #[test]
    fn skip_handles_nested_items() {
        let mut rd = Reader::new(&[0x92, 0x81, 0x01, 0x02, 0xa1, b'x', 0xc3]);
        rd.skip(0).unwrap();
        assert_eq!(rd.remaining(), 1);
    }
}
