//! `GET /statuslists/{id}`: the token status list (draft-ietf-oauth-status-list),
//! framework-neutral.

use super::error::HttpError;
use super::flow::AuthFlow;
use super::reply::Reply;
use crate::store::RefreshStore;
use crate::token::AppClaims;

/// The media type of a status list token.
pub const STATUS_LIST_MEDIA_TYPE: &str = "application/statuslist+jwt";

impl<S: RefreshStore, C: AppClaims> AuthFlow<S, C> {
    /// `GET /statuslists/{id}`: the signed status list `id`
    /// ([`TokenService::status_list`](crate::TokenService::status_list)),
    /// `content-type: application/statuslist+jwt`, `cache-control:
    /// max-age=<its ttl>`. Needs the feature `status-list` and a service
    /// built with `status_list`; without either every id is 404.
    ///
    /// # Errors
    /// 404 `not_found` for an id that is not a list id in decimal (no sign,
    /// no leading zero) up to [`MAX_STATUS_LIST_ID`](crate::MAX_STATUS_LIST_ID),
    /// or when the service publishes no lists; 503 or 500 when the store
    /// fails.
    pub async fn status_list(&self, id: &str) -> Result<Reply, HttpError> {
        let Some(id) = list_id(id) else {
            return Err(HttpError::not_found());
        };
        self.signed_status_list(id).await
    }

    #[cfg(feature = "status-list")]
    async fn signed_status_list(&self, id: u64) -> Result<Reply, HttpError> {
        let service = self.service();
        if !service.status_list_enabled() {
            return Err(HttpError::not_found());
        }
        let Some(list) = service.status_list(id).await? else {
            return Err(HttpError::not_found());
        };
        let mut reply = Reply::empty(200).with_headers([
            ("content-type", STATUS_LIST_MEDIA_TYPE.to_owned()),
            (
                "cache-control",
                format!("max-age={}", list.ttl().whole_seconds()),
            ),
        ]);
        reply.body = list.as_str().to_owned();
        Ok(reply)
    }

    #[cfg(not(feature = "status-list"))]
    async fn signed_status_list(&self, _id: u64) -> Result<Reply, HttpError> {
        Err(HttpError::not_found())
    }
}

/// `text` as a list id: decimal digits without a leading zero (one
/// spelling per list, for caches), at most [`MAX_STATUS_LIST_ID`](crate::MAX_STATUS_LIST_ID).
fn list_id(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.len() <= 20
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    let id: u64 = text.parse().ok().filter(|_| canonical)?;
    (id <= crate::MAX_STATUS_LIST_ID).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::list_id;

    #[test]
    fn list_ids_have_one_spelling_and_a_bound() {
        assert_eq!(list_id("0"), Some(0));
        assert_eq!(list_id("42"), Some(42));
        let max = crate::MAX_STATUS_LIST_ID;
        assert_eq!(list_id(&max.to_string()), Some(max));
        for bad in ["", "01", "+1", "-1", "1.0", " 1", "x", "١"] {
            assert_eq!(list_id(bad), None, "{bad:?}");
        }
        assert_eq!(list_id(&(max + 1).to_string()), None);
        assert_eq!(list_id("99999999999999999999999"), None);
    }
}
