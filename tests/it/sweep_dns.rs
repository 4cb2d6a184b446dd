//! The held-out style sweep over the DNS finding ids (issue 12): for every id that `check`
//! reports about DNS, a [`Case`] breaks one thing in a healthy [`World`] so that the real
//! binary (`check --json`, on a tree `apply --yes` set up) reports it; then the finding's
//! printed `fix` is followed the way an operator follows it, and `check` runs again: the id
//! must be gone, and no error-severity finding (id and subject) may be there that was not
//! there before. [`every_finding_id_is_swept_or_excused`] keeps the table complete: an id
//! with no case here, not one of the local ids (`sweep_local.rs` sweeps those) and not
//! excused with its reason fails it.
//!
//! Following is generic, not per id ([`follow`]): the fix's first alternative (lines that
//! start with `or `, or a `, or ` within a one-line fix, are the others; a case may pick one),
//! line by line. Every zone-file record in a line (`owner. IN TYPE rdata`, also inside a
//! sentence such as "ask the provider … : 10.2.0.192.in-addr.arpa. IN PTR …") is published as
//! a DNS panel does: at its owner, the records of its type that the finding's `found` shows
//! are replaced by it. Every sentence of advice a line holds becomes an action on the world
//! or the tree ([`Action`], read by [`read_line`]), as literally as it reads: "ask the
//! provider" is the provider publishing that PTR; "request removal" at a blocklist's page is
//! the list dropping the entry; "wait until ns2 has loaded the newest zone" is ns2
//! transferring it; `answers: key = value, then mailsetup apply` edits the answers file and
//! runs `apply --yes`. A line that yields no action fails the case: new advice is taught
//! here, never skipped. A TXT fix's web-form alternative is checked against its zone-file
//! line (same name relative to the zone, same value).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;
use mailsetup::check::ids;

use crate::support::dns_server::zone;
use crate::support::scenario::fixture_zones_keys;
use crate::support::world::World;
use crate::support::zonefile::{Rr, Zone, records_in};
use crate::support::{self, ANSWERS, Tree};

/// The answers file inside each tree (a copy of the fixture answers, edited per base).
const ANSWERS_IN_TREE: &str = "/answers.toml";

/// The server's IPv6 address in the dual-stack base.
const V6: &str = "2001:db8::10";

/// The selector a case picks when a fix asks for "a new selector".
const NEW_SELECTOR: &str = "s2048";

/// Local ids, by prefix: this server's files and daemons, swept by `tests/it/sweep_local.rs`
/// (and `tests/e2e/run.sh`), and the selftest's, which asks OpenDKIM, not the zones.
const LOCAL: &[&str] = &["milter.", "opendkim.", "postfix.", "signer.", "selftest."];

/// DNS ids no case produces, with the reason.
const EXCUSED: &[(&str, &str)] = &[
    (
        ids::RBL_UNKNOWN,
        "\"could not ask\": a list refused the query or did not answer; nothing in the zones \
         is wrong, so no published record or removal clears it (its fix is to ask from \
         another resolver)",
    ),
    (
        ids::DNS_UNVERIFIABLE,
        "\"could not ask\": a lookup timed out, was refused or failed; it says nothing about \
         the records, so no change to them clears it (tests/it/check.rs covers it)",
    ),
];

/// Which healthy world (and tree) a case starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    /// `tests/fixtures/answers.toml` with 2048-bit keys: mail.example.org at 192.0.2.10,
    /// example.org and example.net, `inet_protocols = "ipv4"`; the zones of
    /// [`fixture_zones_keys`] with the tree's keys.
    V4,
    /// As [`Base::V4`] with `ipv6 = 2001:db8::10` and `inet_protocols = "all"`: the AAAA
    /// record, SPF with `ip6:`, the IPv6 PTR.
    DualStack,
    /// As [`Base::V4`] with the fixture's 1024-bit keys, published.
    Weak,
}

/// The tree's public keys (`p=`), per domain.
#[derive(Debug, Clone)]
struct Keys {
    org: String,
    net: String,
}

/// One sweep case: what breaks, from which base, and which alternative of the fix to follow.
struct Case {
    id: &'static str,
    what: &'static str,
    base: Base,
    /// The alternative of the fix to follow; 0 is the first.
    alternative: usize,
    /// Following the fix runs `mailsetup apply`: the case gets its own copy of the tree.
    writes: bool,
    breaks: fn(&mut World, &Keys),
    /// A product bug this case shows and that is not fixed yet: (what is wrong, a text its
    /// failure contains). The case must keep failing so; once it passes, the sweep fails
    /// until the marker goes.
    known_bug: Option<(&'static str, &'static str)>,
}

fn case(id: &'static str, what: &'static str, base: Base, breaks: fn(&mut World, &Keys)) -> Case {
    Case {
        id,
        what,
        base,
        alternative: 0,
        writes: false,
        breaks,
        known_bug: None,
    }
}

impl Case {
    fn alternative(mut self, n: usize) -> Case {
        self.alternative = n;
        self
    }

    fn writes(mut self) -> Case {
        self.writes = true;
        self
    }

    fn known_bug(mut self, what: &'static str, shows: &'static str) -> Case {
        self.known_bug = Some((what, shows));
        self
    }
}

const ORG: &str = "example.org";
const DKIM: &str = "mail._domainkey.example.org";
const DMARC: &str = "_dmarc.example.org";
const HOST: &str = "mail.example.org";
const REVERSE: &str = "2.0.192.in-addr.arpa";
const REVERSE6: &str = "8.b.d.0.1.0.0.2.ip6.arpa";

/// A TXT record at `owner` (absolute) holding `value`, in strings of at most 250 bytes.
fn txt(owner: &str, value: &str) -> Rr {
    let rdata = value
        .as_bytes()
        .chunks(250)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    Rr {
        owner: owner.into(),
        rtype: "TXT".into(),
        rdata,
    }
}

/// The records at `owner` of type `rtype` whose value starts with `kind` (any when empty)
/// replaced by `values`, as records of that type.
fn replace(w: &mut World, owner: &str, rtype: &str, kind: &str, values: &[&str]) {
    w.edit_at(owner, |z| {
        let kind = kind.to_ascii_lowercase();
        z.remove(|r| {
            r.owner == owner
                && r.rtype == rtype
                && r.shown().to_ascii_lowercase().starts_with(&kind)
        });
        for v in values {
            z.add(if rtype == "TXT" {
                txt(owner, v)
            } else {
                Rr {
                    owner: owner.into(),
                    rtype: rtype.into(),
                    rdata: v.split_whitespace().map(String::from).collect(),
                }
            });
        }
    });
}

