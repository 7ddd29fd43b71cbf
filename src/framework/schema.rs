//! Schemas: what a provider, resource or data source accepts and stores.
//!
//! Built with small chained builders so a resource file reads like its documentation:
//! `Attribute::string("workspace_id").required().requires_replace().describe("...")`.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::validators::Validator;
use crate::value::{Type, Value};

/// Plan behaviours the framework applies generically during PlanResourceChange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanModifier {
    /// A change of this attribute destroys and recreates the resource.
    RequiresReplace,
    /// When the attribute is computed and the config leaves it null, plan the prior
    /// value instead of "known after apply".
    UseStateForUnknown,
}

/// Builder methods that each switch one `bool` field of the same name on.
macro_rules! flag_setters {
    ($( $(#[$doc:meta])* $flag:ident ),* $(,)?) => {
        $(
            $(#[$doc])*
            pub fn $flag(mut self) -> Self {
                self.$flag = true;
                self
            }
        )*
    };
}

/// One attribute of a block.
#[derive(Clone)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    /// Never stored (Terraform ≥1.11): config carries it, plan/state hold null.
    pub write_only: bool,
    pub deprecated: Option<String>,
    /// Planned when the config leaves the attribute null (requires optional + computed).
    pub default: Option<Value>,
    pub validators: Vec<Arc<dyn Validator>>,
    pub plan_modifiers: Vec<PlanModifier>,
    /// Holds ARM ids (a string, a set of strings, or a map keyed by them): values equal
    /// ignoring ASCII case are the same, and the framework keeps the spelling Terraform
    /// already has (see [`super::lifecycle::keep_spelling`]).
    pub arm_id: bool,
}

impl std::fmt::Debug for Attribute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attribute")
            .field("name", &self.name)
            .field("ty", &self.ty)
            .field("required", &self.required)
            .field("optional", &self.optional)
            .field("computed", &self.computed)
            .finish_non_exhaustive()
    }
}

impl Attribute {
    pub fn new(name: impl Into<String>, ty: Type) -> Self {
        Self {
            name: name.into(),
            ty,
            description: String::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            deprecated: None,
            default: None,
            validators: Vec::new(),
            plan_modifiers: Vec::new(),
            arm_id: false,
        }
    }
    pub fn string(name: impl Into<String>) -> Self {
        Self::new(name, Type::String)
    }
    pub fn bool(name: impl Into<String>) -> Self {
        Self::new(name, Type::Bool)
    }
    pub fn number(name: impl Into<String>) -> Self {
        Self::new(name, Type::Number)
    }
    pub fn string_set(name: impl Into<String>) -> Self {
        Self::new(name, Type::Set(Box::new(Type::String)))
    }
    pub fn string_map(name: impl Into<String>) -> Self {
        Self::new(name, Type::Map(Box::new(Type::String)))
    }

    flag_setters! {
        required,
        optional,
        computed,
        sensitive,
        write_only,
        /// Marks the attribute as holding ARM ids, compared ignoring case.
        arm_id,
    }
    pub fn deprecated(mut self, message: impl Into<String>) -> Self {
        self.deprecated = Some(message.into());
        self
    }
    pub fn describe(mut self, markdown: impl Into<String>) -> Self {
        self.description = markdown.into();
        self
    }
    pub fn default_value(mut self, v: Value) -> Self {
        self.default = Some(v);
        self
    }
    pub fn validate(mut self, v: impl Validator + 'static) -> Self {
        self.validators.push(Arc::new(v));
        self
    }
    pub fn requires_replace(mut self) -> Self {
        self.plan_modifiers.push(PlanModifier::RequiresReplace);
        self
    }
    pub fn use_state_for_unknown(mut self) -> Self {
        self.plan_modifiers.push(PlanModifier::UseStateForUnknown);
        self
    }
    pub fn has_modifier(&self, m: PlanModifier) -> bool {
        self.plan_modifiers.contains(&m)
    }
}

/// How a nested block repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockNesting {
    /// At most one; null when absent.
    Single,
    List,
    Set,
}

/// A nested block such as `timeouts { ... }`.
#[derive(Debug, Clone)]
pub struct NestedBlock {
    pub type_name: String,
    pub nesting: BlockNesting,
    pub block: Block,
    pub min_items: i64,
    pub max_items: i64,
}

