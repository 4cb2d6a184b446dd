//! `mailsetup rotate`: a DKIM key rotation gated on DNS ([`crate::rotate`] holds its values).
//! Start (or resume, from [`crate::rotate::STATE_FILE`]): a new key under a new selector, made
//! by the transaction as the Keys step makes keys, its record printed; wait until every
//! authoritative server serves it with the new `p=`; then switch KeyTable, SigningTable (and
//! the saved answers' `selector`) in one transaction and restart OpenDKIM. `--finish`: retire
//! the old key and print the record to delete.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::check::dns_options;
use super::{confirm, domains, load_settings};
use crate::cli::{Cli, RotateArgs};
use crate::dns::AuthOptions;
use crate::error::{Error, Result};
use crate::host::apply::{self, Extra, Options, Restart};
use crate::host::system::{self, Root};
use crate::opendkim::{KeyTable, SigningTable};
use crate::plan::{
    Current, DirChange, FileChange, KEY_DIR_MODE, KEY_DIR_OWNER, KeyCreation, Perms, Plan, Service,
    ServiceAction, Verb,
};
use crate::records::{dkim_value, render::txt_strings};
use crate::rotate::{self, Rotation, STATE_FILE, State};
use crate::settings::Settings;
use crate::values::{Domain, Selector};

/// Ok(0) switched (or finished), Ok(1) still waiting at the timeout (the rotation kept) or
/// a dry run with something to do.
pub(super) fn run(root: &Root, cli: &Cli, args: &RotateArgs) -> Result<u8> {
    run_with(root, cli, args, load_settings(root, cli)?)
}

/// [`run`] with these settings instead of the answers file's: the wizard's (`r` on the
/// Keys step), which may not be saved yet. The answers file named by `--answers`, or the
/// saved one, still gets the new selector at the switch.
pub(super) fn run_with(
    root: &Root,
    cli: &Cli,
    args: &RotateArgs,
    settings: Settings,
) -> Result<u8> {
    let only = domains(&args.domain)?;
    if let Some(d) = only.iter().find(|d| !settings.domains.contains(d)) {
        return Err(Error::Invalid {
            what: format!("--domain {d}"),
            reason: "is not one of the answers file's domains; add it there first".into(),
        });
    }
    let state = crate::flows::rotate::state(root)?;
    let targets: Vec<Domain> = if !only.is_empty() {
        only
    } else if args.finish || !state.rotations.is_empty() {
        // resume (or finish) what is in progress, not a new rotation of every domain
        settings
            .domains
            .iter()
            .filter(|d| state.of(d).is_some())
            .cloned()
            .collect()
    } else {
        settings.domains.clone()
    };
    if args.finish {
        return finish(root, cli, &settings, state, &targets);
    }
    let given = args
        .selector
        .as_deref()
        .map(|s| {
            Selector::parse(s).map_err(|rule| Error::Invalid {
                what: format!("--selector {s:?}"),
                reason: rule.to_string(),
            })
        })
        .transpose()?;
    let state = start(root, cli, &settings, state, &targets, given.as_ref(), args)?;
    let Some(state) = state else {
        return Ok(1); // dry run
    };
    let waiting: Vec<Rotation> = state
        .rotations
        .iter()
        .filter(|r| r.switched.is_none() && targets.iter().any(|d| d.as_str() == r.domain))
        .cloned()
        .collect();
    if waiting.is_empty() {
        for r in state.rotations.iter().filter(|r| r.switched.is_some()) {
            sayln!("{}", switched_line(r, cli));
        }
        return Ok(0);
    }
    for r in &waiting {
        print_record(r);
    }
    let options = dns_options(&cli.dns)?;
    if cli.dry_run {
        // one look, no wait, no switch
        let lag = super::runtime()?.block_on(crate::flows::rotate::lagging(&waiting, &options));
        for r in &waiting {
            match lag.iter().find(|(d, _)| d == &r.domain) {
                None => sayln!(
                    "{}: every nameserver serves {}: would switch to it",
                    r.domain,
                    r.new_name()
                ),
                Some((_, servers)) => sayln!("{}: waiting for {}", r.domain, servers.join(", ")),
            }
        }
        sayln!(
            "\n(dry run: nothing was written; `{}` waits and switches)",
            cli.invocation().command("rotate")
        );
        return Ok(1);
    }
    let lag = wait(&waiting, &options, args)?;
    if !lag.is_empty() {
        sayln!(
            "\nnot switched: the new record is not served everywhere yet; the old key keeps signing"
        );
        for (domain, servers) in &lag {
            sayln!("  {domain}: waiting for");
            for s in servers {
                sayln!("    {s}");
            }
        }
        sayln!(
            "publish the record at every nameserver, then run `{}` again: it resumes this \
             rotation",
            cli.invocation().command("rotate")
        );
        return Ok(1);
    }
    switch(root, cli, &settings, state, &waiting)
}

