use super::*;
use proptest::prelude::*;

const FIELDS: Fields = &[
    ("id", Kind::Int),
    ("name", Kind::Text),
    ("is_active", Kind::Bool),
    ("created_date", Kind::Time),
];

fn test(field: &'static str, op: Op) -> Filter {
    Filter::Test(Test { field, op })
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

#[test]
fn what_scripts_write_is_understood() {
    use Cmp::*;
    let cases: Vec<(&str, Filter)> = vec![
        ("name = 'ci'", test("name", Op::Compare(Eq, text("ci")))),
        ("NAME eq \"ci\"", test("name", Op::Compare(Eq, text("ci")))),
        ("id != 3", test("id", Op::Compare(Ne, Value::Int(3)))),
        ("id <> '3'", test("id", Op::Compare(Ne, Value::Int(3)))),
        ("id < 3", test("id", Op::Compare(Lt, Value::Int(3)))),
        ("id gt -3", test("id", Op::Compare(Gt, Value::Int(-3)))),
        ("id <= 3", test("id", Op::Compare(Le, Value::Int(3)))),
        ("id gte 3", test("id", Op::Compare(Ge, Value::Int(3)))),
        ("id lte 3", test("id", Op::Compare(Le, Value::Int(3)))),
        ("id >= 3", test("id", Op::Compare(Ge, Value::Int(3)))),
        ("id ne 3", test("id", Op::Compare(Ne, Value::Int(3)))),
        ("id lt 3", test("id", Op::Compare(Lt, Value::Int(3)))),
        (
            "is_active = true",
            test("is_active", Op::Compare(Eq, Value::Bool(true))),
        ),
        (
            "is_active = 0",
            test("is_active", Op::Compare(Eq, Value::Bool(false))),
        ),
        ("name like '%ci%'", test("name", Op::Like("%ci%".into()))),
        ("name like 'a\\'", test("name", Op::Like("a\\\\".into()))),
        (
            "name contains '50%_'",
            test("name", Op::Like("%50\\%\\_%".into())),
        ),
        (
            "name starts with 'ci'",
            test("name", Op::Like("ci%".into())),
        ),
        ("name ENDS WITH 'ci'", test("name", Op::Like("%ci".into()))),
        (
            "name = 'it''s'",
            test("name", Op::Compare(Eq, text("it's"))),
        ),
        (
            "id in (1, 2,3)",
            test(
                "id",
                Op::In(vec![Value::Int(1), Value::Int(2), Value::Int(3)]),
            ),
        ),
        (
            "name not in ('a')",
            test("name", Op::NotIn(vec![text("a")])),
        ),
        ("name is null", test("name", Op::IsNull)),
        ("name IS NOT NULL", test("name", Op::IsNotNull)),
        (
            "created_date > '2026-12-01 10:00:00'",
            test(
                "created_date",
                Op::Compare(
                    Gt,
                    Value::Time(
                        chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
                            .unwrap()
                            .and_hms_opt(10, 0, 0)
                            .unwrap(),
                    ),
                ),
            ),
        ),
        (
            "(name like '%ci%') and (is_active = true)",
            Filter::All(vec![
                test("name", Op::Like("%ci%".into())),
                test("is_active", Op::Compare(Eq, Value::Bool(true))),
            ]),
        ),
        (
            "(id = 1) or (id = 2) OR (id = 3)",
            Filter::Any(vec![
                test("id", Op::Compare(Eq, Value::Int(1))),
                test("id", Op::Compare(Eq, Value::Int(2))),
                test("id", Op::Compare(Eq, Value::Int(3))),
            ]),
        ),
        (
            "((id = 1) or (id = 2)) and (name = 'x')",
            Filter::All(vec![
                Filter::Any(vec![
                    test("id", Op::Compare(Eq, Value::Int(1))),
                    test("id", Op::Compare(Eq, Value::Int(2))),
                ]),
                test("name", Op::Compare(Eq, text("x"))),
            ]),
        ),
        ("(id = 1)", test("id", Op::Compare(Eq, Value::Int(1)))),
    ];
    for (input, expected) in cases {
        assert_eq!(parse(input, FIELDS), Ok(Some(expected)), "{input}");
    }
    assert_eq!(parse("  ", FIELDS), Ok(None));
}

#[test]
fn anything_else_is_refused_in_dreamfactorys_words() {
    let unparsable = [
        "name = 'x' or 1=1",
        "name = 'x' or (1=1)",
        "(name = 'x') or 1=1",
        "; drop table apps",
        "name = 'x'; drop table apps",
        "name = 'x' -- comment",
        "name = x",
        "name = 'unterminated",
        "name =",
        "name",
        "= 'x'",
        "(name = 'x'",
        "name = 'x')",
        "(name = 'x') and (id = 1) or (id = 2)",
        "(name = 'x') and",
        "id = 'abc'",
        "id like '1%'",
        "is_active > true",
        "is_active = 'maybe'",
        "id in ()",
        "id in (1,)",
        "name not like 'x'",
        "name is 'x'",
        "created_date > 'yesterday'",
        "id = 99999999999",
        "name = 'a' and id = 1",
        "id = 1.5",
        "id = --1",
        "name = 'a\u{0}b'",
    ];
    for input in unparsable {
        assert_eq!(
            parse(input, FIELDS),
            Err(FilterError::Unparsable),
            "{input}"
        );
    }
    assert_eq!(
        parse("(x = 1) and (name = 'a')", FIELDS),
        Err(FilterError::UnknownField("x".into()))
    );
    assert_eq!(
        FilterError::UnknownField("api_key".into()).message(),
        "Invalid or unparsable field in filter request: 'api_key'"
    );
    assert_eq!(
        FilterError::Unparsable.message(),
        "Invalid or unparsable filter request."
    );
    let deep = format!("{}id = 1{}", "(".repeat(100), ")".repeat(100));
    assert_eq!(parse(&deep, FIELDS), Err(FilterError::Unparsable));
    assert_eq!(
        parse(&"x".repeat(MAX_CHARS + 1), FIELDS),
        Err(FilterError::Unparsable)
    );
}

proptest! {
    #[test]
    fn arbitrary_input_never_panics(input in "\\PC{0,200}") {
        let _ = parse(&input, FIELDS);
    }

    #[test]
    fn filter_like_input_never_panics(
        input in "[()'\" a-z_=<>!,0-9%-]{0,120}"
    ) {
        let _ = parse(&input, FIELDS);
    }

    #[test]
    fn any_quoted_text_is_one_value(value in "\\PC{0,60}") {
        let quoted = format!("name = '{}'", value.replace('\'', "''"));
        prop_assert_eq!(
            parse(&quoted, FIELDS),
            Ok(Some(test("name", Op::Compare(Cmp::Eq, Value::Text(value)))))
        );
    }
}