/// A block: attributes plus nested blocks.
#[derive(Debug, Clone, Default)]
pub struct Block {
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
    pub description: String,
    pub deprecated: bool,
}

impl Block {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn describe(mut self, markdown: impl Into<String>) -> Self {
        self.description = markdown.into();
        self
    }
    pub fn attribute(mut self, a: Attribute) -> Self {
        self.attributes.push(a);
        self
    }
    pub fn block(mut self, name: impl Into<String>, nesting: BlockNesting, block: Block) -> Self {
        // An optional block: Terraform wants min = max = 0 for single nesting.
        self.blocks.push(NestedBlock {
            type_name: name.into(),
            nesting,
            block,
            min_items: 0,
            max_items: 0,
        });
        self
    }

    pub fn get_attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    pub fn get_block(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.type_name == name)
    }

    /// The cty object type of values that conform to this block.
    pub fn implied_type(&self) -> Type {
        let mut attrs = BTreeMap::new();
        for a in &self.attributes {
            attrs.insert(a.name.clone(), a.ty.clone());
        }
        for b in &self.blocks {
            let inner = b.block.implied_type();
            let ty = match b.nesting {
                BlockNesting::Single => inner,
                BlockNesting::List => Type::List(Box::new(inner)),
                BlockNesting::Set => Type::Set(Box::new(inner)),
            };
            attrs.insert(b.type_name.clone(), ty);
        }
        Type::Object(attrs)
    }

    /// True when this block or any nested one declares a write-only attribute.
    pub fn has_write_only(&self) -> bool {
        self.attributes.iter().any(|a| a.write_only)
            || self.blocks.iter().any(|b| b.block.has_write_only())
    }
}

/// A versioned schema.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

impl Schema {
    pub fn new(version: i64, block: Block) -> Self {
        Self { version, block }
    }
    pub fn implied_type(&self) -> Type {
        self.block.implied_type()
    }
}

/// One attribute of a resource identity (Terraform ≥1.12).
#[derive(Debug, Clone)]
pub struct IdentityAttribute {
    pub name: String,
    pub ty: Type,
    pub description: String,
    pub required_for_import: bool,
    pub optional_for_import: bool,
}

/// A resource identity schema.
#[derive(Debug, Clone)]
pub struct IdentitySchema {
    pub version: i64,
    pub attributes: Vec<IdentityAttribute>,
}

impl IdentitySchema {
    pub fn implied_type(&self) -> Type {
        Type::Object(
            self.attributes
                .iter()
                .map(|a| (a.name.clone(), a.ty.clone()))
                .collect(),
        )
    }
}

/// Internal consistency rules Terraform 1.15 enforces when it loads a schema; checked in
/// tests so a mistake shows up here rather than as an opaque Terraform error.
pub fn check_block(block: &Block, path: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let valid_name = |n: &str| {
        !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    for a in &block.attributes {
        let p = format!("{path}{}", a.name);
        if !valid_name(&a.name) {
            problems.push(format!("{p}: invalid attribute name"));
        }
        if !(a.required || a.optional || a.computed) {
            problems.push(format!("{p}: must be required, optional or computed"));
        }
        if a.required && (a.optional || a.computed) {
            problems.push(format!("{p}: required excludes optional and computed"));
        }
        if a.default.is_some() && !(a.optional && a.computed) {
            problems.push(format!("{p}: a default needs optional + computed"));
        }
        if a.write_only && a.computed {
            problems.push(format!("{p}: write-only attributes cannot be computed"));
        }
    }
    for b in &block.blocks {
        if !valid_name(&b.type_name) {
            problems.push(format!("{path}{}: invalid block name", b.type_name));
        }
        if b.nesting == BlockNesting::Single && (b.min_items != b.max_items || b.min_items > 1) {
            problems.push(format!(
                "{path}{}: single nesting needs min_items = max_items, 0 or 1",
                b.type_name
            ));
        }
        if block.get_attribute(&b.type_name).is_some() {
            problems.push(format!(
                "{path}{}: both a block and an attribute",
                b.type_name
            ));
        }
        problems.extend(check_block(&b.block, &format!("{path}{}.", b.type_name)));
    }
    problems
}
