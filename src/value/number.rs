//! Arbitrary-precision numbers (cty numbers), including the two infinities cty allows.

use std::fmt;
use std::str::FromStr;

use bigdecimal::num_bigint::{BigInt, Sign};
use bigdecimal::{BigDecimal, ToPrimitive, Zero};

/// Longest number text [`Number::from_str`] accepts. Exact decimal forms of binary floats need
/// up to ~1100 characters; anything far beyond that is not a number Terraform produces.
pub const MAX_NUMBER_TEXT: usize = 16 * 1024;

/// Largest decimal exponent magnitude (after stripping trailing zeros) a parsed number may
/// have. Every `f64` fits (the smallest subnormal needs 1074 fractional digits); the bound keeps
/// a short text like `1e9999` from expanding into a huge plain rendering when re-encoded.
pub const MAX_NUMBER_EXPONENT: i64 = 1100;

/// A cty number: an exact decimal of any precision, or positive or negative infinity.
///
/// Values are kept normalised, so `1.50` and `1.5` are equal and hash alike. Floats convert
/// exactly (`0.1f64` becomes its full binary expansion), which keeps msgpack round trips
/// bit-identical with what Terraform sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Number(Repr);

// Variant order gives the numeric order: -inf < finite < +inf.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Repr {
    NegInf,
    Finite(BigDecimal),
    PosInf,
}

/// Why a text is not a number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseNumberError {
    #[error("{0:?} is not a decimal number")]
    Syntax(String),
    #[error("number text is {len} characters, more than the limit of {limit}")]
    TooLong { len: usize, limit: usize },
    #[error("number exponent is beyond ±{limit}")]
    ExponentOutOfRange { limit: i64 },
}

impl Number {
    /// Zero.
    pub fn zero() -> Self {
        Self(Repr::Finite(BigDecimal::zero()))
    }

    /// Positive infinity.
    pub fn infinity() -> Self {
        Self(Repr::PosInf)
    }

    /// Negative infinity.
    pub fn neg_infinity() -> Self {
        Self(Repr::NegInf)
    }

    /// The exact value of a float; `None` for NaN, which cty has no room for.
    pub fn from_f64(f: f64) -> Option<Self> {
        if f.is_nan() {
            return None;
        }
        if f.is_infinite() {
            return Some(if f > 0.0 {
                Self::infinity()
            } else {
                Self::neg_infinity()
            });
        }
        if f == 0.0 {
            return Some(Self::zero());
        }
        // f = mantissa × 2^exp, decoded from the IEEE 754 bits.
        let bits = f.to_bits();
        let biased = i64::try_from((bits >> 52) & 0x7ff).unwrap_or(0);
        let fraction = bits & ((1u64 << 52) - 1);
        let (mantissa, exp) = if biased == 0 {
            (fraction, -1074)
        } else {
            (fraction | (1u64 << 52), biased - 1075)
        };
        let mut int = BigInt::from(mantissa);
        let scale = if exp >= 0 {
            int <<= exp;
            0
        } else {
            // 2^-k = 5^k / 10^k, so the decimal digits are mantissa × 5^k with scale k.
            let k = -exp;
            int *= BigInt::from(5u32).pow(u32::try_from(k).unwrap_or(0));
            k
        };
        if f.is_sign_negative() {
            int = -int;
        }
        Some(Self::from(BigDecimal::new(int, scale)))
    }

    /// Whether this is one of the infinities.
    pub fn is_infinite(&self) -> bool {
        !matches!(self.0, Repr::Finite(_))
    }

    /// Whether this is a finite whole number.
    pub fn is_integer(&self) -> bool {
        match &self.0 {
            // Normalised, so a positive scale means a non-zero fractional part.
            Repr::Finite(d) => d.as_bigint_and_exponent().1 <= 0,
            _ => false,
        }
    }

    /// The decimal value, unless infinite.
    pub fn as_bigdecimal(&self) -> Option<&BigDecimal> {
        match &self.0 {
            Repr::Finite(d) => Some(d),
            _ => None,
        }
    }

    /// The value as `i64` when it is a whole number in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_bigint()?.to_i64()
    }

    /// The value as `u64` when it is a whole number in range.
    pub fn as_u64(&self) -> Option<u64> {
        self.as_bigint()?.to_u64()
    }

    /// The nearest `f64` (infinities map to infinities; huge values round to infinity).
    pub fn as_f64(&self) -> f64 {
        match &self.0 {
            Repr::NegInf => f64::NEG_INFINITY,
            Repr::PosInf => f64::INFINITY,
            Repr::Finite(d) => {
                let (int, scale) = d.as_bigint_and_exponent();
                // Rust's float parser rounds correctly whatever the digit count.
                format!("{int}e{}", -scale)
                    .parse::<f64>()
                    .unwrap_or(f64::NAN)
            }
        }
    }

    /// The value as `f64` only when the conversion is exact (infinities included).
    pub fn exact_f64(&self) -> Option<f64> {
        let f = self.as_f64();
        (Self::from_f64(f).as_ref() == Some(self)).then_some(f)
    }

    fn as_bigint(&self) -> Option<BigInt> {
        let Repr::Finite(d) = &self.0 else {
            return None;
        };
        let (int, scale) = d.as_bigint_and_exponent();
        if scale > 0 {
            return None;
        }
        // Anything with more than 20 trailing zeros overflows 64 bits (zero has scale 0).
        let zeros = u32::try_from(-scale).ok().filter(|z| *z <= 20)?;
        Some(int * BigInt::from(10u32).pow(zeros))
    }
}

