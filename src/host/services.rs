//! Running commands and services: [`command`] is the one place a process is spawned (a
//! cleared environment, a fixed PATH, the C locale); [`perform`] carries out the plan's
//! service actions ([`crate::plan::ServiceAction`], re-exported here) with systemctl where
//! systemd runs, else Debian's init scripts, else the daemons directly. A service that is not
//! running is started (but amavisd-new, an operator's content filter, is left stopped). Beneath a test root nothing runs: the actions are reported as what
//! would be done.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

pub use crate::plan::{Service, ServiceAction, Verb};

use crate::error::{Error, Result};
use crate::host::system::{self, Root};

mod ed25519;

/// The environment every command runs in: no inherited variables but a fixed PATH and C locale
/// (reliability.md G4.9: no user input reaches a shell; absolute paths; cleared environment).
pub fn command(program: &str) -> Command {
    let mut c = Command::new(program);
    c.env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("LC_ALL", "C");
    c
}

/// `cmd.output()`; with `-v`, a line on stderr: the command, its exit status and the time
/// it took. Every command mailsetup runs goes through here.
pub fn output(cmd: &mut Command) -> std::io::Result<std::process::Output> {
    if !crate::output::verbose() {
        return cmd.output();
    }
    let start = std::time::Instant::now();
    let out = cmd.output();
    let status = match &out {
        Ok(o) => o.status.to_string(),
        Err(e) => e.to_string(),
    };
    traceln!(
        "mailsetup: run: {}: {status} in {} ms",
        shown(cmd),
        start.elapsed().as_millis()
    );
    out
}

/// The program and its arguments, as a person would type them (without the cleared
/// environment the `Debug` form shows).
fn shown(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Run a command; a non-zero exit is an error carrying its output.
pub fn run(mut cmd: Command) -> Result<String> {
    let shown = format!("{cmd:?}").replace('"', "");
    let out = output(&mut cmd).map_err(|e| Error::Command {
        command: shown.clone(),
        status: e.to_string(),
        output: String::new(),
    })?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(Error::Command {
            command: shown,
            status: out.status.to_string(),
            output: text.trim().to_string(),
        })
    }
}

/// Carry out the actions on the host, or describe them beneath a test root. Returns one line per
/// action saying what was done.
pub fn perform(root: &Root, actions: &[ServiceAction]) -> Result<Vec<String>> {
    let mut done = Vec::new();
    for a in actions {
        if !root.is_host() {
            done.push(format!("would {a} (not done: --root is not /)"));
            continue;
        }
        if a.service == Service::OpendkimEd25519 {
            done.push(ed25519::perform(root, a)?);
            continue;
        }
        let running = is_running(a.service);
        if !running && a.service == Service::Amavis {
            // an operator's content filter that is stopped stays stopped: it reads the new
            // configuration when it starts
            done.push(format!(
                "amavisd-new is not running: it reads its new configuration when it starts ({})",
                a.why
            ));
            continue;
        }
        let verb = match (running, a.verb) {
            (true, Verb::Stop) => "stop",
            (false, Verb::Stop) => {
                done.push(format!("{} is not running: {}", a.service.name(), a.why));
                continue;
            }
            (false, _) => "start",
            (true, Verb::Reload) => "reload",
            (true, Verb::Restart) => "restart",
        };
        run(control(root, a.service, verb))?;
        if verb != "stop" {
            wait_up(a.service)?;
        }
        let done_verb = if verb == "stop" { "stopp" } else { verb };
        done.push(format!("{done_verb}ed {}: {}", a.service.name(), a.why));
    }
    Ok(done)
}

/// The command that does `verb` (start | stop | reload | restart) to a service.
fn control(root: &Root, service: Service, verb: &str) -> Command {
    if system::has_systemd(root) {
        let mut c = command("/usr/bin/systemctl");
        c.args([verb, service.name()]);
        return c;
    }
    let script = format!("/etc/init.d/{}", service.name());
    if Path::new(&script).exists() {
        let mut c = command(&script);
        c.arg(verb);
        return c;
    }
    match service {
        Service::Postfix => {
            let mut c = command("/usr/sbin/postfix");
            c.arg(if verb == "restart" { "reload" } else { verb });
            c
        }
        Service::Opendkim => {
            let mut c = command("/usr/sbin/opendkim");
            c.args(["-x", system::OPENDKIM_CONF]);
            c
        }
        Service::Amavis => {
            // amavisd(8): `amavisd start|stop|reload`; it daemonizes itself
            let mut c = command(crate::amavis::AMAVISD);
            c.arg(if verb == "restart" { "reload" } else { verb });
            c
        }
        Service::Opendmarc => {
            let mut c = command("/usr/sbin/opendmarc");
            c.args(["-c", system::OPENDMARC_CONF]);
            c
        }
        Service::OpendkimEd25519 => {
            let mut c = command("/usr/sbin/opendkim");
            c.args(["-x", system::ED25519_CONF]);
            c
        }
    }
}

/// Is the daemon running? Postfix: `postfix status`. OpenDKIM (OpenDMARC): a process named
/// `opendkim` (`opendmarc`).
pub fn is_running(service: Service) -> bool {
    match service {
        Service::Postfix => {
            let mut c = command("/usr/sbin/postfix");
            c.arg("status");
            output(&mut c).is_ok_and(|o| o.status.success())
        }
        Service::Opendkim => process_named("opendkim"),
        // amavisd-new renames itself `/usr/sbin/amavisd (master)`, which comm (proc(5))
        // truncates to 15 bytes: `/usr/sbin/amavi`
        Service::Amavis => {
            process_named_prefix("/usr/sbin/amavi") || process_named_prefix("amavisd")
        }
        Service::Opendmarc => process_named("opendmarc"),
        Service::OpendkimEd25519 => ed25519::pid().is_some(),
    }
}

/// Whether process `pid` is alive (not a zombie) and named `name` (proc(5) `comm`).
fn alive(pid: i32, name: &str) -> bool {
    let dir = std::path::PathBuf::from(format!("/proc/{pid}"));
    std::fs::read_to_string(dir.join("comm")).is_ok_and(|c| c.trim_end() == name)
        && std::fs::read_to_string(dir.join("stat")).is_ok_and(|stat| {
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .is_some_and(|state| state != "Z" && state != "X")
        })
}

/// A live process (not a zombie: proc(5) `stat` state `Z`) whose `comm` is `name`.
fn process_named(name: &str) -> bool {
    process_where(|comm| comm == name)
}

/// A live process whose `comm` starts with `prefix`.
fn process_named_prefix(prefix: &str) -> bool {
    process_where(|comm| comm.starts_with(prefix))
}

/// A live process whose `comm` passes `wanted`.
fn process_where(wanted: impl Fn(&str) -> bool) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    dir.flatten().any(|e| {
        std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| wanted(c.trim_end()))
            && std::fs::read_to_string(e.path().join("stat")).is_ok_and(|stat| {
                // `pid (comm) state …`: the state follows the last `)`
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().next())
                    .is_some_and(|state| state != "Z" && state != "X")
            })
    })
}

/// Wait up to 15 s for the service to be up after a start/restart.
fn wait_up(service: Service) -> Result<()> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(15) {
        if is_running(service) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(Error::Refused(format!(
        "{} did not come up within 15 s; see its log (journalctl -u {0} or /var/log/mail.log)",
        service.name()
    )))
}
