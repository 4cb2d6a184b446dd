//! The body of a step with a part of the plan (inet_protocols, OpenDKIM, milter, tables,
//! keys): where its change stands, and the change as a unified diff.

use ratatui::style::Style;

use super::Body;
use super::text::{Rows, clean};
use crate::check::Status;
use crate::tui::theme::Theme;
use crate::values::{InetProtocols, MilterSocket};
use crate::wizard::{Outcome, Step, Wizard};

/// The outcome line(s) stay put; the diff (or the applied lines) scroll.
pub fn part(w: &Wizard, step: Step, theme: &Theme, cols: usize) -> Body {
    let mut b = Body::new(cols);
    if step == Step::InetProtocols {
        inet_protocols(w, theme, &mut b.fixed);
    }
    if step == Step::Opendkim {
        socket(w, theme, &mut b.fixed);
    }
    if step == Step::InboundSpf {
        inbound_spf(w, theme, &mut b.fixed);
    }
    let Some(p) = w.plans.get(&step) else {
        b.fixed.row("planning…", theme.dim);
        return b;
    };
    let f = &mut b.fixed;
    let mut show_diff = true;
    match &p.outcome {
        Outcome::Pending => f.spans(&[
            ("? ", theme.warn),
            ("not applied yet: ", theme.heading),
            ("y", theme.key),
            (" apply · ", Style::new()),
            ("n", theme.key),
            (" skip", Style::new()),
        ]),
        Outcome::AlreadyDone => {
            show_diff = false;
            f.spans(&[
                ("✓ ", theme.ok),
                ("already done: the files match", theme.heading),
            ]);
        }
        Outcome::Applying => f.spans(&[("… ", theme.dim), ("applying…", theme.heading)]),
        Outcome::Applied { lines, verified } => {
            show_diff = false;
            match verified {
                Some(true) => f.spans(&[
                    ("✓ done", theme.ok),
                    (": applied, and the files now match", Style::new()),
                ]),
                Some(false) => f.spans(&[
                    ("! changes remain", theme.warn),
                    (": applied, but the files still differ", Style::new()),
                ]),
                None => f.spans(&[("✓ applied", theme.ok), (" · checking…", theme.dim)]),
            }
            let r = &mut b.scrolled;
            for line in lines {
                r.indented("  ", &clean(line), Style::new());
            }
        }
        Outcome::WouldApply => f.spans(&[
            ("~ dry run: would apply", theme.warn),
            (" (nothing written)", Style::new()),
        ]),
        Outcome::Skipped => f.spans(&[
            ("- skipped", theme.heading),
            (": nothing changed; the change was:", Style::new()),
        ]),
        Outcome::Failed(e) => {
            f.lead(&[("✗ failed: ", theme.bad)], &clean(e), Style::new());
            f.spans(&[
                ("y", theme.key),
                (" to retry, ", Style::new()),
                ("n", theme.key),
                (" to skip", Style::new()),
            ]);
        }
    }
    if show_diff {
        diff(&p.plan.to_string(), theme, &mut b.scrolled);
    }
    if step == Step::Keys && w.rotation_offered() {
        rotation(w, theme, &mut b);
    }
    b
}

/// The Keys step's rotation: what `r` does, and what the last `rotate` said.
fn rotation(w: &Wizard, theme: &Theme, b: &mut Body) {
    let f = &mut b.fixed;
    f.blank();
    let (then, now) = match &w.rotation {
        Some(r) if r.preview && r.result.is_ok() && !w.dry_run => {
            ("r", " again: do what is shown below")
        }
        _ => (
            "r",
            ": rotate the DKIM key (a new selector; the switch waits until every \
             nameserver serves its record); shown first",
        ),
    };
    f.lead(&[(then, theme.key)], now, Style::new());
    let Some(r) = &w.rotation else {
        return;
    };
    let s = &mut b.scrolled;
    s.blank();
    s.row(
        if r.preview {
            "rotate (preview: nothing written)"
        } else {
            "rotate"
        },
        theme.heading,
    );
    for line in r.text.lines() {
        s.indented("  ", &clean(line), Style::new());
    }
    if let Err(e) = &r.result {
        s.lead(&[("✗ ", theme.bad)], &clean(e), Style::new());
    }
}

/// The plan's text: diff lines cut to the width (they start with `+`, `-`, space or `@@`), the
/// other lines (file headings, keys, services, notes) wrapped.
fn diff(text: &str, theme: &Theme, r: &mut Rows) {
    for line in text.lines() {
        let line = clean(line);
        let style = if line.starts_with("+++") || line.starts_with("---") {
            theme.hunk
        } else if line.starts_with('+') {
            theme.added
        } else if line.starts_with('-') {
            theme.removed
        } else if line.starts_with("@@") {
            theme.hunk
        } else if line.starts_with(' ') {
            Style::new()
        } else {
            r.para(&line, theme.heading);
            continue;
        };
        r.row(&line, style);
    }
}

