//! The outgoing webhook against a receiver the test runs, on both backends
//! with a clock the test moves: each event (created, rolled, deleted,
//! expiring, expired) arrives once, HMAC-signed; a failed delivery is tried
//! again after its backoff and the delivery log says so; a receiver that
//! hangs slows neither an administrator's save nor a verification.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use chrono::{NaiveDateTime, TimeDelta};
use hmac::{Hmac, Mac};
use keyward::clock::{Clock, ManualClock};
use keyward::config::WebhookSettings;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::harness::{StatusCode, TestApp, TestDb, eventually, text_of};

const SECRET: &str = "the webhook's shared secret";
const WAIT: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug, Clone)]
struct Got {
    event: String,
    signature: String,
    body: Value,
    raw: String,
}

#[derive(Clone)]
struct State {
    got: Arc<Mutex<Vec<Got>>>,
    /// Statuses to answer, in turn; 200 once used up.
    statuses: Arc<Mutex<VecDeque<u16>>>,
    /// While closed, every request waits here.
    gate: Arc<tokio::sync::Semaphore>,
    blocking: Arc<std::sync::atomic::AtomicBool>,
}

struct Receiver {
    url: String,
    state: State,
    handle: actix_web::dev::ServerHandle,
}

async fn receive(req: HttpRequest, body: String, state: web::Data<State>) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    state.got.lock().unwrap().push(Got {
        event: header("x-keyward-event"),
        signature: header("x-keyward-signature"),
        body: serde_json::from_str(&body).unwrap_or(Value::Null),
        raw: body,
    });
    if state.blocking.load(std::sync::atomic::Ordering::SeqCst) {
        let _ = state.gate.acquire().await;
    }
    let status = state.statuses.lock().unwrap().pop_front().unwrap_or(200);
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
}