fn dkim(w: &mut World, values: &[&str]) {
    replace(w, DKIM, "TXT", "", values);
}

fn spf(w: &mut World, values: &[&str]) {
    replace(w, ORG, "TXT", "v=spf1", values);
}

fn dmarc(w: &mut World, values: &[&str]) {
    replace(w, DMARC, "TXT", "", values);
}

/// Add a zone-file line (relative to `origin`) to that zone.
fn add(w: &mut World, origin: &str, line: &str) {
    w.edit(origin, |z| z.add_line(line));
}

/// ns2.example.org, the machine 127.0.0.2, listed as a nameserver of example.org (with its
/// address record when `address`); it serves nothing yet.
fn second_ns(w: &mut World, address: bool) {
    w.machines
        .insert("ns2.example.org".into(), "127.0.0.2".parse().unwrap());
    add(w, ORG, "@ IN NS ns2.example.org.");
    if address {
        add(w, ORG, "ns2 IN A 127.0.0.2");
    }
}

/// The reverse name of the dual-stack base's IPv6 address, relative to [`REVERSE6`].
fn v6_ptr_owner() -> String {
    let ip: IpAddr = V6.parse().unwrap();
    let name = mailsetup::dns::reverse_name(ip);
    name.strip_suffix(&format!(".{REVERSE6}"))
        .unwrap()
        .to_string()
}

