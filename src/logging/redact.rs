//! Keeping secrets out of log lines.
//!
//! Two nets: a process-wide registry of exact secret values (the provider registers every
//! sensitive value it decodes: client secrets, account keys, passwords, tokens) and patterns for
//! secrets that are recognisable by shape (bearer tokens, JWTs, SAS signatures, connection-string
//! keys, credential fields in JSON or form bodies). The log formatter runs both over every string
//! before it is written. [`Sensitive`] keeps values out of `Debug`/`Display` in the first place.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, LazyLock, RwLock};

use aho_corasick::{AhoCorasick, MatchKind};
use regex::Regex;

/// What a redacted value is replaced with.
pub const PLACEHOLDER: &str = "[REDACTED]";

#[derive(Default)]
struct Registry {
    secrets: Vec<String>,
    matcher: Option<Arc<AhoCorasick>>,
}

static REGISTRY: LazyLock<RwLock<Registry>> = LazyLock::new(|| RwLock::new(Registry::default()));

/// Registers `secret` so that it is replaced by [`PLACEHOLDER`] wherever it appears in a log
/// line from now on. Empty strings are ignored; registering a value twice is harmless.
pub fn register_secret(secret: &str) {
    if secret.is_empty() {
        return;
    }
    // A poisoned lock only means another thread panicked mid-update; the data is still usable.
    let mut reg = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    if reg.secrets.iter().any(|s| s == secret) {
        return;
    }
    reg.secrets.push(secret.to_owned());
    // Leftmost-longest so a secret that contains another is replaced as a whole.
    reg.matcher = AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .build(&reg.secrets)
        .ok()
        .map(Arc::new);
}

fn registered_matcher() -> Option<Arc<AhoCorasick>> {
    REGISTRY
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .matcher
        .clone()
}

/// Shapes that are secret whatever their value. Each replacement keeps the label and drops the
/// value, so a log still says *that* a token was there.
static PATTERNS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    let specs: [(&str, &'static str); 5] = [
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
    if let Some(m) = registered_matcher()
        && m.is_match(out.as_ref())
    {
        let replaced = m.replace_all(out.as_ref(), &vec![PLACEHOLDER; m.patterns_len()]);
        out = Cow::Owned(replaced);
    }
    for (re, rep) in PATTERNS.iter() {
        if let Cow::Owned(s) = re.replace_all(out.as_ref(), *rep) {
            out = Cow::Owned(s);
        }
    }
    out
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
