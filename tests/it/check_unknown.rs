//! `mailsetup check` through the real binary when DNS gives no evidence: a resolver that
//! answers NXDOMAIN for every name (root and NS lookups included), and one that never
//! answers (UDP read and dropped, TCP accepted and left silent). The local lines, which need
//! no DNS, pass on a set-up tree; every DNS line is unknown, never a pass, the findings say
//! why (`dns.unverifiable`, `rbl.unknown`), and the exit code is 3 (could not verify), never 1
//! (failing), with `"verdict": "unverifiable"` in the JSON.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hickory_proto::op::ResponseCode;
use tokio::net::{TcpListener, UdpSocket};

use crate::support::dns_server::RcodeServer;
use crate::support::{ANSWERS, Run, Tree};

/// The lines that need no DNS: this server's files (`running` only with `--root /`); `tls`
/// twice: main.cf's TLS configuration, and the certificate it names (its names are judged
/// without the MX names DNS did not give).
const LOCAL: [&str; 5] = ["milter", "opendkim", "keys", "tls", "tls"];
/// The DNS lines of the fixture answers (mail.example.org at 192.0.2.10, example.org and
/// example.net, IPv4 only).
const DNS: [&str; 10] = [
    "a", "ptr", "rbl", "ns", "dkim", "spf", "dmarc", "mx", "mta-sts", "tls-rpt",
];

/// A server that reads every UDP query and drops it, and accepts TCP connections and never
/// writes to them: every lookup times out.
struct Silent {
    addr: SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Silent {
    async fn start() -> Silent {
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = udp.local_addr().unwrap();
        let tcp = TcpListener::bind(addr).await.unwrap();
        let read = tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while udp.recv_from(&mut buf).await.is_ok() {}
        });
        let accept = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((conn, _)) = tcp.accept().await {
                held.push(conn);
            }
        });
        Silent {
            addr,
            tasks: vec![read, accept],
        }
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// The fixture tree after `apply`: its local lines pass.
fn applied() -> Tree {
    let tree = Tree::debian12();
    tree.run(&["apply", "--yes", "--answers", ANSWERS])
        .expect_code(0);
    tree
}

/// `check --answers ANSWERS` (with `extra`) asking `dns` for everything: it is the first hop
/// and, on its port, every authoritative server. Blocking: call it from a multi-threaded
/// runtime, so the in-process server keeps running on another thread.
fn check(tree: &Tree, dns: SocketAddr, extra: &[&str]) -> Run {
    let ns = dns.to_string();
    let port = dns.port().to_string();
    let mut args = vec![
        "check",
        "--answers",
        ANSWERS,
        "--nameserver",
        &ns,
        "--authoritative-port",
        &port,
    ];
    args.extend(extra);
    tree.run(&args)
}

/// The `checked` lines of `check --json`: `(check, status)`.
fn statuses(json: &str) -> Vec<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let field = |k: &str| c[k].as_str().unwrap().to_string();
            (field("check"), field("status"))
        })
        .collect()
}

