//! Generic configuration checks: attribute validators, write-only support, deprecations.

use crate::value::Value;
use crate::value::path::AttributePath;

use super::diagnostics::{Diagnostic, Diagnostics};
use super::resource::ClientCapabilities;
use super::schema::{Block, BlockNesting};

/// Runs every attribute validator on known, non-null values, recursing into nested blocks.
pub fn validate_block(
    block: &Block,
    value: &Value,
    path: &AttributePath,
    caps: ClientCapabilities,
    diags: &mut Diagnostics,
) {
    let Value::Object(attrs) = value else { return };
    for a in &block.attributes {
        let v = attrs.get(&a.name).unwrap_or(&Value::Null);
        let p = path.clone().attr(&a.name);
        if v.is_null() {
            continue;
        }
        if a.write_only && !caps.write_only_attributes_allowed {
            // By convention a write-only `x_wo` has a sensitive twin `x` older CLIs can use.
            let twin = a
                .name
                .strip_suffix("_wo")
                .filter(|t| block.get_attribute(t).is_some())
                .map(|t| format!("use the sensitive `{t}` instead"))
                .unwrap_or_else(|| "use a sensitive attribute of the same purpose instead".into());
            diags.push(
                Diagnostic::error(
                    "Write-only attribute not supported by this Terraform",
                    format!(
                        "`{}` is write-only, which needs Terraform 1.11 or later. With this Terraform version {twin}.",
                        a.name
                    ),
                )
                .at(p.clone()),
            );
            continue;
        }
        if let Some(msg) = &a.deprecated {
            diags.push(Diagnostic::warning("Deprecated attribute", msg.clone()).at(p.clone()));
        }
        if !v.is_wholly_known() {
            continue;
        }
        for validator in &a.validators {
            validator.validate(v, &p, diags);
        }
    }
    for b in &block.blocks {
        let v = attrs.get(&b.type_name).unwrap_or(&Value::Null);
        let p = path.clone().attr(&b.type_name);
        match (b.nesting, v) {
            (BlockNesting::Single, Value::Object(_)) => {
                validate_block(&b.block, v, &p, caps, diags);
            }
            (BlockNesting::List, Value::List(items)) => {
                for (i, item) in items.iter().enumerate() {
                    validate_block(&b.block, item, &p.clone().index(i as i64), caps, diags);
                }
            }
            (BlockNesting::Set, Value::Set(items)) => {
                for item in items {
                    validate_block(&b.block, item, &p, caps, diags);
                }
            }
            _ => {}
        }
    }
}
