//! [`StoreOp`]: the names of the contract's operations, for metrics,
//! fault injection and logs.

/// One of the eight [`RefreshStore`](super::RefreshStore) operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreOp {
    /// [`RefreshStore::create`](super::RefreshStore::create).
    Create,
    /// [`RefreshStore::get`](super::RefreshStore::get).
    Get,
    /// [`RefreshStore::rotate`](super::RefreshStore::rotate).
    Rotate,
    /// [`RefreshStore::revoke`](super::RefreshStore::revoke).
    Revoke,
    /// [`RefreshStore::revoke_subject`](super::RefreshStore::revoke_subject).
    RevokeSubject,
    /// [`RefreshStore::sessions`](super::RefreshStore::sessions).
    Sessions,
    /// [`RefreshStore::purge_expired`](super::RefreshStore::purge_expired).
    PurgeExpired,
    /// [`RefreshStore::insert_dpop_jti`](super::RefreshStore::insert_dpop_jti).
    InsertDpopJti,
}

impl StoreOp {
    /// Every operation, in the trait's order.
    pub const ALL: [StoreOp; 8] = [
        StoreOp::Create,
        StoreOp::Get,
        StoreOp::Rotate,
        StoreOp::Revoke,
        StoreOp::RevokeSubject,
        StoreOp::Sessions,
        StoreOp::PurgeExpired,
        StoreOp::InsertDpopJti,
    ];

    /// The trait method's name, e.g. `"revoke_subject"`.
    pub const fn name(self) -> &'static str {
        match self {
            StoreOp::Create => "create",
            StoreOp::Get => "get",
            StoreOp::Rotate => "rotate",
            StoreOp::Revoke => "revoke",
            StoreOp::RevokeSubject => "revoke_subject",
            StoreOp::Sessions => "sessions",
            StoreOp::PurgeExpired => "purge_expired",
            StoreOp::InsertDpopJti => "insert_dpop_jti",
        }
    }
}
