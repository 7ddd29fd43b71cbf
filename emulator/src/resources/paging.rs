//! Collection pages as ARM answers them: `{"value": [...], "nextLink": "..."}`, where
//! `nextLink` is an absolute URL carrying an opaque, signed `$skiptoken`. Clients must follow
//! it as given: a token they rebuild or alter is refused (400 `InvalidSkipToken`), as ARM
//! refuses a tampered one.

use std::hash::{DefaultHasher, Hash, Hasher};

use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::arm::Req;
use crate::config::Quirks;
use crate::error::ArmError;
use crate::state::{Kind, Resource};

/// The query parameter holding the continuation token.
pub const SKIP_TOKEN: &str = "$skiptoken";
/// The query parameter holding the token's signature.
const SIGNATURE: &str = "sig";

/// Answers one page of `items` (all of them, in a stable order) for this request: the
/// first page, or the one its `$skiptoken` names. `page_size` 0 answers everything at once.
pub fn answer(req: &Req<'_>, items: Vec<Value>, page_size: usize) -> Result<Response, ArmError> {
    let offset = match req.query.get(SKIP_TOKEN) {
        None => 0,
        Some(token) => {
            let sig = req.query.get(SIGNATURE).map(String::as_str).unwrap_or("");
            verify(&req.path, token, sig)?
        }
    };
    let (page, next) = page(items, offset, page_size);
    let mut body = json!({ "value": page });
    if let Some(next) = next {
        body["nextLink"] = json!(next_link(req, next));
    }
    Ok(axum::Json(body).into_response())
}

/// Answers a page of the stored resources of `kind` whose id starts with `prefix` (ids are
/// stored lower-cased, so `prefix` must be too), each rendered as its GET would.
pub fn answer_stored(
    req: &Req<'_>,
    kind: Kind,
    prefix: &str,
    render: fn(&Resource, &Quirks) -> Value,
) -> Result<Response, ArmError> {
    let q = req.app.quirks();
    let items = req
        .app
        .state()?
        .resources
        .iter()
        .filter(|(k, r)| r.kind == kind && k.starts_with(prefix))
        .map(|(_, r)| render(r, &q))
        .collect();
    answer(req, items, q.list_page_size)
}

/// The items of the page at `offset`, and the next page's offset if any.
pub fn page(items: Vec<Value>, offset: usize, page_size: usize) -> (Vec<Value>, Option<usize>) {
    let total = items.len();
    if page_size == 0 {
        return (items.into_iter().skip(offset).collect(), None);
    }
    let end = offset.saturating_add(page_size);
    let page = items.into_iter().skip(offset).take(page_size).collect();
    (page, (end < total).then_some(end))
}

/// The absolute URL of the page at `offset`: this request's URL with the other query
/// parameters kept and a fresh token.
fn next_link(req: &Req<'_>, offset: usize) -> String {
    let token =
        URL_SAFE_NO_PAD.encode(json!({ "o": offset, "n": uuid::Uuid::new_v4() }).to_string());
    let mut url = format!("{}{}?", req.app.base_url(), req.path);
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    let mut kept: Vec<(&String, &String)> = req
        .query
        .iter()
        .filter(|(k, _)| *k != SKIP_TOKEN && *k != SIGNATURE)
        .collect();
    kept.sort();
    for (k, v) in kept {
        q.append_pair(k, v);
    }
    url.push_str(&q.finish());
    // Written literally, as ARM does (`$skiptoken`, not `%24skiptoken`); the token is
    // base64url and the signature hex, so neither needs escaping.
    let sig = signature(&req.path, &token);
    url.push_str(&format!("&{SKIP_TOKEN}={token}&{SIGNATURE}={sig}"));
    url
}

fn signature(path: &str, token: &str) -> String {
    let mut h = DefaultHasher::new();
    "amlauth-emulator-skiptoken".hash(&mut h);
    path.to_ascii_lowercase().hash(&mut h);
    token.hash(&mut h);
    format!("{:016x}", h.finish())
}

/// The offset a token names, if it is one this collection handed out.
fn verify(path: &str, token: &str, sig: &str) -> Result<usize, ArmError> {
    let invalid = || {
        ArmError::bad_request(
            "InvalidSkipToken",
            "The $skiptoken is invalid or was altered; follow the nextLink exactly as returned.",
        )
    };
    if signature(path, token) != sig {
        return Err(invalid());
    }
    let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| invalid())?;
    v.get("o")
        .and_then(Value::as_u64)
        .and_then(|o| usize::try_from(o).ok())
        .ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: usize) -> Vec<Value> {
        (0..n).map(|i| json!(i)).collect()
    }

    #[test]
    fn pages_cover_every_item_once() {
        let (first, next) = page(items(7), 0, 3);
        assert_eq!(first, items(3));
        assert_eq!(next, Some(3));
        let (second, next) = page(items(7), 3, 3);
        assert_eq!(second, vec![json!(3), json!(4), json!(5)]);
        let (last, next2) = page(items(7), next.unwrap(), 3);
        assert_eq!(last, vec![json!(6)]);
        assert_eq!(next2, None);
        assert_eq!(
            page(items(6), 3, 3).1,
            None,
            "an exact fit has no empty last page"
        );
        assert_eq!(page(items(5), 0, 0), (items(5), None), "0: one page");
        assert_eq!(page(items(2), 9, 3), (vec![], None), "past the end: empty");
    }

    #[test]
    fn tokens_are_checked_against_their_signature_and_path() {
        let token = URL_SAFE_NO_PAD.encode(json!({"o": 30, "n": "x"}).to_string());
        let sig = signature("/subscriptions/s/x", &token);
        assert_eq!(verify("/subscriptions/s/x", &token, &sig).unwrap(), 30);
        assert_eq!(verify("/SUBSCRIPTIONS/s/X", &token, &sig).unwrap(), 30);
        assert!(verify("/subscriptions/s/other", &token, &sig).is_err());
        let forged = URL_SAFE_NO_PAD.encode(json!({"o": 0, "n": "x"}).to_string());
        assert!(verify("/subscriptions/s/x", &forged, &sig).is_err());
        assert!(verify("/subscriptions/s/x", "not base64!", &sig).is_err());
    }
}