fn text_of(root: &Root, path: &str) -> Result<String> {
    Ok(system::read_file(root, path)?.text.unwrap_or_default())
}

/// The new keys and the state, in one transaction; a rotation already on disk is resumed.
/// Ok(None) for a dry run.
fn start(
    root: &Root,
    cli: &Cli,
    settings: &Settings,
    mut state: State,
    targets: &[Domain],
    given: Option<&Selector>,
    args: &RotateArgs,
) -> Result<Option<State>> {
    let kt = KeyTable::parse(&text_of(root, system::KEY_TABLE)?);
    let st = SigningTable::parse(&text_of(root, system::SIGNING_TABLE)?);
    let now = SystemTime::now();
    let mut plan = Plan::default();
    for d in targets {
        if let Some(r) = state.of(d) {
            if let Some(s) = given.filter(|s| s.as_str() != r.new_selector) {
                return Err(Error::Refused(format!(
                    "{d} is already rotating to selector {} (started {}), not {s}\n  fix: run \
                     `{}` without --selector to resume it, or finish it first",
                    r.new_selector,
                    crate::host::apply::record::utc_human(
                        std::time::UNIX_EPOCH + Duration::from_secs(r.started)
                    ),
                    cli.invocation().command("rotate")
                )));
            }
            if r.switched.is_none() {
                notln!(
                    "mailsetup: resuming the rotation of {d} from {} to {}",
                    r.old_selector,
                    r.new_selector
                );
            }
            continue;
        }
        // a rotation changes the key that signs: a domain not signed yet gets its first key
        // from `apply`
        let Some((current, old_key)) = rotate::signing_selector(&st, d)
            .and_then(|s| rotate::key_of(&kt, d, &s).map(|k| (s, k)))
        else {
            return Err(Error::Refused(format!(
                "{d} is not signed yet: the SigningTable has no *@{d} line whose key the \
                 KeyTable names; nothing was changed\n  fix: run `{}` first; rotate changes \
                 a key that signs",
                cli.invocation().command("apply")
            )));
        };
        let new =
            rotate::new_selector(given, &settings.selector, &current, now).map_err(|reason| {
                Error::Invalid {
                    what: format!("the new selector for {d}"),
                    reason,
                }
            })?;
        let dir = PathBuf::from(format!("{}/{d}", system::KEYS_DIR));
        let new_key = dir.join(format!("{new}.private"));
        let exists = system::lstat(root, &new_key)?.is_some();
        if !exists {
            if system::lstat(root, &dir)?.is_none() && !plan.dirs.iter().any(|x| x.path == dir) {
                plan.dirs.push(DirChange {
                    path: dir.clone(),
                    owner: KEY_DIR_OWNER,
                    mode: KEY_DIR_MODE,
                    exists: false,
                    why: "private keys: readable by OpenDKIM only".into(),
                });
            }
            plan.keys.push(KeyCreation {
                domain: d.clone(),
                selector: new.clone(),
                path: new_key.clone(),
                kind: crate::keys::KeyKind::Rsa(settings.key_bits),
                restore_from: None,
            });
        }
        state.put(Rotation {
            domain: d.to_string(),
            old_selector: current,
            new_selector: new.to_string(),
            old_key,
            new_key,
            new_p: String::new(),
            started: rotate::secs(now),
            switched: None,
            keep_old_days: args.keep_old,
        });
    }
    let fresh: Vec<&Rotation> = state
        .rotations
        .iter()
        .filter(|r| r.new_p.is_empty())
        .collect();
    if fresh.is_empty() {
        return Ok(Some(state));
    }
    if settings.key_bits.bits() < 2048 {
        warnln!(
            "mailsetup: key_bits = {} in the answers: the new key is under 2048 bits too \
             (dkim.weak-key); set key_bits = 2048 for a key receivers trust (RFC 8301 §3.2)",
            settings.key_bits.bits()
        );
    }
    sayln!(
        "rotate the DKIM key (the old key keeps signing until every nameserver serves the new one):"
    );
    for r in &fresh {
        sayln!(
            "  {}: selector {} -> {} ({}-bit RSA, key {})",
            r.domain,
            r.old_selector,
            r.new_selector,
            settings.key_bits.bits(),
            r.new_key.display()
        );
    }
    say!("{plan}");
    if cli.dry_run {
        sayln!(
            "\n(dry run: nothing was written; `{}` starts this rotation)",
            cli.invocation().command("rotate")
        );
        return Ok(None);
    }
    if !cli.yes {
        confirm("make the new keys?")?;
    }
    if !plan.keys.is_empty() || !plan.dirs.is_empty() {
        let cur = Current::read(root, settings)?;
        let opts = Options {
            restart: Restart::Defer,
            ..Options::now("rotate: new DKIM keys")
        };
        let extra = Extra {
            own: vec![(PathBuf::from(STATE_FILE), state.to_text().into_bytes())],
            ..Extra::default()
        };
        apply::apply_with(root, &plan, &cur.accounts, &opts, &extra)?;
    }
    // the new keys' public halves, read back from what the transaction wrote
    for r in &mut state.rotations {
        if r.new_p.is_empty() {
            let pem = text_of(root, &r.new_key.to_string_lossy())?;
            r.new_p = crate::keys::public_from_pem(&pem)
                .map_err(|reason| Error::Key {
                    path: root.path(&r.new_key),
                    reason,
                    fix: "move it away and run `mailsetup rotate` again".into(),
                })?
                .p;
        }
    }
    apply::save(
        root,
        Path::new(STATE_FILE),
        state.to_text().as_bytes(),
        0o600,
    )?;
    Ok(Some(state))
}

