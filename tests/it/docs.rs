//! The packaged documentation (`src/docs.rs`): the man page mailsetup(8) and the bash, zsh and
//! fish completions, as `mailsetup generate DIR` writes them for the Debian package.

use std::path::Path;
use std::process::Command;

use clap::CommandFactory;
use mailsetup::cli::Cli;
use mailsetup::docs;

/// The subcommands an operator sees (not the hidden `generate`, not clap's `help`).
fn subcommands() -> Vec<String> {
    let names: Vec<String> = Cli::command()
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| s.get_name().to_string())
        .collect();
    assert!(names.len() >= 7, "{names:?}");
    names
}

/// Every long option, global or a subcommand's, with the `-` escaped as the man page writes it.
fn long_options() -> Vec<String> {
    let cli = Cli::command();
    let mut out: Vec<String> = cli
        .get_arguments()
        .chain(
            cli.get_subcommands()
                .filter(|s| !s.is_hide_set())
                .flat_map(|s| s.get_arguments()),
        )
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long())
        .map(|l| format!("\\-\\-{}", l.replace('-', "\\-")))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A program on PATH, or None (the test then skips that part).
fn tool(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

#[test]
fn man_page_has_every_subcommand_option_and_hand_written_section() {
    let page = String::from_utf8(docs::man_page()).expect("utf-8");
    assert!(page.contains(".TH mailsetup 8"), "section 8:\n{page}");
    for sub in subcommands() {
        assert!(
            page.contains(&format!(".SS \"\\fBmailsetup {sub}\\fR")),
            "no COMMANDS entry for {sub}:\n{page}"
        );
    }
    for option in long_options() {
        assert!(page.contains(&option), "{option} missing:\n{page}");
    }
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH OPTIONS",
        ".SH COMMANDS",
        ".SH \"EXIT STATUS\"",
        ".SH FILES",
        ".SH EXAMPLES",
        ".SH \"SEE ALSO\"",
    ] {
        assert!(page.contains(section), "{section} missing:\n{page}");
    }
    assert!(page.is_ascii(), "troff rejects raw UTF-8 without preconv");
    assert!(
        !page.contains("mailsetup generate"),
        "the hidden subcommand leaked"
    );
}

/// `man -l` renders it, with troff's warnings on and none given (skipped without man-db).
#[test]
fn man_page_renders_without_warnings() {
    let Some(man) = tool("man") else {
        eprintln!("skipped: no man on PATH");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(docs::MAN_PAGE);
    std::fs::write(&path, docs::man_page()).expect("write");
    let out = Command::new(man)
        .args(["--warnings", "-E", "UTF-8", "-l"])
        .arg(&path)
        .env("MANWIDTH", "80")
        .env_remove("MAN_KEEP_FORMATTING")
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("run man");
    let text = String::from_utf8_lossy(&out.stdout);
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "man -l failed: {warnings}");
    assert!(warnings.trim().is_empty(), "troff warnings:\n{warnings}");
    for heading in [
        "NAME",
        "SYNOPSIS",
        "COMMANDS",
        "EXIT STATUS",
        "FILES",
        "EXAMPLES",
    ] {
        assert!(
            text.lines().any(|l| l == heading),
            "{heading} not rendered:\n{text}"
        );
    }
    assert!(text.contains("mailsetup check"), "{text}");
    assert!(text.contains("/etc/mailsetup/answers.toml"), "{text}");
}

#[test]
fn every_completion_offers_every_subcommand_and_not_the_hidden_one() {
    for (shell, _) in docs::SHELLS {
        let script = String::from_utf8(docs::completion(shell)).expect("utf-8");
        for sub in subcommands() {
            assert!(script.contains(&sub), "{shell}: {sub} missing");
        }
        // fish spells it `-l answers`.
        assert!(script.contains("answers"), "{shell}: --answers missing");
        for offer in ["subcmd__generate", "'generate:", "\"generate\""] {
            assert!(
                !script.contains(offer),
                "{shell}: offers the hidden generate"
            );
        }
    }
}

/// The scripts parse: always bash (`bash -n`); zsh and fish when installed.
#[test]
fn completions_parse() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (shell, name, check) in [
        (docs::Shell::Bash, "mailsetup.bash", ["bash", "-n"]),
        (docs::Shell::Zsh, "_mailsetup", ["zsh", "-n"]),
        (
            docs::Shell::Fish,
            "mailsetup.fish",
            ["fish", "--no-execute"],
        ),
    ] {
        let Some(program) = tool(check[0]) else {
            assert_ne!(shell, docs::Shell::Bash, "bash is needed to check bash");
            eprintln!("skipped: no {} on PATH", check[0]);
            continue;
        };
        let path = dir.path().join(name);
        std::fs::write(&path, docs::completion(shell)).expect("write");
        let out = Command::new(program)
            .arg(check[1])
            .arg(&path)
            .output()
            .expect("run the shell");
        assert!(
            out.status.success(),
            "{name} does not parse: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The hidden `generate DIR` (what install.sh runs before `cargo deb`): the four files the
/// package's assets name, and nothing about it in `--help`.
#[test]
fn generate_writes_the_package_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("docs");
    let out = Command::new(env!("CARGO_BIN_EXE_mailsetup"))
        .arg("generate")
        .arg(&out_dir)
        .output()
        .expect("run mailsetup");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "_mailsetup",
            "mailsetup.8",
            "mailsetup.bash",
            "mailsetup.fish"
        ]
    );
    assert_eq!(
        std::fs::read(out_dir.join(docs::MAN_PAGE)).expect("read"),
        docs::man_page()
    );
    // Every name Cargo.toml's [package.metadata.deb] assets take from the directory.
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .expect("Cargo.toml");
    for name in &names {
        assert!(
            manifest.contains(&format!("\"target/docs/{name}\"")),
            "Cargo.toml's deb assets do not take {name}"
        );
    }
    let help = Command::new(env!("CARGO_BIN_EXE_mailsetup"))
        .arg("--help")
        .output()
        .expect("run mailsetup");
    assert!(!String::from_utf8_lossy(&help.stdout).contains("  generate"));
}

/// `--dry-run` writes nothing, whatever the command: `generate` only says what it would write.
#[test]
fn generate_dry_run_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("docs");
    let out = Command::new(env!("CARGO_BIN_EXE_mailsetup"))
        .args(["--dry-run", "generate"])
        .arg(&out_dir)
        .output()
        .expect("run mailsetup");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "would write {}",
            out_dir.join(docs::MAN_PAGE).display()
        )),
        "{stdout}"
    );
    assert!(!out_dir.exists(), "nothing written, not even the directory");
}
