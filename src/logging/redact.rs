//! Keeping secrets out of log lines.
//!
//! The one place secrets are masked, with one placeholder ([`PLACEHOLDER`]); the log formatter,
//! the ARM pipeline's body logging and the credential chain's error messages all come here.
//!
//! Three nets: a process-wide registry of exact secret values (the provider registers every
//! sensitive value it decodes: client secrets, account keys, passwords, tokens), patterns for
//! secrets that are recognisable by shape (bearer tokens, JWTs, SAS signatures, connection-string
//! keys, credential fields in JSON or form bodies), and, for JSON bodies, every value under a key
//! that names a secret ([`redact_json`]). The log formatter runs the first two over every string
//! before it is written. [`Sensitive`] keeps values out of `Debug`/`Display` in the first place.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, LazyLock, RwLock};

use aho_corasick::{AhoCorasick, MatchKind};
use regex::Regex;

/// What a redacted value is replaced with.
pub const PLACEHOLDER: &str = "[REDACTED]";

/// Secrets are found by their first `PREFIX` bytes; a match is then extended over as much of
/// the text as equals a secret with that prefix. The automaton therefore stays small whatever
/// the secrets' size (a 1 MiB value adds 32 states, not a million), and each byte of a log line
/// is examined a bounded number of times: redaction is linear in the line.
const PREFIX: usize = 32;
/// Secrets compared after one prefix match (only distinct secrets sharing their first
/// `PREFIX` bytes land together; the longest are kept).
const MAX_SHARING_A_PREFIX: usize = 16;

#[derive(Default)]
struct Registry {
    secrets: HashSet<Arc<str>>,
    /// Rebuilt lazily on the next redaction after a registration.
    matcher: Option<Arc<Matcher>>,
    dirty: bool,
}

struct Matcher {
    ac: AhoCorasick,
    /// For pattern i: the secrets that start with it, longest first.
    candidates: Vec<Vec<Arc<str>>>,
}

impl Matcher {
    fn build(secrets: &HashSet<Arc<str>>) -> Option<Matcher> {
        let mut by_prefix: HashMap<&[u8], Vec<Arc<str>>> = HashMap::new();
        for s in secrets {
            let b = s.as_bytes();
            by_prefix
                .entry(&b[..b.len().min(PREFIX)])
                .or_default()
                .push(s.clone());
        }
        let mut patterns = Vec::with_capacity(by_prefix.len());
        let mut candidates = Vec::with_capacity(by_prefix.len());
        for (prefix, mut list) in by_prefix {
            list.sort_by_key(|s| std::cmp::Reverse(s.len()));
            list.truncate(MAX_SHARING_A_PREFIX);
            patterns.push(prefix.to_vec());
            candidates.push(list);
        }
        // Leftmost-longest: a secret that contains another is replaced as a whole.
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .ok()?;
        Some(Matcher { ac, candidates })
    }

