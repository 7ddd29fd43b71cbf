//! Generates the reference sections of `docs/resources/*.md` and `docs/data-sources/*.md` (and
//! the provider's arguments in `docs/index.md`) from the provider's schemas, read through the same code path `GetProviderSchema` answers from.
//!
//! Each page keeps its hand-written parts (introduction, examples, Behaviour, ARM calls,
//! Permissions, Import); only the text between marker comments is generated:
//!
//! ```text
//! <!-- generated:arguments:begin -->  …  <!-- generated:arguments:end -->
//! <!-- generated:attributes:begin --> …  <!-- generated:attributes:end -->
//! <!-- generated:timeouts:begin -->   …  <!-- generated:timeouts:end -->   (when the schema has a `timeouts` block)
//! <!-- generated:list-arguments:begin --> … <!-- generated:list-arguments:end --> (the `config` block of the resource's list resource, if any)
//! ```
//!
//! `amlauth-docs` rewrites the pages; `amlauth-docs --check` changes nothing, prints a diff of
//! every section that differs from what it would generate, and exits 1 (a page missing, or a
//! page without its markers, is reported the same way). `tests/docs_generated.rs` runs the
//! check, so CI fails when the committed docs and the schemas disagree.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use amlauth::framework::runtime::Runtime;
use amlauth::framework::schema::{Attribute, Block, BlockNesting, NestedBlock, PlanModifier};
use amlauth::resources::AmlAuthProvider;
use amlauth::value::{Type, Value};

/// The name prefix every type of this provider has; pages are named without it.
const TYPE_PREFIX: &str = "amlauth_";

fn main() -> ExitCode {
    let mut check = false;
    let mut docs_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs");
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--check" => check = true,
            "-h" | "--help" => {
                println!(
                    "usage: amlauth-docs [--check] [DOCS_DIR]\n\nRegenerates the Argument, Attribute and Timeouts \
                     reference of every docs/resources and docs/data-sources page from the provider's schemas. \
                     With --check, writes nothing and exits 1 if a page differs (printing a diff)."
                );
                return ExitCode::SUCCESS;
            }
            other if other.starts_with('-') => {
                eprintln!("amlauth-docs: unknown option {other} (see --help)");
                return ExitCode::from(2);
            }
            dir => docs_dir = PathBuf::from(dir),
        }
    }
    match run(&docs_dir, check) {
        Ok(0) => {
            if check {
                println!("docs are up to date with the schemas");
            }
            ExitCode::SUCCESS
        }
        Ok(n) => {
            eprintln!(
                "\n{n} page(s) differ from the schemas: run `cargo run --bin amlauth-docs` and commit the result"
            );
            ExitCode::FAILURE
        }
        Err(problems) => {
            for p in &problems {
                eprintln!("error: {p}");
            }
            ExitCode::FAILURE
        }
    }
}

