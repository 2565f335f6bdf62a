use std::sync::Arc;

use crate::auth::hostname::HostnameGuard;
use crate::auth::limits::AuthLimits;
use crate::config::{DeploymentMode, Exposure};
use crate::domain::Domain;
use crate::net::proxies::TrustedProxies;

#[derive(Clone)]
pub struct AppState {
    pub domain: Domain,
    /// Live events (the WebSocket reads them).
    pub bus: crate::realtime::EventBus,
    pub mode: DeploymentMode,
    pub exposure: Exposure,
    pub guard: HostnameGuard,
    pub auth: Arc<AuthSettings>,
    /// Whether `/` serves the board UI (`SERVE_UI`).
    pub serve_ui: bool,
}

/// What the auth routes and the actor extractor need to know about this instance.
pub struct AuthSettings {
    /// `paperclip-<instance>.session_token`.
    pub cookie_name: String,
    /// `auth.publicBaseUrl`: decides the Secure cookie and is an allowed Origin.
    pub public_base_url: Option<url::Url>,
    pub disable_sign_up: bool,
    pub limits: AuthLimits,
    pub trusted_proxies: TrustedProxies,
}