/// Every case: one thing broken each.
fn cases() -> Vec<Case> {
    use Base::*;
    vec![
        // DKIM
        case(
            ids::DKIM_MISSING,
            "no record at the selector",
            V4,
            |w, _| dkim(w, &[]),
        ),
        case(ids::DKIM_SYNTAX, "no p= tag", V4, |w, _| {
            dkim(w, &["v=DKIM1; k=rsa"])
        }),
        case(ids::DKIM_SYNTAX, "v=DKIM2", V4, |w, k| {
            dkim(w, &[&format!("v=DKIM2; k=rsa; p={}", k.org)])
        }),
        case(
            ids::DKIM_SYNTAX,
            "two records at the selector",
            V4,
            |w, k| {
                dkim(
                    w,
                    &[
                        &format!("v=DKIM1; k=rsa; p={}", k.org),
                        "v=DKIM1; k=rsa; p=QUJD",
                    ],
                )
            },
        ),
        case(
            ids::DKIM_KEY_MISMATCH,
            "another domain's key",
            V4,
            |w, k| dkim(w, &[&format!("v=DKIM1; k=rsa; p={}", k.net)]),
        ),
        case(ids::DKIM_KEY_MISMATCH, "revoked (empty p=)", V4, |w, _| {
            dkim(w, &["v=DKIM1; k=rsa; p="])
        }),
        case(ids::DKIM_PASTE_ERROR, "quotes pasted inside", V4, |w, k| {
            dkim(w, &[&format!("v=DKIM1; k=rsa; p=\"{}\"", k.org)])
        }),
        case(ids::DKIM_PASTE_ERROR, "parentheses pasted", V4, |w, k| {
            dkim(w, &[&format!("( v=DKIM1; k=rsa; p={} )", k.org)])
        }),
        case(ids::DKIM_PASTE_ERROR, "h=rsa-sha256", V4, |w, k| {
            dkim(w, &[&format!("v=DKIM1; h=rsa-sha256; k=rsa; p={}", k.org)])
        }),
        case(ids::DKIM_PASTE_ERROR, "key cut at 250", V4, |w, k| {
            dkim(w, &[&format!("v=DKIM1; k=rsa; p={}", &k.org[..250])])
        }),
        case(
            ids::DKIM_PASTE_ERROR,
            "owner and type pasted",
            V4,
            |w, k| {
                dkim(
                    w,
                    &[&format!(
                        "mail._domainkey IN TXT v=DKIM1; k=rsa; p={}",
                        k.org
                    )],
                )
            },
        ),
        case(ids::DKIM_PASTE_ERROR, "missing ; before p=", V4, |w, k| {
            dkim(w, &[&format!("v=DKIM1; k=rsa p={}", k.org)])
        }),
        case(
            ids::DKIM_PASTE_ERROR,
            "space inside p= (warning)",
            V4,
            |w, k| {
                let (a, b) = k.org.split_at(200);
                dkim(w, &[&format!("v=DKIM1; k=rsa; p={a} {b}")])
            },
        ),
        case(
            ids::DKIM_PASTE_ERROR,
            "published under the doubled zone name",
            V4,
            |w, k| {
                dkim(w, &[]);
                let doubled = format!("{DKIM}.{ORG}");
                let value = format!("v=DKIM1; k=rsa; p={}", k.org);
                w.edit(ORG, |z| z.add(txt(&doubled, &value)));
            },
        ),
        // the break is the tree's: 1024-bit keys, published as they are
        case(ids::DKIM_WEAK_KEY, "1024-bit keys", Weak, |_, _| {})
            .writes()
            .known_bug(
                "the fix says to set key_bits = 2048 and a new selector, then mailsetup apply; \
                 apply refuses (exit 2) because the SigningTable line it wrote for the old \
                 selector stays: changing the selector is key rotation, not built yet",
                "already maps to `mail._domainkey.example.org`, not `s2048._domainkey",
            ),
        // SPF
        case(ids::SPF_MISSING, "no v=spf1 record", V4, |w, _| spf(w, &[])),
        case(ids::SPF_MULTIPLE, "two v=spf1 records", V4, |w, _| {
            spf(w, &["v=spf1 ip4:192.0.2.10 -all", "v=spf1 mx -all"])
        }),
        case(ids::SPF_SYNTAX, "ip4:192.0.2.300", V4, |w, _| {
            spf(w, &["v=spf1 ip4:192.0.2.300 -all"])
        }),
        case(
            ids::SPF_IP_NOT_PERMITTED,
            "another IPv4 address",
            V4,
            |w, _| spf(w, &["v=spf1 ip4:192.0.2.99 -all"]),
        ),
        case(
            ids::SPF_IP_NOT_PERMITTED,
            "no ip6: for the IPv6 address",
            DualStack,
            |w, _| spf(w, &["v=spf1 ip4:192.0.2.10 -all"]),
        ),
        case(
            ids::SPF_TOO_MANY_LOOKUPS,
            "11 lookups through nested includes",
            V4,
            |w, _| {
                let hosts: Vec<String> = (1..=9).map(|i| format!("a:h{i}.example.org")).collect();
                spf(w, &["v=spf1 ip4:192.0.2.10 include:l1.example.org -all"]);
                let l1 = "v=spf1 include:l2.example.org -all".to_string();
                let l2 = format!("v=spf1 {} -all", hosts.join(" "));
                w.edit(ORG, |z| {
                    z.add(txt("l1.example.org", &l1));
                    z.add(txt("l2.example.org", &l2));
                    for i in 1..=9 {
                        z.add_line(&format!("h{i} IN A 192.0.2.{}", 100 + i));
                    }
                });
            },
        ),
        case(
            ids::SPF_TOO_MANY_VOID_LOOKUPS,
            "three names that do not exist",
            V4,
            |w, _| {
                spf(
                    w,
                    &[
                        "v=spf1 ip4:192.0.2.10 a:gone1.example.org mx:gone2.example.org \
                       a:gone3.example.org -all",
                    ],
                )
            },
        ),
        case(ids::SPF_PERMISSIVE_ALL, "+all (error)", V4, |w, _| {
            spf(w, &["v=spf1 ip4:192.0.2.10 +all"])
        }),
        case(ids::SPF_PERMISSIVE_ALL, "?all (warning)", V4, |w, _| {
            spf(w, &["v=spf1 ip4:192.0.2.10 ?all"])
        }),
        // DMARC
        case(ids::DMARC_MISSING, "no record", V4, |w, _| dmarc(w, &[])),
        case(ids::DMARC_MULTIPLE, "two records", V4, |w, _| {
            dmarc(
                w,
                &[
                    "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.org",
                    "v=DMARC1; p=none",
                ],
            )
        }),
        case(ids::DMARC_SYNTAX, "p=bogus", V4, |w, _| {
            dmarc(w, &["v=DMARC1; p=bogus"])
        }),
        case(ids::DMARC_SYNTAX, "no p= (warning)", V4, |w, _| {
            dmarc(w, &["v=DMARC1; rua=mailto:postmaster@example.org"])
        }),
        case(
            ids::DMARC_MONITOR_ONLY,
            "p=none, as mailsetup's default",
            V4,
            |w, _| dmarc(w, &["v=DMARC1; p=none; rua=mailto:postmaster@example.org"]),
        )
        .writes()
        .known_bug(
            "the fix says to publish the DMARC record mailsetup apply prints; apply prints none",
            "apply printed none",
        ),
        case(
            ids::DMARC_RUA_UNAUTHORIZED,
            "example.net reports to example.org, which does not authorise it",
            V4,
            |w, _| replace(w, "example.net._report._dmarc.example.org", "TXT", "", &[]),
        ),
        // MX
        case(ids::MX_MISSING, "no MX", V4, |w, _| {
            replace(w, ORG, "MX", "", &[])
        }),
        case(ids::MX_NOT_THIS_HOST, "another host", V4, |w, _| {
            replace(w, ORG, "MX", "", &["10 mx1.example.net."])
        }),
        case(ids::MX_NOT_THIS_HOST, "a null MX", V4, |w, _| {
            replace(w, ORG, "MX", "", &["0 ."])
        }),
        // the hostname's address
        case(ids::HOST_A_MISSING, "no A", V4, |w, _| {
            replace(w, HOST, "A", "", &[])
        }),
        case(ids::HOST_A_MISMATCH, "another IPv4 address", V4, |w, _| {
            replace(w, HOST, "A", "", &["192.0.2.99"])
        }),
        case(ids::HOST_A_MISSING, "no AAAA", DualStack, |w, _| {
            replace(w, HOST, "AAAA", "", &[])
        }),
        case(
            ids::HOST_A_MISMATCH,
            "another IPv6 address",
            DualStack,
            |w, _| replace(w, HOST, "AAAA", "", &["2001:db8::99"]),
        ),
        // PTR
        case(ids::PTR_MISSING, "no PTR", V4, |w, _| {
            replace(w, &format!("10.{REVERSE}"), "PTR", "", &[])
        }),
        case(
            ids::PTR_MISMATCH,
            "the provider's default name",
            V4,
            |w, _| {
                replace(
                    w,
                    &format!("10.{REVERSE}"),
                    "PTR",
                    "",
                    &["host-10.provider.example."],
                )
            },
        ),
        case(
            ids::PTR_MISMATCH,
            "the hostname does not resolve back",
            V4,
            |w, _| replace(w, HOST, "A", "", &["192.0.2.99"]),
        ),
        case(
            ids::IPV6_NO_PTR,
            "no IPv6 PTR: ask for one",
            DualStack,
            |w, _| replace(w, &format!("{}.{REVERSE6}", v6_ptr_owner()), "PTR", "", &[]),
        ),
        case(
            ids::IPV6_NO_PTR,
            "no IPv6 PTR: send over IPv4 only",
            DualStack,
            |w, _| replace(w, &format!("{}.{REVERSE6}", v6_ptr_owner()), "PTR", "", &[]),
        )
        .alternative(1)
        .writes(),
        // blocklists
        case(ids::RBL_LISTED, "Spamhaus ZEN", V4, |w, _| {
            add(w, "zen.spamhaus.org", "10.2.0.192 IN A 127.0.0.2")
        }),
        case(ids::RBL_LISTED, "SpamCop", V4, |w, _| {
            add(w, "bl.spamcop.net", "10.2.0.192 IN A 127.0.0.2")
        }),
        case(ids::RBL_LISTED, "Barracuda", V4, |w, _| {
            add(w, "b.barracudacentral.org", "10.2.0.192 IN A 127.0.0.2")
        }),
        // the nameservers
        case(
            ids::DNS_NS_DISAGREE,
            "a secondary still at the zone from before the DKIM record",
            V4,
            |w, k| {
                second_ns(w, true);
                w.serve(1, ORG);
                dkim(w, &[]);
                w.freeze(1, ORG);
                dkim(w, &[&format!("v=DKIM1; k=rsa; p={}", k.org)]);
            },
        ),
        case(
            ids::DNS_NS_LAME,
            "a listed server refuses the zone",
            V4,
            |w, _| second_ns(w, true),
        ),
        case(
            ids::DNS_NS_LAME,
            "a listed server's name has no address: publish it",
            V4,
            |w, _| {
                second_ns(w, false);
                w.serve(1, ORG);
            },
        ),
        case(
            ids::DNS_NS_LAME,
            "a listed server's name has no address: unlist it",
            V4,
            |w, _| {
                second_ns(w, false);
                w.serve(1, ORG);
            },
        )
        .alternative(1),
        case(
            ids::DNS_PROPAGATING,
            "the resolver cached the zone from before the DKIM record",
            V4,
            |w, k| {
                dkim(w, &[]);
                w.cache(ORG);
                dkim(w, &[&format!("v=DKIM1; k=rsa; p={}", k.org)]);
            },
        ),
    ]
}

