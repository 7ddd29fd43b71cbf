//! A `tracing` layer that writes each event as one hclog JSON line, the format go-plugin parses
//! from a plugin's stderr: `@level`, `@message`, `@module`, `@timestamp` (six fractional digits,
//! UTC) and every event and span field as a key.

use std::fmt;
use std::io::Write;

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use super::redact::redact;

/// Terraform names the provider's logger after the binary; we use the same name as our base.
pub const BASE_MODULE: &str = "provider.terraform-provider-amlauth";

/// Go layout `2006-01-02T15:04:05.000000Z07:00`, always in UTC.
const TIMESTAMP: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// Longest string value written (bytes). Terraform reads stderr in 64 KiB lines and splits
/// longer ones into unparseable pieces, so very long values are cut.
const MAX_VALUE_LEN: usize = 16 * 1024;

/// Keys the format reserves; event fields with these names are prefixed with `_`.
const RESERVED: [&str; 4] = ["@level", "@message", "@module", "@timestamp"];

/// Crate names whose events belong to the base module.
const OWN_CRATES: [&str; 2] = ["amlauth", "terraform_provider_amlauth"];

/// The layer; `W` says where lines go (stderr in production).
#[derive(Debug)]
pub struct HclogLayer<W> {
    make_writer: W,
}

impl<W> HclogLayer<W> {
    /// Writes lines through `make_writer`.
    pub fn new(make_writer: W) -> Self {
        Self { make_writer }
    }
}

/// Fields recorded on a span, kept in its extensions.
struct SpanFields(Map<String, Value>);

impl<S, W> Layer<S> for HclogLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Map::new();
        let mut message = None;
        attrs.record(&mut FieldCollector {
            fields: &mut fields,
            message: &mut message,
        });
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(SpanFields(fields)) = span.extensions_mut().get_mut::<SpanFields>()
        {
            let mut message = None;
            values.record(&mut FieldCollector {
                fields,
                message: &mut message,
            });
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Map::new();
        // Span fields first (outermost to innermost) so the event's own fields win.
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(SpanFields(f)) = span.extensions().get::<SpanFields>() {
                    fields.extend(f.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
        }
        let mut message = None;
        event.record(&mut FieldCollector {
            fields: &mut fields,
            message: &mut message,
        });
        let meta = event.metadata();
        let timestamp = OffsetDateTime::now_utc().format(TIMESTAMP).ok();
        let line = format_line(
            *meta.level(),
            message.as_deref().unwrap_or(""),
            &module_for(meta.target()),
            timestamp.as_deref(),
            fields,
        );
        // Nowhere to report a failed write to stderr; drop the line.
        let _ = self.make_writer.make_writer().write_all(line.as_bytes());
    }
}

/// hclog's name for a level.
pub fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// `@module` for an event target: our crates' first module becomes a sub-module
/// (`amlauth::azure::client` → `provider.terraform-provider-amlauth.azure`), a foreign crate
/// is named after itself (`h2::codec` → `provider.terraform-provider-amlauth.h2`).
pub fn module_for(target: &str) -> String {
    let mut parts = target.split("::");
    let first = parts.next().unwrap_or("");
    let sub = if OWN_CRATES.contains(&first) {
        parts.next()
    } else {
        Some(first)
    };
    match sub.filter(|s| !s.is_empty()) {
        Some(sub) => format!("{BASE_MODULE}.{sub}"),
        None => BASE_MODULE.to_owned(),
    }
}

/// Builds one line (with the trailing newline). Every string is redacted and length-capped;
/// JSON escaping keeps it on one line whatever the message holds.
pub fn format_line(
    level: Level,
    message: &str,
    module: &str,
    timestamp: Option<&str>,
    fields: Map<String, Value>,
) -> String {
    let mut obj = Map::with_capacity(fields.len() + RESERVED.len());
    obj.insert("@level".into(), Value::from(level_name(level)));
    obj.insert("@message".into(), Value::String(clean(message)));
    obj.insert("@module".into(), Value::from(module));
    if let Some(ts) = timestamp {
        obj.insert("@timestamp".into(), Value::from(ts));
    }
    for (key, value) in fields {
        let key = if RESERVED.contains(&key.as_str()) {
            format!("_{key}")
        } else {
            key
        };
        let value = match value {
            Value::String(s) => Value::String(clean(&s)),
            other => other,
        };
        obj.insert(key, value);
    }
    let mut line = Value::Object(obj).to_string();
    line.push('\n');
    line
}

/// Redacts, then caps the length on a character boundary.
fn clean(text: &str) -> String {
    let redacted = redact(text);
    if redacted.len() <= MAX_VALUE_LEN {
        return redacted.into_owned();
    }
    let mut cut = MAX_VALUE_LEN;
    while !redacted.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{}...[truncated {} bytes]",
        &redacted[..cut],
        redacted.len() - cut
    )
}

/// Collects `tracing` fields into JSON values; the `message` field is kept apart.
struct FieldCollector<'a> {
    fields: &'a mut Map<String, Value>,
    message: &'a mut Option<String>,
}

impl FieldCollector<'_> {
    fn put(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            *self.message = Some(match value {
                Value::String(s) => s,
                other => other.to_string(),
            });
        } else {
            self.fields.insert(field.name().to_owned(), value);
        }
    }
}

impl Visit for FieldCollector<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        // JSON has no NaN or infinity.
        let v = serde_json::Number::from_f64(value)
            .map_or_else(|| Value::String(value.to_string()), Value::Number);
        self.put(field, v);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::from(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::from(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        // Append causes the message does not already spell out: "outer: inner: root".
        let mut text = value.to_string();
        let mut source = value.source();
        while let Some(s) = source {
            let cause = s.to_string();
            if !text.contains(&cause) {
                text.push_str(": ");
                text.push_str(&cause);
            }
            source = s.source();
        }
        self.put(field, Value::String(text));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
}
