//! The command-line front end: each subcommand calls the shared use cases ([`crate::flows`])
//! and the core, prints their values, and returns the exit code (0 ok, 1 findings or pending
//! changes; errors are returned and mapped to 2 by the caller). Bare `mailsetup` and `fix`
//! on a terminal return [`Launch::Wizard`]: the caller opens the wizard's screen
//! (`crate::tui`); this module never imports it.

use std::io::{IsTerminal, Write};

use crate::cli::{Cli, Command, Format};
use crate::error::{Error, Result};
use crate::host::apply;
use crate::host::system::{self, Root};
use crate::records::render;
use crate::settings::Settings;
use crate::values::Domain;

mod apply_cmd;
mod check;
mod check_state;
mod demo;
mod rotate_cmd;
mod selftest_cmd;
mod wizard;

/// What a command line comes to: an exit code, or the wizard to open on this terminal.
#[derive(Debug)]
pub enum Launch {
    Exit(u8),
    Wizard(Box<crate::wizard::Options>, crate::flows::Context),
}

/// Run a parsed command line; Ok(what to do next).
pub fn dispatch(cli: Cli) -> Result<Launch> {
    crate::output::set_level(if cli.quiet {
        crate::output::Level::Quiet
    } else if cli.verbose {
        crate::output::Level::Verbose
    } else {
        crate::output::Level::Normal
    });
    if let Some(Command::Demo { keep }) = &cli.command {
        // its own tree: nothing of the host is read or recovered
        return demo::run(&cli, keep.as_deref());
    }
    // Build-time output into a directory of the caller's: no root, lock or recovery.
    if let Some(Command::Generate { dir }) = &cli.command {
        return generate(dir, cli.dry_run).map(Launch::Exit);
    }
    let root = Root::new(&cli.root);
    if !cli.root.is_dir() {
        return Err(Error::Invalid {
            what: format!("--root {}", cli.root.display()),
            reason: "is not a directory; pass an existing directory (default /)".into(),
        });
    }
    let json = matches!(
        cli.command,
        Some(Command::Plan { json: true } | Command::Apply { json: true })
    );
    if json {
        // stdout is the JSON alone; every line for people goes to stderr
        crate::output::set_human_on_stderr(true);
        if matches!(cli.command, Some(Command::Apply { .. })) && !cli.yes && !cli.dry_run {
            return Err(Error::Invalid {
                what: "apply --json".into(),
                reason: "needs --yes: with --json nothing is asked on the terminal (review \
                         the changes with `mailsetup plan --json` first)"
                    .into(),
            });
        }
    }
    let dry_run = cli.dry_run || matches!(cli.command, Some(Command::Plan { .. }));
    needs_root(&root, &cli, dry_run)?;
    let recovered = recover_first(&root, dry_run)?;
    match &cli.command {
        None => return wizard::run(&root, &cli, None, recovered),
        Some(Command::Fix { id }) => return wizard::run(&root, &cli, Some(id), recovered),
        _ => {}
    }
    if let Some(r) = &recovered {
        warnln!("mailsetup: {r}");
    }
    command(&root, &cli).map(Launch::Exit)
}

/// The commands that never open the screen; Ok(exit code).
fn command(root: &Root, cli: &Cli) -> Result<u8> {
    match &cli.command {
        None | Some(Command::Fix { .. } | Command::Demo { .. } | Command::Generate { .. }) => Ok(0),
        Some(Command::Selftest {
            json,
            via_postfix: _,
            to,
            wait,
        }) => selftest_cmd::run(root, cli, *json, to.as_deref(), *wait),
        Some(Command::Plan { json }) => plan_cmd(root, cli, *json),
        Some(Command::Apply { json }) if cli.dry_run => plan_cmd(root, cli, *json),
        Some(Command::Apply { json }) => apply_cmd::run(root, cli, *json),
        Some(Command::Records {
            format,
            json,
            domain,
            fleet,
        }) => {
            let format = if *json { Format::Json } else { *format };
            if fleet.is_empty() {
                records_cmd(root, cli, format, domain)
            } else {
                fleet_cmd(fleet, format, domain)
            }
        }
        Some(Command::Check(args)) => check::run(root, cli, args),
        Some(Command::Rollback { force }) => rollback_cmd(root, cli, *force),
        Some(Command::Rotate(args)) => rotate_cmd::run(root, cli, args),
    }
}

/// `rotate` for the wizard ([`crate::flows::Rotator`], handed to it in its context, so the
/// screen never imports this front end): `argv` a `rotate` command line as
/// [`crate::invocation::Invocation::argv`] makes it, run with the wizard's `settings`.
/// Ok(rotate's exit code); Err(the error's text, or why `argv` is not a `rotate`).
pub fn rotate_for_wizard(
    root: &Root,
    settings: &Settings,
    argv: Vec<std::ffi::OsString>,
) -> std::result::Result<u8, String> {
    use clap::Parser as _;
    let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
    match &cli.command {
        Some(Command::Rotate(args)) => {
            rotate_cmd::run_with(root, &cli, args, settings.clone()).map_err(|e| e.to_string())
        }
        _ => Err("not a rotate command line".into()),
    }
}

