//! URLs on the Resource Manager host: resource URLs with their `api-version`, and polling or
//! paging URLs from response headers, which must stay on that host (the ARM token is only
//! ever sent to ARM).

use url::Url;

use super::cloud::{check_endpoint_scheme, redact_url};
use super::error::AzureError;

/// The Resource Manager base URL (https, or http on loopback).
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    base: Url,
}

impl Endpoint {
    pub(crate) fn new(base: Url) -> Result<Self, AzureError> {
        check_endpoint_scheme(&base).map_err(|reason| AzureError::InsecureEndpoint {
            url: redact_url(&base),
            reason,
        })?;
        Ok(Endpoint { base })
    }

    pub(crate) fn base(&self) -> &Url {
        &self.base
    }

    /// `{base}{path}?api-version=..&extra..`
    pub(crate) fn resource_url(
        &self,
        path: &str,
        api_version: &str,
        query: &[(&str, &str)],
    ) -> Result<Url, AzureError> {
        // Segments are pushed one by one so that a name holding '?', '#' or '%' is
        // percent-encoded instead of changing the URL's meaning.
        let mut url = self.base.clone();
        url.set_query(None);
        url.set_fragment(None);
        {
            let mut segs = url
                .path_segments_mut()
                .map_err(|()| AzureError::InvalidResponse {
                    url: path.to_string(),
                    message: "the Resource Manager base URL cannot carry a path".into(),
                })?;
            segs.pop_if_empty();
            segs.extend(path.split('/').filter(|s| !s.is_empty()));
        }
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("api-version", api_version);
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// Resolves a polling or paging URL that ARM handed back (`what` names it in errors, e.g.
    /// "the operation's polling URL") and refuses any host but ARM's.
    pub(crate) fn follow(&self, header: &str, what: &str) -> Result<Url, AzureError> {
        let base = &self.base;
        let url = base.join(header).map_err(|e| AzureError::InvalidResponse {
            url: redact_url(base),
            message: format!("{what} is not a URL: {e}"),
        })?;
        check_endpoint_scheme(&url).map_err(|reason| AzureError::InsecureEndpoint {
            url: redact_url(&url),
            reason,
        })?;
        let same_host = url.host_str().map(str::to_ascii_lowercase)
            == base.host_str().map(str::to_ascii_lowercase)
            && url.port_or_known_default() == base.port_or_known_default();
        if !same_host {
            return Err(AzureError::InsecureEndpoint {
                url: redact_url(&url),
                reason: format!(
                    "{what} pointed at a host other than {}; the ARM token is only sent to ARM",
                    redact_url(base)
                ),
            });
        }
        Ok(url)
    }
}