impl From<BigDecimal> for Number {
    fn from(d: BigDecimal) -> Self {
        if d.is_zero() {
            Self::zero()
        } else {
            Self(Repr::Finite(d.normalized()))
        }
    }
}

/// Integers convert exactly.
macro_rules! from_integers {
    ($($int:ty),*) => {$(
        impl From<$int> for Number {
            fn from(v: $int) -> Self {
                Self::from(BigDecimal::from(v))
            }
        }
    )*};
}

from_integers!(i32, i64, u32, u64);

impl TryFrom<f64> for Number {
    type Error = ParseNumberError;

    /// Fails only for NaN.
    fn try_from(f: f64) -> Result<Self, Self::Error> {
        Self::from_f64(f).ok_or_else(|| ParseNumberError::Syntax("NaN".into()))
    }
}

/// Parses a decimal number: optional sign, digits with an optional fraction, optional
/// exponent (`-12.5e3`), or an infinity (`inf`, `+Inf`, `-infinity`, any case).
impl FromStr for Number {
    type Err = ParseNumberError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() > MAX_NUMBER_TEXT {
            return Err(ParseNumberError::TooLong {
                len: s.len(),
                limit: MAX_NUMBER_TEXT,
            });
        }
        let syntax = || ParseNumberError::Syntax(s.to_owned());
        let (negative, unsigned) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        if unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("infinity") {
            return Ok(if negative {
                Self::neg_infinity()
            } else {
                Self::infinity()
            });
        }
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
            None => (unsigned, None),
        };
        let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if int_part.len() + frac_part.len() == 0 || !all_digits(int_part) || !all_digits(frac_part)
        {
            return Err(syntax());
        }
        let mut digits = String::with_capacity(int_part.len() + frac_part.len() + 1);
        if negative {
            digits.push('-');
        }
        digits.push_str(int_part);
        digits.push_str(frac_part);
        let int = BigInt::from_str(&digits).map_err(|_| syntax())?;
        if int.sign() == Sign::NoSign {
            return Ok(Self::zero());
        }
        let exp = match exponent {
            None => 0,
            Some(e) => parse_exponent(e).ok_or_else(syntax)?,
        };
        let frac_len = i64::try_from(frac_part.len()).map_err(|_| syntax())?;
        let out_of_range = ParseNumberError::ExponentOutOfRange {
            limit: MAX_NUMBER_EXPONENT,
        };
        // Keep the arithmetic in range; the real bound is checked after normalising.
        if exp.abs() > 4 * MAX_NUMBER_EXPONENT + i64::try_from(MAX_NUMBER_TEXT).unwrap_or(0) {
            return Err(out_of_range);
        }
        let number = Self::from(BigDecimal::new(int, frac_len - exp));
        if let Repr::Finite(d) = &number.0
            && d.as_bigint_and_exponent().1.abs() > MAX_NUMBER_EXPONENT
        {
            return Err(out_of_range);
        }
        Ok(number)
    }
}

