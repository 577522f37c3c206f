//! DreamFactory's `filter` parameter, the subset scripts use, parsed into a
//! tree that names only whitelisted fields and carries typed values. Nothing
//! of the input ever reaches SQL as text: `queries` turns the tree into diesel
//! conditions with every value bound as a parameter.
//!
//! Grammar: a single condition, or conditions in parentheses joined by `and`
//! or `or` (`(a) and (b)`, nested as deep as [`MAX_DEPTH`]). A condition is
//! `field op value`: `=` `!=` `<>` `<` `>` `<=` `>=` (or `eq ne lt gt lte
//! gte`), `like`, `contains`, `starts with`, `ends with`, `in (…)`, `not in
//! (…)`, `is null`, `is not null`. Values are quoted with `'` or `"` (a quote
//! doubled inside stands for itself); numbers and `true`/`false` are bare.
//! Keywords ignore case.

use chrono::NaiveDateTime;

/// The answer to anything the grammar does not take.
pub const UNPARSABLE: &str = "Invalid or unparsable filter request.";
/// Parentheses nest at most this deep (a deeper filter is refused, not a stack overflow).
pub const MAX_DEPTH: usize = 16;
/// Longer filters are refused.
pub const MAX_CHARS: usize = 4096;

/// What a field holds, for reading the values compared with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Text,
    Bool,
    Time,
}

/// A resource's filterable fields, as DreamFactory names them.
pub type Fields = &'static [(&'static str, Kind)];

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    All(Vec<Filter>),
    Any(Vec<Filter>),
    Test(Test),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Test {
    pub field: &'static str,
    pub op: Op,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Compare(Cmp, Value),
    /// A LIKE pattern with `\` as its escape character, ASCII case ignored.
    Like(String),
    In(Vec<Value>),
    NotIn(Vec<Value>),
    IsNull,
    IsNotNull,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

/// A value, read as its field's kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i32),
    Text(String),
    Bool(bool),
    Time(NaiveDateTime),
}

/// Why a filter was refused, in DreamFactory's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterError {
    Unparsable,
    UnknownField(String),
}

impl FilterError {
    pub fn message(&self) -> String {
        match self {
            FilterError::Unparsable => UNPARSABLE.to_owned(),
            FilterError::UnknownField(name) => {
                format!("Invalid or unparsable field in filter request: '{name}'")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Number(String),
    Symbol(&'static str),
    Open,
    Close,
    Comma,
}

fn tokens(input: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' | ')' | ',' | '=' => {
                out.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    ',' => Token::Comma,
                    _ => Token::Symbol("="),
                });
                i += 1;
            }
            '\'' | '"' => {
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(FilterError::Unparsable),
                        Some(&q) if q == c && chars.get(i + 1) == Some(&c) => {
                            text.push(c);
                            i += 2;
                        }
                        Some(&q) if q == c => {
                            i += 1;
                            break;
                        }
                        Some(&other) => {
                            text.push(other);
                            i += 1;
                        }
                    }
                }
                out.push(Token::Text(text));
            }
            '!' | '<' | '>' => {
                let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
                let symbol = match two.as_str() {
                    "!=" => "!=",
                    "<>" => "<>",
                    "<=" => "<=",
                    ">=" => ">=",
                    _ if c == '<' => "<",
                    _ if c == '>' => ">",
                    _ => return Err(FilterError::Unparsable),
                };
                i += symbol.len();
                out.push(Token::Symbol(symbol));
            }
            c if c.is_ascii_digit() || c == '-' => {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                out.push(Token::Number(chars[start..i].iter().collect()));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.push(Token::Word(chars[start..i].iter().collect()));
            }
            _ => return Err(FilterError::Unparsable),
        }
    }
    Ok(out)
}

