//! Reading keyward's HTML as a person reads it: entities decoded, the text of
//! a fragment, tags and their attributes, form controls by id (labels,
//! checkboxes, textareas, selects), the errors shown next to fields, tables,
//! and the key shown once.

use super::http::TestResponse;

/// Decodes the entities askama writes (`&amp;`, `&quot;`, `&#x27;`, ...).
pub fn html_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';') else { break };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The key on the page that shows a new key once (`<input id="api-key" value="kw_...">`).
pub fn shown_api_key(page: &TestResponse) -> Option<String> {
    page.input_value_of_id("api-key")
}

/// Text of an HTML fragment as a person reads it: tags dropped, entities
/// decoded, white space collapsed.
pub fn text_of(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    html_unescape(&text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The opening tag of the element whose id is `id`.
pub fn opening_tag<'a>(page: &'a TestResponse, id: &str) -> Option<&'a str> {
    let body = &page.body;
    let at = body.find(&format!(" id=\"{id}\""))?;
    let start = body[..at].rfind('<')?;
    let end = at + body[at..].find('>')? + 1;
    Some(&body[start..end])
}

/// An attribute of an opening tag, decoded.
pub fn attr(tag: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = start + tag[start..].find('"')?;
    Some(html_unescape(&tag[start..end]))
}

pub fn is_checked(page: &TestResponse, id: &str) -> bool {
    let tag = opening_tag(page, id).unwrap_or_else(|| panic!("no #{id} on the page"));
    tag.trim_end_matches('>')
        .split_whitespace()
        .any(|a| a == "checked")
}

/// The text of the `<label for="id">`.
pub fn label_text(page: &TestResponse, id: &str) -> Option<String> {
    let marker = format!("<label for=\"{id}\">");
    let start = page.body.find(&marker)? + marker.len();
    let end = start + page.body[start..].find("</label>")?;
    Some(text_of(&page.body[start..end]))
}

/// What the `<textarea id="id">` holds.
pub fn textarea_value(page: &TestResponse, id: &str) -> Option<String> {
    let tag = opening_tag(page, id)?;
    assert!(tag.starts_with("<textarea"), "#{id} is not a textarea");
    let start = page.body.find(tag)? + tag.len();
    let end = start + page.body[start..].find("</textarea>")?;
    Some(html_unescape(&page.body[start..end]))
}

/// The options of the `<select id="id">`: (value, text, marked selected).
pub fn select_options(page: &TestResponse, id: &str) -> Vec<(String, String, bool)> {
    let tag = opening_tag(page, id).unwrap_or_else(|| panic!("no #{id} on the page"));
    assert!(tag.starts_with("<select"), "#{id} is not a select");
    let start = page.body.find(tag).unwrap() + tag.len();
    let end = start
        + page.body[start..]
            .find("</select>")
            .expect("unclosed select");
    page.body[start..end]
        .split("<option")
        .skip(1)
        .map(|option| {
            let tag_end = option.find('>').expect("broken option");
            let open = &option[..tag_end];
            let text_end = option.find("</option>").expect("unclosed option");
            (
                attr(open, "value").unwrap_or_default(),
                text_of(&option[tag_end + 1..text_end]),
                open.split_whitespace().any(|a| a == "selected"),
            )
        })
        .collect()
}

/// The value of the option a browser shows as chosen: the one marked
/// selected, else the first.
pub fn chosen_option(page: &TestResponse, id: &str) -> String {
    let options = select_options(page, id);
    let marked: Vec<_> = options
        .iter()
        .filter(|(_, _, selected)| *selected)
        .collect();
    assert!(marked.len() <= 1, "#{id} has several selected options");
    match marked.first() {
        Some((value, _, _)) => value.clone(),
        None => options.first().map(|o| o.0.clone()).unwrap_or_default(),
    }
}

/// The error shown next to `field`, as it is announced.
pub fn field_error(page: &TestResponse, field: &str) -> Option<String> {
    let marker = format!("<small class=\"field-error\" id=\"{field}-error\" role=\"alert\">");
    let start = page.body.find(&marker)? + marker.len();
    let end = start + page.body[start..].find("</small>")?;
    Some(text_of(&page.body[start..end]))
}

/// Every error the page shows next to a field: (field, message).
pub fn field_errors(page: &TestResponse) -> Vec<(String, String)> {
    let marker = "<small class=\"field-error\" id=\"";
    page.body
        .match_indices(marker)
        .map(|(at, _)| {
            let rest = &page.body[at + marker.len()..];
            let field = &rest[..rest.find("-error\"").unwrap()];
            (
                field.to_owned(),
                field_error(page, field).expect("malformed field error"),
            )
        })
        .collect()
}

/// The list's table: the text of each cell of each body row.
pub fn table_rows(page: &TestResponse) -> Vec<Vec<String>> {
    let Some(start) = page.body.find("<tbody>") else {
        return Vec::new();
    };
    let end = start + page.body[start..].find("</tbody>").expect("unclosed tbody");
    page.body[start..end]
        .split("<tr")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let cell = &cell[cell.find('>').unwrap() + 1..];
                    text_of(cell.split("</td>").next().unwrap())
                })
                .collect()
        })
        .collect()
}

pub fn table_headers(page: &TestResponse) -> Vec<String> {
    let start = page.body.find("<thead>").expect("no table head");
    let end = start + page.body[start..].find("</thead>").unwrap();
    page.body[start..end]
        .split("<th ")
        .skip(1)
        .map(|cell| text_of(&cell[cell.find('>').unwrap() + 1..]))
        .collect()
}

/// The opening tag that carries `attribute` (e.g. `aria-label="..."`); exactly one.
pub fn opening_tag_with<'a>(page: &'a TestResponse, attribute: &str) -> &'a str {
    let found: Vec<&str> = page
        .body
        .match_indices(attribute)
        .map(|(at, _)| {
            let start = page.body[..at].rfind('<').unwrap();
            &page.body[start..at + page.body[at..].find('>').unwrap() + 1]
        })
        .collect();
    assert_eq!(found.len(), 1, "{attribute} on {} elements", found.len());
    found[0]
}
