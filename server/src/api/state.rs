use crate::auth::hostname::HostnameGuard;
use crate::config::{DeploymentMode, Exposure};
use crate::domain::Domain;

#[derive(Clone)]
pub struct AppState {
    pub domain: Domain,
    pub mode: DeploymentMode,
    pub exposure: Exposure,
    pub guard: HostnameGuard,
}
