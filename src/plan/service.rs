//! The services a plan restarts or reloads, as values: which daemon, which verb, and why.
//! Carrying them out is [`crate::host::services::perform`]'s job.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Postfix,
    Opendkim,
    /// amavisd-new (Debian's init script and unit are named `amavis`).
    Amavis,
    /// OpenDMARC (inbound DMARC), a milter after OpenDKIM.
    Opendmarc,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::Postfix => "postfix",
            Service::Opendkim => "opendkim",
            Service::Amavis => "amavis",
            Service::Opendmarc => "opendmarc",
        }
    }

    /// The service of a name [`Service::name`] gives (as run records store them).
    pub fn from_name(name: &str) -> Option<Service> {
        [
            Service::Postfix,
            Service::Opendkim,
            Service::Amavis,
            Service::Opendmarc,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }

    /// The order services are (re)started in: the milters (and amavisd-new, Postfix's
    /// content filter) first, so that their sockets exist when Postfix comes back.
    pub fn start_rank(self) -> u8 {
        match self {
            Service::Opendkim => 0,
            Service::Opendmarc => 1,
            Service::Amavis => 2,
            Service::Postfix => 3,
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
            (Service::Opendmarc, _) => "restart opendmarc",
        };
        write!(f, "{what}: {}", self.why)
    }
}
