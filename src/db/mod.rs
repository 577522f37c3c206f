//! Database plumbing: one connection type over SQLite and PostgreSQL, chosen by
//! the URL scheme, an r2d2 pool, per-connection SQLite pragmas and embedded
//! migrations per backend.

pub mod audit;
pub mod changes;
pub mod settings;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::{Connection, PgConnection, QueryResult, RunQueryDsl, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to whichever backend the database URL names.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// `$body` with `$conn` bound to the backend's own connection, for the
/// queries diesel's multi-backend connection cannot build (`ON CONFLICT`):
/// `on_backend!(conn, |c| diesel::insert_into(t).values(v).on_conflict(k)
/// .do_nothing().execute(c))`.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => $body,
            $crate::db::DbConn::Postgres($c) => $body,
        }
    };
}
pub(crate) use on_backend;

pub type DbPool = Pool<ConnectionManager<DbConn>>;
pub type PooledConn = PooledConnection<ConnectionManager<DbConn>>;

/// Which backend a database URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `postgres://` or `postgresql://` selects PostgreSQL; `sqlite://`, a
    /// `file:` URL or a plain path selects SQLite. Anything else with a scheme
    /// is refused rather than silently treated as a file name.
    pub fn from_url(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.is_empty() {
            return Err("the database URL is empty".into());
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Backend::Postgres);
        }
        if url.starts_with("sqlite://") || url.starts_with("file:") {
            return Ok(Backend::Sqlite);
        }
        if let Some((scheme, _)) = url.split_once("://") {
            return Err(format!(
                "unsupported database URL scheme `{scheme}://` (use a SQLite file path, sqlite://PATH or postgres://...)"
            ));
        }
        Ok(Backend::Sqlite)
    }
}

/// The URL as the SQLite driver wants it (it does not understand `sqlite://`).
fn sqlite_path(url: &str) -> &str {
    url.trim().strip_prefix("sqlite://").unwrap_or(url.trim())
}

/// SQLite settings applied to every pooled connection: WAL so readers never
/// block the writer, a busy timeout instead of immediate "database is locked",
/// NORMAL sync (safe with WAL), enforced foreign keys, and a bound on what
/// the write-ahead log keeps on disk once it has been checkpointed.
#[derive(Debug, Clone, Copy)]
struct SqlitePragmas;

impl CustomizeConnection<DbConn, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), diesel::r2d2::Error> {
        if let DbConn::Sqlite(conn) = conn {
            conn.batch_execute(
                "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                 PRAGMA journal_size_limit = 67108864;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// Connects, applies pending migrations and returns a pool. Fails with a
/// readable message when the URL is unusable or the server unreachable.
pub fn connect(url: &str, max_size: u32) -> anyhow::Result<(DbPool, Backend)> {
    let backend = Backend::from_url(url).map_err(anyhow::Error::msg)?;
    let conn_url = match backend {
        Backend::Sqlite => sqlite_path(url).to_owned(),
        Backend::Postgres => url.trim().to_owned(),
    };
    // Establish once up front: a clear error for a bad URL or an unreachable
    // server, instead of r2d2's generic time-out.
    let mut first = DbConn::establish(&conn_url).map_err(|e| {
        anyhow::anyhow!(
            "cannot connect to the database: {}",
            one_line(&e.to_string())
        )
    })?;
    if let DbConn::Sqlite(conn) = &mut first {
        // busy_timeout first: switching to WAL must wait for another process
        // holding the file, not fail with "database is locked".
        conn.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;")
            .map_err(|e| anyhow::anyhow!("cannot open the SQLite database: {e}"))?;
    }
    run_migrations(&mut first)?;
    drop(first);

    let manager = ConnectionManager::<DbConn>::new(conn_url);
    let pool = Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(3))
        // No `SELECT 1` before every checkout: it doubled the cost of a
        // verification cache miss. A connection that died shows up as a query
        // error (503), and r2d2 drops it as broken when it is returned.
        .test_on_check_out(false)
        .connection_customizer(Box::new(SqlitePragmas))
        .build(manager)
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot connect to the database: {}",
                one_line(&e.to_string())
            )
        })?;
    Ok((pool, backend))
}

/// The result row of `PRAGMA wal_checkpoint`.
#[derive(diesel::QueryableByName)]
struct Checkpoint {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    busy: i32,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    log: i32,
}

/// Copies SQLite's write-ahead log into the database and truncates it to
/// nothing. SQLite's own checkpoints never shrink the file, and under steady
/// reads they may never finish, so a burst of writes could leave gigabytes
/// behind. Waits at most a second for readers and writers, so it never holds
/// up the console for long; a checkpoint that could not finish is tried again
/// at the next interval. Returns whether it finished, and the log's pages.
pub fn checkpoint_wal(conn: &mut DbConn) -> QueryResult<(bool, i32)> {
    let DbConn::Sqlite(conn) = conn else {
        return Ok((true, 0));
    };
    conn.batch_execute("PRAGMA busy_timeout = 1000")?;
    let result =
        diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").get_result::<Checkpoint>(conn);
    conn.batch_execute("PRAGMA busy_timeout = 5000")?;
    result.map(|row| (row.busy == 0, row.log))
}

