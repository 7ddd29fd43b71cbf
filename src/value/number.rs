//! Arbitrary-precision numbers (cty numbers). Implemented by the values work.

/// An arbitrary-precision decimal number.
#[derive(Debug, Clone, PartialEq)]
pub struct Number(pub bigdecimal::BigDecimal);