/// The new record in zone-file form and as one string for a web form.
fn print_record(r: &Rotation) {
    let value = dkim_value(&r.new_p);
    sayln!(
        "\npublish in the zone {} (keep the record of {} as it is):",
        r.domain,
        r.old_selector
    );
    sayln!(
        "  zone file: {}._domainkey 3600 IN TXT {}",
        r.new_selector,
        txt_strings(&value)
    );
    sayln!(
        "  web form:  name {}._domainkey  type TXT  value {value}",
        r.new_selector
    );
}

/// Poll every authoritative server until each serves every new record (Ok(empty)) or the
/// timeout: Ok(the lagging servers per domain).
fn wait(
    waiting: &[Rotation],
    options: &AuthOptions,
    args: &RotateArgs,
) -> Result<Vec<(String, Vec<String>)>> {
    let rt = super::runtime()?;
    let start = Instant::now();
    let timeout = Duration::from_secs(args.timeout);
    loop {
        let lag = rt.block_on(crate::flows::rotate::lagging(waiting, options));
        if lag.is_empty() {
            return Ok(lag);
        }
        let elapsed = start.elapsed();
        if elapsed >= timeout {
            return Ok(lag);
        }
        let next = Duration::from_secs(args.interval).min(timeout - elapsed);
        if !crate::output::quiet() {
            let names: Vec<String> = lag
                .iter()
                .flat_map(|(d, s)| s.iter().map(move |s| format!("{d} at {s}")))
                .collect();
            warnln!(
                "mailsetup: waiting for {}; next look in {} s ({} s left)",
                names.join(", "),
                next.as_secs(),
                (timeout - elapsed).as_secs()
            );
            let _ = std::io::stderr().flush();
        }
        std::thread::sleep(next);
    }
}

