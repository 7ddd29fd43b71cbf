//! Redaction of secrets before anything reaches a log line.
//!
//! JSON bodies are logged only at trace level and only after [`redact_json`]: values under
//! keys that name secrets (keys, passwords, secrets, tokens, SAS, connection strings,
//! assertions) are replaced, and any string that looks like a SAS signature, a bearer token
//! or a JWT is masked wherever it appears.

use serde_json::Value;

/// Placeholder written instead of a secret.
pub const REDACTED: &str = "<redacted>";

/// Whether a JSON key names a secret value.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    const CONTAINS: &[&str] = &[
        "password",
        "secret",
        "token",
        "sastoken",
        "signature",
        "connectionstring",
        "assertion",
        "privatekey",
    ];
    CONTAINS.iter().any(|c| k.contains(c))
        || k == "key"
        || k.ends_with("key")
        || k.ends_with("keys")
        || k == "sas"
        || k == "sig"
}

/// Returns a copy of `v` with secrets replaced by [`REDACTED`].
pub fn redact_json(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, val)| {
                    let val = if is_secret_key(k) && !val.is_null() {
                        Value::String(REDACTED.into())
                    } else {
                        redact_json(val)
                    };
                    (k.clone(), val)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(redact_json).collect()),
        Value::String(s) => Value::String(redact_text(s)),
        other => other.clone(),
    }
}

/// Redacts a body for logging: JSON is redacted structurally; anything else is masked
/// textually (and truncated).
pub fn redact_body(body: &[u8]) -> String {
    if body.is_empty() {
        return String::new();
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => redact_json(&v).to_string(),
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let mut t = redact_text(&text);
            if t.len() > 2048 {
                let mut cut = 2048;
                while !t.is_char_boundary(cut) {
                    cut -= 1;
                }
                t.truncate(cut);
                t.push_str("...");
            }
            t
        }
    }
}

/// Masks SAS signatures (`sig=`), bearer tokens and JWT-shaped words inside free text.
pub fn redact_text(s: &str) -> String {
    // One regex pass (linear in the text) for SAS signatures and OAuth parameters.
    static PARAMS: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r#"(?i)(^|[?&\s"])(sig|access_token|client_secret|client_assertion|code)=[^&"'\s]*"#,
        )
        .ok()
    });
    let out = match PARAMS.as_ref() {
        Some(re) => re.replace_all(s, format!("${{1}}${{2}}={REDACTED}").as_str()),
        None => std::borrow::Cow::Borrowed(s),
    };
    let mut words: Vec<String> = Vec::new();
    let mut redact_next = false;
    for w in out.split(' ') {
        if redact_next && !w.is_empty() {
            words.push(REDACTED.into());
            redact_next = false;
            continue;
        }
        if w.eq_ignore_ascii_case("bearer") {
            redact_next = true;
        }
        if looks_like_jwt(w) {
            words.push(REDACTED.into());
        } else {
            words.push(w.to_string());
        }
    }
    words.join(" ")
}

fn looks_like_jwt(w: &str) -> bool {
    let w =
        w.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_' && c != '.');
    w.starts_with("eyJ") && w.matches('.').count() >= 2 && w.len() > 20
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redacts_secret_keys_recursively() {
        let v = json!({
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
    }

    #[test]
    fn redacts_text_bodies() {
        let s = redact_body(b"grant_type=client_credentials&client_secret=topsecret&scope=x");
        assert!(!s.contains("topsecret") && s.contains("scope=x"), "{s}");
        let long = "a".repeat(5000);
        assert!(redact_body(long.as_bytes()).len() < 2100);
        assert_eq!(redact_body(b""), "");
    }
}
