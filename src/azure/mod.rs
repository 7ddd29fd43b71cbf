//! See issue tracker; filled in by the layer's owner.
