//! Input limits. Every string the API stores has one, so no request can grow a row without bound.

pub const NAME_MAX: usize = 200;
pub const TITLE_MAX: usize = 500;
pub const DESCRIPTION_MAX: usize = 100_000;
pub const COMMENT_MAX: usize = 100_000;
pub const SHORT_TEXT_MAX: usize = 1_000;
pub const JSON_FIELD_MAX_BYTES: usize = 64 * 1024;
pub const BODY_MAX_BYTES: usize = 1024 * 1024;
pub const ISSUES_PAGE_DEFAULT: i64 = 500;
pub const ISSUES_PAGE_MAX: i64 = 1000;
pub const COMMENTS_PAGE_MAX: i64 = 1000;
pub const ACTIVITY_PAGE_DEFAULT: i64 = 100;
pub const ACTIVITY_PAGE_MAX: i64 = 1000;
pub const BLOCKERS_MAX: usize = 100;
