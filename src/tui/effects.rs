//! Running the wizard's [`Effect`]s: the only place the wizard touches the system, always
//! through the use cases ([`crate::flows`]) and the edges ([`crate::host`], [`crate::dns`]).
//! Each effect becomes one [`Msg`] (or none). Blocking work (reading files, applying, key
//! generation) runs on tokio's blocking pool so the screen never freezes.
//!
//! With a `--root` other than `/`, nothing outside that tree changes: packages are not
//! installed (the command is reported), services are only reported (as `apply` does).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use base64::Engine;

use crate::flows::{self, records::record_set};
use crate::host::apply;
use crate::host::packages;
use crate::host::system::{self, Root};
use crate::plan;
use crate::records::render;
use crate::settings::Settings;
use crate::wizard::{Effect, Msg, Step};

pub use crate::flows::{Context, SAVED_ANSWERS, SAVED_RECORDS};

/// Run one effect; the message to feed back, if any. `Quit` is the runtime's own.
pub async fn run(effect: Effect, ctx: Arc<Context>) -> Option<Msg> {
    match effect {
        Effect::Quit => None,
        Effect::Scan => {
            let root = ctx.root.clone();
            let mut scan = tokio::task::spawn_blocking(move || packages::scan(&root))
                .await
                .ok()?;
            scan.provider_guess = provider_guess(&ctx, scan.ipv4).await;
            Some(Msg::Scanned(scan))
        }
        Effect::Install(list) => {
            blocking(move || Msg::Installed(packages::install(&ctx.root, &list))).await
        }
        Effect::Plan(step, settings) => {
            blocking(move || Msg::Planned(step, plan_step(&ctx.root, step, &settings))).await
        }
        Effect::Apply(step, plan) => {
            blocking(move || {
                Msg::Applied(
                    step,
                    apply_plan(&ctx.root, step, &plan, ctx.session.as_deref()),
                )
            })
            .await
        }
        Effect::Records(settings) => {
            blocking(move || Msg::Records(records(&ctx.root, &settings))).await
        }
        Effect::Check(settings) => Some(check(&ctx, &settings).await),
        Effect::Readiness(settings) => readiness(&ctx, &settings).await,
        Effect::Selftest(settings) => Some(selftest(&ctx, &settings).await),
        Effect::Restart(actions) => {
            blocking(move || Msg::Restarted(restart(&ctx.root, &actions, ctx.session.as_deref())))
                .await
        }
        Effect::Copy(text) => Some(Msg::Done(copy(&text))),
        Effect::SaveRecords(text) => {
            blocking(move || Msg::Done(save(&ctx.root, SAVED_RECORDS, &text, 0o644))).await
        }
        Effect::Publish(settings) => {
            blocking(move || Msg::Published(publish(&ctx, &settings))).await
        }
        Effect::SaveAnswers(settings) => {
            blocking(move || Msg::Done(save_answers(&ctx.root, &settings))).await
        }
        Effect::Rotate(run) => blocking(move || Msg::Rotated(rotate(&ctx, run))).await,
        Effect::UndoSession(session) => {
            blocking(move || Msg::SessionUndone(undo_session(&ctx.root, &session))).await
        }
    }
}

/// The provider the PTR name of `ipv4` (the detected address) obviously belongs to
/// ([`crate::provider::guess`]), looked up at the authoritative servers; only on this host
/// (`--root /`): a `--root DIR` tree (a lab, the demo) is not this machine's address.
async fn provider_guess(
    ctx: &Context,
    ipv4: Option<std::net::Ipv4Addr>,
) -> Option<crate::provider::Provider> {
    let ip = std::net::IpAddr::V4(ipv4.filter(|_| ctx.root.is_host())?);
    let auth = crate::dns::Authority::new(ctx.dns).ok()?;
    let answer = auth
        .observe(&crate::dns::reverse_name(ip), crate::dns::auth::ask::ptr)
        .await
        .and_then(|o| o.best().cloned())
        .ok()?;
    crate::provider::guess_any(answer.records.iter().map(String::as_str))
}

