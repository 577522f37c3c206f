//! Benchmark helper for `bench/verify` and `bench/cache`: fills a keyward
//! database with a service `db`, a role `bench` allowed GET on `db/*`, and N
//! API keys with that role, written through keyward's own queries a few
//! thousand to a transaction (a million keys in about a minute). Each key is
//! printed once, one per line, to the output file (the benchmark's clients
//! present them).
//!
//! Usage: load_keys DATABASE_URL COUNT KEYS_FILE ADMIN_ID

use std::io::Write;

use anyhow::Context;
use diesel::Connection;
use keyward::apps::domain::ApiKey;
use keyward::apps::domain::{AppName, NewApp};
use keyward::roles::domain::rules::{Component, Rule, Verbs};
use keyward::roles::domain::{NewRole, RoleName};
use keyward::services::domain::{NewService, ServiceKind, ServiceLabel, ServiceName};

/// Keys per transaction: SQLite syncs once a batch, not once a key.
const BATCH: usize = 5_000;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, count, keys_file, admin_id] = args.as_slice() else {
        anyhow::bail!("usage: load_keys DATABASE_URL COUNT KEYS_FILE ADMIN_ID");
    };
    let count: usize = count.parse().context("COUNT must be a number")?;
    let admin_id: i32 = admin_id.parse().context("ADMIN_ID must be a number")?;
    let (pool, _) = keyward::db::connect(url, 1)?;
    let mut conn = pool.get()?;
    let now = chrono::Utc::now().naive_utc();
    let actor = keyward::db::audit::Actor::local(Some(admin_id), "examples/load_keys");

    let service = NewService {
        name: ServiceName::parse("db").map_err(anyhow::Error::msg)?,
        label: ServiceLabel::parse("Database").map_err(anyhow::Error::msg)?,
        description: String::new(),
        kind: ServiceKind::Api,
        is_active: true,
    };
    let service_id = keyward::services::queries::insert(&mut conn, &service, &actor, now)
        .map_err(|e| anyhow::anyhow!("creating the service: {e}"))?;
    let role = NewRole {
        name: RoleName::parse("bench").map_err(anyhow::Error::msg)?,
        description: String::new(),
        is_active: true,
        rate_limits: Default::default(),
    };
    let role_id = keyward::roles::queries::insert(&mut conn, &role, &actor, now)?;
    let rule = Rule {
        service_id: Some(service_id),
        component: Component::parse("*").map_err(anyhow::Error::msg)?,
        verbs: Verbs::parse(["GET"]).map_err(anyhow::Error::msg)?,
    };
    keyward::roles::queries::add_rule(&mut conn, role_id, &rule, &actor, now)?;

    let mut out = std::io::BufWriter::new(std::fs::File::create(keys_file)?);
    let ids: Vec<usize> = (0..count).collect();
    for batch in ids.chunks(BATCH) {
        conn.transaction(|conn| {
            for i in batch {
                let key = ApiKey::generate();
                let app = NewApp {
                    role_id: Some(role_id),
                    ..NewApp::plain(
                        AppName::parse(&format!("bench-{i}")).map_err(anyhow::Error::msg)?,
                        String::new(),
                        true,
                    )
                };
                keyward::apps::queries::write::insert(conn, &app, &key, &actor, now)?;
                writeln!(out, "{}", key.expose())?;
            }
            Ok::<_, anyhow::Error>(())
        })?;
    }
    out.flush()?;
    Ok(())
}