/// Whether incoming mail is SPF-checked (`inbound_spf`), and where that is chosen: off, the
/// step has nothing to do and leaves any policy service of the operator's alone.
fn inbound_spf(w: &Wizard, theme: &Theme, r: &mut Rows) {
    let Some(s) = &w.settings else {
        return;
    };
    let (state, why) = if s.inbound_spf {
        (
            "on",
            "policyd-spf (postfix-policyd-spf-python) is asked after reject_unauth_destination; \
             mail whose sender's SPF fails is rejected at RCPT",
        )
    } else {
        (
            "off",
            "nothing to do here; the Identity step's last field (inbound_spf) turns it on",
        )
    };
    r.spans(&[
        ("Inbound SPF check ", theme.heading),
        (state, theme.selected),
    ]);
    r.lead(&[("  ", Style::new())], why, theme.dim);
    r.blank();
}

/// `inet_protocols = ipv4`, how to change it, and which value fits the addresses given.
/// The socket choice: what OpenDKIM listens on and what Postfix names.
fn socket(w: &Wizard, theme: &Theme, r: &mut Rows) {
    let Some(s) = &w.settings else {
        return;
    };
    r.spans(&[
        ("Socket ", theme.heading),
        (&crate::milter::opendkim_socket(s.socket), theme.selected),
        ("   ", Style::new()),
        ("Tab", theme.key),
        (": change", Style::new()),
    ]);
    let why = match s.socket {
        MilterSocket::Local => {
            "a Unix socket inside Postfix's chroot, reachable only by OpenDKIM and the postfix \
             group (recommended)"
        }
        MilterSocket::Inet(_) => {
            "TCP on 127.0.0.1: any local user can reach it; use it when Postfix and OpenDKIM \
             cannot share a directory"
        }
    };
    r.lead(&[("  ", Style::new())], why, theme.dim);
    r.blank();
}

fn inet_protocols(w: &Wizard, theme: &Theme, r: &mut Rows) {
    let Some(s) = &w.settings else {
        return;
    };
    // IPv4 only is not offered to an IPv6-only server (wizard::diff::cycle_inet_protocols)
    let v6_only = s.ipv4.is_none() && s.ipv6.is_some();
    r.spans(&[
        ("inet_protocols = ", theme.heading),
        (s.inet_protocols.as_str(), theme.selected),
        ("   ", Style::new()),
        ("Tab", theme.key),
        (
            if v6_only {
                ": change (all / ipv6)"
            } else {
                ": change (ipv4 / all / ipv6)"
            },
            Style::new(),
        ),
    ]);
    match s.ipv6 {
        None => {
            let mark = if s.inet_protocols == InetProtocols::Ipv4 {
                ("✓ ", theme.ok)
            } else {
                ("! ", theme.warn)
            };
            r.lead(
                &[mark, ("recommended: ipv4", theme.heading)],
                " — no IPv6 address given.",
                Style::new(),
            );
        }
        Some(ip) => match &w.readiness {
            None => {
                r.lead(
                    &[
                        ("… ", theme.dim),
                        ("IPv6 mail needs a PTR: ", theme.heading),
                    ],
                    &format!("looking up the AAAA of {} and the PTR of {ip}", s.hostname),
                    Style::new(),
                );
            }
            Some(report) => {
                for c in &report.checked {
                    let mark = match c.status {
                        Status::Pass => ("✓ ", theme.ok),
                        Status::Fail => ("✗ ", theme.bad),
                        Status::Warn => ("! ", theme.warn),
                        Status::Unknown => ("? ", theme.dim),
                    };
                    r.lead(
                        &[mark],
                        &format!("{} {}", c.check, clean(&c.subject)),
                        Style::new(),
                    );
                }
                for f in &report.findings {
                    r.lead(&[("  ", Style::new())], &clean(&f.message), theme.dim);
                }
                let ready = report.exit_code() == 0;
                let (mark, text) = if ready && v6_only {
                    (("✓ ", theme.ok), "IPv6 is ready: ipv6 or all both work.")
                } else if ready {
                    (("✓ ", theme.ok), "IPv6 is ready: all or ipv4 both work.")
                } else if v6_only {
                    (
                        ("! ", theme.warn),
                        "IPv6 is this server's only address: ask for the PTR before sending \
                         (receivers such as Gmail reject IPv6 mail from an address without a \
                         matching PTR).",
                    )
                } else {
                    (
                        ("! ", theme.warn),
                        "recommended: ipv4 until the PTR is fixed (receivers such as Gmail \
                         reject IPv6 mail from an address without a matching PTR).",
                    )
                };
                r.lead(&[mark], text, Style::new());
            }
        },
    }
    r.blank();
}
