//! `mailsetup apply` and `mailsetup fix <id> --yes`: the wizard's file steps without a
//! screen. Each step's diff is shown and confirmed (`--yes`, or `y` on the terminal); then
//! the steps accepted are applied as one transaction (`crate::host::apply`: every target checked
//! and every file staged before the first live change, journaled, undone whole on any
//! failure or signal), the services restarted and checked, and the selftest shown. One
//! `rollback` undoes the run.

use std::io::IsTerminal;
use std::time::SystemTime;

use super::check::dns_options;
use super::{confirm_step, load_settings};
use crate::check::ids;
use crate::cli::Cli;
use crate::error::{Error, Result};
use crate::host::apply::{self, Restart, Txn};
use crate::host::system::{self, Root};
use crate::plan::{self, Current, Part};
use crate::settings::Settings;
use crate::wizard::Step;

/// A rotation the plan needs is `mailsetup rotate`'s to do (it waits for DNS): the command,
/// with this run's options.
fn rotation_hints(cli: &Cli, plan: &crate::plan::Plan) {
    for r in &plan.rotations {
        sayln!(
            "rotate: run `{}`",
            cli.invocation()
                .command(&format!("rotate --domain {}", r.domain))
        );
    }
}

/// Apply every step; Ok(0), or Ok(1) when a step was declined (its changes are pending) or
/// the selftest after the restart finds mail unsigned. Errors: no confirmation possible, a
/// plan that cannot be made, or a run that fails (undone whole).
///
/// `json`: the result as JSON on stdout ([`print_json`]; needs `--yes`, checked by the caller).
pub(super) fn run(root: &Root, cli: &Cli, json: bool) -> Result<u8> {
    let settings = load_settings(root, cli)?;
    // nothing to do, or a refusal, writes nothing, not even the lock
    let unlocked = Current::read(root, &settings)?;
    let first = plan::build(&settings, &unlocked)?;
    if first.is_empty() {
        say!("{first}");
        rotation_hints(cli, &first);
        if json {
            print_json(&Walked::nothing(0));
        }
        return Ok(0);
    }
    if !cli.yes && !std::io::stdin().is_terminal() {
        say!("{first}");
        return Err(not_confirmed());
    }
    apply::check(root, &first, &unlocked.accounts)?;
    // from here the lock is held: what is shown is what is applied
    let txn = begin(root)?;
    let current = Current::read(root, &settings)?;
    let whole = plan::build(&settings, &current)?;
    if whole.is_empty() {
        say!("{whole}");
        rotation_hints(cli, &whole);
        if json {
            print_json(&Walked::nothing(0));
        }
        return Ok(0);
    }
    if !cli.yes && !std::io::stdin().is_terminal() {
        say!("{whole}");
        return Err(not_confirmed());
    }
    let file_steps: Vec<Step> = Step::ALL
        .into_iter()
        .filter(|s| s.part().is_some())
        .collect();
    let walked = walk(&txn, root, cli, &settings, &current, &file_steps, "apply")?;
    if json {
        print_json(&walked);
    }
    Ok(u8::from(walked.skipped > 0 || walked.unsigned))
}

/// `apply --json`: `{"changed", "files", "directories", "keys", "permissions", "groups",
/// "services", "notes", "backups", "service_results", "run_record", "unsigned"}`: what was
/// applied (the plan's shape, [`plan::to_json`]), whether anything was written, and what the
/// run did besides.
fn print_json(w: &Walked) {
    let mut out = serde_json::Map::new();
    out.insert("changed".into(), (w.applied > 0).into());
    out.extend(plan::to_json(&w.plan));
    out.insert("backups".into(), serde_json::json!(w.backups));
    out.insert("service_results".into(), w.service_lines.clone().into());
    out.insert("run_record".into(), serde_json::json!(w.run_record));
    out.insert("unsigned".into(), w.unsigned.into());
    jsonln!(serde_json::Value::Object(out));
}

/// Take the lock (recovering an interrupted run first, which is said on stderr).
fn begin(root: &Root) -> Result<Txn> {
    let mut txn = Txn::begin(root, SystemTime::now())?;
    if let Some(r) = txn.recovered.take() {
        warnln!("mailsetup: {r}");
    }
    Ok(txn)
}

