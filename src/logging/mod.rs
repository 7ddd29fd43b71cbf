//! hclog-compatible logging (owned by the plugin host work).