    /// Replaces every run of text that equals (a prefix of at least `PREFIX` bytes of) a
    /// registered secret. `None` when nothing matched.
    fn replace(&self, text: &str) -> Option<String> {
        let bytes = text.as_bytes();
        let mut out: Option<String> = None;
        let mut copied = 0;
        let mut pos = 0;
        while pos < bytes.len() {
            let Some(m) = self
                .ac
                .find(aho_corasick::Input::new(bytes).span(pos..bytes.len()))
            else {
                break;
            };
            let rest = &bytes[m.start()..];
            let run = self.candidates[m.pattern().as_usize()]
                .iter()
                .map(|c| common_prefix(rest, c.as_bytes()))
                .max()
                .unwrap_or(0)
                .max(m.len());
            // Whole characters only (a secret's bytes may end inside one of the text's).
            let mut end = m.start() + run;
            while !text.is_char_boundary(end) {
                end += 1;
            }
            let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
            o.push_str(&text[copied..m.start()]);
            o.push_str(PLACEHOLDER);
            copied = end;
            pos = end;
        }
        let mut o = out?;
        o.push_str(&text[copied..]);
        Some(o)
    }
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

static REGISTRY: LazyLock<RwLock<Registry>> = LazyLock::new(|| RwLock::new(Registry::default()));

/// Registers `secret` so that it is replaced by [`PLACEHOLDER`] wherever it appears in a log
/// line from now on. Empty strings are ignored; registering a value twice is harmless. Cheap:
/// the matcher is rebuilt on the next redaction.
pub fn register_secret(secret: &str) {
    if secret.is_empty() {
        return;
    }
    if REGISTRY
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .secrets
        .contains(secret)
    {
        return;
    }
    // A poisoned lock only means another thread panicked mid-update; the data is still usable.
    let mut reg = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    if reg.secrets.insert(Arc::from(secret)) {
        reg.dirty = true;
    }
}

fn registered_matcher() -> Option<Arc<Matcher>> {
    {
        let reg = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
        if !reg.dirty {
            return reg.matcher.clone();
        }
    }
    let mut reg = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    if reg.dirty {
        reg.matcher = Matcher::build(&reg.secrets).map(Arc::new);
        reg.dirty = false;
    }
    reg.matcher.clone()
}

/// Shapes that are secret whatever their value. Each replacement keeps the label and drops the
/// value, so a log still says *that* a token was there.
static PATTERNS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    let specs: [(&str, &'static str); 6] = [
        // Authorization header values (long enough to be a token, not the word in prose).
        (
            r"(?i)\b(bearer)(\s+)[A-Za-z0-9\-._~+/]{16,}=*",
            "${1}${2}[REDACTED]",
        ),
        // JSON Web Tokens (Entra ID access tokens, client assertions, OIDC tokens).
        (
            r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
            "[REDACTED]",
        ),
        // Query strings and form bodies: SAS signatures and OAuth credentials.
        (
            r"(?i)\b(sig|client_secret|client_assertion|password|access_token|refresh_token)=[^&\s;]+",
            "${1}=[REDACTED]",
        ),
        // OAuth authorization codes in query strings and form bodies (not "code=" in prose).
        (r"(?i)([?&])(code)=[^&\s;]+", "${1}${2}=[REDACTED]"),
        // Storage / Service Bus connection strings.
        (
            r"(?i)\b(AccountKey|SharedAccessKey|SharedAccessSignature)=[^;\s]+",
            "${1}=[REDACTED]",
        ),
        // Credential members of JSON bodies (ARM listKeys / listCredentials / token replies).
        (
            r#"(?i)"(access_token|refresh_token|id_token|client_secret|client_assertion|password|accountKey|primaryKey|secondaryKey|sasToken|secretAccessKey|connectionString)"(\s*:\s*)"(?:[^"\\]|\\.)*""#,
            r#""${1}"${2}"[REDACTED]""#,
        ),
    ];
    specs
        .into_iter()
        .filter_map(|(re, rep)| Regex::new(re).ok().map(|r| (r, rep)))
        .collect()
});

/// Returns `text` with registered secrets and secret-shaped substrings replaced.
/// Borrows when nothing needed replacing.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    if let Some(replaced) = registered_matcher().and_then(|m| m.replace(text)) {
        out = Cow::Owned(replaced);
    }
    for (re, rep) in PATTERNS.iter() {
        if let Cow::Owned(s) = re.replace_all(out.as_ref(), *rep) {
            out = Cow::Owned(s);
        }
    }
    out
}

/// Whether a JSON key names a secret value (keys, passwords, secrets, tokens, SAS, connection
/// strings, assertions, private keys).
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    const CONTAINS: &[&str] = &[
        "password",
        "secret",
        "token",
        "signature",
        "connectionstring",
        "assertion",
        "privatekey",
    ];
    CONTAINS.iter().any(|c| k.contains(c))
        || k.ends_with("key")
        || k.ends_with("keys")
        || k == "sas"
        || k == "sig"
}