/// `mailsetup fix <id>` without the screen: the diff of the step and of every step it needs
/// whose changes are pending ([`plan::with_prerequisites`]: the Milter step brings the
/// OpenDKIM step along when OpenDKIM does not listen on its socket yet), each confirmed,
/// applied as one run with the services restarted and checked, as `apply` does. Ok(whether
/// it changed something); errors as [`run`].
pub(super) fn fix_step(root: &Root, cli: &Cli, settings: &Settings, step: Step) -> Result<bool> {
    let parts: Vec<Part> = step.part().into_iter().collect();
    let current = Current::read(root, settings)?;
    let p = plan::build_parts(
        settings,
        &current,
        &plan::with_prerequisites(settings, &current, &parts)?,
    )?;
    if !p.is_empty() && !cli.yes && !std::io::stdin().is_terminal() {
        say!(
            "── step {}: {} ──\n{p}",
            step.numbered_on(settings, &current),
            step.title()
        );
        return Err(not_confirmed());
    }
    apply::check(root, &p, &current.accounts)?;
    let txn = begin(root)?;
    let current = Current::read(root, settings)?;
    let steps: Vec<Step> = plan::with_prerequisites(settings, &current, &parts)?
        .into_iter()
        .map(Step::of_part)
        .collect();
    let brought: Vec<&str> = steps
        .iter()
        .filter(|s| **s != step)
        .map(|s| s.title())
        .collect();
    let mut what = format!(
        "fix: step {} ({})",
        step.numbered_on(settings, &current),
        step.title()
    );
    if !brought.is_empty() {
        sayln!(
            "the {} step needs the {} step(s), whose changes are pending: they are shown and \
             applied in the same run\n",
            step.title(),
            brought.join(", ")
        );
        what = format!("{what} with {}", brought.join(", "));
    }
    walk(&txn, root, cli, settings, &current, &steps, &what).map(|w| w.applied > 0)
}

fn not_confirmed() -> Error {
    Error::Refused(
        "not applying without confirmation: stdin is not a terminal\n  fix: review the diff \
         above and run again with --yes"
            .into(),
    )
}

/// What [`walk`] did.
struct Walked {
    applied: usize,
    /// Steps with changes the operator declined (`n`): still pending.
    skipped: usize,
    /// The selftest after the restart found mail unsigned, or signed with another key than
    /// the local one: the set-up does not work. (A published key that does not verify yet
    /// is expected before the records are published, and is only shown.)
    unsigned: bool,
    /// What was applied.
    plan: plan::Plan,
    /// The backups made, the service actions' lines (done, or reported beneath a test
    /// root), and the run record (its system path).
    backups: Vec<std::path::PathBuf>,
    service_lines: Vec<String>,
    run_record: Option<std::path::PathBuf>,
}

impl Walked {
    /// Nothing applied; `skipped` steps declined.
    fn nothing(skipped: usize) -> Walked {
        Walked {
            applied: 0,
            skipped,
            unsigned: false,
            plan: plan::Plan::default(),
            backups: Vec::new(),
            service_lines: Vec::new(),
            run_record: None,
        }
    }
}

