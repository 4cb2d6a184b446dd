//! `mailsetup apply`: the wizard's steps without a screen. The same [`Wizard`] core drives
//! it (so the two cannot drift): for each step that edits files, the step's diff is printed,
//! confirmed (`--yes`, or `y` on the terminal), applied, and planned again to show it is
//! done. The whole plan is built first, so a conflict or a missing package stops the run
//! before anything is written. All steps are one session: one `rollback` undoes them.

use std::collections::VecDeque;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::SystemTime;

use super::check::dns_options;
use super::{confirm_step, load_settings};
use crate::apply::record::utc_stamp;
use crate::check::ids;
use crate::cli::Cli;
use crate::error::{Error, Result};
use crate::plan::{self, Current};
use crate::settings::Settings;
use crate::system::{self, Root};
use crate::tui::effects::{self, Context};
use crate::wizard::{Effect, Key, Msg, Options, Outcome, Step, Wizard};

/// Apply every step; Ok(0), or Ok(1) when a step was declined (its changes are pending) or
/// the selftest after the restart finds mail unsigned. Errors: no confirmation possible, a
/// plan that cannot be made,
/// or a step that fails (its own changes are undone; earlier steps stay, see `rollback`).
pub(super) fn run(root: &Root, cli: &Cli) -> Result<u8> {
    let settings = load_settings(cli)?;
    let whole = plan::build(&settings, &Current::read(root, &settings)?)?;
    if whole.is_empty() {
        print!("{whole}");
        return Ok(0);
    }
    if !cli.yes && !std::io::stdin().is_terminal() {
        print!("{whole}");
        return Err(Error::Refused(
            "not applying without confirmation: stdin is not a terminal\n  fix: review the \
             diff above and run again with --yes"
                .into(),
        ));
    }
    let walked = walk(root, cli, settings, None)?;
    Ok(u8::from(walked.skipped > 0 || walked.unsigned))
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
}

/// `mailsetup fix <id>` without the screen: that one step's diff, confirmed (`--yes`, or
/// `y` on the terminal), applied, and the services it needs restarted and checked, as
/// `apply` does for every step. Ok(whether it changed something); errors as [`run`].
pub(super) fn fix_step(root: &Root, cli: &Cli, settings: Settings, step: Step) -> Result<bool> {
    walk(root, cli, settings, Some(step)).map(|w| w.applied > 0)
}

/// Drive the wizard's core through every file step from `InetProtocols`, or through `only`,
/// then restart at the summary and show the selftest that follows.
fn walk(root: &Root, cli: &Cli, settings: Settings, only: Option<Step>) -> Result<Walked> {
    let rt = super::runtime()?;
    let ctx = Arc::new(Context {
        root: root.clone(),
        dns: dns_options(&cli.dns)?,
        session: Some(session()),
    });
    let (mut w, start) = Wizard::new(Options {
        dry_run: false,
        answers: Some(settings),
        fix: None,
    });
    let drive = |w: &mut Wizard, effects: Vec<Effect>| {
        let mut queue: VecDeque<Effect> = effects.into();
        while let Some(effect) = queue.pop_front() {
            if matches!(effect, Effect::Quit | Effect::Records(_) | Effect::Check(_)) {
                continue; // beyond apply: `records` and `check` do these
            }
            if let Some(msg) = rt.block_on(effects::run(effect, ctx.clone())) {
                queue.extend(w.update(msg));
            }
        }
    };
    drive(&mut w, start);
    let first = w.goto(only.unwrap_or(Step::InetProtocols));
    drive(&mut w, first);
    let (mut applied, mut skipped) = (0, 0);
    while w.step.part().is_some() {
        let step = w.step;
        let header = format!("── step {}/9: {} ──", step.index(), step.title());
        let Some(p) = w.plans.get(&step) else {
            return Err(Error::Refused(format!(
                "{header}\n{}",
                w.status
                    .clone()
                    .unwrap_or_else(|| "the step could not be planned".into())
            )));
        };
        if p.outcome == Outcome::AlreadyDone {
            println!("{header}\nalready done: the files match\n");
        } else {
            print!("{header}\n{}", p.plan);
            if !cli.yes && !std::io::stdin().is_terminal() {
                return Err(Error::Refused(
                    "not applying without confirmation: stdin is not a terminal\n  fix: review \
                     the diff above and run again with --yes"
                        .into(),
                ));
            }
            let yes = cli.yes || confirm_step("apply this step?")?;
            let effects = w.update(Msg::Key(Key::Char(if yes { 'y' } else { 'n' })));
            drive(&mut w, effects);
            match &w.plans[&step].outcome {
                Outcome::Applied { lines, verified } => {
                    applied += 1;
                    for line in lines {
                        println!("  {line}");
                    }
                    if *verified == Some(false) {
                        println!("  ! changes remain after applying this step");
                    }
                    println!();
                }
                Outcome::Failed(e) => {
                    return Err(Error::Refused(format!(
                        "{} was not applied: {e}{}",
                        step.title(),
                        if applied > 0 {
                            "\n  the steps before it stay applied; undo them with: mailsetup rollback"
                        } else {
                            ""
                        }
                    )));
                }
                _ => {
                    skipped += 1;
                    println!("skipped\n");
                }
            }
            if w.step != step && only.is_none() {
                continue; // `n` already moved on
            }
        }
        if only.is_some() {
            break;
        }
        let effects = w.update(Msg::Key(Key::Enter));
        drive(&mut w, effects);
    }
    // step 9: restart what the applied steps need, once every file is written
    let effects = w.goto(Step::Summary);
    drive(&mut w, effects);
    match w.restarted.take() {
        Some(Ok(lines)) => lines.iter().for_each(|l| println!("  {l}")),
        Some(Err(e)) => return Err(Error::Refused(e)),
        None => {}
    }
    let mut unsigned = false;
    if let Some(report) = w.selftest.take() {
        println!("\nselftest (a message from each domain through OpenDKIM):");
        print!("{}", crate::check::report::to_human(&report, false));
        unsigned = report
            .findings
            .iter()
            .any(|f| [ids::SELFTEST_UNSIGNED, ids::SELFTEST_DKIM_FAIL_LOCAL].contains(&f.id));
    }
    if skipped > 0 {
        println!(
            "{skipped} step(s) skipped: their changes are still pending (mailsetup plan shows \
             them)"
        );
    }
    if applied == 0 {
        println!("nothing was changed");
    } else {
        println!(
            "applied {applied} step(s); run records under {}/runs\nundo with: mailsetup \
             rollback\nnext: publish the records from `mailsetup records`, then run \
             `mailsetup check`",
            system::STATE_DIR
        );
    }
    Ok(Walked {
        applied,
        skipped,
        unsigned,
    })
}

/// A session id for the run records of one apply or one wizard run.
pub(crate) fn session() -> String {
    format!("{}-{}", utc_stamp(SystemTime::now()), std::process::id())
}