/// Returns a copy of `v` with the values under secret keys replaced by [`PLACEHOLDER`] and every
/// string run through [`redact`].
pub fn redact_json(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, val)| {
                    let val = if is_secret_key(k) && !val.is_null() {
                        Value::String(PLACEHOLDER.into())
                    } else {
                        redact_json(val)
                    };
                    (k.clone(), val)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(redact_json).collect()),
        Value::String(s) => Value::String(redact(s).into_owned()),
        other => other.clone(),
    }
}

/// Longest body text written to a log line when the body is not JSON.
const MAX_TEXT_BODY: usize = 2048;

/// A request or response body fit for a log line: JSON is redacted structurally
/// ([`redact_json`]); anything else textually, and cut to 2 KiB.
pub fn redact_body(body: &[u8]) -> String {
    if body.is_empty() {
        return String::new();
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        return redact_json(&v).to_string();
    }
    let mut t = redact(&String::from_utf8_lossy(body)).into_owned();
    if t.len() > MAX_TEXT_BODY {
        let mut cut = MAX_TEXT_BODY;
        while !t.is_char_boundary(cut) {
            cut -= 1;
        }
        t.truncate(cut);
        t.push_str("...");
    }
    t
}

/// A value that must not be shown: `Debug` and `Display` print [`PLACEHOLDER`].
/// Use [`Sensitive::expose`] where the real value is needed (e.g. building a request).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Sensitive<T>(T);

/// A secret string.
pub type Secret = Sensitive<String>;

impl<T> Sensitive<T> {
    /// Wraps `value`.
    pub const fn new(value: T) -> Self {
        Self(value)
    }

    /// The wrapped value. Keep the borrow short and never log it.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: AsRef<str>> Sensitive<T> {
    /// Wraps `value` and registers it with the log redactor, so it is masked even if it
    /// reaches a log line by another route (an error message, a response body).
    pub fn registered(value: T) -> Self {
        register_secret(value.as_ref());
        Self(value)
    }
}

impl<T> From<T> for Sensitive<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(PLACEHOLDER)
    }
}