async fn blocking(job: impl FnOnce() -> Msg + Send + 'static) -> Option<Msg> {
    tokio::task::spawn_blocking(job).await.ok()
}

fn plan_step(root: &Root, step: Step, settings: &Settings) -> Result<plan::Plan, String> {
    let part = step.part().ok_or("this step has no plan")?;
    flows::plan::of_step(root, settings, part)
        .map(|(_, plan)| plan)
        .map_err(|e| e.to_string())
}

/// Apply through the one writer (one transaction per step; its services are restarted once,
/// at the summary); the lines say what was done and where the backups are.
fn apply_plan(
    root: &Root,
    step: Step,
    plan: &plan::Plan,
    session: Option<&str>,
) -> Result<Vec<String>, String> {
    let accounts =
        crate::host::accounts::Accounts::read(root, crate::plan::ACCOUNTS, crate::plan::ACCOUNTS)
            .map_err(|e| e.to_string())?;
    let options = apply::Options {
        what: format!(
            "wizard step {} ({})",
            step.numbered(root.path(crate::amavis::CONF_D).is_dir()),
            step.title()
        ),
        now: SystemTime::now(),
        session: session.map(str::to_string),
        restart: apply::Restart::Defer,
    };
    let receipt = apply::apply(root, plan, &accounts, &options).map_err(|e| {
        // a signal stopped the step (undone): let the screen's own handling end the wizard
        if let crate::error::Error::Interrupted { signal, .. } = &e {
            let _ = nix::sys::signal::raise(
                nix::sys::signal::Signal::try_from(*signal).unwrap_or(nix::sys::signal::SIGTERM),
            );
        }
        e.to_string()
    })?;
    let mut lines: Vec<String> = receipt.recovered.iter().map(|r| r.to_string()).collect();
    lines.extend(
        receipt
            .record
            .files
            .iter()
            .filter_map(|f| f.backup.as_ref())
            .map(|b| format!("backup: {}", b.display())),
    );
    lines.extend(receipt.reported.iter().cloned());
    lines.extend(receipt.services.iter().cloned());
    lines.push(format!(
        "run record: {}/runs/{}.json",
        system::STATE_DIR,
        receipt.record.stamp
    ));
    Ok(lines)
}

/// Step 9's restart, then a check that OpenDKIM answers Postfix. When it does not, every
/// run of this session is rolled back (one transaction), the services restarted again, and
/// the error says what failed.
fn restart(
    root: &Root,
    actions: &[crate::plan::ServiceAction],
    session: Option<&str>,
) -> Result<Vec<String>, String> {
    let failed = match crate::host::services::perform(root, actions) {
        Ok(lines) => match crate::local::serving(root) {
            Ok(()) => return Ok(lines),
            Err(e) => e,
        },
        Err(e) => e.to_string(),
    };
    let Some(session) = session else {
        return Err(failed);
    };
    let undone = apply::rollback(
        root,
        &apply::RollbackOptions {
            force: true,
            session: Some(session.to_string()),
            now: SystemTime::now(),
            restart: true,
        },
    )
    .map_err(|e| format!("{failed}; rolling back: {e}"))?;
    Err(format!(
        "{failed}. Every step of this run was rolled back ({} runs) and the services were \
         restarted",
        undone.stamps.len()
    ))
}

/// Undo the applied steps of an earlier wizard run (one transaction), restarting the
/// services they touched.
fn undo_session(root: &Root, session: &str) -> Result<String, String> {
    let done = apply::rollback(
        root,
        &apply::RollbackOptions {
            force: false,
            session: Some(session.to_string()),
            now: SystemTime::now(),
            restart: true,
        },
    )
    .map_err(|e| e.to_string())?;
    Ok(format!("undone: {}", apply::describe(&done.stamps)))
}

/// Zone form, then the one-string form for web panels (records::render).
fn records(root: &Root, settings: &Settings) -> Result<String, String> {
    let (set, _) = record_set(root, settings).map_err(|e| e.to_string())?;
    Ok(format!(
        "{}\n--- the same, one value per record (for a web form) ---\n\n{}",
        render::zone(&set),
        render::table(&set)
    ))
}