/// The async runtime the commands run DNS, milter and service work on. Errors: it cannot
/// start (no threads).
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("start the async runtime", "-", e))
}

/// `generate DIR`: the man page and the completions, for the package.
fn generate(dir: &std::path::Path, dry_run: bool) -> Result<u8> {
    if dry_run {
        for (name, _) in crate::docs::files() {
            sayln!("would write {}", dir.join(name).display());
        }
        sayln!("(dry run: nothing was written)");
        return Ok(0);
    }
    let written = crate::docs::write_to(dir).map_err(|e| Error::io("write", dir, e))?;
    for path in written {
        sayln!("{}", path.display());
    }
    Ok(0)
}

/// Without a terminal, bare `mailsetup` prints this instead of opening the wizard.
fn help() -> u8 {
    use clap::CommandFactory;
    let _ = crate::cli::Cli::command().print_help();
    sayln!(
        "\n(run `mailsetup` in a terminal for the interactive wizard; without one, use \
         `apply`, `plan`, `records`, `check`)"
    );
    0
}

/// Read and validate the `--answers` file, else the answers the wizard saved beneath the
/// root ([`crate::flows::SAVED_ANSWERS`]); which file is said on stderr (stdout stays clean
/// for `--json`). Errors: neither ([`Error::AnswersMissing`]), and as
/// [`crate::flows::settings::given_or_saved`].
pub fn load_settings(root: &Root, cli: &Cli) -> Result<Settings> {
    load_answers(root, cli)?.ok_or(Error::AnswersMissing)
}

/// [`load_settings`], with no answers at all as None.
pub(crate) fn load_answers(root: &Root, cli: &Cli) -> Result<Option<Settings>> {
    crate::flows::settings::given_or_saved_said(root, cli.answers.as_deref(), |path| {
        notln!("mailsetup: answers: {}", path.display());
    })
}

/// `plan` and `apply --dry-run`: the whole plan as diffs (`json`: as JSON, with `changed`
/// whether anything is pending); exit 1 when something would change.
fn plan_cmd(root: &Root, cli: &Cli, json: bool) -> Result<u8> {
    let settings = load_settings(root, cli)?;
    let (_, plan) = crate::flows::plan::of(root, &settings, crate::plan::Part::ALL)?;
    if json {
        let mut out = serde_json::Map::new();
        out.insert("changed".into(), plan.pending().into());
        out.extend(crate::plan::to_json(&plan));
        jsonln!(serde_json::Value::Object(out));
        return Ok(u8::from(plan.pending()));
    }
    say!("{plan}");
    if !plan.pending() {
        return Ok(0);
    }
    for r in &plan.rotations {
        sayln!(
            "rotate: run `{}`",
            cli.invocation()
                .command(&format!("rotate --domain {}", r.domain))
        );
    }
    if !plan.is_empty() {
        sayln!(
            "\n(dry run: nothing was written; `{}` makes these changes)",
            cli.invocation().command("apply")
        );
    }
    Ok(1)
}

/// Ask `question [y/N]` on the terminal: Ok(true) on yes, Ok(false) on anything else.
fn confirm_step(question: &str) -> Result<bool> {
    say!("{question} [y/N] ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Error::io("read", "stdin", e))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// Ask on the terminal; without one, refuse (the operator must pass --yes).
fn confirm(question: &str) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::Refused(
            "not applying without confirmation: stdin is not a terminal\n  fix: review the diff above and run again with --yes".into(),
        ));
    }
    if confirm_step(question)? {
        Ok(())
    } else {
        Err(Error::Refused("not applied: nothing was changed".into()))
    }
}

fn domains(only: &[String]) -> Result<Vec<Domain>> {
    only.iter()
        .map(|d| {
            Domain::parse(d).map_err(|rule| Error::Invalid {
                what: format!("--domain {d:?}"),
                reason: rule.to_string(),
            })
        })
        .collect()
}

fn records_cmd(root: &Root, cli: &Cli, format: Format, only: &[String]) -> Result<u8> {
    let settings = load_settings(root, cli)?;
    let only = domains(only)?;
    if let Some(d) = only
        .iter()
        .find(|d| !settings.domains.contains(d) && !settings.hostname.is_within(d))
    {
        return Err(Error::Invalid {
            what: format!("--domain {d}"),
            reason: "not one of the answers file's domains".into(),
        });
    }
    let (set, _) = crate::flows::records::record_set(root, &settings)?;
    let set = set.filtered(&only);
    print_set(&set, format);
    Ok(0)
}