impl Receiver {
    fn start(statuses: &[u16]) -> Receiver {
        let state = State {
            got: Arc::default(),
            statuses: Arc::default(),
            gate: Arc::new(tokio::sync::Semaphore::new(0)),
            blocking: Arc::default(),
        };
        state.statuses.lock().unwrap().extend(statuses);
        let data = web::Data::new(state.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hooks/keyward", listener.local_addr().unwrap());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(receive))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver { url, state, handle }
    }

    fn got(&self) -> Vec<Got> {
        self.state.got.lock().unwrap().clone()
    }

    async fn wait_for(&self, count: usize, what: &str) -> Vec<Got> {
        eventually(WAIT, what, || async {
            let got = self.got();
            (got.len() >= count).then_some(got)
        })
        .await
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// Checks `X-Keyward-Signature: t=…,v1=…` against the body, as a receiver does.
fn assert_signed(got: &Got) {
    let (t, v1) = got
        .signature
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
        .unwrap_or_else(|| panic!("no signature: {got:?}"));
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.{}", got.raw).as_bytes());
    let expected = hex::encode(mac.finalize().into_bytes());
    assert_eq!(
        v1, expected,
        "the signature does not match the body: {got:?}"
    );
}

async fn start(db: TestDb, receiver: &Receiver) -> (TestApp, Arc<ManualClock>) {
    let at = NaiveDateTime::parse_from_str("2027-03-01 12:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
    let clock = Arc::new(ManualClock::at(at));
    let (shared, url) = (clock.clone(), receiver.url.clone());
    let app = TestApp::start(db, move |settings| {
        settings.clock = shared;
        settings.webhook = Some(WebhookSettings::new(&url, SECRET).unwrap());
    })
    .await;
    app.login_as_default_admin().await;
    (app, clock)
}

each_backend!(
    events_arrive_signed_once_and_failures_are_retried,
    |db| async move {
        let receiver = Receiver::start(&[500, 503]);
        let (app, clock) = start(db, &receiver).await;
        let (id, _) = app.create_key("Mobile app", None).await;

        // The first attempt fails, and the next after 10 seconds; the third, 20
        // seconds later, is delivered.
        let got = receiver.wait_for(1, "the first attempt").await;
        assert_eq!(got[0].event, "key.created");
        assert_signed(&got[0]);
        assert_eq!(got[0].body["type"], "key.created");
        assert_eq!(got[0].body["app"], json!({"id": id, "name": "Mobile app"}));
        assert_eq!(got[0].body["by"], crate::harness::ADMIN_EMAIL);
        let log = eventually(WAIT, "the failure in the log", || async {
            let text = text_of(&app.get("/webhooks").await.body);
            text.contains("Failed (HTTP 500); next try 2027-03-01 12:00:10 UTC")
                .then_some(text)
        })
        .await;
        assert!(log.contains("key.created Mobile app 1"), "{log}");
        clock.advance(TimeDelta::seconds(10));
        receiver.wait_for(2, "the second attempt").await;
        // The receiver has the request before keyward has its answer; the
        // next try is set from the clock when the answer is recorded, so the
        // clock moves only after that.
        eventually(WAIT, "the second failure in the log", || async {
            let text = text_of(&app.get("/webhooks").await.body);
            text.contains("Failed (HTTP 503); next try 2027-03-01 12:00:30 UTC")
                .then_some(())
        })
        .await;
        clock.advance(TimeDelta::seconds(20));
        let got = receiver.wait_for(3, "the third attempt").await;
        assert_eq!(got[2].raw, got[0].raw, "the same event each time");
        assert_signed(&got[2]);
        eventually(WAIT, "the delivery in the log", || async {
            let text = text_of(&app.get("/webhooks").await.body);
            text.contains("key.created Mobile app 3 Delivered (HTTP 200)")
                .then_some(())
        })
        .await;

        // Rolled, deleted, about to expire and expired: one event each.
        let rolled = app
            .post_form(&format!("/api-keys/{id}/roll"), &[("grace", "now")])
            .await;
        assert_eq!(rolled.status, StatusCode::SEE_OTHER, "{}", rolled.body);
        let (doomed, _) = app.create_key("Doomed app", None).await;
        let deleted = app
            .post_form(&format!("/api-keys/{doomed}/delete"), &[])
            .await;
        assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.body);
        let expires = (clock.now() + TimeDelta::days(3))
            .format("%Y-%m-%dT%H:%M")
            .to_string();
        let saved = app
            .post_form(
                &format!("/api-keys/{id}"),
                &[
                    ("name", "Mobile app"),
                    ("is_active", "true"),
                    ("location", "0"),
                    ("expires_at", &expires),
                ],
            )
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        let got = receiver
            .wait_for(7, "rolled, created, deleted and expiring")
            .await;
        // Just past the expiry.
        clock.advance(TimeDelta::days(3) + TimeDelta::minutes(1));
        let got_all = receiver.wait_for(got.len() + 1, "expired").await;
        let events: Vec<&str> = got_all.iter().skip(3).map(|g| g.event.as_str()).collect();
        let mut sorted = events.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            [
                "key.created",
                "key.deleted",
                "key.expired",
                "key.expiring",
                "key.rolled"
            ],
            "one of each, in the order {events:?}"
        );
        for got in &got_all {
            assert_signed(got);
        }
        let expiring = got_all.iter().find(|g| g.event == "key.expiring").unwrap();
        assert_eq!(expiring.body["expires_at"], "2027-03-04T12:00:00Z");
        // Two more rounds of the background work add nothing: each event once.
        tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
        assert_eq!(
            receiver.got().len(),
            got_all.len(),
            "an event was sent twice"
        );
    }
);

#[tokio::test]
async fn a_hanging_receiver_slows_no_save_and_no_verification() {
    let Some(db) = TestDb::new(crate::harness::Backend::Sqlite) else {
        return;
    };
    let receiver = Receiver::start(&[]);
    receiver
        .state
        .blocking
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let (app, _clock) = start(db, &receiver).await;
    let (_, key) = app.create_key("First app", None).await;
    // The receiver holds the first delivery and does not answer...
    receiver.wait_for(1, "the receiver to be called").await;
    // ... while the console saves and keys verify as ever.
    let (_, _) = app.create_key("Second app", None).await;
    let answer = app.verify(&json!({"key": key})).await;
    assert_eq!(answer["code"], "NO_ROLE", "{answer}");
    assert_eq!(
        receiver.got().len(),
        1,
        "the receiver is still holding the first"
    );
    receiver.state.gate.add_permits(100);
    receiver
        .wait_for(2, "the second event once the first was answered")
        .await;
}
