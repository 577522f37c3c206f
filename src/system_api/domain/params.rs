//! The query parameters of DreamFactory's system API, with their aliases
//! (`select`=fields, `where`=filter, `top`=limit, `skip`=offset,
//! `sort`/`order_by`=order), read from the raw query string so that no
//! unknown or repeated parameter is a 5xx.

use super::error::DfError;
use super::filter::{self, Fields, Filter};

/// Lists answer at most this many records, and this many when not asked.
pub const MAX_LIMIT: i64 = 1000;

/// Which fields to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    All,
    Only(Vec<String>),
}

impl Wanted {
    pub fn has(&self, field: &str) -> bool {
        match self {
            Wanted::All => true,
            Wanted::Only(names) => names.iter().any(|n| n == field),
        }
    }

    fn parse(input: &str) -> Wanted {
        let names: Vec<String> = input
            .split(',')
            .map(|n| n.trim().to_ascii_lowercase())
            .filter(|n| !n.is_empty())
            .collect();
        if names.is_empty() || names.iter().any(|n| n == "*") {
            Wanted::All
        } else {
            Wanted::Only(names)
        }
    }
}

/// One key of `order`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    pub field: &'static str,
    pub ascending: bool,
}

/// The parameters as given (before a resource's fields check them).
#[derive(Debug, Clone, Default)]
pub struct RawParams {
    fields: Option<String>,
    related: Option<String>,
    filter: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
    order: Option<String>,
    ids: Option<String>,
    include_count: bool,
    count_only: bool,
    pub continue_on_error: bool,
    pub rollback: bool,
}

fn flag(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "on" | ""
    )
}

impl RawParams {
    /// From a query string; the last of a repeated parameter counts.
    pub fn from_query(query: &str) -> RawParams {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
        let mut raw = RawParams::default();
        for (name, value) in pairs {
            match name.to_ascii_lowercase().as_str() {
                "fields" | "select" => raw.fields = Some(value),
                "related" => raw.related = Some(value),
                "filter" | "where" => raw.filter = Some(value),
                "limit" | "top" => raw.limit = Some(value),
                "offset" | "skip" => raw.offset = Some(value),
                "order" | "sort" | "order_by" => raw.order = Some(value),
                "ids" => raw.ids = Some(value),
                "include_count" => raw.include_count = flag(&value),
                "count_only" => raw.count_only = flag(&value),
                "continue" => raw.continue_on_error = flag(&value),
                "rollback" => raw.rollback = flag(&value),
                _ => {}
            }
        }
        raw
    }

    /// Whether a filter was given (even an empty one).
    pub fn has_filter(&self) -> bool {
        self.filter.is_some()
    }

    /// `fields`; `default` when not given.
    pub fn wanted(&self, default: Wanted) -> Wanted {
        self.fields.as_deref().map_or(default, Wanted::parse)
    }

    /// Whether `related` names `relation` (`*` names every one).
    pub fn related(&self, relation: &str) -> bool {
        self.related.as_deref().is_some_and(|r| {
            r.split(',')
                .map(str::trim)
                .any(|name| name == "*" || name.eq_ignore_ascii_case(relation))
        })
    }

    /// `ids`: `None` when not given; bad ids are a 400.
    pub fn ids(&self) -> Result<Option<Vec<i32>>, DfError> {
        let Some(raw) = self.ids.as_deref() else {
            return Ok(None);
        };
        parse_ids(raw).map(Some)
    }

    /// What a list asks for, checked against the resource's fields.
    pub fn list(&self, fields: Fields) -> Result<ListParams, DfError> {
        let filter = match &self.filter {
            Some(input) => {
                filter::parse(input, fields).map_err(|e| DfError::bad_request(e.message()))?
            }
            None => None,
        };
        let number = |value: &Option<String>, name: &str| -> Result<Option<i64>, DfError> {
            match value.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(v) => v
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .map(Some)
                    .ok_or_else(|| {
                        DfError::bad_request(format!(
                            "The {name} parameter must be a whole number, 0 or more."
                        ))
                    }),
            }
        };
        let limit = match number(&self.limit, "limit")? {
            None | Some(0) => MAX_LIMIT,
            Some(n) => n.min(MAX_LIMIT),
        };
        Ok(ListParams {
            filter,
            ids: self.ids()?,
            order: parse_order(self.order.as_deref().unwrap_or(""), fields)?,
            limit,
            offset: number(&self.offset, "offset")?.unwrap_or(0),
            include_count: self.include_count,
            count_only: self.count_only,
        })
    }
}

/// A list's selection, checked.
#[derive(Debug, Clone)]
pub struct ListParams {
    pub filter: Option<Filter>,
    pub ids: Option<Vec<i32>>,
    /// Never empty: `id` ascending when not asked.
    pub order: Vec<OrderBy>,
    pub limit: i64,
    pub offset: i64,
    pub include_count: bool,
    pub count_only: bool,
}

