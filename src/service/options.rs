//! [`IssueOptions`]: what a login asks of its session beyond the subject
//! and the claims.

use crate::session::SessionInfo;

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

impl From<SessionInfo> for IssueOptions {
    fn from(info: SessionInfo) -> Self {
        Self::new().info(info)
    }
}