impl<T> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(PLACEHOLDER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_are_replaced_everywhere() {
        register_secret("s3cr3t-value-for-redact-test");
        register_secret("");
        let out = redact("a s3cr3t-value-for-redact-test b s3cr3t-value-for-redact-test");
        assert_eq!(out, "a [REDACTED] b [REDACTED]");
    }

    #[test]
    fn the_longest_overlapping_secret_wins() {
        register_secret("overlap-abc");
        register_secret("overlap-abcdef");
        assert_eq!(redact("x overlap-abcdef y"), "x [REDACTED] y");
    }

    #[test]
    fn long_secrets_are_replaced_whole_and_truncated_copies_too() {
        let long = format!("long-secret-{}", "xyz".repeat(1000));
        register_secret(&long);
        assert_eq!(redact(&format!("a {long} b")), "a [REDACTED] b");
        // A log that cut the value short still hides what it shows of it.
        assert_eq!(redact(&format!("a {}", &long[..100])), "a [REDACTED]");
        // Multi-byte characters around and inside are kept whole.
        let uni = format!("ü-secret-ü-{}", "é".repeat(40));
        register_secret(&uni);
        assert_eq!(redact(&format!("«{uni}»")), "«[REDACTED]»");
    }

    /// Memory does not grow with a secret's size, and a repetitive secret over repetitive
    /// text is replaced run by run (the old automaton needed ~540 bytes per secret byte and
    /// quadratic time for this input).
    #[test]
    fn matcher_size_is_bounded_by_the_prefix() {
        let mut secrets = HashSet::new();
        let random: String = (0..1024 * 1024)
            .map(|i: u32| char::from(b'!' + (i.wrapping_mul(2_654_435_761) >> 25) as u8 % 90))
            .collect();
        secrets.insert(Arc::<str>::from(random.as_str()));
        secrets.insert(Arc::<str>::from("A".repeat(64 * 1024).as_str()));
        let m = Matcher::build(&secrets).unwrap();
        assert!(m.ac.memory_usage() < 64 * 1024, "{}", m.ac.memory_usage());
        let text = "A".repeat(1024 * 1024);
        assert_eq!(m.replace(&text).unwrap(), PLACEHOLDER.repeat(16));
        let text = format!("x{random}y");
        assert_eq!(m.replace(&text).unwrap(), format!("x{PLACEHOLDER}y"));
    }

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(redact("nothing to hide here"), Cow::Borrowed(_)));
    }

    #[test]
    fn secret_shapes_are_masked() {
        let cases = [
            (
                "Authorization: Bearer abc.def-ghi_jkl~mno+pq/rs==",
                "Authorization: Bearer [REDACTED]",
            ),
            (
                "could not get a bearer token",
                "could not get a bearer token",
            ),
            (
                "url https://acct.blob.core.windows.net/c?sv=2022&sig=AbC%2Bd%3D&se=x",
                "url https://acct.blob.core.windows.net/c?sv=2022&sig=[REDACTED]&se=x",
            ),
            (
                "grant_type=client_credentials&client_secret=xyz&scope=s",
                "grant_type=client_credentials&client_secret=[REDACTED]&scope=s",
            ),
            (
                "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k3y==;EndpointSuffix=x",
                "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=[REDACTED];EndpointSuffix=x",
            ),
            (
                r#"{"username":"u","password" : "p\"w","other":1}"#,
                r#"{"username":"u","password" : "[REDACTED]","other":1}"#,
            ),
            (
                "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln end",
                "token [REDACTED] end",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input), want, "input: {input}");
        }
    }

    #[test]
    fn json_bodies_lose_values_under_secret_keys() {
        let v = serde_json::json!({
            "properties": {
                "credentials": {"credentialsType": "AccountKey", "secrets": {"secretsType": "AccountKey", "key": "ACCOUNTKEY=="}},
                "accountName": "stg",
                "keyVault": "/subscriptions/x/kv",
                "userStorageKey": "k1",
                "passwords": [{"name": "password", "value": "p1"}],
                "adminUserPassword": "hunter2",
                "sasToken": "sv=2020&sig=abc",
                "clientSecret": "cs",
                "note": "see https://h/x?sv=1&sig=SIGVALUE&se=2",
                "auth": "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
                "nothing": null
            }
        });
        let s = redact_json(&v).to_string();
        for secret in [
            "ACCOUNTKEY==",
            "k1",
            "p1",
            "hunter2",
            "abc",
            "cs",
            "SIGVALUE",
            "eyJhbGci",
        ] {
            assert!(!s.contains(secret), "{secret} leaked in {s}");
        }
        for kept in ["stg", "/subscriptions/x/kv", "se=2", "\"nothing\":null"] {
            assert!(s.contains(kept), "{kept} missing in {s}");
        }
        assert!(s.contains(PLACEHOLDER), "{s}");
    }

    #[test]
    fn text_bodies_are_masked_and_cut() {
        let s = redact_body(
            b"grant_type=authorization_code&code=AUTHCODE&client_secret=topsecret&scope=x",
        );
        assert!(
            !s.contains("topsecret") && !s.contains("AUTHCODE") && s.contains("scope=x"),
            "{s}"
        );
        assert_eq!(
            redact("the status code=404 is kept"),
            "the status code=404 is kept"
        );
        let long = "a".repeat(5000);
        assert!(redact_body(long.as_bytes()).len() < 2100);
        assert_eq!(redact_body(b""), "");
    }

    #[test]
    fn sensitive_never_prints_its_value() {
        let s = Secret::new("hunter2".to_owned());
        assert_eq!(format!("{s}"), PLACEHOLDER);
        assert_eq!(format!("{s:?}"), PLACEHOLDER);
        assert_eq!(format!("{:?}", Some(&s)), "Some([REDACTED])");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn registered_sensitive_is_masked_in_free_text() {
        let s = Sensitive::registered("registered-via-wrapper-42");
        let leaked = format!("error: bad key {}", s.expose());
        assert_eq!(redact(&leaked), "error: bad key [REDACTED]");
    }
}
