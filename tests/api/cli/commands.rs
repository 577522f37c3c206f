//! The commands: an unknown flag and an unreachable or unsupported database
//! are one clear line, `migrate` prepares a fresh database, and
//! `admin create` reads the password from stdin.

use std::process::Output;

use super::{assert_one_line_error, keyward, lines, run};
use crate::harness::{StatusCode, TempDir, TestApp};

#[test]
fn an_unknown_flag_is_refused() {
    let dir = TempDir::new("keyward-cli");
    let output = run(
        {
            let mut command = keyward(&dir.0);
            command.arg("--no-such-flag");
            command
        },
        "",
    );
    let line = assert_one_line_error(&output);
    assert!(line.contains("--no-such-flag"), "{line}");
    assert!(!dir.0.join("keyward.db").exists(), "a database was created");
}

#[test]
fn an_unreachable_database_is_one_clear_line() {
    let dir = TempDir::new("keyward-cli");
    for args in [&["migrate"][..], &["serve", "--bind", "127.0.0.1:0"]] {
        let mut command = keyward(&dir.0);
        command
            .args(["--database-url", "postgres://nobody@127.0.0.1:1/x"])
            .args(args);
        let line = assert_one_line_error(&run(command, ""));
        assert!(
            line.starts_with("keyward: cannot connect to the database"),
            "{args:?}: {line}"
        );
    }
}

#[test]
fn an_unsupported_database_url_is_one_clear_line() {
    let dir = TempDir::new("keyward-cli");
    let mut command = keyward(&dir.0);
    command.args(["--database-url", "mysql://x", "migrate"]);
    let line = assert_one_line_error(&run(command, ""));
    assert!(line.starts_with("keyward: "), "{line}");
    assert!(line.contains("mysql://"), "{line}");
    assert!(
        !dir.0.join("mysql:").exists(),
        "the URL was taken for a file name"
    );
}

each_backend!(migrate_prepares_a_fresh_database, |db| async move {
    let dir = TempDir::new("keyward-cli");
    for _ in 0..2 {
        let mut command = keyward(&dir.0);
        command.args(["--database-url", &db.url, "migrate"]);
        let output = run(command, "");
        let stderr = lines(&output.stderr).join("\n");
        assert!(output.status.success(), "{stderr}");
        assert!(stderr.contains("migrations applied"), "{stderr}");
    }
    // keyward starts on it and offers the setup page.
    let app = TestApp::start(db, |_| {}).await;
    let setup = app.get(&app.setup_path()).await;
    assert_eq!(setup.status, StatusCode::OK);
});

fn admin_create(url: &str, email: &str, password_line: &str) -> Output {
    let dir = TempDir::new("keyward-cli");
    let mut command = keyward(&dir.0);
    command.args([
        "--database-url",
        url,
        "admin",
        "create",
        "--email",
        email,
        "--name",
        "Ada",
    ]);
    run(command, password_line)
}

// Run against the database of a keyward that is serving, as an operator would.
storage_test!(
    admin_create_reads_the_password_from_stdin,
    |app| async move {
        let setup_path = app.setup_path();
        let password = "correct horse battery";
        let created = admin_create(&app.db.url, "Ada@Example.com", &format!("{password}\n"));
        let (stdout, stderr) = (lines(&created.stdout), lines(&created.stderr));
        assert!(created.status.success(), "{stderr:#?}");
        assert_eq!(stdout, ["administrator ada@example.com created"]);
        assert!(
            !stdout.iter().chain(&stderr).any(|l| l.contains(password)),
            "the password was printed"
        );

        let duplicate = admin_create(&app.db.url, "ADA@example.com", &format!("{password}\n"));
        let line = assert_one_line_error(&duplicate);
        assert_eq!(
            line,
            "keyward: an administrator with email ada@example.com already exists"
        );

        let short = admin_create(&app.db.url, "bob@example.com", "short\n");
        let line = assert_one_line_error(&short);
        assert!(line.contains("at least 12 characters"), "{line}");
        let no_password = admin_create(&app.db.url, "bob@example.com", "");
        assert!(assert_one_line_error(&no_password).contains("at least 12 characters"));

        let bad_email = admin_create(&app.db.url, "bob", &format!("{password}\n"));
        assert!(
            assert_one_line_error(&bad_email)
                .to_lowercase()
                .contains("email")
        );

        // The setup page closes, and the new administrator signs in with that password.
        assert_eq!(app.get(&setup_path).await.status, StatusCode::NOT_FOUND);
        app.login("ada@example.com", password)
            .await
            .assert_redirects_to("/");
        app.logout().await;
        // The refused ones were not created.
        assert_eq!(
            app.login("bob@example.com", "short").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
);
