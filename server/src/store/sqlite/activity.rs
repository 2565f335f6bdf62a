use std::cell::RefCell;

use paperclip_shared::{ActivityEntry, ActorType};
use rusqlite::{Connection, Row, params};

use super::codec::*;
use crate::store::ActivityFilter;

thread_local! {
    /// The activity the current write transaction inserted (there is one writer thread), so
    /// it can be published once the transaction commits.
    static WRITTEN: RefCell<Vec<ActivityEntry>> = const { RefCell::new(Vec::new()) };
}

/// The activity inserted on this thread since the last call (empties the list).
pub fn take_written() -> Vec<ActivityEntry> {
    WRITTEN.with(|w| std::mem::take(&mut *w.borrow_mut()))
}

pub fn insert(conn: &Connection, entries: &[ActivityEntry]) -> rusqlite::Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    WRITTEN.with(|w| w.borrow_mut().extend_from_slice(entries));
    let mut stmt = conn.prepare_cached(
        "INSERT INTO activity_log (id, company_id, actor_type, actor_id, action, entity_type,
            entity_id, agent_id, run_id, details, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for e in entries {
        stmt.execute(params![
            id(e.id),
            id(e.company_id),
            e.actor_type.as_str(),
            e.actor_id,
            e.action,
            e.entity_type,
            e.entity_id,
            opt_id(e.agent_id),
            opt_id(e.run_id),
            json(&e.details),
            ts(e.created_at),
        ])?;
    }
    Ok(())
}

fn from_row(row: &Row) -> rusqlite::Result<ActivityEntry> {
    Ok(ActivityEntry {
        id: get_uuid(row, "id")?,
        company_id: get_uuid(row, "company_id")?,
        actor_type: get_enum(row, "actor_type", ActorType::parse)?,
        actor_id: row.get("actor_id")?,
        action: row.get("action")?,
        entity_type: row.get("entity_type")?,
        entity_id: row.get("entity_id")?,
        agent_id: get_opt_uuid(row, "agent_id")?,
        run_id: get_opt_uuid(row, "run_id")?,
        details: get_json(row, "details")?,
        created_at: get_ts(row, "created_at")?,
    })
}

pub fn list(conn: &Connection, f: ActivityFilter) -> rusqlite::Result<Vec<ActivityEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT * FROM activity_log WHERE company_id = ?1
           AND (?2 IS NULL OR agent_id = ?2)
           AND (?3 IS NULL OR entity_type = ?3)
           AND (?4 IS NULL OR entity_id = ?4)
         ORDER BY seq DESC LIMIT ?5 OFFSET ?6",
    )?;
    let rows = stmt.query_map(
        params![
            id(f.company_id),
            opt_id(f.agent_id),
            f.entity_type,
            f.entity_id,
            f.limit,
            f.offset
        ],
        from_row,
    )?;
    rows.collect()
}