/// The finding ids of `check --json`.
fn ids(json: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

/// What every run without DNS evidence must show: in JSON, the local lines pass and every
/// DNS line is unknown; in the human report no DNS line has a ✓ and the reasons are named;
/// exit 3 both ways, and the JSON's verdict says so.
fn assert_nothing_proven(tree: &Tree, dns: SocketAddr, why: &str) {
    let json = check(tree, dns, &["--json"]);
    assert_eq!(json.code, 3, "{}{}", json.stdout, json.stderr);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["verdict"], "unverifiable", "{}", json.stdout);
    let lines = statuses(&json.stdout);
    let kinds: Vec<&str> = lines.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(
        kinds,
        [&LOCAL[..], &DNS[..], &DNS[3..]].concat(),
        "{}",
        json.stdout
    );
    for (check, status) in &lines {
        let want = if LOCAL.contains(&check.as_str()) {
            "pass"
        } else {
            "unknown"
        };
        assert_eq!(status, want, "{check}: {}", json.stdout);
    }
    let ids = ids(&json.stdout);
    assert!(ids.iter().any(|i| i == "dns.unverifiable"), "{ids:?}");
    assert!(ids.iter().any(|i| i == "rbl.unknown"), "{ids:?}");
    assert!(
        ids.iter()
            .all(|i| i == "dns.unverifiable" || i == "rbl.unknown"),
        "only findings that say why nothing is known: {ids:?}"
    );

    let human = check(tree, dns, &[]);
    assert_eq!(human.code, 3, "{}{}", human.stdout, human.stderr);
    let ticked: Vec<&str> = human
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with('✓'))
        .collect();
    assert_eq!(ticked.len(), LOCAL.len(), "{}", human.stdout);
    for (line, check) in ticked.iter().zip(LOCAL) {
        assert!(
            line.trim_start()[3..].trim_start().starts_with(check),
            "{line}\n{}",
            human.stdout
        );
    }
    assert!(
        human.stdout.contains("  ? rbl ") && human.stdout.contains("  ? spf "),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("warning dns.unverifiable"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("info rbl.unknown"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains(why), "{}", human.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resolver_that_denies_every_name_proves_nothing() {
    let tree = applied();
    let nx = RcodeServer::start(ResponseCode::NXDomain).await;
    assert_nothing_proven(
        &tree,
        nx.addr(),
        "bl.spamcop.net did not list its test entry 127.0.0.2 (RFC 5782 §5): its answers cannot \
         be trusted",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resolver_that_never_answers_proves_nothing_and_gives_up_in_time() {
    let tree = applied();
    let silent = Silent::start().await;
    let start = Instant::now();
    assert_nothing_proven(&tree, silent.addr, "no answer (timed out)");
    // two runs (JSON and human), each about one timeout chain: 2 s per try, one retry
    assert!(
        start.elapsed() < Duration::from_secs(40),
        "{:?}",
        start.elapsed()
    );
}

/// `check` by a user who is not root on a set-up tree: the 0750 key directory cannot be
/// looked into, so the keys line is unknown with `local.unreadable` naming each key (never
/// `opendkim.key-missing` for a key that is there), the other lines are judged, and `plan`
/// refuses with the reason. Skipped when not run as root or without setpriv.
#[test]
fn a_user_who_may_not_read_the_keys_gets_unknown_not_missing() {
    use std::os::unix::fs::PermissionsExt;
    let setpriv = std::path::Path::new("/usr/bin/setpriv");
    if !nix::unistd::Uid::effective().is_root() || !setpriv.exists() {
        eprintln!("skipped: needs root and setpriv to run as nobody");
        return;
    }
    let tree = Tree::debian12();
    tree.run(&["apply", "--yes", "--answers", ANSWERS])
        .expect_code(0);
    std::fs::set_permissions(tree.root(), PermissionsExt::from_mode(0o755)).unwrap();
    let as_nobody = |args: &[&str]| {
        let out = std::process::Command::new(setpriv)
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_mailsetup"))
            .arg("--root")
            .arg(tree.root())
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dead = rt.block_on(crate::support::dns_server::dead_addr());
    let (code, stdout, stderr) = as_nobody(&[
        "check",
        "--answers",
        ANSWERS,
        "--nameserver",
        &dead.to_string(),
        "--json",
    ]);
    // unreadable keys and no DNS: nothing failing was proven
    assert_eq!(code, 3, "{stdout}{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let status = |check: &str| {
        v["checked"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == check)
            .map(|c| c["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(status("keys"), "unknown");
    assert_eq!(status("milter"), "pass");
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    // one per DKIM key, and one for the TLS server key (root's 0600) the certificate line
    // would compare with its certificate
    assert_eq!(
        ids.iter().filter(|i| **i == "local.unreadable").count(),
        3,
        "one per key: {ids:?}"
    );
    assert!(!ids.contains(&"opendkim.key-missing"), "{ids:?}");

    let (code, _, stderr) = as_nobody(&["plan", "--answers", ANSWERS]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("run mailsetup as root (sudo)"), "{stderr}");
}

/// A configuration file that is a symbolic link is not read through (no path beneath the
/// root is followed through a link): `check` refuses it by name, exit 2, and the local
/// checks' own reading leaves it unread with the reason, so its line would be unknown.
#[test]
fn a_symlinked_config_file_is_not_read_through() {
    let tree = Tree::debian12();
    tree.run(&["apply", "--yes", "--answers", ANSWERS])
        .expect_code(0);
    let main_cf = tree.path("/etc/postfix/main.cf");
    let elsewhere = tree.root().join("main.cf.elsewhere");
    std::fs::rename(&main_cf, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &main_cf).unwrap();
    let run = tree.run(&["check", "--answers", ANSWERS, "--nameserver", "127.0.0.1:9"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("/etc/postfix/main.cf`: it is a symbolic link"),
        "{}",
        run.stderr
    );
    let state = mailsetup::local::read(&mailsetup::host::system::Root::new(tree.root()));
    assert_eq!(state.main_cf, None, "not read through the link");
    let (path, why) = state
        .unread
        .iter()
        .find(|(p, _)| p.as_path() == std::path::Path::new("/etc/postfix/main.cf"))
        .expect("main.cf is unread");
    assert!(why.contains("symbolic link"), "{}: {why}", path.display());
}
