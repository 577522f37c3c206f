//! The pages of administrators: signing in and out, the one-time setup page,
//! the Admins page and the password change, and the password check the
//! sign-in and the password change share.

pub mod list;
pub mod login;
pub mod password;
pub mod setup;
pub mod tokens;

use chrono::NaiveDateTime;
use diesel::QueryResult;

use super::domain::credentials::{self, Password};
use super::domain::throttle::{Checked, Subjects};
use super::queries::{self as admins, throttle};
use crate::db::{self, DbConn, DbPool};
use crate::error::AppError;

/// Checks a password under the throttle, for sign-in and for the current
/// password of a password change. Waits for a hashing turn first; within it,
/// refuses a locked account or address without hashing, looks up the stored
/// hash with `find` (the administrator's id and hash, `None` when there is no
/// such active account, which is checked against a fixed hash so both take as
/// long), checks the password and counts the outcome. The count is written
/// before the turn ends, so attempts queued behind it see it: a burst can
/// overshoot a limit by no more than the hashes running at once.
async fn check_password<F>(
    pool: &DbPool,
    subjects: Subjects,
    now: NaiveDateTime,
    password: String,
    find: F,
) -> Result<Checked, AppError>
where
    F: FnOnce(&mut DbConn) -> QueryResult<Option<(i32, String)>> + Send + 'static,
{
    let turn = crate::hashing::turn().await?;
    let looked_up = {
        let subjects = subjects.clone();
        db::run(pool, move |conn| {
            if let Some(until) = throttle::locked_until(conn, &subjects, now)? {
                return Ok(Err(until));
            }
            find(conn).map(Ok)
        })
        .await??
    };
    let admin = match looked_up {
        Err(until) => return Ok(Checked::Refused { until }),
        Ok(admin) => admin,
    };
    let (admin_id, stored) = admin.unzip();
    let (right, upgrade) = turn
        .run(move || {
            let right = credentials::verify(&password, stored.as_deref());
            // A hash imported from DreamFactory becomes argon2id now that
            // the password is known to be right.
            let upgrade = stored
                .filter(|hash| right && credentials::is_bcrypt(hash))
                .map(|old| credentials::rehash(&password).map(|new| (old, new)));
            (right, upgrade)
        })
        .await?;
    let checked = match admin_id.filter(|_| right) {
        Some(id) => Checked::Right(id),
        None => Checked::Wrong,
    };
    db::run(pool, move |conn| match checked {
        Checked::Right(id) => {
            if let Some(upgrade) = upgrade {
                match upgrade {
                    Ok((old, new)) => admins::upgrade_password_hash(conn, id, &old, &new)?,
                    Err(e) => log::error!("rehashing an imported password failed: {e:#}"),
                }
            }
            throttle::record_success(conn, &subjects)
        }
        _ => throttle::record_failure(conn, &subjects, now),
    })
    .await??;
    drop(turn);
    Ok(checked)
}

/// Hashes a new password in turn (see `crate::hashing`).
pub(crate) async fn hash(password: Password) -> Result<String, AppError> {
    let turn = crate::hashing::turn().await?;
    Ok(turn.run(move || password.hash()).await??)
}
