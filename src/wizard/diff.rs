//! The steps that show a diff (those with a plan part): the plan arrives (pending, or
//! already done; after an apply, the re-plan verifies it), `y` applies it (or records that
//! it would, in a dry run), `n` skips it, the apply's result, and the choices Tab cycles on
//! the inet_protocols and OpenDKIM steps (each drops the plans it changes). Pure.

use super::services::merge_service;
use super::{DEFAULT_INET_PORT, Effect, Key, Outcome, Step, StepPlan, Wizard};
use crate::plan::Plan;
use crate::values::{InetProtocols, MilterSocket, Port};

impl Wizard {
    /// Keys on a step that shows a diff.
    pub(super) fn diff_key(&mut self, step: Step, key: Key) -> Vec<Effect> {
        let needed_by = self.applied_step_needing(step);
        let Some(p) = self.plans.get_mut(&step) else {
            return Vec::new();
        };
        match (key, &p.outcome) {
            (Key::Char('y'), Outcome::Pending | Outcome::Failed(_)) => {
                if self.dry_run {
                    p.outcome = Outcome::WouldApply;
                    let next = self.onward(step);
                    return self.goto(next);
                }
                p.outcome = Outcome::Applying;
                self.busy = Some(format!("applying: {}", step.title()));
                vec![Effect::Apply(step, p.plan.clone())]
            }
            (Key::Char('n'), Outcome::Pending | Outcome::Failed(_)) => {
                if let Some(by) = needed_by {
                    self.status = Some(format!(
                        "the {} step, applied in this run, needs this one: skipped, it would \
                         leave the set-up broken; press y to apply it too",
                        by.title()
                    ));
                    return Vec::new();
                }
                p.outcome = Outcome::Skipped;
                let next = self.onward(step);
                self.goto(next)
            }
            (Key::Enter, Outcome::Pending) => {
                self.status = Some("press y to apply this change, or n to skip it".into());
                Vec::new()
            }
            (Key::Enter, Outcome::Applying) => Vec::new(),
            (Key::Enter, _) => {
                let next = self.onward(step);
                self.goto(next)
            }
            _ => Vec::new(),
        }
    }

    /// A step applied (or, in a dry run, to be applied) in this run whose part, or a part
    /// its diff brought along ([`Wizard::brought_along`]), needs `step`'s part
    /// ([`crate::plan::Part::needs`]).
    fn applied_step_needing(&self, step: Step) -> Option<Step> {
        let part = step.part()?;
        let needs = |s: Step| s.part().is_some_and(|a| a.needs().contains(&part));
        self.plans
            .iter()
            .filter(|(_, p)| matches!(p.outcome, Outcome::Applied { .. } | Outcome::WouldApply))
            .map(|(s, _)| *s)
            .find(|s| needs(*s) || self.brought_along(*s).into_iter().any(needs))
    }

    /// The earlier steps whose changes `step`'s diff brings along: skipped (so their changes
    /// are pending) and needed by its part, directly or through another such step — the
    /// parts [`crate::plan::with_earlier_prerequisites`] builds its plan from.
    pub(super) fn brought_along(&self, step: Step) -> Vec<Step> {
        let mut out: Vec<Step> = Vec::new();
        let mut todo = vec![step];
        while let Some(s) = todo.pop() {
            for need in s.part().map_or(&[][..], |p| p.needs()) {
                let n = Step::of_part(*need);
                let skipped =
                    matches!(self.plans.get(&n), Some(p) if p.outcome == Outcome::Skipped);
                if n < step && skipped && !out.contains(&n) {
                    out.push(n);
                    todo.push(n);
                }
            }
        }
        out
    }

