//! Benchmark helper for `bench/churn`: the changes an automation sends
//! through the management API, RATE a second for SECONDS, paced by the
//! clock, over one kept-alive connection, alternating a create of a new key
//! and an Active toggle of one of the working set's apps (ids 1..KEYS; each
//! toggled off, then back on the next time it comes round). Prints what it
//! did on one line: changes made, changes a second, failed, p99 in ms.
//!
//! A compiled client, so that what the changes cost the machine is mostly
//! keyward's: the Python client it replaces took 0.65-0.76 ms of CPU a
//! change, about as much as keyward's part, on the two cores the
//! verification being measured runs on.
//!
//! Usage: churn_changes PORT TOKEN RATE SECONDS KEYS

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::Rng;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, port, token, rate, seconds, keys] = args.as_slice() else {
        anyhow::bail!("usage: churn_changes PORT TOKEN RATE SECONDS KEYS");
    };
    let rate: f64 = rate.parse().context("RATE must be a number")?;
    let seconds: f64 = seconds.parse().context("SECONDS must be a number")?;
    let keys: i32 = keys.parse().context("KEYS must be a number")?;
    anyhow::ensure!(
        rate > 0.0 && seconds > 0.0 && keys > 0,
        "RATE, SECONDS and KEYS must be positive"
    );
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(10))
        .build()?;
    let mut rng = rand::rng();
    let mut active: HashMap<i32, bool> = HashMap::new();
    let mut latencies: Vec<Duration> = Vec::new();
    let mut failed = 0usize;
    let start = Instant::now();
    for n in 0u64.. {
        let due = Duration::from_secs_f64(n as f64 / rate);
        if due.as_secs_f64() >= seconds {
            break;
        }
        tokio::time::sleep_until((start + due).into()).await;
        let request = if n % 2 == 0 {
            let name = format!("churn-{:012x}", rng.random::<u64>() >> 16);
            client
                .post(format!("{base}/apps"))
                .json(&serde_json::json!({ "name": name }))
        } else {
            let app = rng.random_range(1..=keys);
            let now_active = !active.get(&app).copied().unwrap_or(true);
            active.insert(app, now_active);
            client
                .put(format!("{base}/apps/{app}/active"))
                .json(&serde_json::json!({ "active": now_active }))
        };
        let sent = Instant::now();
        let ok = match request.bearer_auth(token).send().await {
            Ok(answer) => {
                let status = answer.status();
                answer.bytes().await.is_ok() && (status == 200 || status == 201)
            }
            Err(_) => false,
        };
        latencies.push(sent.elapsed());
        failed += usize::from(!ok);
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let p99 = match latencies.len() {
        0 => 0.0,
        n => latencies[(n * 99).div_ceil(100) - 1].as_secs_f64() * 1000.0,
    };
    println!(
        "{} {:.1} {failed} {p99:.1}",
        latencies.len(),
        latencies.len() as f64 / elapsed
    );
    Ok(())
}
