//! Bare `mailsetup` and `mailsetup fix <id>`: start the wizard (`crate::tui`) on this
//! terminal, pre-filled from `--answers` or the answers saved by the last run.

use std::io::IsTerminal;
use std::path::Path;

use super::check::dns_options;
use super::{load_settings, record_set, server_ipv4};
use crate::check::{self, ids, report};
use crate::cli::Cli;
use crate::error::{Error, Result};
use crate::settings::Settings;
use crate::system::Root;
use crate::tui::{self, effects};
use crate::wizard::{Options, Step};

/// Open the wizard; `fix`: at the step that repairs this finding. Without a terminal, bare
/// `mailsetup` prints the help instead (exit 0).
pub(super) fn run(root: &Root, cli: &Cli, fix: Option<&str>) -> Result<u8> {
    let terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    if fix.is_none() && !terminal {
        return Ok(super::help());
    }
    let answers = answers(root, cli)?;
    let dns = dns_options(&cli.dns)?;
    let fix = match fix {
        Some(id) => match finding(root, answers.as_ref(), id, &dns)? {
            Some(found) => Some(found),
            None => return Ok(0),
        },
        None => None,
    };
    if let (Some((step, found)), Some(settings)) = (&fix, &answers)
        && (cli.yes || !terminal || *step == Step::Summary)
    {
        // without the screen: the finding, then that step's diff → confirm → apply
        print!("{}", report::finding_text(found));
        let Some(part) = step.part() else {
            println!(
                "\nmailsetup changes nothing on this server for it: do what the fix line says, \
                 then run mailsetup check"
            );
            return Ok(1);
        };
        if cli.dry_run {
            let current = crate::plan::Current::read(root, settings)?;
            let plan = crate::plan::build_parts(settings, &current, &[part])?;
            print!("── step {}/9: {} ──\n{plan}", step.index(), step.title());
            println!("\n(dry run: nothing was written)");
            return Ok(u8::from(!plan.is_empty()));
        }
        return super::apply_cmd::fix_step(root, cli, settings.clone(), *step);
    }
    if !terminal {
        return Err(Error::Refused(
            "the wizard needs a terminal: run it in an interactive shell (ssh -t), or use \
             `mailsetup apply --answers FILE` without one"
                .into(),
        ));
    }
    let options = Options {
        dry_run: cli.dry_run,
        answers,
        fix,
    };
    let ctx = effects::Context {
        root: root.clone(),
        dns,
        session: Some(super::apply_cmd::session()),
    };
    tui::run(options, ctx)
}

/// `--answers FILE`, else the answers saved by the last run beneath the root, else none.
fn answers(root: &Root, cli: &Cli) -> Result<Option<Settings>> {
    if cli.answers.is_some() {
        return load_settings(cli).map(Some);
    }
    let saved = root.path(effects::SAVED_ANSWERS);
    match std::fs::read_to_string(&saved) {
        Ok(text) => Ok(Some(crate::answers::parse(&text)?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", Path::new(effects::SAVED_ANSWERS), e)),
    }
}

/// The failing finding `id` and the step that repairs it; `None` (after saying so) when
/// the check passes now.
fn finding(
    root: &Root,
    settings: Option<&Settings>,
    id: &str,
    dns: &crate::dns::AuthOptions,
) -> Result<Option<(Step, check::Finding)>> {
    let known = ids::ALL
        .iter()
        .find(|i| **i == id)
        .ok_or_else(|| Error::Invalid {
            what: format!("fix {id}"),
            reason: format!("is not a finding id; the ids are: {}", ids::ALL.join(", ")),
        })?;
    // no step repairs it: the finding's own fix is printed (Step::Summary stands for none)
    let step = Step::for_finding(known).unwrap_or(Step::Summary);
    let settings = settings.ok_or_else(|| Error::Invalid {
        what: format!("fix {id}"),
        reason: format!(
            "needs the answers: pass --answers FILE (or run the wizard once, which saves \
             them to {})",
            effects::SAVED_ANSWERS
        ),
    })?;
    let findings = if known.starts_with("selftest.") {
        super::selftest_cmd::findings(root, settings, dns)?
    } else {
        let (set, current) = record_set(root, settings)?;
        let input =
            super::check::check_input(settings, server_ipv4(settings)?, &set, &current, &[]);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("start the async runtime", Path::new("-"), e))?;
        let local = crate::local::checks(&crate::local::read(root), settings);
        super::check::with_local(&local, rt.block_on(check::run(&input, dns))).findings
    };
    match findings.into_iter().find(|f| f.id == *known) {
        Some(f) => Ok(Some((step, f))),
        None => {
            println!("{id}: not failing now; nothing to fix (mailsetup check shows everything)");
            Ok(None)
        }
    }
}