impl ListParams {
    /// Just the records with these ids, in id order.
    pub fn by_ids(ids: Vec<i32>) -> ListParams {
        ListParams {
            filter: None,
            ids: Some(ids),
            order: vec![OrderBy {
                field: "id",
                ascending: true,
            }],
            limit: MAX_LIMIT,
            offset: 0,
            include_count: false,
            count_only: false,
        }
    }
}

/// `1,2, 3`: every element a record id.
pub fn parse_ids(raw: &str) -> Result<Vec<i32>, DfError> {
    let ids: Result<Vec<i32>, _> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<i32>().map_err(|_| s.to_owned()))
        .collect();
    match ids {
        Ok(ids) if !ids.is_empty() => Ok(ids),
        Ok(_) => Err(DfError::bad_request("No record(s) detected in request.")),
        Err(bad) => Err(DfError::bad_request(format!(
            "Invalid identifier in ids: '{bad}'"
        ))),
    }
}

/// `name ASC, id desc`: whitelisted fields only; `id asc` when empty.
pub fn parse_order(input: &str, fields: Fields) -> Result<Vec<OrderBy>, DfError> {
    let mut order = Vec::new();
    for key in input.split(',').map(str::trim).filter(|k| !k.is_empty()) {
        let mut words = key.split_whitespace();
        let name = words.next().unwrap_or_default();
        let ascending = match words.next().map(str::to_ascii_lowercase).as_deref() {
            None | Some("asc") => true,
            Some("desc") => false,
            Some(_) => return Err(DfError::bad_request(unparsable_order(key))),
        };
        if words.next().is_some() {
            return Err(DfError::bad_request(unparsable_order(key)));
        }
        let Some(&(field, _)) = fields.iter().find(|(f, _)| f.eq_ignore_ascii_case(name)) else {
            return Err(DfError::bad_request(format!(
                "Invalid or unparsable field in order request: '{name}'"
            )));
        };
        order.push(OrderBy { field, ascending });
    }
    if order.is_empty() {
        order.push(OrderBy {
            field: "id",
            ascending: true,
        });
    }
    Ok(order)
}

fn unparsable_order(key: &str) -> String {
    format!("Invalid or unparsable order request: '{key}'")
}

#[cfg(test)]
mod tests {
    use super::super::filter::Kind;
    use super::*;

    const FIELDS: Fields = &[("id", Kind::Int), ("name", Kind::Text)];

    #[test]
    fn aliases_and_defaults() {
        let raw = RawParams::from_query(
            "select=id,Name&top=5&skip=10&sort=name%20desc&where=id%3D1&include_count=true",
        );
        assert_eq!(
            raw.wanted(Wanted::All),
            Wanted::Only(vec!["id".into(), "name".into()])
        );
        let list = raw.list(FIELDS).unwrap();
        assert_eq!((list.limit, list.offset), (5, 10));
        assert_eq!(
            list.order,
            vec![OrderBy {
                field: "name",
                ascending: false
            }]
        );
        assert!(list.filter.is_some() && list.include_count && !list.count_only);

        let list = RawParams::from_query("limit=5000&order_by=name asc,ID DESC")
            .list(FIELDS)
            .unwrap();
        assert_eq!(list.limit, MAX_LIMIT);
        assert_eq!(list.order.len(), 2);
        let list = RawParams::from_query("").list(FIELDS).unwrap();
        assert_eq!((list.limit, list.offset), (MAX_LIMIT, 0));
        assert_eq!(
            list.order,
            vec![OrderBy {
                field: "id",
                ascending: true
            }]
        );
        assert_eq!(
            RawParams::from_query("fields=*").wanted(Wanted::Only(vec![])),
            Wanted::All
        );
        assert!(RawParams::from_query("related=role_by_role_id").related("role_by_role_id"));
        assert!(!RawParams::from_query("").related("role_by_role_id"));
        assert!(RawParams::from_query("rollback=true&continue=1").rollback);
    }

    #[test]
    fn bad_parameters_are_400s() {
        for query in [
            "order=secret",
            "order=name%20sideways",
            "order=name%20asc%20id",
            "order=name;drop",
            "limit=-1",
            "limit=ten",
            "offset=x",
            "ids=1,x",
            "ids=,",
            "filter=name%20%3D%20x",
        ] {
            let error = RawParams::from_query(query).list(FIELDS).unwrap_err();
            assert_eq!(error.status, 400, "{query}");
        }
        assert_eq!(parse_ids(" 1, 2 ,3").unwrap(), vec![1, 2, 3]);
    }
}