/// Show and confirm each step's diff (each built on the state as it is now), then apply the
/// accepted ones as one run, restart, and show the selftest.
fn walk(
    txn: &Txn,
    root: &Root,
    cli: &Cli,
    settings: &Settings,
    current: &Current,
    steps: &[Step],
    what: &str,
) -> Result<Walked> {
    let (accepted, skipped) = choose(cli, settings, current, steps)?;
    let parts: Vec<Part> = accepted.iter().filter_map(|s| s.part()).collect();
    plan::check_selection(settings, current, &parts)?;
    if skipped > 0 {
        sayln!(
            "{skipped} step(s) skipped: their changes are still pending (`{}` shows them)",
            cli.invocation().command("plan")
        );
    }
    if accepted.is_empty() {
        sayln!("nothing was changed");
        return Ok(Walked::nothing(skipped));
    }
    let plan = plan::build_parts(settings, current, &parts)?;
    let receipt = apply::apply_in(
        txn,
        &plan,
        &current.accounts,
        &apply::Options {
            what: what.into(),
            now: SystemTime::now(),
            session: Some(crate::flows::session()),
            restart: Restart::NowAndCheck,
        },
    )?;
    if !crate::output::quiet() {
        for b in receipt
            .record
            .files
            .iter()
            .filter_map(|f| f.backup.as_ref())
        {
            sayln!("  backup: {}", b.display());
        }
        for line in receipt.reported.iter().chain(&receipt.services) {
            sayln!("  {line}");
        }
    }
    let again = plan::build_parts(settings, &Current::read(root, settings)?, &parts)?;
    if !again.is_empty() {
        say!("  ! changes remain after applying:\n{again}");
    }
    let unsigned = selftest(root, cli, settings);
    let run = cli.invocation();
    let record = format!("{}/runs/{}.json", system::STATE_DIR, receipt.record.stamp);
    sayln!(
        "applied {} step(s) as one run; run record {}\nundo with: {}\nnext: publish the \
         records from `{}`, then run `{}`",
        accepted.len(),
        run.beneath_root(&record).display(),
        run.command("rollback"),
        run.command("records"),
        run.command("check")
    );
    Ok(Walked {
        applied: accepted.len(),
        skipped,
        unsigned,
        backups: receipt
            .record
            .files
            .iter()
            .filter_map(|f| f.backup.clone())
            .collect(),
        service_lines: receipt
            .reported
            .iter()
            .chain(&receipt.services)
            .cloned()
            .collect(),
        run_record: Some(record.into()),
        plan,
    })
}

/// Show each step's diff (built on the state as it is now) and ask for it (`--yes`: every
/// step). Returns the steps accepted and how many were declined. Errors: a plan that cannot
/// be made; no terminal to ask on.
fn choose(
    cli: &Cli,
    settings: &Settings,
    current: &Current,
    steps: &[Step],
) -> Result<(Vec<Step>, usize)> {
    let mut accepted: Vec<Step> = Vec::new();
    let mut skipped = 0;
    for step in steps {
        let Some(part) = step.part() else { continue };
        let p = plan::build_parts(settings, current, &[part])?;
        let header = format!(
            "── step {}: {} ──",
            step.numbered_on(settings, current),
            step.title()
        );
        // -q with --yes: nothing is asked, so only the result is said
        let shown = !(cli.yes && crate::output::quiet());
        if p.is_empty() {
            if shown {
                sayln!("{header}\nalready done: the files match\n");
            }
            continue;
        }
        if shown {
            say!("{header}\n{p}");
        }
        if !cli.yes && !std::io::stdin().is_terminal() {
            return Err(not_confirmed());
        }
        if cli.yes || confirm_step("apply this step?")? {
            accepted.push(*step);
            if shown {
                sayln!();
            }
        } else {
            skipped += 1;
            sayln!("skipped\n");
        }
    }
    Ok((accepted, skipped))
}

/// The selftest after the restart (on the host only: beneath a test root no OpenDKIM runs;
/// not with `signer = "amavisd-new"`, where OpenDKIM does not sign).
/// True when mail is unsigned or signed with another key than the local one.
fn selftest(root: &Root, cli: &Cli, settings: &Settings) -> bool {
    if !root.is_host() {
        return false;
    }
    if settings.signer == crate::values::Signer::AmavisdNew {
        sayln!(
            "\nselftest: not run: amavisd-new signs (signer = \"amavisd-new\"), and the selftest \
             hands messages to OpenDKIM"
        );
        return false;
    }
    let report =
        dns_options(&cli.dns).and_then(|dns| super::selftest_cmd::report(root, settings, &dns));
    match report {
        Ok(report) => {
            sayln!("\nselftest (a message from each domain through OpenDKIM):");
            say!("{}", crate::check::report::to_human(&report, false));
            report
                .findings
                .iter()
                .any(|f| [ids::SELFTEST_UNSIGNED, ids::SELFTEST_DKIM_FAIL_LOCAL].contains(&f.id))
        }
        Err(e) => {
            // the socket check after the restart already passed: say why, do not judge
            sayln!("\nselftest: {e}");
            false
        }
    }
}