/// `mailsetup demo`: the records `records` computes, published into the demo's DNS, the
/// second nameserver [`crate::demo::SECOND_NAMESERVER_LAG`] later.
fn publish(ctx: &Context, settings: &Settings) -> Result<String, String> {
    let demo = ctx.demo.as_ref().ok_or("only the demo publishes records")?;
    let (set, _) = record_set(&ctx.root, settings).map_err(|e| e.to_string())?;
    let lag = crate::demo::SECOND_NAMESERVER_LAG;
    let (serial, zones) = demo.dns.publish(&set, lag).map_err(|e| e.to_string())?;
    demo.sandbox.keep_zones(&zones).map_err(|e| e.to_string())?;
    let ns: Vec<String> = demo.dns.addresses().iter().map(|a| a.to_string()).collect();
    Ok(format!(
        "published (serial {serial}) at {} now, at {} in {} s; Enter: Verify",
        ns.first().map_or("", String::as_str),
        ns.get(1..).unwrap_or_default().join(", "),
        lag.as_secs()
    ))
}

async fn check(ctx: &Context, settings: &Settings) -> Msg {
    let (root, s) = (ctx.root.clone(), settings.clone());
    // the blocking reads (files, sockets) off the screen's thread, then the DNS checks
    let prepared = tokio::task::spawn_blocking(move || {
        flows::check::input_for(&root, &s, &[]).map(|input| (input, flows::check::local(&root, &s)))
    })
    .await;
    match prepared {
        Ok(Ok((input, local))) => {
            let dns = crate::check::run(&input, &ctx.dns).await;
            Msg::Checked(flows::check::merge(&local, dns))
        }
        Ok(Err(e)) => Msg::Done(format!("cannot check: {e}")),
        Err(e) => Msg::Done(format!("cannot check: {e}")),
    }
}

/// The hostname's AAAA and the IPv6 address's PTR, at the authoritative servers; `None`
/// without an IPv6 address or when no resolver can be built.
async fn readiness(ctx: &Context, settings: &Settings) -> Option<Msg> {
    let ip = settings.ipv6?;
    let ipv6 = ip.to_string();
    let input = crate::check::CheckInput {
        hostname: settings.hostname.clone(),
        // only the AAAA and IPv6 PTR jobs run (the filter below); the IPv4, when there is
        // one, makes an IPv6 PTR problem the `ipv6.no-ptr` choice
        ipv4: settings.ipv4,
        ipv6: Some(ip),
        ipv6_enabled: true,
        provider: settings.provider,
        domains: Vec::new(),
    };
    let auth = crate::dns::Authority::new(ctx.dns).ok()?;
    let results = crate::check::run_jobs(&input, &auth, |check, subject| {
        check == "aaaa" || (check == "ptr" && subject == ipv6)
    })
    .await;
    Some(Msg::Readiness(crate::check::Report::from_results(&results)))
}

/// `mailsetup selftest` for the summary: signed and verified, or what is wrong.
async fn selftest(ctx: &Context, settings: &Settings) -> Msg {
    if !ctx.root.is_host() {
        // beneath a test root no OpenDKIM runs: there is nothing to hand a message to
        return Msg::Done("selftest: not run beneath --root (no service runs there)".into());
    }
    match flows::check::selftest(&ctx.root, settings, &ctx.dns).await {
        Ok(report) => Msg::SelfTested(report),
        Err(e) => Msg::Done(format!("selftest: {e}")),
    }
}

/// OSC 52: the terminal (also over SSH) puts the text on the clipboard.
fn copy(text: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text);
    let mut out = std::io::stdout();
    match write!(out, "\u{1b}]52;c;{b64}\u{7}").and_then(|_| out.flush()) {
        Ok(()) => "copied to the clipboard (OSC 52; if nothing arrived, use s to save)".into(),
        Err(e) => format!("cannot copy: {e}"),
    }
}