/// Checkpoints SQLite's write-ahead log every `interval` (see [`checkpoint_wal`]).
pub fn spawn_wal_checkpoints(pool: DbPool, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(interval);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        every.tick().await;
        loop {
            every.tick().await;
            match run(&pool, checkpoint_wal).await {
                Ok(Ok((true, pages))) => {
                    log::debug!("write-ahead log checkpointed ({pages} pages)")
                }
                Ok(Ok((false, _))) => log::debug!("write-ahead log busy; checkpoint next time"),
                Ok(Err(e)) => log::warn!("checkpointing the write-ahead log failed: {e}"),
                Err(e) => log::warn!("checkpointing the write-ahead log failed: {e}"),
            }
        }
    })
}

/// Applies pending migrations. On PostgreSQL an advisory lock keeps several
/// instances starting at once from racing each other.
pub fn run_migrations(conn: &mut DbConn) -> anyhow::Result<()> {
    let result = match conn {
        DbConn::Sqlite(conn) => conn.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
        DbConn::Postgres(conn) => {
            conn.batch_execute("SELECT pg_advisory_lock(7364629)")?;
            let result = conn.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ());
            conn.batch_execute("SELECT pg_advisory_unlock(7364629)")?;
            result
        }
    };
    result.map_err(|e| anyhow::anyhow!("cannot apply database migrations: {e}"))
}

/// True when this build carries a migration the database has not applied:
/// the schema is older than the code. Also a database round trip.
pub fn migrations_pending(conn: &mut DbConn) -> anyhow::Result<bool> {
    let pending = match conn {
        DbConn::Sqlite(conn) => conn.has_pending_migration(SQLITE_MIGRATIONS),
        DbConn::Postgres(conn) => conn.has_pending_migration(POSTGRES_MIGRATIONS),
    };
    pending.map_err(|e| anyhow::anyhow!("cannot read the applied migrations: {e}"))
}

