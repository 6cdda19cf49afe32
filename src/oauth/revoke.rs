//! Token revocation (RFC 7009).

use super::OAuthResponse;
use super::form::TokenForm;
use crate::service::TokenService;
use crate::store::RefreshStore;
use crate::token::AppClaims;

/// The kinds of token, in the order they are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Refresh,
    Access,
}

/// Answers `POST /oauth/revoke` (RFC 7009): `token`, and optionally
/// `token_type_hint` (`refresh_token` or `access_token`; any other hint is
/// ignored, and the other kind is always tried too, as section 2.1 asks).
///
/// A refresh token ends its session, even when expired or of an old
/// generation ([`TokenService::revoke`]). An access token also ends its
/// session ([`TokenService::revoke_session`]): an access token cannot be
/// revoked alone, and section 2.1 lets a server revoke the grant behind it.
/// Unknown, forged or already revoked tokens get 200 too (section 2.2), so
/// the endpoint tells a caller nothing about tokens it does not hold.
///
/// Errors: 400 `invalid_request` for a malformed body, a repeated
/// parameter or no `token`; 503 `temporarily_unavailable` with
/// `Retry-After` when the store failed (section 2.2.1: the client retries;
/// nothing is known to be revoked); 500 `server_error`.
pub async fn revocation_endpoint<S: RefreshStore, C: AppClaims>(
    service: &TokenService<S, C>,
    body: &[u8],
) -> OAuthResponse {
    let form = match TokenForm::parse(body) {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    let token = form.token();
    let order = match form.hint() {
        Some("access_token") => [Kind::Access, Kind::Refresh],
        _ => [Kind::Refresh, Kind::Access],
    };
    for kind in order {
        let revoked = match kind {
            Kind::Refresh => service.revoke(token).await.map(|_| ()),
            Kind::Access => match service.verify(token) {
                Ok(claims) => service.revoke_session(&claims.sid).await.map(|_| ()),
                Err(error) => Err(error),
            },
        };
        match revoked {
            Ok(()) => return done(),
            Err(error) => {
                if let Some(response) = OAuthResponse::server_side(&error) {
                    return response;
                }
            }
        }
    }
    // Not a token of ours: nothing to revoke, and nothing to tell.
    done()
}

fn done() -> OAuthResponse {
    OAuthResponse::json(200, &serde_json::json!({}))
}
