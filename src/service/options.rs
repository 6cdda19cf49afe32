//! [`IssueOptions`]: what a login asks of its session beyond the subject
//! and the claims.

use crate::session::{Jkt, SessionInfo};
use crate::token::DpopProof;

/// How [`issue_with`](super::TokenService::issue_with) sets up a session:
/// everything a login chooses beside the subject and the claims. The
/// default is what [`issue`](super::TokenService::issue) does.
///
/// ```
/// use jwt_rotate::{IssueOptions, SessionInfo};
///
/// let options = IssueOptions::new().info(SessionInfo::default().with_label("Work laptop"));
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct IssueOptions {
    pub(super) info: SessionInfo,
    pub(super) jkt: Option<Jkt>,
}

impl IssueOptions {
    /// The defaults: no device information.
    pub fn new() -> Self {
        Self::default()
    }

    /// What the app knows about the device (default: nothing).
    pub fn info(mut self, info: SessionInfo) -> Self {
        self.info = info;
        self
    }
}

impl IssueOptions {
    /// Binds the session to the client key with thumbprint `jkt` (DPoP,
    /// RFC 9449): its access tokens carry `cnf.jkt`, and every refresh
    /// needs a proof by that key
    /// ([`refresh_dpop`](super::TokenService::refresh_dpop)). Only for a
    /// key the client proved it holds: prefer [`dpop`](Self::dpop) with the
    /// login request's checked proof. Default: not bound.
    pub fn bound_to(mut self, jkt: Jkt) -> Self {
        self.jkt = Some(jkt);
        self
    }

    /// Binds the session to the key of `proof`, the login request's DPoP
    /// proof as [`Dpop::verify_proof`](crate::Dpop::verify_proof) accepted
    /// it; see [`bound_to`](Self::bound_to). Default: not bound.
    pub fn dpop(self, proof: DpopProof) -> Self {
        self.bound_to(*proof.jkt())
    }
}

impl From<SessionInfo> for IssueOptions {
    fn from(info: SessionInfo) -> Self {
        Self::new().info(info)
    }
}
