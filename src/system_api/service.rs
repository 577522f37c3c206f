//! `/api/v2/system/service`: services in DreamFactory's shape, read only
//! (keyward's services are managed in its console and at /api/v1/services).

use actix_web::{HttpRequest, web};

use super::answer::{self, Answer, ok, params, path_id, run};
use super::domain::error::DfError;
use super::domain::params::{ListParams, Wanted};
use super::domain::shapes::{SERVICE_FIELDS, only};
use super::queries::list;
use crate::api::ApiCaller;
use crate::db::DbPool;

pub async fn list(req: HttpRequest, _caller: ApiCaller, pool: web::Data<DbPool>) -> Answer {
    let raw = params(&req);
    let list_params = raw.list(SERVICE_FIELDS)?;
    let wanted = raw.wanted(Wanted::All);
    let count_only = list_params.count_only;
    let listed = run(&pool, move |conn| {
        list::services(conn, &list_params).map_err(answer::listed)
    })
    .await?;
    let records = listed
        .records
        .iter()
        .map(|s| only(s.json(), &wanted, &[]))
        .collect();
    Ok(ok(&answer::list_body(records, listed.count, count_only)))
}

pub async fn get(
    req: HttpRequest,
    _caller: ApiCaller,
    path: web::Path<String>,
    pool: web::Data<DbPool>,
) -> Answer {
    let id = path_id(&path)?;
    let wanted = params(&req).wanted(Wanted::All);
    let listed = run(&pool, move |conn| {
        list::services(conn, &ListParams::by_ids(vec![id])).map_err(answer::listed)
    })
    .await?;
    let service = listed
        .records
        .first()
        .ok_or_else(|| DfError::not_found(id))?;
    Ok(ok(&only(service.json(), &wanted, &[])))
}

/// Any change: refused, saying where services are changed.
pub async fn read_only(_caller: ApiCaller) -> Answer {
    Err(DfError::new(
        405,
        "keyward's system API reads services only; create and change them in keyward's console \
         or at /api/v1/services.",
    ))
}
