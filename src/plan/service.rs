//! The services a plan restarts or reloads, as values: which daemon, which verb, and why.
//! Carrying them out is [`crate::host::services::perform`]'s job.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Postfix,
    Opendkim,
    /// amavisd-new (Debian's init script and unit are named `amavis`).
    Amavis,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::Postfix => "postfix",
            Service::Opendkim => "opendkim",
            Service::Amavis => "amavis",
        }
    }
}

/// What a service needs. `Restart` for Postfix is a full stop and start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Reload,
    Restart,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAction {
    pub service: Service,
    pub verb: Verb,
    pub why: String,
}

impl ServiceAction {
    pub fn new(service: Service, verb: Verb, why: &str) -> ServiceAction {
        ServiceAction {
            service,
            verb,
            why: why.into(),
        }
    }
}

impl fmt::Display for ServiceAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match (self.service, self.verb) {
            (Service::Postfix, Verb::Restart) => "stop and start postfix",
            (Service::Postfix, Verb::Reload) => "reload postfix",
            (Service::Opendkim, _) => "restart opendkim",
            (Service::Amavis, _) => "restart amavisd-new",
        };
        write!(f, "{what}: {}", self.why)
    }
}
