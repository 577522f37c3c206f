//! API Keys in Chromium, used as an administrator uses it: creating a key
//! and seeing it once, searching the list as one types, and a key's life
//! from the list and its page.

mod create;
mod lifecycle;
mod limits;
mod list;
