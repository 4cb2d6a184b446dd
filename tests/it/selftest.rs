//! `mailsetup selftest` against the real OpenDKIM daemon (Debian's package), run here on a
//! loopback port with a test configuration, and an in-process DNS server publishing the key:
//! signed and verified; a different key published; a domain OpenDKIM does not sign.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use mailsetup::keys::PrivateKey;
use mailsetup::values::KeyBits;

use crate::support::Tree;
use crate::support::dns_server::zone;
use crate::support::lab::Lab;
use crate::support::scenario::blocklists;

const OPENDKIM: &str = "/usr/sbin/opendkim";
const KEY: &str = "/etc/opendkim/keys/example.org/mail.private";

/// An opendkim daemon signing for `signs` with the key at `key` (beneath the tree, or any
/// path), on a free loopback port.
struct Daemon {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Daemon {
    fn start(key: &Path, signs: &str) -> Daemon {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("KeyTable"),
            format!(
                "mail._domainkey.example.org example.org:mail:{}\n",
                key.display()
            ),
        )
        .unwrap();
        std::fs::write(
            d.join("SigningTable"),
            format!("*@{signs} mail._domainkey.example.org\n"),
        )
        .unwrap();
        // the key lives in a temporary tree under /tmp, which OpenDKIM rightly calls unsafe
        let conf = format!(
            "Syslog no\nMode s\nSocket inet:{port}@127.0.0.1\nKeyTable {kt}\n\
             SigningTable refile:{st}\nInternalHosts 127.0.0.1\nRequireSafeKeys false\n\
             PidFile {pid}\n",
            kt = d.join("KeyTable").display(),
            st = d.join("SigningTable").display(),
            pid = d.join("pid").display(),
        );
        std::fs::write(d.join("conf"), conf).unwrap();
        let child = Command::new(OPENDKIM)
            .args(["-f", "-x"])
            .arg(d.join("conf"))
            .spawn()
            .unwrap();
        let until = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < until, "opendkim did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Daemon {
            child,
            port,
            _dir: dir,
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A tree with a local key for example.org whose Postfix and OpenDKIM name `port`, and
/// answers for example.org only.
fn tree(key: &PrivateKey) -> (Tree, String) {
    let tree = Tree::debian12();
    tree.write(KEY, key.pem());
    let answers = tree.root().join("answers.toml");
    std::fs::write(
        &answers,
        "hostname = \"mail.example.org\"\nipv4 = \"192.0.2.10\"\nallow_private_ip = true\ndomains = [\"example.org\"]\n",
    )
    .unwrap();
    (tree, answers.display().to_string())
}

fn point_at(tree: &Tree, port: u16) {
    let main_cf = format!(
        "{}smtpd_milters = inet:127.0.0.1:{port}\n",
        tree.read("/etc/postfix/main.cf")
    );
    tree.write("/etc/postfix/main.cf", &main_cf);
    // the socket OpenDKIM is started with: opendkim.conf's Socket (the init script passes
    // /etc/default/opendkim's SOCKET only when there is none)
    let conf: String = tree
        .read("/etc/opendkim.conf")
        .lines()
        .map(|l| match l.starts_with("Socket") {
            true => format!("Socket inet:{port}@127.0.0.1\n"),
            false => format!("{l}\n"),
        })
        .collect();
    assert!(conf.contains(&format!("Socket inet:{port}@127.0.0.1\n")));
    tree.write("/etc/opendkim.conf", &conf);
}

/// DNS publishing `p` as example.org's DKIM key.
fn lab(rt: &tokio::runtime::Runtime, p: &str) -> Lab {
    let value = format!("v=DKIM1; k=rsa; p={p}");
    let (a, b) = value.split_at(value.len().min(200));
    let dkim = format!("mail._domainkey IN TXT \"{a}\" \"{b}\"");
    let mut zones = vec![zone("example.org", &[&dkim])];
    zones.extend(blocklists());
    let refs: Vec<&str> = zones.iter().map(String::as_str).collect();
    rt.block_on(Lab::start(&refs))
}

fn selftest(tree: &Tree, answers: &str, lab: &Lab) -> (i32, serde_json::Value) {
    let mut args = vec!["selftest", "--json", "--answers", answers];
    let lab_args = lab.args();
    args.extend(lab_args.iter().map(String::as_str));
    let run = tree.run(&args);
    let v = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr));
    (run.code, v)
}

fn ids(v: &serde_json::Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn selftest_signs_through_the_real_opendkim_and_verifies_against_dns() {
    if !Path::new(OPENDKIM).exists() {
        eprintln!("skipped: {OPENDKIM} is not installed");
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let key = PrivateKey::generate(KeyBits::B1024).unwrap();
    let (tree, answers) = tree(&key);
    let daemon = Daemon::start(&tree.path(KEY), "example.org");
    point_at(&tree, daemon.port);
    let before = tree.snapshot();

    // the key in use is published: signed and verified, against DNS and the local key
    let published = lab(&rt, &key.public().p);
    let (code, v) = selftest(&tree, &answers, &published);
    assert_eq!(ids(&v), ["selftest.signed"], "{v}");
    assert_eq!(code, 0);
    let message = v["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("d=example.org, s=mail, rsa-sha256: "),
        "{message}"
    );
    assert!(
        message.ends_with("verified against the published key"),
        "{message}"
    );

    // another key is published: the classic "published key is not the key in use"
    let other = PrivateKey::generate(KeyBits::B1024).unwrap();
    let stale = lab(&rt, &other.public().p);
    let (code, v) = selftest(&tree, &answers, &stale);
    assert_eq!(ids(&v), ["selftest.dkim-fail-published"], "{v}");
    assert_eq!(code, 1);

    drop(daemon);

    // OpenDKIM still signs with another key than the local one (an old KeyTable), and
    // that other key is what is published
    let old = tempfile::tempdir().unwrap();
    let old_key = old.path().join("old.private");
    std::fs::write(&old_key, other.pem()).unwrap();
    let daemon = Daemon::start(&old_key, "example.org");
    point_at(&tree, daemon.port);
    let (_, v) = selftest(&tree, &answers, &stale);
    assert_eq!(
        ids(&v),
        ["selftest.dkim-fail-local", "selftest.signed"],
        "{v}"
    );
    drop(daemon);

    // OpenDKIM does not sign for the domain
    let daemon = Daemon::start(&tree.path(KEY), "elsewhere.example");
    point_at(&tree, daemon.port);
    let (code, v) = selftest(&tree, &answers, &published);
    assert_eq!(ids(&v), ["selftest.unsigned"], "{v}");
    assert_eq!(code, 1);
    drop(daemon);

    // nothing was written by the selftest itself (the test pointed main.cf and
    // opendkim.conf at each daemon's port)
    let mut after = tree.snapshot();
    let mut before = before;
    for snap in [&mut before, &mut after] {
        snap.remove(Path::new("etc/postfix/main.cf"));
        snap.remove(Path::new("etc/opendkim.conf"));
    }
    assert_eq!(after, before);
}
