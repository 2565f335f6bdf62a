//! The rules of the control plane: what may change, by whom, with which side effects. Each
//! operation checks access through `auth` scopes, applies its rule, and hands the store one
//! atomic write that includes the activity entry.

mod agent_keys;
mod agents;
pub mod approvals;
pub mod board_keys;
pub mod budgets;
pub mod claim;
pub mod cli_auth;
mod companies;
pub mod costs;
mod dashboard;
mod env;
mod error;
pub mod invites;
mod issues;
pub mod members;
pub mod people;
pub mod runs;
pub mod secrets;
pub mod secrets_migrate;
mod validate;

use std::sync::Arc;

pub use env::secret_bound_keys;
pub use error::{DomainError, DomainResult};
pub use issues::IssueListQuery;
pub use issues::checkout::ForceReleased;
pub use issues::comments::CommentListQuery;

use crate::auth::jwt::RunTokens;
use crate::secrets::keys::SecretKeys;
use crate::store::Store;

#[derive(Clone)]
pub struct Domain {
    store: Arc<dyn Store>,
    company_deletion_enabled: bool,
    run_tokens: Arc<RunTokens>,
    secret_keys: Arc<SecretKeys>,
    /// `secrets.strictMode`: sensitive env keys must reference secrets.
    strict_secrets: bool,
    /// The heartbeat service, plugged in once the server has built it.
    run_control: Arc<std::sync::OnceLock<Arc<dyn runs::RunControl>>>,
    /// The price table that estimates unpriced usage.
    prices: Arc<crate::config::prices::PriceTable>,
    /// The UTC month the month spends were last started for (`costs::roll_spend_month`).
    rolled_month: Arc<std::sync::Mutex<String>>,
}

impl Domain {
    pub fn new(
        store: Arc<dyn Store>,
        company_deletion_enabled: bool,
        run_tokens: RunTokens,
        secret_keys: SecretKeys,
        strict_secrets: bool,
    ) -> Self {
        Domain {
            store,
            company_deletion_enabled,
            run_tokens: Arc::new(run_tokens),
            secret_keys: Arc::new(secret_keys),
            strict_secrets,
            run_control: Arc::default(),
            prices: Arc::default(),
            rolled_month: Arc::default(),
        }
    }

    /// Estimates unpriced usage with `prices` (the built-in table otherwise).
    pub fn with_prices(mut self, prices: crate::config::prices::PriceTable) -> Self {
        self.prices = Arc::new(prices);
        self
    }

    pub fn prices(&self) -> &crate::config::prices::PriceTable {
        &self.prices
    }

    pub fn secret_keys(&self) -> &Arc<SecretKeys> {
        &self.secret_keys
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn company_deletion_enabled(&self) -> bool {
        self.company_deletion_enabled
    }
}

/// A timestamp strictly after `previous`, so optimistic-concurrency checks on `updated_at`
/// always see a change.
pub(crate) fn next_time(previous: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    let now = now();
    let floor = previous + chrono::Duration::microseconds(1);
    if now > floor { now } else { floor }
}

/// Now, at the microsecond precision the databases keep, so that what a write answers is
/// exactly what a later read returns.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    truncate_micros(chrono::Utc::now())
}

/// A time at the microsecond precision the databases keep.
pub fn truncate_micros(t: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    t.trunc_subsecs(6)
}
