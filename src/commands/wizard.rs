//! Bare `mailsetup` and `mailsetup fix <id>`: the wizard's options for this terminal
//! (pre-filled from `--answers` or the answers saved by the last run), for the caller to open
//! its screen; `fix` without a screen applies the step that repairs the finding here.

use std::io::IsTerminal;

use super::Launch;
use super::check::dns_options;
use crate::check::{self, ids, report};
use crate::cli::Cli;
use crate::error::{Error, Result};
use crate::flows;
use crate::flows::check::Verdict;
use crate::host::system::Root;
use crate::settings::Settings;
use crate::wizard::{Options, Step};

/// Open the wizard; `fix`: at the step that repairs this finding. Without a terminal, bare
/// `mailsetup` prints the help instead (exit 0); `fix` with `--yes` or without a terminal
/// works without the screen ([`without_screen`]).
pub(super) fn run(
    root: &Root,
    cli: &Cli,
    fix: Option<&str>,
    recovered: Option<crate::host::apply::Recovered>,
) -> Result<Launch> {
    let terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    // the first screen of a bare wizard says it; everything else says it here
    let screen = terminal && fix.is_none();
    if let (Some(r), false) = (&recovered, screen) {
        warnln!("mailsetup: {r}");
    }
    if fix.is_none() && !terminal {
        return Ok(Launch::Exit(super::help()));
    }
    let answers = if fix.is_some() {
        super::load_answers(root, cli)?
    } else {
        flows::settings::given_or_saved(root, cli.answers.as_deref())?
    };
    let dns = dns_options(&cli.dns)?;
    let mut open_at = None;
    if let Some(id) = fix {
        let id = known(id)?;
        let settings = answers.as_ref().ok_or_else(|| Error::Invalid {
            what: format!("fix {id}"),
            reason: format!(
                "needs the answers: pass --answers FILE (or run the wizard once, which saves \
                 them to {})",
                flows::SAVED_ANSWERS
            ),
        })?;
        let found = match verdict(settings, root, id, &dns)?.0 {
            Verdict::Failing(found) => found,
            Verdict::Clear => {
                sayln!(
                    "{id}: not failing now; nothing to fix ({} shows everything)",
                    cli.invocation().command("check")
                );
                return Ok(Launch::Exit(0));
            }
            Verdict::Unverifiable(why) => {
                sayln!(
                    "{id}: cannot tell whether it fails: the check that reports it could not \
                     run, so nothing is fixed"
                );
                for f in &why {
                    say!("{}", report::finding_text(f));
                }
                return Ok(Launch::Exit(check::EXIT_UNVERIFIABLE));
            }
        };
        match Step::for_finding(found.id) {
            Some(step) if terminal && !cli.yes => open_at = Some((step, found)),
            step => {
                return without_screen(root, cli, &dns, settings, step, &found).map(Launch::Exit);
            }
        }
    }
    if !terminal {
        return Err(Error::Refused(
            "the wizard needs a terminal: run it in an interactive shell (ssh -t), or use \
             `mailsetup apply --answers FILE` without one"
                .into(),
        ));
    }
    let interrupted = match recovered.filter(|_| screen) {
        Some(r) => {
            let earlier = match &r.session {
                Some(s) => crate::host::apply::session_runs(root, s)?,
                None => 0,
            };
            Some(crate::wizard::Interrupted {
                notice: r.to_string(),
                session: r.session.clone(),
                earlier,
            })
        }
        None => None,
    };
    let options = Options {
        dry_run: cli.dry_run,
        answers,
        fix: open_at,
        interrupted,
        invocation: cli.invocation(),
        demo: None,
    };
    let ctx = flows::Context {
        root: root.clone(),
        dns,
        session: Some(flows::session()),
        demo: None,
        rotate: Some(super::rotate_for_wizard),
    };
    Ok(Launch::Wizard(Box::new(options), ctx))
}

