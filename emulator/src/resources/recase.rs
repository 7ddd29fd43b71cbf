//! How ARM re-cases ids in responses (see the fact sheet, "Quirks seen in the wild").

/// Identity ids come back fully lower-cased.
pub fn identity_id(id: &str) -> String {
    id.to_ascii_lowercase()
}

/// `resourceGroups` becomes `resourcegroups`.
pub fn lower_rg_segment(id: &str) -> String {
    replace_ci(id, "/resourceGroups/", "/resourcegroups/")
}

/// Associated-resource ids: `Microsoft.KeyVault` → `Microsoft.Keyvault`,
/// `Microsoft.Insights` → `microsoft.insights`.
pub fn associated_resource(id: &str) -> String {
    let s = replace_ci(
        id,
        "/providers/Microsoft.KeyVault/",
        "/providers/Microsoft.Keyvault/",
    );
    replace_ci(
        &s,
        "/providers/Microsoft.Insights/",
        "/providers/microsoft.insights/",
    )
}

/// Replaces every case-insensitive occurrence of `from` with `to`.
pub fn replace_ci(s: &str, from: &str, to: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let from_l = from.to_ascii_lowercase();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(pos) = lower[i..].find(&from_l) {
        out.push_str(&s[i..i + pos]);
        out.push_str(to);
        i += pos + from.len();
    }
    out.push_str(&s[i..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recasing_matches_observed_shapes() {
        assert_eq!(
            associated_resource(
                "/subscriptions/s/resourceGroups/r/providers/Microsoft.KeyVault/vaults/v"
            ),
            "/subscriptions/s/resourceGroups/r/providers/Microsoft.Keyvault/vaults/v"
        );
        assert_eq!(
            associated_resource("/x/providers/Microsoft.Insights/components/c"),
            "/x/providers/microsoft.insights/components/c"
        );
        assert_eq!(
            lower_rg_segment("/subscriptions/s/resourceGroups/RG"),
            "/subscriptions/s/resourcegroups/RG"
        );
        assert_eq!(identity_id("/A/B"), "/a/b");
    }
}