/// KeyTable, SigningTable (and the saved answers' selector) switched for `ready` in one
/// transaction, OpenDKIM restarted, the state updated; then, on the host, the selftest.
fn switch(
    root: &Root,
    cli: &Cli,
    settings: &Settings,
    mut state: State,
    ready: &[Rotation],
) -> Result<u8> {
    let cur = Current::read(root, settings)?;
    let (mut kt, mut st) = (
        text_of(root, system::KEY_TABLE)?,
        text_of(root, system::SIGNING_TABLE)?,
    );
    let now = SystemTime::now();
    for r in ready {
        (kt, st) = rotate::switch_tables(&kt, &st, r).map_err(|reason| Error::Invalid {
            what: system::KEY_TABLE.into(),
            reason,
        })?;
        let mut done = r.clone();
        done.switched = Some(rotate::secs(now));
        state.put(done);
    }
    let mut plan = Plan::default();
    let why = "sign with the new selector: every authoritative server serves its record";
    for (file, after) in [(&cur.key_table, kt), (&cur.signing_table, st)] {
        if file.text.as_deref() != Some(after.as_str()) {
            plan.files.push(FileChange {
                path: file.path.clone(),
                before: file.text.clone(),
                after,
                perms: Perms::Keep,
                why: why.into(),
            });
        }
    }
    // the answers name the selector that now signs (one selector for every domain)
    let new_selector = Selector::parse(&ready[0].new_selector).map_err(|r| Error::Invalid {
        what: "selector".into(),
        reason: r.to_string(),
    })?;
    let mut new_settings = settings.clone();
    new_settings.selector = new_selector;
    let saved = system::read_file(root, crate::flows::SAVED_ANSWERS)?;
    if cli.answers.is_none()
        && let Some(text) = &saved.text
    {
        let after = crate::answers::write(&new_settings, Some(text));
        if &after != text {
            plan.files.push(FileChange {
                path: saved.path.clone(),
                before: Some(text.clone()),
                after,
                perms: Perms::Keep,
                why: "the answers name the selector that signs now".into(),
            });
        }
    }
    plan.services.push(ServiceAction::new(
        Service::Opendkim,
        Verb::Restart,
        "it signs with the new selector",
    ));
    say!("\n{plan}");
    let opts = Options::now("rotate: switch to the new selector");
    let extra = Extra {
        own: vec![(PathBuf::from(STATE_FILE), state.to_text().into_bytes())],
        ..Extra::default()
    };
    let (receipt, _) = apply::apply_with(root, &plan, &cur.accounts, &opts, &extra)?;
    for line in receipt.services.iter().chain(&receipt.reported) {
        sayln!("{line}");
    }
    if let Some(given) = &cli.answers {
        write_answers(given, &new_settings)?;
    }
    for r in ready {
        let r = state.of(&Domain::parse(&r.domain).map_err(|e| Error::Invalid {
            what: r.domain.clone(),
            reason: e.to_string(),
        })?);
        if let Some(r) = r {
            sayln!("{}", switched_line(r, cli));
        }
    }
    if root.is_host() && !cli.dry_run {
        let rt = super::runtime()?;
        let report = rt.block_on(crate::flows::check::selftest(
            root,
            &new_settings,
            &dns_options(&cli.dns)?,
        ))?;
        super::check::print(
            &report,
            false,
            crate::output::color(false),
            &cli.invocation(),
        );
        return Ok(report.exit_code().min(1));
    }
    Ok(0)
}

/// The `--answers` file the operator gave, its `selector` set to the one that signs now
/// (comments kept), replaced whole, its owner and mode kept ([`crate::host::operator_file`]).
fn write_answers(path: &Path, settings: &Settings) -> Result<()> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
    let after = crate::answers::write(settings, Some(&text));
    if after == text {
        return Ok(());
    }
    crate::host::operator_file::replace(path, after.as_bytes(), 0o600, "write the answers")?;
    notln!(
        "mailsetup: answers: selector = \"{}\" in {}",
        settings.selector,
        path.display()
    );
    Ok(())
}