/// A finding as `check --json` prints it.
#[derive(Debug, Clone)]
struct Found {
    id: String,
    severity: String,
    subject: String,
    message: String,
    found: Option<String>,
    fix: Option<String>,
}

impl Found {
    fn line(&self) -> String {
        format!("{} {} {}", self.severity, self.id, self.subject)
    }
}

fn parse_report(json: &str) -> Result<Vec<Found>, String> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("not JSON ({e}): {json}"))?;
    let text = |f: &serde_json::Value, k: &str| f[k].as_str().map(String::from);
    Ok(v["findings"]
        .as_array()
        .ok_or_else(|| format!("no findings[]: {json}"))?
        .iter()
        .map(|f| Found {
            id: text(f, "id").unwrap_or_default(),
            severity: text(f, "severity").unwrap_or_default(),
            subject: text(f, "subject").unwrap_or_default(),
            message: text(f, "message").unwrap_or_default(),
            found: text(f, "found"),
            fix: text(f, "fix"),
        })
        .collect())
}

/// The trees the cases check on: one per base, set up by `apply --yes`.
struct Trees {
    v4: Arc<Tree>,
    dual: Arc<Tree>,
    weak: Arc<Tree>,
}

impl Trees {
    fn of(&self, base: Base) -> &Arc<Tree> {
        match base {
            Base::V4 => &self.v4,
            Base::DualStack => &self.dual,
            Base::Weak => &self.weak,
        }
    }
}

fn answers_path(tree: &Tree) -> String {
    tree.path(ANSWERS_IN_TREE).display().to_string()
}

/// Set `key = value` (TOML, as the fix prints it) in the tree's answers file.
fn set_answers(tree: &Tree, assignments: &[(String, String)]) {
    let text = tree.read(ANSWERS_IN_TREE);
    let key = |l: &str| l.split('=').next().unwrap_or("").trim().to_string();
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !assignments.iter().any(|(k, _)| key(l) == *k))
        .map(String::from)
        .collect();
    lines.extend(assignments.iter().map(|(k, v)| format!("{k} = {v}")));
    tree.write(ANSWERS_IN_TREE, &(lines.join("\n") + "\n"));
}

/// `mailsetup ARGS` on `tree`, off the async workers (the lab answers meanwhile).
async fn mailsetup(tree: &Arc<Tree>, args: Vec<String>) -> support::Run {
    let tree = Arc::clone(tree);
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        tree.run(&refs)
    })
    .await
    .unwrap()
}

/// `apply --yes` with the tree's answers; Err with the output unless it exits 0.
async fn apply(tree: &Arc<Tree>) -> Result<String, String> {
    let args = ["apply", "--yes", "--answers", &answers_path(tree)];
    let run = mailsetup(tree, args.map(String::from).to_vec()).await;
    if run.code == 0 {
        Ok(run.stdout)
    } else {
        Err(format!(
            "apply exited {}\n{}{}",
            run.code, run.stdout, run.stderr
        ))
    }
}

/// `check --json` on `tree` with `world` served.
async fn check(tree: &Arc<Tree>, world: &World) -> Result<Vec<Found>, String> {
    let running = world.start().await;
    let mut args: Vec<String> = ["check", "--json", "--answers", &answers_path(tree)]
        .map(String::from)
        .to_vec();
    args.extend(running.args());
    let run = mailsetup(tree, args).await;
    drop(running);
    if !matches!(run.code, 0 | 1) {
        return Err(format!(
            "check exited {}\n{}{}",
            run.code, run.stdout, run.stderr
        ));
    }
    parse_report(&run.stdout)
}

/// The public key (`p=`) of `domain`'s `mail` key in `tree`.
fn key_of(tree: &Tree, domain: &str) -> String {
    let pem = tree.read(&format!("/etc/opendkim/keys/{domain}/mail.private"));
    mailsetup::keys::public_from_pem(&pem).unwrap().p
}

/// A Debian 12 tree set up by `apply --yes` with the fixture answers edited by `edit`.
fn applied(edit: impl Fn(String) -> String) -> Tree {
    let tree = Tree::debian12_fast();
    tree.write(
        ANSWERS_IN_TREE,
        &edit(std::fs::read_to_string(ANSWERS).unwrap()),
    );
    tree.run(&["apply", "--yes", "--answers", &answers_path(&tree)])
        .expect_code(0);
    tree
}

/// The healthy zones for `tree`'s keys: [`fixture_zones_keys`].
fn v4_world(tree: &Tree) -> (World, Keys) {
    let keys = Keys {
        org: key_of(tree, ORG),
        net: key_of(tree, "example.net"),
    };
    (
        World::new(&fixture_zones_keys(&keys.org, Some(&keys.net))),
        keys,
    )
}

/// [`v4_world`] for a dual-stack server: its AAAA, SPF with `ip6:` (both domains), the IPv6
/// reverse zone with its PTR.
fn dual_stack(mut w: World) -> World {
    add(&mut w, ORG, &format!("mail IN AAAA {V6}"));
    let value = format!("v=spf1 ip4:192.0.2.10 ip6:{V6} -all");
    for d in [ORG, "example.net"] {
        replace(&mut w, d, "TXT", "v=spf1", &[&value]);
    }
    let ptr = format!("{} IN PTR mail.example.org.", v6_ptr_owner());
    w.zones.push(Zone::parse(&zone(REVERSE6, &[&ptr])));
    w
}

/// What a fix says to do, one step.
#[derive(Debug, Clone)]
enum Action {
    /// Publish this record: at its owner, the records of its type that the finding's `found`
    /// shows go, this one comes (a DNS panel's edit).
    Publish(Rr),
    /// The record(s) that follow belong in this zone ("publish in the zone of X:").
    InZone(String),
    /// "delete the record at NAME" / "remove NAME a few days later": every record there.
    Delete(String),
    /// "wait until NS has loaded the newest zone" / "… has transferred the zone".
    Transfer(String),
    /// "make NS serve the zone Z".
    Serve(String, String),
    /// "publish the address (A) of NS": its machine's address.
    PublishAddress(String),
    /// "remove NS from the NS records of Z".
    Unlist(String, String),
    /// "request removal" at a blocklist's page: the list drops this server's entry.
    Delist(String),
    /// "replace include:, a and mx terms by the ip4:/ip6: ranges they stand for".
    FlattenSpf,
    /// "remove the terms whose names do not exist or have no records".
    DropVoidTerms,
    /// `key = value` in the answers file.
    Answers(Vec<(String, String)>),
    /// `mailsetup apply` (with `--yes` and the answers).
    Apply,
    /// Publish the record `mailsetup records` prints at the DKIM selector ("its record") or
    /// at `_dmarc` ("the DMARC record"), for the finding's domain.
    PublishPrinted(Printed),
    /// Publish the DMARC record that the last `mailsetup apply` printed ("… it prints").
    PublishFromApply,
    /// The first-hop resolver's cache runs out ("visible everywhere by about …").
    Wait,
}

