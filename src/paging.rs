//! Pages of long lists: the page sizes a list offers, and keyset pagination,
//! in which a page continues from the (sort value, id) of the row before it
//! instead of skipping an offset, so every page costs an index seek and about
//! one page of reading however long the list is.
//!
//! The engine here is pure: it plans which stretches of the sort order
//! ([`Range`]s) a page reads and puts the page together; the caller's `fetch`
//! reads one range from the database (see `apps::queries::list`).

/// The page sizes offered; anything else falls back to the default.
pub const PER_PAGE_CHOICES: [i64; 3] = [10, 50, 100];
pub const DEFAULT_PER_PAGE: i64 = 50;

/// A page size from the URL: one of the choices, else the default.
pub fn per_page(value: Option<&str>) -> i64 {
    value
        .and_then(|v| v.parse().ok())
        .filter(|n| PER_PAGE_CHOICES.contains(n))
        .unwrap_or(DEFAULT_PER_PAGE)
}

/// The largest page an API client may ask for.
pub const MAX_PER_PAGE: i64 = 100;

/// A page size an API client asked for: 1 to [`MAX_PER_PAGE`] (the default
/// when none was asked for), else what to ask for instead.
pub fn requested_per_page(value: Option<i64>) -> Result<i64, &'static str> {
    match value {
        None => Ok(DEFAULT_PER_PAGE),
        Some(n) if (1..=MAX_PER_PAGE).contains(&n) => Ok(n),
        Some(_) => Err("per_page must be from 1 to 100."),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    #[default]
    Asc,
    Desc,
}

impl Direction {
    pub fn parse(value: &str) -> Option<Direction> {
        match value {
            "asc" => Some(Direction::Asc),
            "desc" => Some(Direction::Desc),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Asc => "asc",
            Direction::Desc => "desc",
        }
    }
}

/// How the sort column's values behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// No two rows share a value (names).
    Unique,
    /// Rows may share a value (times); the id breaks ties.
    Repeating,
    /// As `Repeating`, and rows may have no value at all (never used). The
    /// backends sort NULL differently (SQLite first, PostgreSQL last), so
    /// rows without a value are a range of their own, placed before the
    /// others in ascending order on both.
    RepeatingOrNull,
}

/// A sort value, or none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key<V> {
    Value(V),
    Null,
}

/// A position in a list: the sort value and id of the row a page continues from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor<V> {
    pub key: Key<V>,
    pub id: i32,
}

/// Which page: the first, the one after a row, or the one before.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Page<V> {
    #[default]
    First,
    After(Cursor<V>),
    Before(Cursor<V>),
}

/// A stretch of the sort order that one index seek serves.
///
/// A page continues after its cursor (value, id): first the rows that share
/// the cursor's value, after its id, then the rows beyond its value. Two
/// ranges rather than one row comparison `(column, id) > (value, id)`, because
/// SQLite seeks such a comparison on its first column only and would then
/// read every row that shares the value (all of them, for keys imported at
/// once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Range<V> {
    /// Rows whose sort value is `key` (`Null`: rows without one), by id,
    /// after `after_id` when given.
    Equal { key: Key<V>, after_id: Option<i32> },
    /// Rows whose (non-null) sort value lies beyond this one, or all rows
    /// with a value.
    Beyond(Option<V>),
}

/// The ranges that make up the list from `cursor` (exclusive; else from the
/// start), walked in ascending or descending order.
pub fn ranges<V: Clone>(
    column: Column,
    ascending: bool,
    cursor: Option<&Cursor<V>>,
) -> Vec<Range<V>> {
    let nulls = |after_id| Range::Equal {
        key: Key::Null,
        after_id,
    };
    let Some(Cursor { key, id }) = cursor else {
        return match (column, ascending) {
            (Column::RepeatingOrNull, true) => vec![nulls(None), Range::Beyond(None)],
            (Column::RepeatingOrNull, false) => vec![Range::Beyond(None), nulls(None)],
            _ => vec![Range::Beyond(None)],
        };
    };
    let mut ranges = Vec::with_capacity(3);
    match key {
        Key::Null if ascending => ranges.extend([nulls(Some(*id)), Range::Beyond(None)]),
        Key::Null => ranges.push(nulls(Some(*id))),
        // No other row shares the cursor's value.
        Key::Value(value) if column == Column::Unique => {
            ranges.push(Range::Beyond(Some(value.clone())));
        }
        Key::Value(value) => ranges.extend([
            Range::Equal {
                key: key.clone(),
                after_id: Some(*id),
            },
            Range::Beyond(Some(value.clone())),
        ]),
    }
    if column == Column::RepeatingOrNull && !ascending && matches!(key, Key::Value(_)) {
        ranges.push(nulls(None));
    }
    ranges
}

/// The rows of one page, in list order, and whether the list goes on before
/// and after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice<R> {
    pub rows: Vec<R>,
    pub has_previous: bool,
    pub has_next: bool,
}

/// Puts a page together. `fetch(range, ascending, limit)` reads up to
/// `limit` rows of one range in that order; `cursor_of` gives a row's
/// position. A page asks for one row more than it shows: the extra row tells
/// whether another page follows.
pub fn page<V: Clone, R, E>(
    page: &Page<V>,
    column: Column,
    direction: Direction,
    per_page: i64,
    mut fetch: impl FnMut(&Range<V>, bool, i64) -> Result<Vec<R>, E>,
) -> Result<Slice<R>, E> {
    let full = usize::try_from(per_page).unwrap_or(usize::MAX);
    let ascending = direction == Direction::Asc;
    let mut walk = |ascending: bool, cursor: Option<&Cursor<V>>| -> Result<Vec<R>, E> {
        let mut rows = Vec::new();
        for range in ranges(column, ascending, cursor) {
            let wanted = per_page + 1 - i64::try_from(rows.len()).unwrap_or(i64::MAX);
            if wanted <= 0 {
                break;
            }
            rows.extend(fetch(&range, ascending, wanted)?);
        }
        Ok(rows)
    };
    let (mut rows, has_previous, has_next) = match page {
        Page::First => {
            let rows = walk(ascending, None)?;
            let more = rows.len() > full;
            (rows, false, more)
        }
        Page::After(cursor) => {
            let rows = walk(ascending, Some(cursor))?;
            let more = rows.len() > full;
            (rows, true, more)
        }
        Page::Before(cursor) => {
            // Walk backwards from the cursor, then turn the rows around.
            let mut rows = walk(!ascending, Some(cursor))?;
            if rows.len() < full {
                // Less than a page before the cursor (rows were added or
                // removed meanwhile): the first page, full.
                let rows = walk(ascending, None)?;
                let more = rows.len() > full;
                let mut rows = rows;
                rows.truncate(full);
                return Ok(Slice {
                    rows,
                    has_previous: false,
                    has_next: more,
                });
            }
            let more = rows.len() > full;
            rows.truncate(full);
            rows.reverse();
            (rows, more, true)
        }
    };
    rows.truncate(full);
    Ok(Slice {
        rows,
        has_previous,
        has_next,
    })
}

#[cfg(test)]
mod tests;
