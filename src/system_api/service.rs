//! `/api/v2/system/service`: services in DreamFactory's shape, read only
//! (keyward's services are managed in its console and at /api/v1/services).

use serde_json::Value;

use super::answer::{self, Answer};
use super::domain::error::DfError;
use super::domain::filter::Fields;
use super::domain::params::{ListParams, RawParams, Wanted};
use super::domain::shapes::{SERVICE_FIELDS, only};
use super::queries::list;
use super::resource::Resource;
use crate::api::ApiCaller;
use crate::db::DbConn;

/// The `service` resource.
pub struct Services;

impl Resource for Services {
    const FIELDS: Fields = SERVICE_FIELDS;

    fn read(
        conn: &mut DbConn,
        params: &ListParams,
        _raw: &RawParams,
        wanted: &Wanted,
    ) -> Result<(Vec<Value>, Option<i64>), DfError> {
        let listed = list::services(conn, params).map_err(answer::listed)?;
        let records = listed
            .records
            .iter()
            .map(|s| only(s.json(), wanted, &[]))
            .collect();
        Ok((records, listed.count))
    }
}

/// Any change: refused, saying where services are changed.
pub async fn read_only(_caller: ApiCaller) -> Answer {
    Err(DfError::new(
        405,
        "keyward's system API reads services only; create and change them in keyward's console \
         or at /api/v1/services.",
    ))
}
