//! Databases for the tests: a fresh SQLite file or PostgreSQL database per
//! test (`TestDb`), the PostgreSQL server those are made on, temp folders,
//! and the rule that a missing service is a skip outside CI and a failure in
//! it (`skip_or_fail`).

use std::io::Write;
use std::path::PathBuf;

use diesel::prelude::*;

pub use keyward::db::Backend;

/// Where the PostgreSQL tests create their databases (trust auth).
const POSTGRES_SERVER: &str = "postgres://postgres@127.0.0.1:5432";

/// One test's own database, removed again when the test ends.
pub struct TestDb {
    /// What keyward's `--database-url` takes.
    pub url: String,
    /// SQLite: the temp folder holding the file (and its -wal and -shm).
    _sqlite_dir: Option<TempDir>,
    postgres_database: Option<String>,
}

impl TestDb {
    /// A fresh, empty database; `None` when PostgreSQL is not reachable outside CI.
    pub fn new(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let dir = TempDir::new("keyward-test");
                Some(TestDb {
                    url: dir.0.join("keyward.db").display().to_string(),
                    _sqlite_dir: Some(dir),
                    postgres_database: None,
                })
            }
            Backend::Postgres => {
                let mut server = match postgres_server() {
                    Ok(conn) => conn,
                    Err(error) => {
                        skip_or_fail(&format!(
                            "PostgreSQL not reachable at 127.0.0.1:5432 as user postgres ({error})"
                        ));
                        return None;
                    }
                };
                let name = format!("keyward_test_{}", &keyward::random::token()[..16]);
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut server)
                    .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
                Some(TestDb {
                    url: format!("{POSTGRES_SERVER}/{name}"),
                    _sqlite_dir: None,
                    postgres_database: Some(name),
                })
            }
        }
    }
}

impl TestDb {
    /// A database this harness did not create and will not drop (e.g. one on
    /// a PostgreSQL cluster the test runs itself).
    pub fn existing(url: impl Into<String>) -> TestDb {
        TestDb {
            url: url.into(),
            _sqlite_dir: None,
            postgres_database: None,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.postgres_database {
            // FORCE ends the connections a stopped server's pool still holds.
            let dropped = postgres_server().and_then(|mut conn| {
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .map_err(|e| e.to_string())
            });
            if let Err(error) = dropped {
                let _ = writeln!(
                    std::io::stderr(),
                    "warning: test database {name} not dropped: {error}"
                );
            }
        }
    }
}

fn postgres_server() -> Result<PgConnection, String> {
    PgConnection::establish(&format!("{POSTGRES_SERVER}/postgres?connect_timeout=5")).map_err(|e| {
        e.to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// True in CI, where a missing service or browser is a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Outside CI a test whose service is missing passes with a loud notice;
/// in CI it fails.
pub fn skip_or_fail(reason: &str) {
    if in_ci() {
        panic!("{reason}; CI=true, so this is a failure, not a skip");
    }
    // Straight to stderr: libtest swallows `eprintln!` of passing tests.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: {reason} (the test passes without running; CI=true makes this fail)"
    );
}

/// A fresh temp folder, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("{prefix}-{}", &keyward::random::token()[..16]));
        std::fs::create_dir_all(&dir).expect("cannot create a temp folder");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
