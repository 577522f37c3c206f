use super::*;
use crate::apps::domain::AllowedIps;
use crate::roles::domain::rules::{Component, Verbs};
use chrono::TimeDelta;
use std::net::IpAddr;
use std::sync::Arc;

#[test]
fn metric_labels_spell_codes_as_the_api_does() {
    for code in Code::ALL {
        assert_eq!(
            serde_json::to_string(&code).unwrap(),
            format!("\"{}\"", code.as_str())
        );
    }
}

const DB: ServiceInfo = ServiceInfo {
    id: 1,
    active: true,
};

fn now() -> NaiveDateTime {
    chrono::DateTime::from_timestamp(1_800_000_000, 0)
        .unwrap()
        .naive_utc()
}

/// A key of "Mobile" with role "Readers": GET on everything in `db`.
fn grant() -> KeyGrant {
    KeyGrant {
        app_id: 7,
        app_name: "Mobile".into(),
        app_active: true,
        role: Some(Arc::new(RoleGrant {
            id: 3,
            name: "Readers".into(),
            active: true,
            rules: vec![Rule {
                service_id: Some(DB.id),
                component: Component::parse("*").unwrap(),
                verbs: Verbs::parse(["GET"]).unwrap(),
            }],
            rate_limits: Default::default(),
        })),
        expires_at: None,
        replaced_until: None,
        limits: None,
    }
}

/// Where the table's requests come from.
fn client() -> Option<IpAddr> {
    Some("192.0.2.10".parse().unwrap())
}

fn target(service: &str, component: &str, verb: Verb) -> Target {
    Target {
        service: service.into(),
        component: component.into(),
        verb,
    }
}

/// (grant, target, service, code, message contains, allowed, why)
type Case<'a> = (
    KeyGrant,
    Option<&'a Target>,
    Option<ServiceInfo>,
    Code,
    &'static str,
    Option<bool>,
    &'static str,
);

#[test]
fn the_answers_in_order() {
    let get = target("db", "_table/contacts", Verb::Get);
    let delete = target("db", "_table/contacts", Verb::Delete);
    let root = target("db", "", Verb::Delete);
    let with = |change: fn(&mut KeyGrant)| {
        let mut grant = grant();
        change(&mut grant);
        grant
    };
    let cases: Vec<Case> = vec![
        (
            grant(),
            None,
            None,
            Code::Valid,
            "The API key is valid.",
            None,
            "a key alone",
        ),
        (
            grant(),
            Some(&get),
            Some(DB),
            Code::Valid,
            "valid and allowed",
            Some(true),
            "an allowed verb",
        ),
        (
            grant(),
            Some(&delete),
            Some(DB),
            Code::Forbidden,
            "does not allow DELETE on db/_table/contacts",
            Some(false),
            "a verb the role lacks",
        ),
        (
            grant(),
            Some(&root),
            Some(DB),
            Code::Forbidden,
            "on the root of db",
            Some(false),
            "the service root named as such",
        ),
        (
            grant(),
            Some(&get),
            None,
            Code::Forbidden,
            "no service named “db”",
            Some(false),
            "an unknown service",
        ),
        (
            grant(),
            Some(&get),
            Some(ServiceInfo {
                active: false,
                ..DB
            }),
            Code::Forbidden,
            "service “db” is inactive",
            Some(false),
            "an inactive service",
        ),
        (
            grant(),
            Some(&get),
            Some(ServiceInfo {
                id: 2,
                active: true,
            }),
            Code::Forbidden,
            "does not allow GET",
            Some(false),
            "rules of another service do not apply",
        ),
        (
            with(|g| Arc::make_mut(g.role.as_mut().unwrap()).active = false),
            Some(&get),
            Some(DB),
            Code::RoleInactive,
            "role “Readers” is inactive",
            None,
            "an inactive role",
        ),
        (
            with(|g| g.role = None),
            Some(&get),
            Some(DB),
            Code::NoRole,
            "has no role",
            None,
            "no role",
        ),
        (
            with(|g| g.app_active = false),
            Some(&get),
            Some(DB),
            Code::Inactive,
            "app “Mobile” is inactive",
            None,
            "an inactive app, before its role",
        ),
        (
            with(|g| g.expires_at = Some(now())),
            None,
            None,
            Code::Expired,
            "expired at",
            None,
            "expired at this very moment",
        ),
        (
            with(|g| {
                g.expires_at = Some(now() - TimeDelta::hours(1));
                g.app_active = false;
            }),
            None,
            None,
            Code::Expired,
            "expired at",
            None,
            "expiry before the Active switch",
        ),
        (
            with(|g| g.expires_at = Some(now() + TimeDelta::hours(1))),
            Some(&get),
            Some(DB),
            Code::Valid,
            "allowed",
            Some(true),
            "not yet expired",
        ),
        (
            with(|g| g.replaced_until = Some(now() - TimeDelta::seconds(1))),
            None,
            None,
            Code::Expired,
            "replaced by a new one",
            None,
            "a rolled key past its grace period",
        ),
        (
            with(|g| g.replaced_until = Some(now() + TimeDelta::hours(1))),
            Some(&get),
            Some(DB),
            Code::Valid,
            "allowed",
            Some(true),
            "a rolled key within its grace period",
        ),
    ];
    for (grant, target, service, code, says, allowed, why) in cases {
        let decision = judge(&grant, target, client(), service, now());
        assert_eq!(decision.code, code, "{why}: {decision:?}");
        assert!(
            decision.message.contains(says),
            "{why}: {}",
            decision.message
        );
        assert_eq!(decision.allowed, allowed, "{why}");
        assert_eq!(
            decision.app,
            Some(Named {
                id: 7,
                name: "Mobile".into()
            }),
            "{why}"
        );
    }
}

