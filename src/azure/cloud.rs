//! Azure clouds: well-known endpoints plus overrides for custom clouds and the emulator.

use url::Url;

use super::error::AzureError;

/// The endpoints the ARM layer needs for one cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cloud {
    /// Short name (`public`, `usgovernment`, `china`, or `custom`).
    pub name: String,
    /// Resource Manager base URL, e.g. `https://management.azure.com`.
    pub resource_manager: Url,
    /// Entra ID authority host, e.g. `https://login.microsoftonline.com`.
    pub authority_host: Url,
    /// Token audience for Resource Manager; the OAuth scope is `{audience}/.default`.
    pub resource_manager_audience: String,
    /// Storage endpoint suffix, e.g. `core.windows.net`.
    pub storage_suffix: String,
    /// Container registry login server suffix, e.g. `azurecr.io`.
    pub acr_suffix: String,
}

/// The accepted values of the `environment` setting.
pub const ENVIRONMENT_NAMES: &[&str] = &["public", "usgovernment", "china"];

fn url(s: &str) -> Url {
    // Only called with the literals below, which are valid URLs.
    Url::parse(s).unwrap_or_else(|_| unreachable!("static cloud URL {s} is valid"))
}

impl Cloud {
    /// Azure public cloud.
    pub fn public() -> Self {
        Cloud {
            name: "public".into(),
            resource_manager: url("https://management.azure.com/"),
            authority_host: url("https://login.microsoftonline.com/"),
            resource_manager_audience: "https://management.azure.com".into(),
            storage_suffix: "core.windows.net".into(),
            acr_suffix: "azurecr.io".into(),
        }
    }

    /// Azure US Government.
    pub fn us_government() -> Self {
        Cloud {
            name: "usgovernment".into(),
            resource_manager: url("https://management.usgovcloudapi.net/"),
            authority_host: url("https://login.microsoftonline.us/"),
            resource_manager_audience: "https://management.usgovcloudapi.net".into(),
            storage_suffix: "core.usgovcloudapi.net".into(),
            acr_suffix: "azurecr.us".into(),
        }
    }

    /// Azure operated by 21Vianet (China).
    pub fn china() -> Self {
        Cloud {
            name: "china".into(),
            resource_manager: url("https://management.chinacloudapi.cn/"),
            authority_host: url("https://login.chinacloudapi.cn/"),
            resource_manager_audience: "https://management.chinacloudapi.cn".into(),
            storage_suffix: "core.chinacloudapi.cn".into(),
            acr_suffix: "azurecr.cn".into(),
        }
    }

    /// Looks a cloud up by its `environment` name (case-insensitive; azurerm's long names
    /// such as `AzureUSGovernmentCloud` are accepted too).
    pub fn from_name(name: &str) -> Result<Self, AzureError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "public" | "azurecloud" | "azurepubliccloud" => Ok(Self::public()),
            "usgovernment" | "azureusgovernment" | "azureusgovernmentcloud" => {
                Ok(Self::us_government())
            }
            "china" | "azurechinacloud" => Ok(Self::china()),
            other => Err(AzureError::config(
                "environment",
                format!(
                    "unknown environment {other:?}; expected one of {}",
                    ENVIRONMENT_NAMES.join(", ")
                ),
            )),
        }
    }

    /// The OAuth scope for Resource Manager tokens.
    pub fn resource_manager_scope(&self) -> String {
        format!(
            "{}/.default",
            self.resource_manager_audience.trim_end_matches('/')
        )
    }
}

/// Parses an endpoint URL and refuses `http://` unless the host is loopback.
pub fn parse_endpoint(setting: &str, value: &str) -> Result<Url, AzureError> {
    let u = Url::parse(value.trim()).map_err(|e| {
        AzureError::config(
            setting,
            format!("{value:?} is not a URL ({e}); expected e.g. https://management.azure.com"),
        )
    })?;
    check_endpoint_scheme(&u).map_err(|reason| AzureError::config(setting, reason))?;
    Ok(u)
}

/// `Ok` for https URLs and for http URLs on a loopback host.
pub fn check_endpoint_scheme(u: &Url) -> Result<(), String> {
    match u.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(u) => Ok(()),
        "http" => Err(format!(
            "{} uses http://, which is only allowed for loopback hosts (localhost, 127.0.0.1, ::1); use https://",
            redact_url(u)
        )),
        other => Err(format!(
            "{} has scheme {other:?}; expected https",
            redact_url(u)
        )),
    }
}

/// True when the URL's host is loopback.
pub fn is_loopback(u: &Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A URL without query string or user info, safe to log.
pub fn redact_url(u: &Url) -> String {
    let mut c = u.clone();
    c.set_query(None);
    c.set_fragment(None);
    let _ = c.set_username("");
    let _ = c.set_password(None);
    c.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(Cloud::from_name("PUBLIC").unwrap(), Cloud::public());
        assert_eq!(
            Cloud::from_name("usgovernment").unwrap().acr_suffix,
            "azurecr.us"
        );
        assert_eq!(
            Cloud::from_name("china").unwrap().authority_host.as_str(),
            "https://login.chinacloudapi.cn/"
        );
        let e = Cloud::from_name("mars").unwrap_err().to_string();
        assert!(
            e.contains("`environment`") && e.contains("public, usgovernment, china"),
            "{e}"
        );
        assert_eq!(
            Cloud::public().resource_manager_scope(),
            "https://management.azure.com/.default"
        );
    }

    #[test]
    fn http_only_on_loopback() {
        assert!(parse_endpoint("x", "http://127.0.0.1:8080").is_ok());
        assert!(parse_endpoint("x", "http://localhost:1").is_ok());
        assert!(parse_endpoint("x", "http://[::1]:1").is_ok());
        assert!(parse_endpoint("x", "https://example.com").is_ok());
        let e = parse_endpoint("resource_manager_endpoint", "http://example.com").unwrap_err();
        assert!(
            e.to_string().contains("resource_manager_endpoint")
                && e.to_string().contains("loopback")
        );
        assert!(parse_endpoint("x", "ftp://localhost").is_err());
        assert!(parse_endpoint("x", "not a url").is_err());
    }

    #[test]
    fn redacts_query() {
        let u = Url::parse("https://u:p@h/x?sig=abc").unwrap();
        assert_eq!(redact_url(&u), "https://h/x");
    }
}