/// Write `text` to `path` beneath the root through apply's transaction (fenced: a symlinked
/// or hard-linked target is refused; staged with its owner and mode, fsynced, renamed). An
/// existing file keeps its owner and mode; a new one is root-owned with `mode` in a 0700
/// directory. These are mailsetup's own files (saved answers and records), not configuration:
/// no diff, no backup.
fn save(root: &Root, path: &str, text: &str, mode: u32) -> String {
    match apply::save(root, Path::new(path), text.as_bytes(), mode) {
        Ok(()) => format!("saved to {path}"),
        Err(e) => format!("cannot save {path}: {e}"),
    }
}

/// `mailsetup rotate` once, without waiting, through the command line's own
/// ([`crate::flows::Rotator`]), with the wizard's settings and this run's options;
/// `--dry-run` for a preview, `--yes` otherwise (the preview was the question). What it says
/// is gathered for the screen; after a switch, the selector that signs now.
fn rotate(ctx: &Context, run: crate::wizard::RotateRun) -> crate::wizard::Rotated {
    let mut args = vec!["rotate", "--timeout", "0"];
    args.push(if run.preview { "--dry-run" } else { "--yes" });
    let argv = run.invocation.argv(&args);
    let (result, text) = match ctx.rotate {
        Some(rotator) => crate::output::captured(|| rotator(&ctx.root, &run.settings, argv)),
        None => (Err("rotation is not available here".into()), String::new()),
    };
    let selector = match (&result, run.preview) {
        (Ok(0), false) => flows::rotate::state(&ctx.root).ok().and_then(|state| {
            state
                .rotations
                .iter()
                .find(|r| r.switched.is_some())
                .and_then(|r| crate::values::Selector::parse(&r.new_selector).ok())
        }),
        _ => None,
    };
    crate::wizard::Rotated {
        preview: run.preview,
        text,
        result,
        selector,
    }
}

fn save_answers(root: &Root, settings: &Settings) -> String {
    let existing = crate::host::system::read_file(root, SAVED_ANSWERS)
        .ok()
        .and_then(|f| f.text);
    let text = crate::answers::write(settings, existing.as_deref());
    save(root, SAVED_ANSWERS, &text, 0o600)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use super::*;

    #[test]
    fn saved_answers_are_private_keep_comments_and_an_existing_mode() {
        let dir = tempfile::tempdir().unwrap();
        let root = Root::new(dir.path());
        let settings =
            crate::answers::parse("hostname = \"mail.example.org\"\ndomains = [\"example.org\"]\n")
                .unwrap();
        assert_eq!(
            save_answers(&root, &settings),
            format!("saved to {SAVED_ANSWERS}")
        );
        let file = root.path(SAVED_ANSWERS);
        assert_eq!(std::fs::metadata(&file).unwrap().mode() & 0o7777, 0o600);
        let parent = file.parent().unwrap();
        assert_eq!(std::fs::metadata(parent).unwrap().mode() & 0o7777, 0o700);
        assert_eq!(
            crate::answers::parse(&std::fs::read_to_string(&file).unwrap()).unwrap(),
            settings
        );

        // the operator's comment and mode survive the next save
        let edited = format!("# mine\n{}", std::fs::read_to_string(&file).unwrap());
        std::fs::write(&file, edited).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
        save_answers(&root, &settings);
        assert!(
            std::fs::read_to_string(&file)
                .unwrap()
                .starts_with("# mine\n")
        );
        assert_eq!(std::fs::metadata(&file).unwrap().mode() & 0o7777, 0o640);
        assert!(
            std::fs::read_dir(parent).unwrap().count() == 1,
            "no temp file is left behind"
        );
    }

    #[test]
    fn a_symlinked_target_is_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let root = Root::new(dir.path());
        let outside = dir.path().join("elsewhere");
        std::fs::write(&outside, "keep").unwrap();
        std::fs::create_dir_all(root.path("/etc/mailsetup")).unwrap();
        std::os::unix::fs::symlink(&outside, root.path(SAVED_RECORDS)).unwrap();
        let said = save(&root, SAVED_RECORDS, "records", 0o644);
        assert!(
            said.starts_with("cannot save /etc/mailsetup/records.txt"),
            "{said}"
        );
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep");
    }
}
