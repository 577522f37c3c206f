//! Reading `/metrics` as Prometheus would: every sample by name and labels.

use std::collections::BTreeMap;

use super::http::{StatusCode, api_client};
use super::server::{Peer, TestApp};

/// One scrape: each sample by metric name and its labels.
#[derive(Debug)]
pub struct Scrape {
    pub text: String,
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
}

impl Scrape {
    pub async fn of(app: &TestApp) -> Scrape {
        Scrape::at(&app.url("/metrics")).await
    }

    /// A second instance's metrics.
    pub async fn of_peer(peer: &Peer) -> Scrape {
        Scrape::at(&format!("{}/metrics", peer.address)).await
    }

    async fn at(url: &str) -> Scrape {
        let response = api_client().get(url).send().await.expect("request failed");
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "{content_type}"
        );
        let text = response.text().await.unwrap();
        let samples = text
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .map(|line| {
                let (series, value) = line.rsplit_once(' ').expect("a sample line");
                let value = value
                    .parse()
                    .unwrap_or_else(|_| panic!("bad value: {line}"));
                let (name, labels) = match series.split_once('{') {
                    None => (series, BTreeMap::new()),
                    Some((name, rest)) => {
                        let rest = rest.strip_suffix('}').expect("labels end in }");
                        let labels = rest
                            .split("\",")
                            .filter(|pair| !pair.is_empty())
                            .map(|pair| {
                                let (key, value) = pair.split_once("=\"").expect("key=\"value\"");
                                (key.to_owned(), value.trim_end_matches('"').to_owned())
                            })
                            .collect();
                        (name, labels)
                    }
                };
                (name.to_owned(), labels, value)
            })
            .collect();
        Scrape { text, samples }
    }

    /// The value of `name` with exactly these labels; 0 when it was never
    /// counted (a counter with a label set is only listed once used).
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let wanted: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.samples
            .iter()
            .find(|(n, l, _)| n == name && *l == wanted)
            .map_or(0.0, |(_, _, value)| *value)
    }
}
