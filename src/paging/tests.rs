use super::*;

#[test]
fn page_sizes_are_one_of_the_choices() {
    assert_eq!(per_page(Some("10")), 10);
    assert_eq!(per_page(Some("100")), 100);
    for other in [None, Some("7"), Some("-1"), Some("ten"), Some("")] {
        assert_eq!(per_page(other), DEFAULT_PER_PAGE, "{other:?}");
    }
}

fn at(key: Key<i32>, id: i32) -> Cursor<i32> {
    Cursor { key, id }
}

/// (column, ascending, cursor, ranges, why)
type RangeCase = (
    Column,
    bool,
    Option<Cursor<i32>>,
    Vec<Range<i32>>,
    &'static str,
);

#[test]
fn the_ranges_a_page_reads() {
    use Key::{Null, Value};
    let equal = |key, after_id| Range::Equal { key, after_id };
    // (column, ascending, cursor, ranges, why)
    let cases: Vec<RangeCase> = vec![
        (
            Column::Unique,
            true,
            None,
            vec![Range::Beyond(None)],
            "a first page",
        ),
        (
            Column::RepeatingOrNull,
            true,
            None,
            vec![equal(Null, None), Range::Beyond(None)],
            "rows without a value come first ascending",
        ),
        (
            Column::RepeatingOrNull,
            false,
            None,
            vec![Range::Beyond(None), equal(Null, None)],
            "and last descending",
        ),
        (
            Column::Unique,
            true,
            Some(at(Value(5), 9)),
            vec![Range::Beyond(Some(5))],
            "a unique value is shared by no other row",
        ),
        (
            Column::Repeating,
            true,
            Some(at(Value(5), 9)),
            vec![equal(Value(5), Some(9)), Range::Beyond(Some(5))],
            "the rest of the cursor's value, then beyond it",
        ),
        (
            Column::RepeatingOrNull,
            true,
            Some(at(Null, 9)),
            vec![equal(Null, Some(9)), Range::Beyond(None)],
            "from among the rows without a value, on to all others",
        ),
        (
            Column::RepeatingOrNull,
            false,
            Some(at(Null, 9)),
            vec![equal(Null, Some(9))],
            "the rows without a value end the list descending",
        ),
        (
            Column::RepeatingOrNull,
            false,
            Some(at(Value(5), 9)),
            vec![
                equal(Value(5), Some(9)),
                Range::Beyond(Some(5)),
                equal(Null, None),
            ],
            "descending, the rows without a value follow the rest",
        ),
    ];
    for (column, ascending, cursor, expected, why) in cases {
        assert_eq!(
            ranges(column, ascending, cursor.as_ref()),
            expected,
            "{why}"
        );
    }
}

/// A list held in memory, read the way a database would serve each range.
struct Rows(Vec<(Option<i32>, i32)>);

impl Rows {
    fn fetch(&self, range: &Range<i32>, ascending: bool, limit: i64) -> Vec<(Option<i32>, i32)> {
        let mut rows: Vec<(Option<i32>, i32)> = self
            .0
            .iter()
            .copied()
            .filter(|&(value, id)| match range {
                Range::Equal { key, after_id } => {
                    let same = match key {
                        Key::Null => value.is_none(),
                        Key::Value(v) => value == Some(*v),
                    };
                    same && after_id
                        .is_none_or(|after| if ascending { id > after } else { id < after })
                }
                Range::Beyond(from) => match (value, from) {
                    (None, _) => false,
                    (Some(_), None) => true,
                    (Some(v), Some(from)) => {
                        if ascending {
                            v > *from
                        } else {
                            v < *from
                        }
                    }
                },
            })
            .collect();
        rows.sort_by_key(|&(value, id)| (value, id));
        if !ascending {
            rows.reverse();
        }
        rows.truncate(limit as usize);
        rows
    }

    /// The whole list in order, nulls first.
    fn in_order(&self, direction: Direction) -> Vec<(Option<i32>, i32)> {
        let mut rows = self.0.clone();
        rows.sort_by_key(|&(value, id)| (value, id));
        if direction == Direction::Desc {
            let (nulls, values): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.0.is_none());
            rows = values
                .into_iter()
                .rev()
                .chain(nulls.into_iter().rev())
                .collect();
        }
        rows
    }
}

fn cursor_of(row: &(Option<i32>, i32)) -> Cursor<i32> {
    Cursor {
        key: row.0.map_or(Key::Null, Key::Value),
        id: row.1,
    }
}

#[test]
fn walking_forward_and_back_visits_every_row_once() {
    // Repeated values, rows without one, more than two pages.
    let rows = Rows(
        (1..=23)
            .map(|id| ((id % 4 != 0).then_some(id / 5), id))
            .collect(),
    );
    for direction in [Direction::Asc, Direction::Desc] {
        let fetch =
            |range: &Range<i32>, ascending, limit| Ok::<_, ()>(rows.fetch(range, ascending, limit));
        let mut seen = Vec::new();
        let mut current = Page::First;
        let mut pages = Vec::new();
        loop {
            let slice = page(&current, Column::RepeatingOrNull, direction, 5, fetch).unwrap();
            assert_eq!(slice.has_previous, current != Page::First, "{direction:?}");
            pages.push(slice.rows.clone());
            seen.extend(slice.rows.iter().copied());
            if !slice.has_next {
                break;
            }
            current = Page::After(cursor_of(slice.rows.last().unwrap()));
        }
        assert_eq!(seen, rows.in_order(direction), "{direction:?}");
        // And back again from the last page, page by page.
        let mut back = pages.pop().unwrap();
        while let Some(expected) = pages.pop() {
            let slice = page(
                &Page::Before(cursor_of(back.first().unwrap())),
                Column::RepeatingOrNull,
                direction,
                5,
                fetch,
            )
            .unwrap();
            assert_eq!(slice.rows, expected, "{direction:?}");
            assert!(slice.has_next);
            back = slice.rows;
        }
    }
}

#[test]
fn a_short_page_before_the_cursor_becomes_the_first_page() {
    let rows = Rows((1..=12).map(|id| (Some(id), id)).collect());
    let fetch =
        |range: &Range<i32>, ascending, limit| Ok::<_, ()>(rows.fetch(range, ascending, limit));
    // Only two rows lie before row 3: the first page, full, instead.
    let slice = page(
        &Page::Before(Cursor {
            key: Key::Value(3),
            id: 3,
        }),
        Column::Unique,
        Direction::Asc,
        5,
        fetch,
    )
    .unwrap();
    assert_eq!(slice.rows, rows.in_order(Direction::Asc)[..5].to_vec());
    assert!(!slice.has_previous);
    assert!(slice.has_next);
}