impl Action {
    /// For the report: a published record by owner, type and the start of its value.
    fn brief(&self) -> String {
        match self {
            Action::Publish(rr) => {
                let shown = rr.shown();
                let cut: String = shown.chars().take(48).collect();
                let more = if cut.len() < shown.len() { "…" } else { "" };
                format!("publish {} {} {cut}{more}", rr.owner, rr.rtype)
            }
            other => format!("{other:?}"),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Printed {
    Dkim,
    Dmarc,
}

/// The alternatives of a fix: groups of lines, a new one at each line starting with `or `
/// (`either ` and `or ` dropped); a one-line fix is split at a `, or ` outside parentheses.
fn alternatives(fix: &str) -> Vec<String> {
    let mut groups: Vec<Vec<&str>> = Vec::new();
    for line in fix.lines() {
        let alt = line.strip_prefix("or ");
        if alt.is_some() || groups.is_empty() {
            groups.push(Vec::new());
        }
        let line = alt.unwrap_or(line);
        groups
            .last_mut()
            .unwrap()
            .push(line.strip_prefix("either ").unwrap_or(line));
    }
    if let [one] = groups.as_slice()
        && let [line] = one.as_slice()
        && let Some(at) = outside_parentheses(line, ", or ")
    {
        return vec![line[..at].to_string(), line[at + 5..].to_string()];
    }
    groups.iter().map(|g| g.join("\n")).collect()
}

/// Where `pat` first occurs in `s` outside parentheses.
fn outside_parentheses(s: &str, pat: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if depth == 0 && s[i..].starts_with(pat) => return Some(i),
            _ => {}
        }
    }
    None
}

/// The word after `prefix` in `line` (up to whitespace), without trailing `,` `;` `:` `.`.
fn word_after<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = &line[line.find(prefix)? + prefix.len()..];
    let word = rest.split_whitespace().next()?;
    Some(word.trim_end_matches([',', ';', ':', '.']))
}

/// The actions one line of a fix asks for (empty: it asks for nothing this sweep knows).
fn read_line(line: &str) -> Result<Vec<Action>, String> {
    // "…; if it stays behind, …" is what to do when the first advice has not helped
    let line = line.split("; if ").next().unwrap_or(line);
    let mut actions = Vec::new();
    if let Some(zone) = word_after(line, "publish in the zone of ") {
        actions.push(Action::InZone(zone.to_string()));
    }
    if let Some(name) = word_after(line, "delete the record at ") {
        actions.push(Action::Delete(name.to_string()));
    }
    if let Some(rest) = line.split("wait until ").nth(1)
        && let Some((names, _)) = rest
            .split_once(" has loaded the newest zone")
            .or_else(|| rest.split_once(" has transferred the zone"))
    {
        for server in names.split(", ") {
            let name = server.split_whitespace().next().unwrap_or(server);
            actions.push(Action::Transfer(name.to_string()));
        }
    }
    if let (Some(ns), Some(zone)) = (
        word_after(line, "make "),
        word_after(line, " serve the zone "),
    ) {
        actions.push(Action::Serve(ns.to_string(), zone.to_string()));
    }
    if let Some(ns) = word_after(line, "publish the address (A) of ") {
        actions.push(Action::PublishAddress(ns.to_string()));
    }
    if let (Some(ns), Some(zone)) = (
        word_after(line, "remove "),
        word_after(line, " from the NS records of "),
    ) {
        actions.push(Action::Unlist(ns.to_string(), zone.to_string()));
    }
    if line.contains("request removal")
        && let Some(page) = word_after(line, "at https://")
    {
        actions.push(Action::Delist(format!("https://{page}")));
    }
    if line.contains("replace include:, a and mx terms by the ip4:/ip6: ranges they stand for") {
        actions.push(Action::FlattenSpf);
    }
    if line.contains("remove the terms whose names do not exist or have no records") {
        actions.push(Action::DropVoidTerms);
    }
    if let Some(rest) = line.split("answers: ").nth(1)
        && let Some((assignments, _)) = rest.split_once(", then mailsetup apply")
    {
        actions.push(Action::Answers(assignments_of(assignments)?));
    } else if let Some((before, _)) = line.split_once(" in the answers") {
        let assignment = before.rsplit(": ").next().unwrap_or(before);
        actions.push(Action::Answers(assignments_of(assignment)?));
    }
    if line.contains("mailsetup apply") {
        actions.push(Action::Apply);
    }
    if line.contains("publish its record") {
        actions.push(Action::PublishPrinted(Printed::Dkim));
    }
    if line.contains("publish the DMARC record `mailsetup records` prints") {
        actions.push(Action::PublishPrinted(Printed::Dmarc));
    } else if line.contains("publish the DMARC record it prints") {
        actions.push(Action::PublishFromApply);
    }
    if let Some(name) = line
        .split_once(" a few days later")
        .and_then(|(before, _)| before.rsplit(' ').next())
    {
        actions.push(Action::Delete(name.to_string()));
    }
    if line.contains("visible everywhere by about") {
        actions.push(Action::Wait);
    }
    actions.extend(records_in(line).into_iter().map(Action::Publish));
    Ok(actions)
}

/// `key = value and …` (as a fix prints them); "a new selector" picks [`NEW_SELECTOR`].
fn assignments_of(text: &str) -> Result<Vec<(String, String)>, String> {
    text.split(" and ")
        .map(|a| match a.split_once(" = ") {
            Some((k, v)) => Ok((k.trim().to_string(), v.trim().to_string())),
            None if a.trim() == "a new selector" => {
                Ok(("selector".into(), format!("\"{NEW_SELECTOR}\"")))
            }
            None => Err(format!("not an answers assignment: {a:?}")),
        })
        .collect()
}

