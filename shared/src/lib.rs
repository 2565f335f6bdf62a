//! API types shared by the Paperclip server and its clients: the JSON shapes of the HTTP
//! contract (camelCase), the enums with Paperclip's values, and input limits. No IO here.

pub mod enums;
pub mod env;
pub mod limits;
pub mod patch;
pub mod types;

pub use enums::*;
pub use types::*;