/// `mailsetup fix <id>` without the screen: the finding; then the diff of the step that
/// repairs it and of the steps it needs, confirmed, applied and their services restarted (as
/// `apply`); then every local check again, since the run may have changed what they see.
/// Ok(0) when the finding is gone and no local check fails; Ok(3) when whether it is gone
/// cannot be told (its check could not run) and no local check fails; Ok(1) when it
/// remains, a local check fails (each is shown, marked when the run made it), no step edits its cause (its own
/// fix is printed), or for `--dry-run` with changes pending.
fn without_screen(
    root: &Root,
    cli: &Cli,
    dns: &crate::dns::AuthOptions,
    settings: &Settings,
    step: Option<Step>,
    found: &check::Finding,
) -> Result<u8> {
    say!("{}", report::finding_text(found));
    let Some((step, part)) = step.and_then(|s| s.part().map(|p| (s, p))) else {
        sayln!(
            "\nmailsetup changes nothing on this server for it: do what the fix line says, \
             then run {}",
            cli.invocation().command("check")
        );
        return Ok(1);
    };
    if cli.dry_run {
        let current = crate::plan::Current::read(root, settings)?;
        let parts = crate::plan::with_prerequisites(settings, &current, &[part])?;
        let plan = crate::plan::build_parts(settings, &current, &parts)?;
        say!(
            "── step {}: {} ──\n{plan}",
            step.numbered_on(settings, &current),
            step.title()
        );
        sayln!("\n(dry run: nothing was written)");
        return Ok(u8::from(!plan.is_empty()));
    }
    let before = flows::check::local(root, settings);
    let changed = super::apply_cmd::fix_step(root, cli, settings, step)?;
    let mut unverifiable = false;
    let cleared = match verdict(settings, root, found.id, dns)?.0 {
        Verdict::Clear => {
            sayln!("{}: cleared", found.id);
            true
        }
        Verdict::Failing(still) => {
            say!(
                "{} is still failing after the step:\n{}",
                found.id,
                report::finding_text(&still)
            );
            if !changed {
                sayln!(
                    "  the {} step had nothing to change; `{}` brings every file mailsetup \
                     manages in line with the answers",
                    step.title(),
                    cli.invocation().command("apply")
                );
            }
            false
        }
        Verdict::Unverifiable(why) => {
            sayln!("{}: cannot tell whether it is cleared:", found.id);
            for f in &why {
                say!("{}", report::finding_text(f));
            }
            unverifiable = true;
            false
        }
    };
    let after = flows::check::local(root, settings);
    let failing = local_failures(&before, &after, found.id);
    if failing.is_empty() {
        sayln!("every local check passes");
    } else {
        sayln!("the local checks, run again after the step, still fail:");
        for (f, new) in &failing {
            let mark = if *new {
                " (new: the run made this)"
            } else {
                ""
            };
            say!("{}{mark}\n", report::finding_text(f).trim_end());
        }
    }
    Ok(if !failing.is_empty() {
        1
    } else if unverifiable {
        check::EXIT_UNVERIFIABLE
    } else {
        u8::from(!cleared)
    })
}

/// The error and warning findings of the local checks `after` a fix, except the one fixed
/// (said above), each with whether it is new since `before`.
fn local_failures(
    before: &[check::JobResult],
    after: &[check::JobResult],
    fixed: &str,
) -> Vec<(check::Finding, bool)> {
    let bad = |r: &[check::JobResult]| -> Vec<check::Finding> {
        r.iter()
            .flat_map(|j| j.findings.iter())
            .filter(|f| f.severity != check::Severity::Info && f.id != fixed)
            .cloned()
            .collect()
    };
    let was = bad(before);
    bad(after)
        .into_iter()
        .map(|f| {
            let new = !was.iter().any(|w| w.id == f.id && w.subject == f.subject);
            (f, new)
        })
        .collect()
}

/// [`flows::check::verdict`], on a runtime of its own.
fn verdict(
    settings: &Settings,
    root: &Root,
    id: &str,
    dns: &crate::dns::AuthOptions,
) -> Result<(Verdict, check::Report)> {
    let rt = super::runtime()?;
    rt.block_on(flows::check::verdict(root, settings, id, dns))
}

/// `id` as one of [`ids::ALL`]. Errors: it is none of them (the error names the nearest
/// id, [`nearest`], or lists them all when none is close).
fn known(id: &str) -> Result<&'static str> {
    ids::ALL
        .iter()
        .find(|i| **i == id)
        .copied()
        .ok_or_else(|| Error::Invalid {
            what: format!("fix {id}"),
            reason: match nearest(id) {
                Some(near) => format!(
                    "is not a finding id; did you mean {near}? (`mailsetup check` prints \
                     each finding's id)"
                ),
                None => format!("is not a finding id; the ids are: {}", ids::ALL.join(", ")),
            },
        })
}

/// The finding id closest to a mistyped `id`: one whose part after the dot is `id` (`fix
/// not-configured`), else the one at the smallest edit distance (Damerau–Levenshtein, so a
/// swapped pair counts once) when that is small for its length; None when nothing is close.
fn nearest(id: &str) -> Option<&'static str> {
    let id = id.trim().to_ascii_lowercase();
    if let Some(i) = ids::ALL
        .iter()
        .find(|i| i.split_once('.').is_some_and(|(_, rest)| rest == id))
    {
        return Some(i);
    }
    ids::ALL
        .iter()
        .map(|i| (strsim::damerau_levenshtein(&id, i), *i))
        .min()
        .filter(|(distance, i)| *distance <= (i.len() / 4).max(2))
        .map(|(_, i)| i)
}

#[cfg(test)]
mod tests {
    use super::nearest;

    #[test]
    fn a_typo_gets_the_nearest_id_and_nonsense_gets_none() {
        assert_eq!(
            nearest("milter.not-configure"),
            Some("milter.not-configured")
        );
        assert_eq!(
            nearest("milter.not-configurde"),
            Some("milter.not-configured")
        );
        assert_eq!(nearest("not-configured"), Some("milter.not-configured"));
        assert_eq!(nearest("DKIM.MISSING"), Some("dkim.missing"));
        assert_eq!(nearest("spf.too-many-lookup"), Some("spf.too-many-lookups"));
        assert_eq!(nearest("hello"), None);
        assert_eq!(nearest("x"), None);
    }
}