    /// A step's plan arrived: pending, already done, or (after an apply) the verification.
    pub(super) fn planned(&mut self, step: Step, result: Result<Plan, String>) -> Vec<Effect> {
        self.busy = None;
        let plan = match result {
            Ok(plan) => plan,
            Err(e) => {
                self.status = Some(format!("cannot plan {}: {e}", step.title()));
                return Vec::new();
            }
        };
        match self.plans.get_mut(&step) {
            // the re-plan after an apply: empty means the step is done
            Some(StepPlan {
                outcome: Outcome::Applied { verified, .. },
                ..
            }) => {
                *verified = Some(plan.is_empty());
                self.status = Some(if plan.is_empty() {
                    format!("{}: done, the files now match", step.title())
                } else {
                    format!("{}: changes remain after applying", step.title())
                });
            }
            _ => {
                let outcome = if plan.is_empty() {
                    Outcome::AlreadyDone
                } else {
                    Outcome::Pending
                };
                self.plans.insert(step, StepPlan { plan, outcome });
            }
        }
        Vec::new()
    }

    /// A step was applied (its service actions wait for the summary), or it failed.
    pub(super) fn applied(
        &mut self,
        step: Step,
        result: Result<Vec<String>, String>,
    ) -> Vec<Effect> {
        self.busy = None;
        let Some(p) = self.plans.get_mut(&step) else {
            return Vec::new();
        };
        match result {
            Ok(mut lines) => {
                lines.push(format!(
                    "undo every step of this run: {}",
                    self.invocation.command("rollback")
                ));
                let actions = p.plan.services.clone();
                p.outcome = Outcome::Applied {
                    lines,
                    verified: None,
                };
                for action in actions {
                    merge_service(&mut self.pending_services, action);
                }
                match &self.settings {
                    Some(s) => vec![Effect::Plan(step, s.clone())],
                    None => Vec::new(),
                }
            }
            Err(e) => {
                self.status = Some(format!("not applied: {e}"));
                p.outcome = Outcome::Failed(e);
                Vec::new()
            }
        }
    }

    /// Tab on the inet_protocols step: ipv4, all, ipv6, and plan the step again.
    pub(super) fn cycle_inet_protocols(&mut self) -> Vec<Effect> {
        let Some(s) = &mut self.settings else {
            return Vec::new();
        };
        // IPv6 only is offered only with an IPv6 address, IPv4 only not with an IPv6 alone
        // (the answers refuse both)
        let v4 = s.ipv4.is_some() || s.ipv6.is_none();
        s.inet_protocols = match s.inet_protocols {
            InetProtocols::Ipv4 => InetProtocols::All,
            InetProtocols::All if s.ipv6.is_some() => InetProtocols::Ipv6,
            InetProtocols::All | InetProtocols::Ipv6 if v4 => InetProtocols::Ipv4,
            InetProtocols::All | InetProtocols::Ipv6 => InetProtocols::All,
        };
        self.plans.remove(&Step::InetProtocols);
        self.goto(Step::InetProtocols)
    }

    /// The socket choice of the OpenDKIM step: the Unix socket inside Postfix's chroot, or
    /// TCP on 127.0.0.1:8891 (opendkim.conf(5) `Socket`). Only before the step is applied;
    /// the milter step then names the same socket.
    pub(super) fn cycle_socket(&mut self) -> Vec<Effect> {
        let applied = self
            .plans
            .get(&Step::Opendkim)
            .is_some_and(|p| matches!(p.outcome, Outcome::Applied { .. } | Outcome::Applying));
        let Some(s) = &mut self.settings else {
            return Vec::new();
        };
        if applied {
            self.status = Some("already applied: the socket is chosen".into());
            return Vec::new();
        }
        s.socket = match s.socket {
            MilterSocket::Local => match Port::new(DEFAULT_INET_PORT) {
                Ok(port) => MilterSocket::Inet(port),
                Err(_) => MilterSocket::Local,
            },
            MilterSocket::Inet(_) => MilterSocket::Local,
        };
        self.plans.remove(&Step::Opendkim);
        self.plans.remove(&Step::Milter);
        self.goto(Step::Opendkim)
    }
}