/// The web-form alternative of a TXT fix names the same record as its zone-file line: the
/// name relative to the zone (`@` for the apex), the type, the value as one string.
fn web_form_agrees(alternatives: &[String], world: &World) -> Result<(), String> {
    for pair in alternatives.windows(2) {
        let Some(form) = pair[1].strip_prefix("in a web form: name ") else {
            continue;
        };
        let rr = records_in(&pair[0])
            .pop()
            .ok_or_else(|| format!("a web form with no zone-file line before it: {form}"))?;
        let origin = world
            .zone_of(&rr.owner)
            .map(|z| z.origin.clone())
            .unwrap_or_default();
        let relative = if rr.owner == origin {
            "@".to_string()
        } else {
            rr.owner
                .strip_suffix(&format!(".{origin}"))
                .unwrap_or(&rr.owner)
                .to_string()
        };
        let want = format!("{relative}, type {}, value {}", rr.rtype, rr.shown());
        if form != want {
            return Err(format!(
                "the web form says {form:?}, the zone-file line {:?} (zone {origin})",
                rr.line()
            ));
        }
    }
    Ok(())
}

/// Where a case stands while its fixes are followed.
struct Following<'a> {
    world: &'a mut World,
    tree: &'a Arc<Tree>,
    writes: bool,
    /// What was done, for the failure report.
    log: Vec<String>,
    /// The stdout of the last `mailsetup apply`.
    applied: String,
}

/// Follow the `alternative`-th alternative of `f`'s fix (its message when it has none).
async fn follow(f: &Found, alternative: usize, st: &mut Following<'_>) -> Result<(), String> {
    let text = f.fix.clone().unwrap_or_else(|| f.message.clone());
    let alts = alternatives(&text);
    web_form_agrees(&alts, st.world)?;
    let chosen = alts
        .get(alternative)
        .ok_or_else(|| format!("the fix has no alternative {alternative}: {text:?}"))?;
    let mut actions = Vec::new();
    for line in chosen.lines() {
        let these = read_line(line)?;
        if these.is_empty() {
            return Err(format!("the sweep does not know how to follow {line:?}"));
        }
        actions.extend(these);
    }
    let mut zone_hint = None;
    for action in actions {
        st.log
            .push(format!("{} {}: {}", f.id, f.subject, action.brief()));
        perform(action, f, &mut zone_hint, st).await?;
    }
    Ok(())
}

async fn perform(
    action: Action,
    f: &Found,
    zone_hint: &mut Option<String>,
    st: &mut Following<'_>,
) -> Result<(), String> {
    let world = &mut *st.world;
    match action {
        Action::Publish(rr) => publish(world, rr, f.found.as_deref(), zone_hint.as_deref())?,
        Action::InZone(zone) => *zone_hint = Some(zone),
        Action::Delete(name) => {
            let origin = origin_of(world, &name)?;
            let gone = world.edit(&origin, |z| z.remove(|r| r.owner == name));
            if gone == 0 {
                return Err(format!("no record at {name} to delete"));
            }
        }
        Action::Transfer(ns) => {
            let server = world.server_named(&ns);
            world.sync(server);
        }
        Action::Serve(ns, zone) => {
            let server = world.server_named(&ns);
            world.serve(server, &zone);
        }
        Action::PublishAddress(ns) => {
            let addr = world
                .machines
                .get(&ns)
                .ok_or_else(|| format!("which machine is {ns}?"))?;
            let rr = Rr {
                owner: ns.clone(),
                rtype: "A".into(),
                rdata: vec![addr.to_string()],
            };
            publish(world, rr, None, None)?;
        }
        Action::Unlist(ns, zone) => {
            let gone = world.edit(&zone, |z| {
                z.remove(|r| r.owner == zone && r.rtype == "NS" && r.is_shown_by(&ns))
            });
            if gone == 0 {
                return Err(format!("{zone} lists no NS {ns}"));
            }
        }
        Action::Delist(page) => delist(world, &page, &f.subject)?,
        Action::FlattenSpf => {
            let record = spf_record(world, &f.subject)?;
            let terms = flatten(world, &f.subject, 0)?;
            set_spf(world, &f.subject, &record, &terms);
        }
        Action::DropVoidTerms => {
            let record = spf_record(world, &f.subject)?;
            let terms: Vec<String> = record
                .split_whitespace()
                .skip(1)
                .filter(|t| !is_void(world, &f.subject, t))
                .map(String::from)
                .collect();
            set_spf(world, &f.subject, &record, &terms);
        }
        Action::Answers(assignments) => {
            if !st.writes {
                return Err("the fix edits the answers: mark the case .writes()".into());
            }
            set_answers(st.tree, &assignments);
        }
        Action::Apply => {
            if !st.writes {
                return Err("the fix runs mailsetup apply: mark the case .writes()".into());
            }
            st.applied = apply(st.tree).await?;
        }
        Action::PublishPrinted(what) => {
            let args = [
                "records",
                "--answers",
                &answers_path(st.tree),
                "--format",
                "zone",
                "--domain",
                &f.subject,
            ];
            let run = mailsetup(st.tree, args.map(String::from).to_vec()).await;
            if run.code != 0 {
                return Err(format!("records exited {}: {}", run.code, run.stderr));
            }
            let printed = Zone::parse(&run.stdout);
            let wanted: Vec<Rr> = printed
                .records
                .into_iter()
                .filter(|r| match what {
                    Printed::Dkim => r.owner.ends_with(&format!("._domainkey.{}", f.subject)),
                    Printed::Dmarc => r.owner == format!("_dmarc.{}", f.subject),
                })
                .collect();
            if wanted.is_empty() {
                return Err(format!(
                    "records prints no {what:?} record:\n{}",
                    run.stdout
                ));
            }
            for rr in wanted {
                publish(world, rr, f.found.as_deref(), None)?;
            }
        }
        Action::PublishFromApply => {
            let dmarc = format!("_dmarc.{}", f.subject);
            let printed: Vec<Rr> = records_in(&st.applied)
                .into_iter()
                .filter(|r| r.owner == dmarc)
                .collect();
            if printed.is_empty() {
                return Err(format!(
                    "the fix says to publish the DMARC record mailsetup apply prints, but \
                     apply printed none:\n{}",
                    st.applied
                ));
            }
            for rr in printed {
                publish(world, rr, f.found.as_deref(), None)?;
            }
        }
        Action::Wait => world.expire_cache(),
    }
    Ok(())
}

fn origin_of(world: &World, name: &str) -> Result<String, String> {
    world
        .zone_of(name)
        .map(|z| z.origin.clone())
        .ok_or_else(|| format!("no zone of the world holds {name}"))
}