struct Parser<'t> {
    tokens: &'t [Token],
    at: usize,
    fields: Fields,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Result<&Token, FilterError> {
        let token = self.tokens.get(self.at).ok_or(FilterError::Unparsable)?;
        self.at += 1;
        Ok(token)
    }

    fn keyword(&mut self, word: &str) -> bool {
        match self.peek() {
            Some(Token::Word(w)) if w.eq_ignore_ascii_case(word) => {
                self.at += 1;
                true
            }
            _ => false,
        }
    }

    fn expect_keyword(&mut self, word: &str) -> Result<(), FilterError> {
        self.keyword(word)
            .then_some(())
            .ok_or(FilterError::Unparsable)
    }

    /// A whole filter, or what is inside one pair of parentheses.
    fn expression(&mut self, depth: usize) -> Result<Filter, FilterError> {
        if depth > MAX_DEPTH {
            return Err(FilterError::Unparsable);
        }
        if self.peek() != Some(&Token::Open) {
            return self.test().map(Filter::Test);
        }
        let mut parts = vec![self.group(depth)?];
        let mut joined_by: Option<bool> = None;
        loop {
            let and = if self.keyword("and") {
                true
            } else if self.keyword("or") {
                false
            } else {
                break;
            };
            // `(a) and (b) or (c)` is ambiguous: group it.
            if joined_by.is_some_and(|j| j != and) {
                return Err(FilterError::Unparsable);
            }
            joined_by = Some(and);
            parts.push(self.group(depth)?);
        }
        Ok(match (joined_by, parts.len()) {
            (_, 1) => parts.remove(0),
            (Some(false), _) => Filter::Any(parts),
            _ => Filter::All(parts),
        })
    }

    fn group(&mut self, depth: usize) -> Result<Filter, FilterError> {
        if self.next()? != &Token::Open {
            return Err(FilterError::Unparsable);
        }
        let inner = self.expression(depth + 1)?;
        if self.next()? != &Token::Close {
            return Err(FilterError::Unparsable);
        }
        Ok(inner)
    }

    fn test(&mut self) -> Result<Test, FilterError> {
        let Token::Word(name) = self.next()?.clone() else {
            return Err(FilterError::Unparsable);
        };
        let Some(&(field, kind)) = self
            .fields
            .iter()
            .find(|(f, _)| f.eq_ignore_ascii_case(&name))
        else {
            return Err(FilterError::UnknownField(name));
        };
        let op = match self.next()?.clone() {
            Token::Symbol(symbol) => {
                let cmp = match symbol {
                    "=" => Cmp::Eq,
                    "!=" | "<>" => Cmp::Ne,
                    "<" => Cmp::Lt,
                    ">" => Cmp::Gt,
                    "<=" => Cmp::Le,
                    _ => Cmp::Ge,
                };
                self.compare(cmp, kind)?
            }
            Token::Word(word) => match word.to_ascii_lowercase().as_str() {
                "eq" => self.compare(Cmp::Eq, kind)?,
                "ne" => self.compare(Cmp::Ne, kind)?,
                "lt" => self.compare(Cmp::Lt, kind)?,
                "gt" => self.compare(Cmp::Gt, kind)?,
                "lte" => self.compare(Cmp::Le, kind)?,
                "gte" => self.compare(Cmp::Ge, kind)?,
                "like" => Op::Like(escape_backslashes(&self.text(kind)?)),
                "contains" => Op::Like(format!("%{}%", escape_like(&self.text(kind)?))),
                "starts" => {
                    self.expect_keyword("with")?;
                    Op::Like(format!("{}%", escape_like(&self.text(kind)?)))
                }
                "ends" => {
                    self.expect_keyword("with")?;
                    Op::Like(format!("%{}", escape_like(&self.text(kind)?)))
                }
                "in" => Op::In(self.list(kind)?),
                "not" => {
                    self.expect_keyword("in")?;
                    Op::NotIn(self.list(kind)?)
                }
                "is" => {
                    let not = self.keyword("not");
                    self.expect_keyword("null")?;
                    if not { Op::IsNotNull } else { Op::IsNull }
                }
                _ => return Err(FilterError::Unparsable),
            },
            _ => return Err(FilterError::Unparsable),
        };
        Ok(Test { field, op })
    }

    fn compare(&mut self, cmp: Cmp, kind: Kind) -> Result<Op, FilterError> {
        let value = self.value(kind)?;
        // A true/false field is equal or not, never smaller.
        if kind == Kind::Bool && !matches!(cmp, Cmp::Eq | Cmp::Ne) {
            return Err(FilterError::Unparsable);
        }
        Ok(Op::Compare(cmp, value))
    }

    /// A LIKE operand: text fields only.
    fn text(&mut self, kind: Kind) -> Result<String, FilterError> {
        match (kind, self.value(kind)?) {
            (Kind::Text, Value::Text(text)) => Ok(text),
            _ => Err(FilterError::Unparsable),
        }
    }

    fn list(&mut self, kind: Kind) -> Result<Vec<Value>, FilterError> {
        if self.next()? != &Token::Open {
            return Err(FilterError::Unparsable);
        }
        let mut values = vec![self.value(kind)?];
        loop {
            match self.next()? {
                Token::Comma => values.push(self.value(kind)?),
                Token::Close => return Ok(values),
                _ => return Err(FilterError::Unparsable),
            }
        }
    }

    fn value(&mut self, kind: Kind) -> Result<Value, FilterError> {
        let raw = match self.next()?.clone() {
            Token::Text(text) => text,
            Token::Number(number) => number,
            Token::Word(word)
                if word.eq_ignore_ascii_case("true") || word.eq_ignore_ascii_case("false") =>
            {
                word.to_ascii_lowercase()
            }
            _ => return Err(FilterError::Unparsable),
        };
        read_value(kind, &raw).ok_or(FilterError::Unparsable)
    }
}

/// `raw` as a value of `kind`: quoted or not, `'5'` is a number to an id.
fn read_value(kind: Kind, raw: &str) -> Option<Value> {
    match kind {
        Kind::Text => Some(Value::Text(raw.to_owned())),
        Kind::Int => raw.trim().parse().ok().map(Value::Int),
        Kind::Bool => match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(Value::Bool(true)),
            "false" | "0" => Some(Value::Bool(false)),
            _ => None,
        },
        Kind::Time => {
            let raw = raw.trim();
            [
                "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%dT%H:%M:%SZ",
            ]
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(raw, format).ok())
            .or_else(|| {
                chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                    .ok()
                    .and_then(|day| day.and_hms_opt(0, 0, 0))
            })
            .map(Value::Time)
        }
    }
}

/// A pattern the client wrote: its `%` and `_` stay wildcards, a backslash is
/// itself (so no pattern can end in a lone escape character, which
/// PostgreSQL refuses).
fn escape_backslashes(pattern: &str) -> String {
    pattern.replace('\\', "\\\\")
}

/// Text to find as itself inside a LIKE pattern.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Parses `input` over `fields`; an empty filter is none.
pub fn parse(input: &str, fields: Fields) -> Result<Option<Filter>, FilterError> {
    if input.trim().is_empty() {
        return Ok(None);
    }
    // PostgreSQL cannot hold a NUL in text, not even to compare with.
    if input.chars().count() > MAX_CHARS || input.contains('\0') {
        return Err(FilterError::Unparsable);
    }
    let tokens = tokens(input)?;
    let mut parser = Parser {
        tokens: &tokens,
        at: 0,
        fields,
    };
    let filter = parser.expression(0)?;
    if parser.at != tokens.len() {
        return Err(FilterError::Unparsable);
    }
    Ok(Some(filter))
}

#[cfg(test)]
mod tests;
