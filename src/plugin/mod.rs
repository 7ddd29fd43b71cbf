//! TEMPORARY: replaced by the plugin host (wip/host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolVersion {
    V5,
    V6,
}