/// Publish `rr` in its zone (which must be `zone_hint` when given), replacing at its owner the
/// records of its type that `found` shows.
fn publish(
    world: &mut World,
    rr: Rr,
    found: Option<&str>,
    zone_hint: Option<&str>,
) -> Result<(), String> {
    let origin = origin_of(world, &rr.owner)?;
    if let Some(hint) = zone_hint
        && hint != origin
    {
        return Err(format!(
            "the fix says to publish {rr} in the zone of {hint}, but it is in {origin}"
        ));
    }
    world.edit(&origin, |z| {
        if let Some(found) = found {
            z.remove(|r| {
                r.owner == rr.owner
                    && r.rtype == rr.rtype
                    && found.lines().any(|l| r.is_shown_by(l))
            });
        }
        z.add(rr);
    });
    Ok(())
}

/// The list behind each removal page a fix names: "request removal there" drops the entry.
const REMOVAL_PAGES: &[(&str, &str)] = &[
    ("https://check.spamhaus.org/", "zen.spamhaus.org"),
    ("https://www.spamcop.net/bl.shtml", "bl.spamcop.net"),
    (
        "https://www.barracudacentral.org/rbl/removal-request",
        "b.barracudacentral.org",
    ),
];

/// The list at `page` drops its entry for `ip` (RFC 5782 §2.1 query name).
fn delist(world: &mut World, page: &str, ip: &str) -> Result<(), String> {
    let list = REMOVAL_PAGES
        .iter()
        .find(|(p, _)| *p == page)
        .map(|(_, l)| *l)
        .ok_or_else(|| format!("which list is delisted at {page}?"))?;
    let ip: IpAddr = ip.parse().map_err(|_| format!("not an address: {ip}"))?;
    let reverse = mailsetup::dns::reverse_name(ip);
    let labels = reverse
        .strip_suffix(".in-addr.arpa")
        .or_else(|| reverse.strip_suffix(".ip6.arpa"))
        .unwrap();
    let entry = format!("{labels}.{list}");
    let gone = world.edit(list, |z| z.remove(|r| r.owner == entry));
    if gone == 0 {
        return Err(format!("{list} has no entry {entry}"));
    }
    Ok(())
}

/// The v=spf1 record of `domain` in the world.
fn spf_record(world: &World, domain: &str) -> Result<String, String> {
    world
        .lookup(domain, "TXT")
        .iter()
        .map(Rr::shown)
        .find(|v| v.to_ascii_lowercase().starts_with("v=spf1 "))
        .ok_or_else(|| format!("{domain} has no SPF record"))
}

/// Replace the SPF record `old` of `domain` by `v=spf1 TERMS`.
fn set_spf(world: &mut World, domain: &str, old: &str, terms: &[String]) {
    let mut unique: Vec<&String> = Vec::new();
    for t in terms {
        if !unique.contains(&t) {
            unique.push(t);
        }
    }
    let value = format!(
        "v=spf1 {}",
        unique
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    );
    world.edit_at(domain, |z| {
        z.remove(|r| r.owner == domain && r.rtype == "TXT" && r.shown() == old);
        z.add(txt(domain, &value));
    });
}

/// An SPF term split into its qualifier (`""` when none) and mechanism, and the mechanism's
/// target name (`domain` for a bare `a` or `mx`), if it has one.
fn term_parts<'a>(term: &'a str, domain: &str) -> (&'a str, String, Option<String>) {
    let (q, mech) = match term.chars().next() {
        Some('+' | '-' | '~' | '?') => term.split_at(1),
        _ => ("", term),
    };
    let lower = mech.to_ascii_lowercase();
    let name = lower.split(['/']).next().unwrap_or("");
    let target = match name.split_once(':') {
        Some((m, t)) if ["a", "mx", "include", "exists", "ptr"].contains(&m) => Some(t.to_string()),
        None if ["a", "mx", "ptr"].contains(&name) => Some(domain.to_string()),
        _ => None,
    };
    let mechanism = name.split(':').next().unwrap_or("").to_string();
    (q, mechanism, target)
}

/// The ip4:/ip6: terms the addresses of `name` stand for, with qualifier `q`.
fn addresses(world: &World, name: &str, q: &str) -> Vec<String> {
    let mut out: Vec<String> = world
        .lookup(name, "A")
        .iter()
        .map(|r| format!("{q}ip4:{}", r.rdata[0]))
        .collect();
    out.extend(
        world
            .lookup(name, "AAAA")
            .iter()
            .map(|r| format!("{q}ip6:{}", r.rdata[0])),
    );
    out
}

/// The terms of `domain`'s SPF record with include:, a and mx replaced by the ip4:/ip6:
/// ranges they stand for (an include's own `all` dropped; only its passing terms kept).
fn flatten(world: &World, domain: &str, depth: usize) -> Result<Vec<String>, String> {
    if depth > 10 {
        return Err(format!("include loop at {domain}"));
    }
    let record = spf_record(world, domain)?;
    let mut out = Vec::new();
    for term in record.split_whitespace().skip(1) {
        let (q, mechanism, target) = term_parts(term, domain);
        match (mechanism.as_str(), target) {
            ("all", _) if depth > 0 => {}
            ("include", Some(t)) => {
                if q.is_empty() || q == "+" {
                    out.extend(flatten(world, &t, depth + 1)?);
                }
            }
            ("a", Some(t)) => out.extend(addresses(world, &t, q)),
            ("mx", Some(t)) => {
                for mx in world.lookup(&t, "MX") {
                    let exchange = mx.rdata[1].trim_end_matches('.').to_ascii_lowercase();
                    out.extend(addresses(world, &exchange, q));
                }
            }
            _ => out.push(term.to_string()),
        }
    }
    Ok(out)
}

/// Is `term` (of `domain`'s SPF record) a lookup that finds nothing?
fn is_void(world: &World, domain: &str, term: &str) -> bool {
    let (_, mechanism, target) = term_parts(term, domain);
    let Some(t) = target else {
        return false;
    };
    match mechanism.as_str() {
        "a" => world.lookup(&t, "A").is_empty() && world.lookup(&t, "AAAA").is_empty(),
        "mx" => world.lookup(&t, "MX").is_empty(),
        "include" => world.lookup(&t, "TXT").is_empty(),
        "exists" => world.lookup(&t, "A").is_empty(),
        _ => !world.exists(&t),
    }
}

/// Error-severity findings as `id subject`.
fn errors(findings: &[Found]) -> BTreeSet<(String, String)> {
    findings
        .iter()
        .filter(|f| f.severity == "error")
        .map(|f| (f.id.clone(), f.subject.clone()))
        .collect()
}

fn listing(findings: &[Found]) -> String {
    findings
        .iter()
        .map(|f| format!("  {}\n", f.line()))
        .collect()
}

