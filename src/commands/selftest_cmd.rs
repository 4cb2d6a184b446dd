//! `mailsetup selftest`: through the milter socket (default, touching nothing), or
//! `--via-postfix --to ADDRESS` (real messages through Postfix, read back from a local
//! mailbox). Reads what it needs, runs [`crate::selftest`], prints the report.

use std::time::{Duration, SystemTime};

use super::check::{dns_options, print};
use super::load_settings;
use crate::check::Report;
use crate::cli::Cli;
use crate::error::{Error, Result};
use crate::flows;
use crate::host::system::Root;
use crate::plan::Current;
use crate::selftest::mailbox::{self, Mailbox, NotHere};
use crate::selftest::via_postfix::{self, Relay, Sent};
use crate::settings::Settings;

/// Ok(0) when every message is signed and verified (or, to another host's address, sent),
/// Ok(1) otherwise; `to`: `--via-postfix --to ADDRESS`.
pub(super) fn run(root: &Root, cli: &Cli, json: bool, to: Option<&str>, wait: u64) -> Result<u8> {
    let settings = load_settings(root, cli)?;
    let local_p = flows::records::local_keys(&Current::read(root, &settings)?);
    let rt = super::runtime()?;
    let auth = flows::check::authority(&dns_options(&cli.dns)?)?;
    let (results, note) = match to {
        None => {
            let targets = flows::check::milter_targets(root, &settings)?;
            let results = rt.block_on(crate::selftest::run(&targets, &settings, &auth, &local_p));
            (results, None)
        }
        Some(to) => {
            let address: lettre::Address = to.parse().map_err(|e| Error::Invalid {
                what: format!("--to {to:?}"),
                reason: format!("is not a mail address local@domain ({e})"),
            })?;
            let mailbox = locate(root, to)?;
            let token = format!(
                "{}.{}",
                crate::host::apply::record::utc_stamp(SystemTime::now()),
                std::process::id()
            );
            let date = crate::host::apply::record::mail_date(SystemTime::now());
            let probes = via_postfix::probes(&settings, to, &token, &date);
            if cli.dry_run {
                return Ok(would_send(&probes, to, &mailbox, "--dry-run"));
            }
            if !root.is_host() {
                let why = "with a --root other than /, no mail goes through the host's Postfix";
                return Ok(would_send(&probes, to, &mailbox, why));
            }
            let relay = Relay {
                smtp: "127.0.0.1:25".parse().expect("a socket address"),
                helo: settings.hostname.to_string(),
                sendmail: "/usr/sbin/sendmail".into(),
            };
            // where the mailbox ends before sending: only what arrives after it is read
            let mark = mailbox.as_ref().map(mailbox::mark).unwrap_or_default();
            let mut sent: Vec<Sent> = probes
                .into_iter()
                .map(|probe| Sent {
                    answer: via_postfix::send(&probe, &address, &relay),
                    probe,
                    delivered: None,
                })
                .collect();
            let wait = Duration::from_secs(wait);
            let results = rt.block_on(async {
                if let Ok(mb) = &mailbox {
                    via_postfix::collect(&mut sent, mb, &mark, wait)
                        .await
                        .map_err(Error::Refused)?;
                }
                Ok::<_, Error>(
                    via_postfix::judge(&sent, &mailbox, wait, &settings, &auth, &local_p).await,
                )
            })?;
            let note = mailbox.ok().map(|mb| {
                format!(
                    "the test messages stay in {mb}; their Message-IDs start <selftest.{token}."
                )
            });
            (results, note)
        }
    };
    let report = Report::from_results(&results);
    let color = crate::output::color(false);
    print(&report, json, color, &cli.invocation());
    if let (Some(note), false) = (note, json) {
        sayln!("{note}");
    }
    Ok(report.exit_code())
}

/// The milter self-test (a message from each domain through OpenDKIM), as a report, on a
/// runtime of its own.
pub(super) fn report(
    root: &Root,
    settings: &Settings,
    dns: &crate::dns::AuthOptions,
) -> Result<Report> {
    super::runtime()?.block_on(flows::check::selftest(root, settings, dns))
}

/// Where Postfix beneath the root delivers `to`: Ok(Ok(mailbox)), Ok(Err(why it is not a
/// local mailbox)). Errors: postconf cannot read the root's configuration.
fn locate(root: &Root, to: &str) -> Result<std::result::Result<Mailbox, NotHere>> {
    let config = root.path("/etc/postfix");
    let mut c = crate::host::services::command("/usr/sbin/postconf");
    c.arg("-c")
        .arg(&config)
        .arg("-xh")
        .args(mailbox::PARAMETERS);
    let out = crate::host::services::output(&mut c)
        .map_err(|e| Error::io("run postconf (is Postfix installed?)", &config, e))?;
    if !out.status.success() {
        return Err(Error::Refused(format!(
            "postconf could not read {}: {}",
            config.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let conf = mailbox::LocalDelivery::from_postconf(&String::from_utf8_lossy(&out.stdout));
    let text = |p: &str| std::fs::read_to_string(root.path(p)).unwrap_or_default();
    Ok(mailbox::locate(
        root,
        to,
        &conf,
        &text("/etc/aliases"),
        &text("/etc/passwd"),
    ))
}

/// `--dry-run`, or beneath a root other than `/`: what would be sent and read back; exit 1
/// (nothing done).
fn would_send(
    probes: &[via_postfix::Probe],
    to: &str,
    mailbox: &std::result::Result<Mailbox, NotHere>,
    why: &str,
) -> u8 {
    for p in probes {
        sayln!(
            "would send {} from {} to {to} ({})",
            p.message_id,
            p.from,
            p.subject()
        );
    }
    match mailbox {
        Ok(mb) => sayln!("would read them back from {mb} and verify their DKIM-Signature"),
        Err(NotHere::Elsewhere(why)) => sayln!("{to} is not a local mailbox: {why}"),
        Err(NotHere::Unreadable(why)) => sayln!(
            "{to} is delivered on this server, but not to a mailbox mailsetup can read: {why}"
        ),
    }
    sayln!("(nothing sent: {why})");
    1
}