/// A record set in the form `--format` asks for.
fn print_set(set: &crate::records::RecordSet, format: Format) {
    let text = match format {
        Format::Zone => render::zone(set),
        Format::Table => render::table(set),
        Format::Json => render::json(set),
    };
    say!("{text}");
}

/// `records --fleet FILE…`: each host's records read from its file, merged
/// ([`crate::records::fleet`]), printed as `records` prints its own. Errors: a file cannot be
/// read or parsed; the hosts' records do not merge; a `--domain` none of them has.
fn fleet_cmd(files: &[std::path::PathBuf], format: Format, only: &[String]) -> Result<u8> {
    use crate::records::fleet;
    let mut hosts = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
        hosts.push(fleet::read(&path.display().to_string(), &text)?);
    }
    let set = fleet::merge(&hosts)?;
    let only = domains(only)?;
    if let Some(d) = only.iter().find(|d| !set.zones().contains(d)) {
        return Err(Error::Invalid {
            what: format!("--domain {d}"),
            reason: "no host of the fleet has records in that zone".into(),
        });
    }
    let set = set.filtered(&only);
    print_set(&set, format);
    Ok(0)
}

/// `rollback`: undo the newest session as one transaction; `--dry-run` says what it would do.
/// Ok(0) done or nothing to do; Ok(1) declined, or (dry run) something would be undone.
fn rollback_cmd(root: &Root, cli: &Cli, force: bool) -> Result<u8> {
    let preview = apply::rollback_preview(root, force)?;
    if preview.stamps.is_empty() {
        sayln!(
            "nothing to roll back: no applied run is recorded under {}",
            system::STATE_DIR
        );
        return Ok(0);
    }
    sayln!("rolling back {}:", apply::describe(&preview.stamps));
    for line in preview.lines.iter().chain(&preview.services) {
        sayln!("  {line}");
    }
    if cli.dry_run {
        sayln!(
            "\n(dry run: nothing was changed; `{}` does this)",
            cli.invocation().command("rollback")
        );
        return Ok(1);
    }
    if !cli.yes {
        match confirm("restore the files as they were before it?") {
            Ok(()) => {}
            Err(Error::Refused(why)) if why.starts_with("not applied") => {
                sayln!("not rolled back: nothing was changed");
                return Ok(1);
            }
            Err(e) => return Err(e),
        }
    }
    let done = apply::rollback(
        root,
        &apply::RollbackOptions {
            force,
            session: None,
            now: std::time::SystemTime::now(),
            restart: true,
        },
    )?;
    if let Some(r) = &done.recovered {
        warnln!("mailsetup: {r}");
    }
    sayln!("rolled back {}:", apply::describe(&done.stamps));
    for line in done.lines.iter().chain(&done.services) {
        sayln!("  {line}");
    }
    Ok(0)
}

/// A command that changes the host (`apply`, `fix --yes`, `rollback`, without `--dry-run`)
/// beneath `--root /` by a user who is not root stops before touching anything (the lock
/// included), saying to use sudo. Beneath another root the tree's owner may run it: its
/// state directory and lock are inside the tree, and no service, user or group of the host
/// is touched.
fn needs_root(root: &Root, cli: &Cli, dry_run: bool) -> Result<()> {
    let (writes, what) = match &cli.command {
        Some(Command::Apply { .. }) => (true, "apply"),
        Some(Command::Fix { .. }) => (cli.yes, "fix --yes"),
        Some(Command::Rollback { .. }) => (true, "rollback"),
        Some(Command::Rotate(_)) => (true, "rotate"),
        _ => (false, ""),
    };
    if writes && !dry_run && root.is_host() && !nix::unistd::Uid::effective().is_root() {
        return Err(Error::Refused(format!(
            "`mailsetup {what}` changes files in /etc and restarts services, which needs root; \
             nothing was changed\n  fix: run it with sudo: sudo mailsetup {what} … (or add \
             --dry-run to see the changes as this user)"
        )));
    }
    Ok(())
}

/// Before anything else: an interrupted run is recovered (its journal undone); the caller
/// says so. With `--dry-run` (and `plan`) nothing is written: it is only said, here. A
/// journal that cannot even be looked at (not root) is left to a command that can.
fn recover_first(root: &Root, dry_run: bool) -> Result<Option<apply::Recovered>> {
    if dry_run {
        if let Ok(Some(j)) = apply::pending(root) {
            warnln!(
                "mailsetup: an interrupted run was found: `{}` (pid {}, started {}) stopped while \
                 {}; the next mailsetup command without --dry-run undoes it (what is shown here \
                 is the state it left)",
                j.what,
                j.pid,
                j.started,
                j.phase.doing()
            );
        }
        return Ok(None);
    }
    apply::recover(root)
}