fn switched_line(r: &Rotation, cli: &Cli) -> String {
    let at = r
        .removable_at()
        .map(crate::host::apply::record::utc_human)
        .unwrap_or_default();
    format!(
        "{}: signs with selector {} now. Keep the record {} published until {at} ({} days), \
         then run `{}` and delete it",
        r.domain,
        r.new_selector,
        r.old_name(),
        r.keep_old_days,
        cli.invocation().command("rotate --finish")
    )
}

/// `rotate --finish`: for each switched rotation, check nothing signs with the old selector,
/// take its KeyTable line out, retire the old key (as a rollback does) and forget the
/// rotation, in one transaction; print the record to delete.
fn finish(
    root: &Root,
    cli: &Cli,
    settings: &Settings,
    mut state: State,
    targets: &[Domain],
) -> Result<u8> {
    let ready: Vec<Rotation> = targets
        .iter()
        .filter_map(|d| state.of(d).cloned())
        .filter(|r| r.switched.is_some())
        .collect();
    for d in targets
        .iter()
        .filter(|d| state.of(d).is_none_or(|r| r.switched.is_none()))
    {
        let why = match state.of(d) {
            None => "no rotation in progress".to_string(),
            Some(r) => format!(
                "still signs with {}: the switch to {} has not happened yet (run `{}`)",
                r.old_selector,
                r.new_selector,
                cli.invocation().command("rotate")
            ),
        };
        sayln!("{d}: {why}");
    }
    if ready.is_empty() {
        return Ok(1);
    }
    let cur = Current::read(root, settings)?;
    let st = text_of(root, system::SIGNING_TABLE)?;
    let mut kt = text_of(root, system::KEY_TABLE)?;
    let mut extra = Extra::default();
    for r in &ready {
        kt = rotate::finish_tables(&kt, &st, r).map_err(|reason| {
            Error::Refused(format!(
                "{reason}; nothing was changed\n  fix: edit {} and run `{}` again",
                system::SIGNING_TABLE,
                cli.invocation().command("rotate --finish")
            ))
        })?;
        if system::lstat(root, &r.old_key)?.is_some() {
            extra.retire.push(r.old_key.clone());
        }
        state.remove(&r.domain);
    }
    let mut plan = Plan::default();
    if cur.key_table.text.as_deref() != Some(kt.as_str()) {
        plan.files.push(FileChange {
            path: cur.key_table.path.clone(),
            before: cur.key_table.text.clone(),
            after: kt,
            perms: Perms::Keep,
            why: "the old selector signs nothing any more".into(),
        });
        plan.services.push(ServiceAction::new(
            Service::Opendkim,
            Verb::Restart,
            "its KeyTable changed",
        ));
    }
    if state.rotations.is_empty() {
        extra.remove.push(PathBuf::from(STATE_FILE));
    } else {
        extra
            .own
            .push((PathBuf::from(STATE_FILE), state.to_text().into_bytes()));
    }
    say!("{plan}");
    for k in &extra.retire {
        sayln!(
            "retire the key {} (kept under {}/retired-keys/)",
            k.display(),
            system::STATE_DIR
        );
    }
    if cli.dry_run {
        sayln!(
            "\n(dry run: nothing was written; `{}` does this)",
            cli.invocation().command("rotate --finish")
        );
        return Ok(1);
    }
    if !cli.yes {
        confirm("retire the old keys?")?;
    }
    let opts = Options::now("rotate --finish: retire the old keys");
    let (receipt, retired) = apply::apply_with(root, &plan, &cur.accounts, &opts, &extra)?;
    for line in receipt.services.iter().chain(&receipt.reported) {
        sayln!("{line}");
    }
    for k in &retired {
        sayln!("retired to {}", k.display());
    }
    let now = SystemTime::now();
    for r in &ready {
        let when = match r.removable_at() {
            Some(t) if t > now => format!(
                "after {} (mail signed before the switch may still be verified until then)",
                crate::host::apply::record::utc_human(t)
            ),
            _ => "now".into(),
        };
        sayln!(
            "{}: delete the record {}._domainkey (TXT, in the zone {}) {when}",
            r.domain,
            r.old_selector,
            r.domain
        );
    }
    Ok(0)
}
