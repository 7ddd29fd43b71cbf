//! Picking the protocol major version from what the client offers, the way go-plugin does.

use super::options::ProtocolVersion;

/// The outcome of negotiation, with anything worth a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// The version to serve and announce.
    pub version: ProtocolVersion,
    /// Entries of `PLUGIN_PROTOCOL_VERSIONS` that were not integers (skipped).
    pub skipped: Vec<String>,
    /// True when nothing offered matched and we fell back to the lowest served version.
    pub fell_back: bool,
}

/// Chooses the highest version both sides support from `offered` (`PLUGIN_PROTOCOL_VERSIONS`,
/// comma separated, any order). With no match, or no variable at all, go-plugin falls back to its
/// lowest served version and lets the client report the mismatch; so do we.
pub fn negotiate(offered: Option<&str>) -> Negotiated {
    let mut skipped = Vec::new();
    let mut client: Vec<u32> = Vec::new();
    for entry in offered.unwrap_or("").split(',') {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        match entry.parse::<u32>() {
            Ok(n) => client.push(n),
            Err(_) => skipped.push(entry.to_owned()),
        }
    }
    let chosen = ProtocolVersion::SERVED
        .into_iter()
        .find(|v| client.contains(&v.number()));
    let lowest = ProtocolVersion::SERVED
        .into_iter()
        .min()
        .unwrap_or(ProtocolVersion::V5);
    Negotiated {
        version: chosen.unwrap_or(lowest),
        skipped,
        fell_back: chosen.is_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProtocolVersion::{V5, V6};

    #[test]
    fn six_is_preferred_in_any_order() {
        assert_eq!(negotiate(Some("5,6")).version, V6);
        assert_eq!(negotiate(Some("6,5")).version, V6);
        assert_eq!(negotiate(Some(" 6 , 5 ")).version, V6);
    }

    #[test]
    fn single_offers_are_honoured() {
        assert_eq!(negotiate(Some("5")).version, V5);
        assert_eq!(negotiate(Some("6")).version, V6);
        assert!(!negotiate(Some("5")).fell_back);
    }

    #[test]
    fn non_integers_are_skipped_and_reported() {
        let n = negotiate(Some("x,6,5.0"));
        assert_eq!(n.version, V6);
        assert_eq!(n.skipped, vec!["x".to_owned(), "5.0".to_owned()]);
        assert!(!n.fell_back);
    }

    #[test]
    fn nothing_usable_falls_back_to_the_lowest_served() {
        for offered in [None, Some(""), Some("garbage"), Some("4,7"), Some("-6")] {
            let n = negotiate(offered);
            assert_eq!(n.version, V5, "offered {offered:?}");
            assert!(n.fell_back, "offered {offered:?}");
        }
    }
}
