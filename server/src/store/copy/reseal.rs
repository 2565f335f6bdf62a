//! Re-sealing secrets on their way from one database to another (`db copy
//! --target-master-key-file`): a stage between reader and writer that opens each secret
//! version with the source's master key and seals it again with the target's. The version
//! table's fingerprint is taken again over what is actually written, so verification still
//! compares like with like.

use std::collections::HashMap;

use tokio::sync::mpsc;
use uuid::Uuid;

use super::tables::TABLES;
use super::{Fingerprint, Msg, Row, Val};
use crate::secrets::crypto::{self, MasterKey};
use crate::store::{StoreError, StoreResult};

/// The source's key and the target's.
pub struct Reseal {
    pub source: MasterKey,
    pub target: MasterKey,
}

fn column(table: &str, name: &str) -> usize {
    let t = TABLES
        .iter()
        .find(|t| t.name == table)
        .unwrap_or_else(|| unreachable!("{table} is in TABLES"));
    t.columns
        .iter()
        .position(|(c, _)| *c == name)
        .unwrap_or_else(|| unreachable!("{table}.{name} is in TABLES"))
}

fn uuid_of(v: &Val) -> Option<Uuid> {
    match v {
        Val::Uuid(u) => Some(*u),
        Val::Text(t) => Uuid::parse_str(t).ok(),
        _ => None,
    }
}

/// Passes `rx` on to `tx`, re-sealing secret versions. A version that does not open with the
/// source key stops the copy (nothing is written).
pub async fn run(
    keys: Reseal,
    mut rx: mpsc::Receiver<Msg>,
    tx: mpsc::Sender<Msg>,
) -> StoreResult<()> {
    let secrets = TABLES.iter().position(|t| t.name == "company_secrets");
    let versions = TABLES
        .iter()
        .position(|t| t.name == "company_secret_versions");
    let (s_id, s_company) = (
        column("company_secrets", "id"),
        column("company_secrets", "company_id"),
    );
    let (v_secret, v_text) = (
        column("company_secret_versions", "secret_id"),
        column("company_secret_versions", "ciphertext"),
    );
    let mut owner: HashMap<Uuid, Uuid> = HashMap::new();
    let mut written = Fingerprint::default();
    while let Some(msg) = rx.recv().await {
        let msg = match msg {
            Msg::Batch(table, rows) if Some(table) == secrets => {
                for row in &rows {
                    if let (Some(id), Some(company)) =
                        (uuid_of(&row[s_id]), uuid_of(&row[s_company]))
                    {
                        owner.insert(id, company);
                    }
                }
                Msg::Batch(table, rows)
            }
            Msg::Batch(table, rows) if Some(table) == versions => {
                let rows = rows
                    .into_iter()
                    .map(|row| reseal_row(&keys, &owner, row, v_secret, v_text))
                    .collect::<StoreResult<Vec<Row>>>()?;
                rows.iter().for_each(|r| written.add(r));
                Msg::Batch(table, rows)
            }
            Msg::Done(table, _) if Some(table) == versions => Msg::Done(table, written),
            other => other,
        };
        if tx.send(msg).await.is_err() {
            break;
        }
    }
    Ok(())
}

fn reseal_row(
    keys: &Reseal,
    owner: &HashMap<Uuid, Uuid>,
    mut row: Row,
    secret_col: usize,
    text_col: usize,
) -> StoreResult<Row> {
    let secret = uuid_of(&row[secret_col])
        .ok_or_else(|| StoreError::Internal("a secret version without its secret id".into()))?;
    let company = *owner.get(&secret).ok_or_else(|| {
        StoreError::Internal(format!(
            "secret version of {secret}, a secret the copy has not seen"
        ))
    })?;
    let Val::Text(sealed) = &row[text_col] else {
        return Err(StoreError::Internal(
            "a secret version without ciphertext".into(),
        ));
    };
    let plain = crypto::open_stored(&keys.source, company, secret, sealed).map_err(|_| {
            StoreError::Invalid(format!(
                "cannot decrypt secret {secret} with the source's master key; check that this \
                 instance's key (or PAPERCLIP_SECRETS_MASTER_KEY) is the one its secrets were sealed with"
            ))
        })?;
    row[text_col] = Val::Text(crypto::seal_stored(&keys.target, company, secret, &plain));
    Ok(row)
}
