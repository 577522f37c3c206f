//! Benchmark helper for `bench/list`: fills a keyward database with COUNT API
//! keys, written through keyward's own queries, a few thousand to a
//! transaction. The keys look like a real installation's: names from a few
//! words, descriptions naming one of eight teams (so `q=mobile` matches about
//! one key in eight, spread through the list), created a minute apart, one in
//! ten inactive, half of them used. The keys themselves are thrown away.
//!
//! Usage: fill_apps DATABASE_URL COUNT ADMIN_ID

use anyhow::Context;
use diesel::Connection;
use diesel::prelude::*;
use keyward::apps::domain::ApiKey;
use keyward::apps::domain::{AppName, NewApp};
use keyward::schema::apps;

/// Rows per transaction: large enough that SQLite syncs rarely, small enough
/// that the write lock is let go now and then.
const BATCH: usize = 5_000;

const PRODUCTS: [&str; 8] = [
    "checkout", "reports", "gateway", "invoices", "catalog", "tracker", "portal", "sync",
];
const TEAMS: [&str; 8] = [
    "mobile", "billing", "web", "data", "partner", "support", "platform", "growth",
];
const STAGES: [&str; 4] = ["prod", "staging", "dev", "test"];
const USES: [&str; 4] = [
    "nightly exports",
    "the public API",
    "internal dashboards",
    "a customer integration",
];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, count, admin_id] = args.as_slice() else {
        anyhow::bail!("usage: fill_apps DATABASE_URL COUNT ADMIN_ID");
    };
    let count: usize = count.parse().context("COUNT must be a number")?;
    let admin_id: i32 = admin_id.parse().context("ADMIN_ID must be a number")?;
    let (pool, _) = keyward::db::connect(url, 1)?;
    let mut conn = pool.get()?;
    let actor = keyward::db::audit::Actor::local(Some(admin_id), "examples/fill_apps");
    let start = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(count as i64);

    for batch in (0..count).collect::<Vec<_>>().chunks(BATCH) {
        conn.transaction(|conn| {
            for &i in batch {
                // Words drawn by a hash of i, so that none follows the order
                // of names or creation.
                let draw = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
                let pick = |words: &[&'static str], shift: u32| {
                    words[((draw >> shift) % words.len() as u64) as usize]
                };
                let (product, stage) = (pick(&PRODUCTS, 0), pick(&STAGES, 3));
                let (team, usage) = (pick(&TEAMS, 5), pick(&USES, 8));
                let app = NewApp::plain(
                    AppName::parse(&format!("{product}-{stage}-{i:06}"))
                        .map_err(anyhow::Error::msg)?,
                    format!("Used by the {team} team for {usage}"),
                    i % 10 != 9,
                );
                let created = start + chrono::Duration::minutes(i as i64);
                let id = keyward::apps::queries::write::insert(
                    conn,
                    &app,
                    &ApiKey::generate(),
                    &actor,
                    created,
                )?;
                if i % 2 == 0 {
                    // Verification records this; here it is a plain update.
                    let used = created + chrono::Duration::seconds((i % 7_919) as i64);
                    diesel::update(apps::table.find(id))
                        .set(apps::last_used_at.eq(used))
                        .execute(conn)?;
                }
            }
            Ok::<_, anyhow::Error>(())
        })?;
    }
    Ok(())
}