#[test]
fn refusals_before_a_look_up_name_no_app() {
    for decision in [
        Decision::missing(),
        Decision::malformed(KeyFormatError::Checksum),
        Decision::not_found(),
    ] {
        assert!(!decision.counts_as_use());
        assert_eq!((decision.app, decision.role), (None, None));
    }
    assert!(
        Decision::malformed(KeyFormatError::Prefix("kw_"))
            .message
            .contains("kw_")
    );
}

#[test]
fn a_use_counts_once_the_app_may_use_its_key() {
    let get = target("db", "x", Verb::Get);
    let delete = target("db", "x", Verb::Delete);
    let mut inactive = grant();
    inactive.app_active = false;
    assert!(!judge(&inactive, None, client(), None, now()).counts_as_use());
    assert!(judge(&grant(), Some(&get), client(), Some(DB), now()).counts_as_use());
    assert!(judge(&grant(), Some(&delete), client(), Some(DB), now()).counts_as_use());
}

#[test]
fn allowed_addresses_are_judged_after_the_key_itself_and_before_its_role() {
    let get = target("db", "_table/contacts", Verb::Get);
    let delete = target("db", "_table/contacts", Verb::Delete);
    let listed = |list: &str, grant: &mut KeyGrant| {
        grant.limits = KeyLimits {
            allowed_ips: AllowedIps::parse(list).unwrap(),
            ..KeyLimits::default()
        }
        .boxed();
    };
    let from = |ip: &str| Some(ip.parse::<IpAddr>().unwrap());
    let office = {
        let mut grant = grant();
        listed("10.0.0.0/8, 2001:db8::/32", &mut grant);
        grant
    };
    // (grant, client, target, code, message contains, why)
    let cases = [
        (
            office.clone(),
            from("10.1.2.3"),
            &get,
            Code::Valid,
            "allowed",
            "a listed range",
        ),
        (
            office.clone(),
            from("2001:db8::7"),
            &get,
            Code::Valid,
            "allowed",
            "IPv6",
        ),
        (
            office.clone(),
            from("::ffff:10.1.2.3"),
            &get,
            Code::Valid,
            "allowed",
            "IPv4 as IPv6",
        ),
        (
            office.clone(),
            from("203.0.113.9"),
            &get,
            Code::IpNotAllowed,
            "“Mobile” may not be used from 203.0.113.9",
            "an address not listed",
        ),
        (
            office.clone(),
            from("203.0.113.9"),
            &delete,
            Code::IpNotAllowed,
            "203.0.113.9",
            "the address before the rules",
        ),
        (
            office.clone(),
            None,
            &get,
            Code::IpNotAllowed,
            "an address keyward could not tell",
            "an unknown address is not a listed one",
        ),
        (
            grant(),
            None,
            &get,
            Code::Valid,
            "allowed",
            "no list: any address, even unknown",
        ),
        (
            KeyGrant {
                app_active: false,
                ..office.clone()
            },
            from("203.0.113.9"),
            &get,
            Code::Inactive,
            "inactive",
            "the Active switch before the address",
        ),
        (
            KeyGrant {
                role: None,
                ..office.clone()
            },
            from("203.0.113.9"),
            &get,
            Code::IpNotAllowed,
            "203.0.113.9",
            "the address before the role",
        ),
    ];
    for (grant, client, target, code, says, why) in cases {
        let decision = judge(&grant, Some(target), client, Some(DB), now());
        assert_eq!(decision.code, code, "{why}: {decision:?}");
        assert!(
            decision.message.contains(says),
            "{why}: {}",
            decision.message
        );
    }
    // A refused address is not a use of the key.
    assert!(!judge(&office, Some(&get), from("203.0.113.9"), Some(DB), now()).counts_as_use());
}