/// libpq error messages span several lines; a start-up error is one line.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// True when a diesel error is a unique-constraint violation (a duplicate name).
pub fn is_unique_violation(error: &DieselError) -> bool {
    matches!(
        error,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

/// One gate per SQLite file, by path: the writers of this process queue here,
/// each woken the moment the one before it is done. SQLite has one writer at
/// a time anyway, and its own busy handler, which the writers of other
/// processes still meet, polls with sleeps that grow to 100 ms: under a
/// steady stream of writes a writer left to it waited half a second and more
/// (`bench/soak`'s creates).
fn write_gate(conn: &mut SqliteConnection) -> QueryResult<std::sync::Arc<std::sync::Mutex<()>>> {
    use std::collections::HashMap;
    use std::sync::{Arc, LazyLock, Mutex, PoisonError};

    use diesel::{ExpressionMethods, QueryDsl};

    // SQLite's list of a connection's database files, as a table: a query
    // built from it is one diesel keeps prepared (SQL text, `sql_query` or
    // `sql`, it compiles anew each time, and compiling this one was a
    // seventh of the CPU of a write through the API).
    diesel::table! {
        pragma_database_list (seq) {
            seq -> Integer,
            name -> Text,
            file -> Text,
        }
    }
    static GATES: LazyLock<Mutex<HashMap<String, Arc<Mutex<()>>>>> =
        LazyLock::new(Default::default);
    let main: String = pragma_database_list::table
        .filter(pragma_database_list::name.eq("main"))
        .select(pragma_database_list::file)
        .get_result(conn)?;
    let mut gates = GATES.lock().unwrap_or_else(PoisonError::into_inner);
    // A gate no writer holds goes (tests open thousands of files); the next
    // writer of that file makes a new one.
    gates.retain(|_, gate| Arc::strong_count(gate) > 1);
    Ok(gates.entry(main).or_default().clone())
}

/// The write gate of a SQLite connection outside any transaction; `None` on
/// PostgreSQL, and inside a transaction (whose outermost write holds the gate
/// already: it is not re-entrant).
fn outermost_sqlite_gate(
    conn: &mut DbConn,
) -> QueryResult<Option<std::sync::Arc<std::sync::Mutex<()>>>> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let DbConn::Sqlite(sqlite) = conn else {
        return Ok(None);
    };
    let outermost = AnsiTransactionManager::transaction_manager_status_mut(sqlite)
        .transaction_depth()?
        .is_none();
    if !outermost {
        return Ok(None);
    }
    write_gate(sqlite).map(Some)
}

/// Runs statements that write one by one, outside a transaction (a session
/// saved, a failed sign-in counted), after this process's earlier writers on
/// SQLite ([`write_gate`]), so that they too queue instead of meeting SQLite's
/// busy handler.
pub fn autocommit_write<R>(
    conn: &mut DbConn,
    work: impl FnOnce(&mut DbConn) -> QueryResult<R>,
) -> QueryResult<R> {
    let gate = outermost_sqlite_gate(conn)?;
    let _turn = gate.as_ref().map(|gate| {
        gate.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    });
    work(conn)
}

/// Runs `work` in a transaction that writes. On SQLite it is `BEGIN
/// IMMEDIATE`, after this process's earlier writers ([`write_gate`]): the
/// write lock is taken at the start and waited for under the busy timeout. A
/// deferred transaction would take it at its first write, and SQLite answers
/// "database is locked" at once, without waiting, when that write has to
/// upgrade a read another writer got in before (the search index's triggers
/// read before they write, so even a transaction whose first statement is an
/// INSERT into `apps` meets this). Nested, it is a savepoint of the
/// transaction around it; on PostgreSQL a plain transaction.
pub fn write<T, E, F>(conn: &mut DbConn, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<DieselError>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let Some(gate) = outermost_sqlite_gate(conn)? else {
        return conn.transaction(work);
    };
    let _turn = gate
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let DbConn::Sqlite(sqlite) = conn else {
        return conn.transaction(work);
    };
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
    // The transaction's state lives in the SQLite connection; the
    // multi-backend manager hands the commit or rollback to it.
    let outcome = work(conn);
    type Manager = <DbConn as Connection>::TransactionManager;
    // As diesel's own `transaction`: a failed commit rolls back by itself, a
    // rollback that finds the manager broken keeps the work's error.
    match outcome {
        Ok(value) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => match Manager::rollback_transaction(conn) {
            Ok(()) | Err(DieselError::BrokenTransactionManager) => Err(error),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

/// Runs blocking diesel work on actix's thread pool with a pooled connection.
/// A pool that cannot hand out a connection means the database is unavailable.
pub async fn run<R, F>(pool: &DbPool, work: F) -> Result<R, crate::error::AppError>
where
    F: FnOnce(&mut DbConn) -> R + Send + 'static,
    R: Send + 'static,
{
    use crate::error::AppError;
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool
            .get()
            .map_err(|e| AppError::DatabaseUnavailable(e.into()))?;
        Ok(work(&mut conn))
    })
    .await
    .map_err(|e| AppError::Unexpected(anyhow::anyhow!("blocking task failed: {e}")))?
}

/// As [`run`], for a look-up by id: nothing found is a 404.
pub async fn run_found<T, F>(pool: &DbPool, work: F) -> Result<T, crate::error::AppError>
where
    F: FnOnce(&mut DbConn) -> diesel::QueryResult<Option<T>> + Send + 'static,
    T: Send + 'static,
{
    run(pool, work)
        .await??
        .ok_or(crate::error::AppError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bundled SQLite is compiled as `.cargo/config.toml` says (a build
    /// that misses its `[env]` would pass every other test and be slower):
    /// no shared page cache, no memory statistics, and statements whose LIMIT
    /// is bound kept in diesel's cache instead of compiled again each time.
    #[test]
    fn sqlite_is_compiled_with_the_options_keyward_relies_on() {
        #[derive(diesel::QueryableByName)]
        struct Used {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            used: i32,
        }
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        for (option, wanted) in [
            ("ENABLE_MEMORY_MANAGEMENT", 0),
            ("DEFAULT_MEMSTATUS=0", 1),
            ("ENABLE_QPSG", 1),
        ] {
            let found = diesel::sql_query("SELECT sqlite_compileoption_used(?) AS used")
                .bind::<diesel::sql_types::Text, _>(option)
                .get_result::<Used>(&mut conn)
                .unwrap();
            assert_eq!(found.used, wanted, "SQLITE_{option}");
        }
    }

    #[test]
    fn url_scheme_selects_the_backend() {
        assert_eq!(Backend::from_url("keyward.db"), Ok(Backend::Sqlite));
        assert_eq!(
            Backend::from_url("/var/lib/keyward/k.db"),
            Ok(Backend::Sqlite)
        );
        assert_eq!(Backend::from_url("sqlite://k.db"), Ok(Backend::Sqlite));
        assert_eq!(
            Backend::from_url("postgres://u@h/db"),
            Ok(Backend::Postgres)
        );
        assert_eq!(
            Backend::from_url("postgresql://u@h/db"),
            Ok(Backend::Postgres)
        );
        assert!(
            Backend::from_url("mysql://root@localhost/test")
                .unwrap_err()
                .contains("mysql://")
        );
        assert!(Backend::from_url("  ").is_err());
    }

    #[test]
    fn sqlite_scheme_is_stripped() {
        assert_eq!(sqlite_path("sqlite://data/k.db"), "data/k.db");
        assert_eq!(sqlite_path("k.db"), "k.db");
    }
}
