//! What the copy knows of a table: its name, its columns with their logical types (the same
//! on both databases), its key and its self reference. The tables themselves are listed in
//! `tables.rs`.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Uuid,
    Int,
    Bool,
    Time,
    Json,
}

pub struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Kind)],
    /// A column referring to the same table (a parent): written NULL first and set once every
    /// row is in, so rows can arrive in any order.
    pub self_ref: Option<&'static str>,
    /// The primary key columns (the self reference is set by them).
    pub key: &'static [&'static str],
}

impl Table {
    pub fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    }
}