/// Regenerates (or, with `check`, compares) every page; returns how many differ, or the
/// problems that prevent generating at all (missing pages or markers, orphan pages).
fn run(docs_dir: &Path, check: bool) -> Result<usize, Vec<String>> {
    let runtime = Runtime::new(Arc::new(AmlAuthProvider));
    let schemas = runtime.schemas();
    let lists = runtime.lists().schemas();
    let mut problems = Vec::new();
    let mut pages = Vec::new();
    // The provider block's arguments, on the index page.
    let provider_sections = vec![("arguments", arguments(&schemas.provider.block))];
    problems.extend(undescribed("provider", &schemas.provider.block));
    load(
        &docs_dir.join("index.md"),
        "the provider",
        &provider_sections,
        &mut pages,
        &mut problems,
    );
    let kinds = [
        ("resources", Kind::Resource, &schemas.resources),
        ("data-sources", Kind::DataSource, &schemas.data_sources),
    ];
    for (dir, kind, types) in kinds {
        for (type_name, schema) in types.iter() {
            let name = type_name.strip_prefix(TYPE_PREFIX).unwrap_or(type_name);
            let path = docs_dir.join(dir).join(format!("{name}.md"));
            problems.extend(undescribed(type_name, &schema.block));
            let mut page_sections = sections(&schema.block);
            page_sections.extend(table_sections(type_name));
            // A resource that is also a list resource (`terraform query`) documents the list's
            // `config` arguments on its page.
            if let Some(list) = lists.get(type_name) {
                problems.extend(undescribed(&format!("list {type_name}"), &list.block));
                page_sections.push(("list-arguments", arguments(&list.block)));
            }
            load(&path, type_name, &page_sections, &mut pages, &mut problems);
        }
        // A page whose type no longer exists would document nothing real.
        if let Ok(entries) = std::fs::read_dir(docs_dir.join(dir)) {
            for e in entries.flatten() {
                let file = e.file_name().to_string_lossy().into_owned();
                if let Some(stem) = file.strip_suffix(".md")
                    && !types.contains_key(&format!("{TYPE_PREFIX}{stem}"))
                {
                    problems.push(format!(
                        "{}: the provider has no {} {TYPE_PREFIX}{stem}; remove or rename the page",
                        e.path().display(),
                        kind.noun()
                    ));
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut differing = 0;
    for (path, old, new) in pages {
        if old == new {
            continue;
        }
        differing += 1;
        if check {
            println!(
                "--- {} (committed)\n+++ {} (generated)",
                path.display(),
                path.display()
            );
            print!("{}", line_diff(&old, &new));
        } else {
            std::fs::write(&path, new).map_err(|e| vec![format!("{}: {e}", path.display())])?;
            println!("updated {}", path.display());
        }
    }
    Ok(if check { differing } else { 0 })
}

/// Reads the page at `path` and splices the generated `sections` in, recording the page (old
/// and new text) or what prevents it.
fn load(
    path: &Path,
    what: &str,
    sections: &[(&'static str, String)],
    pages: &mut Vec<(PathBuf, String, String)>,
    problems: &mut Vec<String>,
) {
    match std::fs::read_to_string(path) {
        Ok(text) => match splice(&text, sections) {
            Ok(new) => pages.push((path.to_path_buf(), text, new)),
            Err(missing) => problems.push(format!(
                "{}: no {missing} markers; put `{}` and `{}` where the generated {missing} reference of \
                 {what} goes",
                path.display(),
                begin(missing),
                end(missing),
            )),
        },
        Err(_) => problems.push(format!(
            "{} is missing: {what} needs a documentation page with the generated sections' markers \
             ({}); start from another page in {}",
            path.display(),
            sections
                .iter()
                .map(|(s, _)| *s)
                .collect::<Vec<_>>()
                .join(", "),
            path.parent()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
        )),
    }
}

/// Attributes (also in nested blocks) without a description: their docs would say nothing.
fn undescribed(type_name: &str, block: &Block) -> Vec<String> {
    let mut out: Vec<String> = block
        .attributes
        .iter()
        .filter(|a| a.description.trim().is_empty())
        .map(|a| {
            format!(
                "{type_name}.{}: no description; add `.describe(\"…\")` to the attribute in its schema",
                a.name
            )
        })
        .collect();
    for b in &block.blocks {
        out.extend(undescribed(
            &format!("{type_name}.{}", b.type_name),
            &b.block,
        ));
    }
    out
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Resource,
    DataSource,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Resource => "resource",
            Kind::DataSource => "data source",
        }
    }
}

/// The generated sections of one page: marker name and Markdown body.
fn sections(block: &Block) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("arguments", arguments(block)),
        ("attributes", attributes(block)),
    ];
    if let Some(t) = block.get_block("timeouts") {
        out.push(("timeouts", timeouts(&t.block)));
    }
    out
}

/// Sections some pages generate from tables in the code rather than from the schema.
fn table_sections(type_name: &str) -> Vec<(&'static str, String)> {
    use amlauth::resources::posture::{findings, roles};
    match type_name {
        "amlauth_workspace_posture" => vec![
            (
                "findings",
                findings::markdown_table().trim_end().to_string(),
            ),
            ("roles", roles::markdown_table().trim_end().to_string()),
        ],
        _ => Vec::new(),
    }
}

fn is_argument(a: &Attribute) -> bool {
    a.required || a.optional
}

fn arguments(block: &Block) -> String {
    let mut lines = Vec::new();
    // Required first, then optional, each in schema order (as azurerm lists them).
    let args = block.attributes.iter().filter(|a| is_argument(a));
    let (required, optional): (Vec<_>, Vec<_>) = args.partition(|a| a.required);
    for a in required.into_iter().chain(optional) {
        lines.push(argument_line(a));
    }
    for b in &block.blocks {
        lines.push(nested_block_line(b));
    }
    let mut text = lines.join("\n");
    for b in block.blocks.iter().filter(|b| b.type_name != "timeouts") {
        text.push_str(&format!(
            "\n\n---\n\nA `{}` block supports the following:\n\n{}",
            b.type_name,
            arguments(&b.block)
        ));
    }
    text
}

fn argument_line(a: &Attribute) -> String {
    let mut notes = vec![if a.required { "Required" } else { "Optional" }];
    if a.sensitive {
        notes.push("Sensitive");
    }
    if a.write_only {
        notes.push("Write-only");
    }
    let ty = type_note(&a.ty);
    if let Some(t) = &ty {
        notes.push(t);
    }
    let mut text = format!(
        "- `{}` - ({}) {}",
        a.name,
        notes.join(", "),
        sentence(&a.description)
    );
    let lower = a.description.to_ascii_lowercase();
    for v in &a.validators {
        if let Some(rule) = validator_sentence(&v.description(), a) {
            text.push(' ');
            text.push_str(&rule);
        }
    }
    // Descriptions that already say it are not repeated.
    if let Some(d) = a
        .default
        .as_ref()
        .and_then(literal)
        .filter(|_| !lower.contains("default"))
    {
        text.push_str(&format!(" Defaults to `{d}`."));
    }
    if a.has_modifier(PlanModifier::RequiresReplace) && !lower.contains("replaces the resource") {
        text.push_str(" Changing this forces a new resource to be created.");
    }
    if let Some(msg) = &a.deprecated {
        text.push_str(&format!(" **Deprecated:** {}", sentence(msg)));
    }
    text
}

fn nested_block_line(b: &NestedBlock) -> String {
    let how = match b.nesting {
        BlockNesting::Single => "A",
        BlockNesting::List | BlockNesting::Set => "One or more",
    };
    let where_ = if b.type_name == "timeouts" {
        "as defined in [Timeouts](#timeouts)".to_string()
    } else {
        "as defined below".to_string()
    };
    let required = if b.min_items > 0 {
        "Required"
    } else {
        "Optional"
    };
    format!(
        "- `{name}` - ({required}) {how} `{name}` block {where_}.",
        name = b.type_name
    )
}

fn attributes(block: &Block) -> String {
    let mut lines = vec![
        "In addition to the arguments above, the following attributes are exported:".to_string(),
        String::new(),
    ];
    for a in block.attributes.iter().filter(|a| !is_argument(a)) {
        let ty = type_note(&a.ty)
            .map(|t| format!("({t}) "))
            .unwrap_or_default();
        let sensitive = if a.sensitive { "(Sensitive) " } else { "" };
        lines.push(format!(
            "- `{}` - {ty}{sensitive}{}",
            a.name,
            sentence(&a.description)
        ));
    }
    lines.join("\n")
}

fn timeouts(block: &Block) -> String {
    let mut lines = vec![sentence(&block.description), String::new()];
    for a in &block.attributes {
        lines.push(format!("- `{}` - {}", a.name, sentence(&a.description)));
    }
    lines.join("\n")
}

/// The validator's rule as a sentence, unless the description already states it (every
/// `code` span of the rule appears in the description).
fn validator_sentence(rule: &str, a: &Attribute) -> Option<String> {
    let spans: Vec<&str> = rule.split('`').skip(1).step_by(2).collect();
    if !spans.is_empty()
        && spans
            .iter()
            .all(|s| a.description.contains(&format!("`{s}`")))
    {
        return None;
    }
    if let Some(values) = rule.strip_prefix("one of ") {
        return Some(format!("Possible values are {values}."));
    }
    let each = matches!(a.ty, Type::Set(_) | Type::List(_));
    Some(if each {
        format!("Each value must be {}.", rule.trim_end_matches('.'))
    } else {
        format!("Must be {}.", rule.trim_end_matches('.'))
    })
}

/// A note on collection and object types; plain strings, numbers and bools need none.
fn type_note(ty: &Type) -> Option<String> {
    match ty {
        Type::Bool | Type::Number | Type::String | Type::Dynamic => None,
        other => Some(type_name(other)),
    }
}

fn type_name(ty: &Type) -> String {
    match ty {
        Type::Bool => "Boolean".into(),
        Type::Number => "Number".into(),
        Type::String => "String".into(),
        Type::Dynamic => "Any".into(),
        Type::List(t) => format!("List of {}", type_name(t)),
        Type::Set(t) => format!("Set of {}", type_name(t)),
        Type::Map(t) => format!("Map of {}", type_name(t)),
        // The description names the fields (and says what they hold).
        Type::Object(_) => "Object".into(),
        Type::Tuple(_) => "Tuple".into(),
    }
}

fn literal(v: &Value) -> Option<String> {
    if let Some(s) = v.as_str() {
        return Some(s.to_string());
    }
    if let Some(b) = v.as_bool() {
        return Some(b.to_string());
    }
    v.as_number().map(|n| n.as_f64().to_string())
}

/// `s` as a sentence: trimmed, ending with a full stop.
fn sentence(s: &str) -> String {
    let s = s.trim();
    if s.is_empty() || s.ends_with(['.', '!', '?']) {
        s.to_string()
    } else {
        format!("{s}.")
    }
}

fn begin(name: &str) -> String {
    format!("<!-- generated:{name}:begin -->")
}

fn end(name: &str) -> String {
    format!("<!-- generated:{name}:end -->")
}

/// `text` with every section's markers' content replaced; Err names the first section whose
/// markers are missing (or out of order).
fn splice(text: &str, sections: &[(&'static str, String)]) -> Result<String, &'static str> {
    let mut out = text.to_string();
    for (name, body) in sections {
        let (b, e) = (begin(name), end(name));
        let start = out.find(&b).ok_or(*name)? + b.len();
        let stop = out[start..].find(&e).ok_or(*name)? + start;
        out.replace_range(start..stop, &format!("\n{body}\n"));
    }
    Ok(out)
}

/// A line diff (longest common subsequence) of two texts, changed lines with 3 lines of
/// context, `-` committed, `+` generated.
fn line_diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((' ', a[i], i + 1));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', a[i], i + 1));
            i += 1;
        } else {
            ops.push(('+', b[j], i + 1));
            j += 1;
        }
    }
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != ' ').collect();
    let mut out = String::new();
    let mut last_shown = None;
    for (k, (sign, line, at)) in ops.iter().enumerate() {
        let near = changed.iter().any(|&c| k + 3 >= c && k <= c + 3);
        if !near {
            continue;
        }
        if last_shown.is_none_or(|l: usize| l + 1 != k) {
            out.push_str(&format!("@@ line {at} @@\n"));
        }
        out.push_str(&format!("{sign}{line}\n"));
        last_shown = Some(k);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_replaces_only_between_markers() {
        let page = "# T\n\nintro\n<!-- generated:arguments:begin -->\nold\n<!-- generated:arguments:end -->\noutro\n";
        let new = splice(page, &[("arguments", "- `a` - (Required) A.".into())]).unwrap();
        assert_eq!(
            new,
            "# T\n\nintro\n<!-- generated:arguments:begin -->\n- `a` - (Required) A.\n<!-- generated:arguments:end -->\noutro\n"
        );
        assert_eq!(
            splice("# T\n", &[("timeouts", String::new())]),
            Err("timeouts")
        );
    }

    #[test]
    fn attributes_without_a_description_are_named() {
        let block = Block::new()
            .attribute(Attribute::string("described").describe("Said."))
            .attribute(Attribute::string("silent"));
        let problems = undescribed("amlauth_x", &block);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("amlauth_x.silent: no description"),
            "{problems:?}"
        );
    }

    #[test]
    fn diff_shows_changed_lines() {
        let d = line_diff("a\nb\nc\n", "a\nB\nc\n");
        assert!(d.contains("-b\n+B\n"), "{d}");
    }

    #[test]
    fn rules_already_in_the_description_are_not_repeated() {
        let a = Attribute::string("type").describe("`A` or `B`.");
        assert_eq!(validator_sentence("one of `A`, `B`", &a), None);
        let a = Attribute::string("mode").describe("The mode.");
        assert_eq!(
            validator_sentence("one of `A`, `B`", &a).as_deref(),
            Some("Possible values are `A`, `B`.")
        );
        let a = Attribute::string_set("ids").describe("Identities.");
        assert_eq!(
            validator_sentence("the ARM id of an identity", &a).as_deref(),
            Some("Each value must be the ARM id of an identity.")
        );
    }
}