/// Run one case; Ok: a one-line summary; Err: what went wrong, with what it takes to see it
/// again.
async fn run_case(
    case: &Case,
    trees: &Trees,
    bases: &[(Base, World, Keys)],
) -> Result<String, String> {
    let (_, base, keys) = bases.iter().find(|(b, _, _)| *b == case.base).unwrap();
    let mut world = base.clone();
    (case.breaks)(&mut world, keys);
    let shared = trees.of(case.base);
    let tree = if case.writes {
        Arc::new(shared.copy())
    } else {
        Arc::clone(shared)
    };
    let name = format!("{} ({}, {:?} base)", case.id, case.what, case.base);
    let before = check(&tree, &world)
        .await
        .map_err(|e| format!("{name}: {e}"))?;
    let targets: Vec<&Found> = before.iter().filter(|f| f.id == case.id).collect();
    if targets.is_empty() {
        return Err(format!(
            "{name}: the break does not produce it; check found:\n{}",
            listing(&before)
        ));
    }
    let mut st = Following {
        world: &mut world,
        tree: &tree,
        writes: case.writes,
        log: Vec::new(),
        applied: String::new(),
    };
    let mut followed: Vec<(String, Option<String>)> = Vec::new();
    for f in &targets {
        let key = (f.subject.clone(), f.fix.clone());
        if followed.contains(&key) {
            continue;
        }
        followed.push(key);
        follow(f, case.alternative, &mut st).await.map_err(|e| {
            format!(
                "{name}: following the fix of {} failed: {e}\nfix: {:?}\nsteps: {:#?}",
                f.line(),
                f.fix,
                st.log
            )
        })?;
    }
    let log = st.log;
    let after = check(&tree, &world)
        .await
        .map_err(|e| format!("{name}: {e}"))?;
    let still: Vec<&Found> = after.iter().filter(|f| f.id == case.id).collect();
    let new: Vec<(String, String)> = errors(&after)
        .difference(&errors(&before))
        .cloned()
        .collect();
    if still.is_empty() && new.is_empty() {
        let kept: Vec<String> = after.iter().map(Found::line).collect();
        let steps: Vec<&str> = log
            .iter()
            .map(|l| l.split_once(": ").map_or(l.as_str(), |(_, a)| a))
            .collect();
        return Ok(format!(
            "{name}: cleared by {}{}",
            steps.join("; "),
            if kept.is_empty() {
                String::new()
            } else {
                format!("; left: {}", kept.join(", "))
            }
        ));
    }
    let fixes: Vec<String> = targets
        .iter()
        .map(|f| format!("  {}\n    fix: {:?}", f.line(), f.fix))
        .collect();
    Err(format!(
        "{name}: following the printed fix {}{}\nfindings before:\n{}the fixes followed:\n{}\n\
         steps: {log:#?}\nfindings after:\n{}zones after:\n{}",
        if still.is_empty() {
            String::new()
        } else {
            format!("left {} in place", case.id)
        },
        if new.is_empty() {
            String::new()
        } else {
            format!(" brought new errors {new:?}")
        },
        listing(&before),
        fixes.join("\n"),
        listing(&after),
        world
            .zones
            .iter()
            .filter(|z| !z.origin.contains("spamhaus")
                && !z.origin.contains("spamcop")
                && !z.origin.contains("barracuda"))
            .map(Zone::text)
            .collect::<String>()
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn sweep_every_dns_finding_is_cleared_by_its_printed_fix() {
    let start = Instant::now();
    let v4 = applied(|a| a.replace("key_bits = 1024", "key_bits = 2048"));
    let dual = v4.copy();
    set_answers(
        &dual,
        &[
            ("ipv6".into(), format!("\"{V6}\"")),
            ("inet_protocols".into(), "\"all\"".into()),
        ],
    );
    dual.run(&["apply", "--yes", "--answers", &answers_path(&dual)])
        .expect_code(0);
    let weak = applied(|a| a);
    let (v4_base, v4_keys) = v4_world(&v4);
    let (weak_base, weak_keys) = v4_world(&weak);
    let bases = vec![
        (Base::V4, v4_base.clone(), v4_keys.clone()),
        (Base::DualStack, dual_stack(v4_base), v4_keys),
        (Base::Weak, weak_base, weak_keys),
    ];
    let trees = Trees {
        v4: Arc::new(v4),
        dual: Arc::new(dual),
        weak: Arc::new(weak),
    };
    // the bases are healthy: nothing but the weak keys' warning
    for (base, world, _) in &bases {
        let found = check(trees.of(*base), world).await.unwrap();
        let bad: Vec<&Found> = found
            .iter()
            .filter(|f| f.severity != "info" && f.id != ids::DKIM_WEAK_KEY)
            .collect();
        assert!(bad.is_empty(), "{base:?} base is not healthy:\n{found:#?}");
    }
    let cases = cases();
    let results: Vec<Result<String, String>> = futures_util::stream::iter(&cases)
        .map(|case| run_case(case, &trees, &bases))
        .buffered(4)
        .collect()
        .await;
    let mut failures = Vec::new();
    for (case, result) in cases.iter().zip(results) {
        match (case.known_bug, result) {
            (None, Ok(line)) => println!("{line}"),
            (None, Err(e)) => failures.push(e),
            (Some((what, shows)), Err(e)) if e.contains(shows) => {
                println!("KNOWN BUG {} ({}): {what}\n{e}", case.id, case.what);
            }
            (Some((what, _)), Err(e)) => failures.push(format!(
                "{} ({}) fails otherwise than by its known bug ({what}):\n{e}",
                case.id, case.what
            )),
            (Some((what, _)), Ok(line)) => failures.push(format!(
                "{line}\n  the known bug is gone ({what}): remove the case's known_bug marker"
            )),
        }
    }
    println!(
        "{} case(s), {} failed, {:.1} s",
        cases.len(),
        failures.len(),
        start.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn sweep_every_finding_id_is_swept_or_excused() {
    let swept: BTreeSet<&str> = cases().iter().map(|c| c.id).collect();
    let local = |id: &str| LOCAL.iter().any(|l| id.starts_with(l));
    let excused = |id: &str| EXCUSED.iter().any(|(e, _)| *e == id);
    for id in ids::ALL {
        let ways = [swept.contains(id), local(id), excused(id)];
        assert!(
            ways.iter().filter(|w| **w).count() == 1,
            "{id}: needs exactly one of a DNS sweep case here, a place in the local sweep \
             (sweep_local.rs) or an excuse with its reason (swept, local, excused: {ways:?})"
        );
    }
    for (id, why) in EXCUSED {
        assert!(ids::ALL.contains(id), "{id} is excused but is no id");
        assert!(!why.is_empty());
    }
}

