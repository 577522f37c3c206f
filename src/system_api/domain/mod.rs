//! The system API's pure part: the filter grammar, the query parameters,
//! request records read onto keyward's forms, keyward's objects in
//! DreamFactory's columns, and errors in DreamFactory's shape.

pub mod error;
pub mod filter;
pub mod params;
pub mod records;
pub mod session;
pub mod shapes;