/// Parses an exponent (`+12`, `-3`, `7`); `None` when malformed. Values too large for `i64`
/// saturate, and are then rejected by the range check.
fn parse_exponent(e: &str) -> Option<i64> {
    let (negative, digits) = match e.as_bytes().first()? {
        b'-' => (true, &e[1..]),
        b'+' => (false, &e[1..]),
        _ => (false, e),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude = digits
        .bytes()
        .try_fold(0i64, |acc, b| {
            acc.checked_mul(10)?.checked_add(i64::from(b - b'0'))
        })
        .unwrap_or(i64::MAX);
    Some(if negative { -magnitude } else { magnitude })
}

/// Plain decimal notation, never an exponent (`1000000`, `-0.0125`); infinities render as
/// `+Inf` and `-Inf` like Go's `big.Float`.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = match &self.0 {
            Repr::NegInf => return f.write_str("-Inf"),
            Repr::PosInf => return f.write_str("+Inf"),
            Repr::Finite(d) => d,
        };
        let (int, scale) = d.as_bigint_and_exponent();
        if int.sign() == Sign::Minus {
            f.write_str("-")?;
        }
        let digits = int.magnitude().to_string();
        if scale <= 0 {
            f.write_str(&digits)?;
            for _ in 0..scale.unsigned_abs() {
                f.write_str("0")?;
            }
            return Ok(());
        }
        let scale = usize::try_from(scale).unwrap_or(usize::MAX);
        if digits.len() > scale {
            let (whole, frac) = digits.split_at(digits.len() - scale);
            write!(f, "{whole}.{frac}")
        } else {
            f.write_str("0.")?;
            for _ in digits.len()..scale {
                f.write_str("0")?;
            }
            f.write_str(&digits)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        s.parse().unwrap()
    }

    #[test]
    fn display_is_plain_decimal() {
        assert_eq!(n("1e3").to_string(), "1000");
        assert_eq!(n("1.2500").to_string(), "1.25");
        assert_eq!(n("-0.0125").to_string(), "-0.0125");
        assert_eq!(n("-12.5e-3").to_string(), "-0.0125");
        assert_eq!(n("0.000").to_string(), "0");
        assert_eq!(n("-0").to_string(), "0");
        assert_eq!(n("+7").to_string(), "7");
        assert_eq!(n(".5").to_string(), "0.5");
        assert_eq!(n("5.").to_string(), "5");
        assert_eq!(
            n("123456789012345678901234567890").to_string(),
            "123456789012345678901234567890"
        );
        assert_eq!(Number::infinity().to_string(), "+Inf");
        assert_eq!(Number::neg_infinity().to_string(), "-Inf");
    }

    #[test]
    fn equality_ignores_trailing_zeros() {
        assert_eq!(n("1.50"), n("1.5"));
        assert_eq!(n("100"), Number::from(100i64));
        assert_eq!(n("1e2"), n("100.000"));
        assert_ne!(n("1.5"), n("1.05"));
        assert!(n("-1") < n("0.5"));
        assert!(Number::neg_infinity() < n("-1e1000"));
        assert!(Number::infinity() > n("1e1000"));
        assert_eq!(n("1e1100").to_string().len(), 1101);
        assert!(n("1e-1100").to_string().starts_with("0.000"));
    }

    #[test]
    fn parse_rejects_garbage_and_limits() {
        for bad in [
            "", "-", "+", "abc", "1..2", "1e", "1e+", "0x10", " 1", "1 ", "NaN", "--1",
        ] {
            assert!(bad.parse::<Number>().is_err(), "{bad:?} should be rejected");
        }
        assert!(matches!(
            "1e1101".parse::<Number>(),
            Err(ParseNumberError::ExponentOutOfRange { .. })
        ));
        assert!(matches!(
            "1e99999999999999999999999".parse::<Number>(),
            Err(ParseNumberError::ExponentOutOfRange { .. })
        ));
        assert!(matches!(
            "1".repeat(MAX_NUMBER_TEXT + 1).parse::<Number>(),
            Err(ParseNumberError::TooLong { .. })
        ));
        // Zero with any exponent is just zero.
        assert_eq!(n("0e99999999"), Number::zero());
        assert_eq!(n("-Infinity"), Number::neg_infinity());
        assert_eq!(n("inf"), Number::infinity());
    }

    #[test]
    fn integer_conversions() {
        assert_eq!(Number::from(i64::MIN).as_i64(), Some(i64::MIN));
        assert_eq!(Number::from(u64::MAX).as_u64(), Some(u64::MAX));
        assert_eq!(Number::from(u64::MAX).as_i64(), None);
        assert_eq!(n("-1").as_u64(), None);
        assert_eq!(n("1e3").as_i64(), Some(1000));
        assert_eq!(n("1e30").as_i64(), None);
        assert_eq!(n("1.5").as_i64(), None);
        assert!(n("1e3").is_integer());
        assert!(!n("0.5").is_integer());
        assert!(!Number::infinity().is_integer());
        assert_eq!(Number::infinity().as_i64(), None);
    }

    #[test]
    fn floats_convert_exactly() {
        let tenth = Number::from_f64(0.1).unwrap();
        assert_eq!(
            tenth.to_string(),
            "0.1000000000000000055511151231257827021181583404541015625"
        );
        assert_eq!(tenth.exact_f64(), Some(0.1));
        assert_eq!(n("0.1").exact_f64(), None);
        assert_eq!(n("0.1").as_f64(), 0.1);
        assert_eq!(Number::from_f64(-2.5).unwrap(), n("-2.5"));
        assert_eq!(Number::from_f64(1e300).unwrap().exact_f64(), Some(1e300));
        let tiny = Number::from_f64(f64::from_bits(1)).unwrap();
        assert_eq!(tiny.exact_f64(), Some(f64::from_bits(1)));
        assert_eq!(tiny.to_string().parse::<Number>().unwrap(), tiny);
        assert_eq!(Number::from_f64(f64::NAN), None);
        assert_eq!(Number::from_f64(f64::INFINITY), Some(Number::infinity()));
        assert_eq!(Number::infinity().exact_f64(), Some(f64::INFINITY));
        assert_eq!(Number::from_f64(-0.0), Some(Number::zero()));
        assert!(Number::try_from(f64::NAN).is_err());
    }
}
