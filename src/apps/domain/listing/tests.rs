use super::*;

fn time(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").unwrap()
}

#[test]
fn no_parameters_is_the_default_list() {
    assert_eq!(ListQuery::parse(""), ListQuery::default());
    assert_eq!(ListQuery::default().url(&Page::First), "/api-keys");
}

#[test]
fn every_parameter_is_read() {
    let query = ListQuery::parse(
        "q=+Mobile%20app+&status=inactive&sort=last_used&dir=desc&per_page=10&after=never~12",
    );
    assert_eq!(
        query,
        ListQuery {
            q: "Mobile app".into(),
            status: Status::Inactive,
            sort: Sort::LastUsed,
            dir: Direction::Desc,
            per_page: 10,
            page: Page::After(Cursor {
                key: Key::Null,
                id: 12
            }),
        }
    );
}

#[test]
fn invalid_values_fall_back_to_defaults() {
    assert_eq!(ListQuery::parse("status=expired").status, Status::Expired);
    for bad in [
        "status=ACTIVE",
        "sort=key_hash",
        "sort=name;drop",
        "dir=up",
        "per_page=20",
        "per_page=-10",
        "per_page=1e9",
        "after=17",
        "after=~17",
        "after=x~-1",
        "after=x~99999999999",
        "before=x~",
        "%FF=%FF",
        "q=%00",
        "q=%20%20",
    ] {
        assert_eq!(ListQuery::parse(bad), ListQuery::default(), "{bad}");
    }
    // A cursor is read by the sort it belongs to.
    assert_eq!(
        ListQuery::parse("sort=created&after=Kiosk~3").page,
        Page::First
    );
}

#[test]
fn the_first_of_a_repeated_parameter_counts() {
    let query = ListQuery::parse("sort=created&sort=name&per_page=100&per_page=10");
    assert_eq!((query.sort, query.per_page), (Sort::Created, 100));
}

#[test]
fn urls_carry_the_state_and_read_back_the_same() {
    let cursors = [
        Cursor {
            key: Key::Value(SortValue::Name("Café & co~1 50%".into())),
            id: 4,
        },
        Cursor {
            key: Key::Value(SortValue::Time(time("2026-11-26 09:14:00.123456"))),
            id: 5,
        },
        Cursor {
            key: Key::Value(SortValue::Time(time("2026-11-26 09:14:00"))),
            id: 6,
        },
        Cursor {
            key: Key::Null,
            id: 7,
        },
    ];
    for (cursor, sort) in
        cursors
            .into_iter()
            .zip([Sort::Name, Sort::Created, Sort::LastUsed, Sort::LastUsed])
    {
        for page in [
            Page::After(cursor.clone()),
            Page::Before(cursor.clone()),
            Page::First,
        ] {
            let query = ListQuery {
                q: "a&b=c #d".into(),
                status: Status::Active,
                sort,
                dir: Direction::Desc,
                per_page: 100,
                page: page.clone(),
            };
            let url = query.url(&page);
            let read = ListQuery::parse(url.strip_prefix("/api-keys?").unwrap());
            assert_eq!(read, query, "{url}");
        }
    }
    let query = ListQuery::parse("q=x&status=active&sort=created&per_page=10&after=x~1");
    assert_eq!(
        query.clear_filters_url(),
        "/api-keys?sort=created&per_page=10"
    );
}

#[test]
fn search_patterns_escape_like_wildcards() {
    let query = |q: &str| ListQuery {
        q: q.into(),
        ..ListQuery::default()
    };
    assert_eq!(query("").search_pattern(), None);
    assert_eq!(query("Mobile").search_pattern().unwrap(), "%mobile%");
    assert_eq!(
        query(r"50%_off\now").search_pattern().unwrap(),
        r"%50\%\_off\\now%"
    );
}
