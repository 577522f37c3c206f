//! The rules text fields share: a one-line field is trimmed, required,
//! bounded in characters (not bytes) and free of control characters; a
//! description is optional and may span lines.

/// Parses a required one-line text field called `what` ("Application name").
pub fn required_line(input: &str, max_chars: usize, what: &str) -> Result<String, String> {
    let value = input.trim();
    if value.is_empty() {
        return Err(format!("{what} required"));
    }
    if value.chars().count() > max_chars {
        return Err(format!("{what} must be at most {max_chars} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{what} cannot contain control characters"));
    }
    Ok(value.to_owned())
}

const MAX_DESCRIPTION_CHARS: usize = 255;

/// "Description" (of an app, a role, a service): optional, at most 255
/// characters; line breaks and tabs are allowed (it is a text area), other
/// control characters are not (PostgreSQL cannot even store a NUL).
pub fn parse_description(input: &str) -> Result<String, String> {
    let description = input.trim();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(format!(
            "Description must be at most {MAX_DESCRIPTION_CHARS} characters"
        ));
    }
    if description
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err("Description cannot contain control characters".into());
    }
    Ok(description.to_owned())
}

/// What a user typed, quoted back in a message: control characters left
/// out, at most `max_chars` characters.
pub fn shown(input: &str, max_chars: usize) -> String {
    input
        .chars()
        .filter(|c| !c.is_control())
        .take(max_chars)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::required_line;

    #[test]
    fn trimmed_required_bounded_and_printable() {
        assert_eq!(required_line("  Mobile ", 64, "Name").unwrap(), "Mobile");
        assert_eq!(
            required_line(" \t ", 64, "Name").unwrap_err(),
            "Name required"
        );
        assert!(
            required_line(&"ü".repeat(64), 64, "Name").is_ok(),
            "64 characters, 128 bytes"
        );
        assert_eq!(
            required_line(&"x".repeat(65), 64, "Name").unwrap_err(),
            "Name must be at most 64 characters"
        );
        assert_eq!(
            required_line("a\u{7}b", 64, "Name").unwrap_err(),
            "Name cannot contain control characters"
        );
    }
}

#[cfg(test)]
mod properties {
    use super::required_line;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn an_accepted_line_is_what_was_typed_trimmed(input in any::<String>(), max in 1usize..100) {
            match required_line(&input, max, "Name") {
                Ok(value) => {
                    prop_assert_eq!(value.as_str(), input.trim());
                    prop_assert!(!value.is_empty());
                    prop_assert!(value.chars().count() <= max);
                    prop_assert!(!value.chars().any(char::is_control));
                }
                Err(message) => prop_assert!(message.starts_with("Name ")),
            }
        }

        #[test]
        fn printable_lines_within_the_limit_are_accepted(input in "[^\\p{Cc}]{1,64}") {
            prop_assume!(!input.trim().is_empty());
            prop_assert_eq!(required_line(&input, 64, "Name"), Ok(input.trim().to_owned()));
        }
    }
}
