//! A DPoP-bound session's life over any store: what every store must keep
//! for the binding to hold (the key's thumbprint, through rotations).

use jwt_rotate::store::RefreshStore;
use jwt_rotate::{
    Dpop, DpopProblem, DpopRequest, Error, IssueOptions, ManualClock, NoClaims, TokenPair,
    TokenService,
};
use time::Duration;

use super::dpop::{Client, TOKEN_URL, URL};

/// The tests' service over `store`, checking proofs by `clock`.
pub(crate) fn bound_service<S: RefreshStore>(store: S, clock: &ManualClock) -> TokenService<S> {
    let dpop = Dpop::builder().clock(clock.clone()).build().unwrap();
    super::builder(clock).dpop(dpop).build(store).unwrap()
}

/// A login of `subject` bound to `client`'s key.
pub(crate) async fn login_bound<S: RefreshStore>(
    service: &TokenService<S>,
    subject: &str,
    client: &Client,
) -> TokenPair {
    let options = IssueOptions::new().bound_to(client.jkt);
    service
        .issue_with(subject, NoClaims {}, options)
        .await
        .unwrap()
}

/// A fresh token-endpoint proof by `client` at the clock's time.
pub(crate) fn token_proof(client: &Client, clock: &ManualClock) -> String {
    use jwt_rotate::Clock;
    client.proof("POST", TOKEN_URL, clock.now())
}

/// `refresh_dpop` of `token` with a fresh proof by `client`.
pub(crate) async fn refresh_as<S: RefreshStore>(
    service: &TokenService<S>,
    token: &jwt_rotate::RefreshToken,
    client: &Client,
    clock: &ManualClock,
) -> Result<TokenPair, Error> {
    let proof = token_proof(client, clock);
    let request = DpopRequest::new(&proof, "POST", TOKEN_URL);
    service.refresh_dpop(token, &request).await
}

/// Login, refresh with a proof, the access token bound, refusals without
/// a proof and with another key (nothing changed), then reuse of a spent
/// token without a proof: revoked.
pub(crate) async fn bound_session_lifecycle<S: RefreshStore>(store: S) {
    use jwt_rotate::Clock;
    let clock = ManualClock::new(super::start());
    let service = bound_service(store, &clock);
    let (client, thief) = (Client::es256(), Client::ed25519());
    let pair = login_bound(&service, "alice", &client).await;
    let stored = super::record(&service, &pair.session_id).await;
    assert_eq!(stored.jkt, Some(client.jkt), "the store kept the binding");
    assert!(matches!(
        service.verify(&pair.access_token),
        Err(Error::DpopRequired)
    ));

    let next = refresh_as(&service, &pair.refresh_token, &client, &clock)
        .await
        .unwrap();
    let token = next.access_token.as_str();
    let proof = client.sign(
        &client.header(),
        &client.claims_for(URL, clock.now(), token),
    );
    let claims = service
        .verify_dpop(token, &DpopRequest::new(&proof, "GET", URL))
        .await
        .unwrap();
    assert_eq!(
        (claims.jkt, claims.sid),
        (Some(client.jkt), pair.session_id)
    );

    let before = super::record(&service, &pair.session_id).await;
    assert_eq!((before.generation, before.jkt), (1, Some(client.jkt)));
    let bare = service.refresh(&next.refresh_token).await;
    assert!(matches!(bare, Err(Error::DpopRequired)), "{bare:?}");
    let stolen = refresh_as(&service, &next.refresh_token, &thief, &clock).await;
    assert!(
        matches!(
            stolen,
            Err(Error::InvalidDpopProof(DpopProblem::KeyMismatch))
        ),
        "{stolen:?}"
    );
    assert_eq!(super::record(&service, &pair.session_id).await, before);

    clock.advance(Duration::minutes(1));
    let third = refresh_as(&service, &next.refresh_token, &client, &clock)
        .await
        .unwrap();
    let after = super::record(&service, &pair.session_id).await;
    assert_eq!((after.generation, after.jkt), (2, Some(client.jkt)));

    // The login's token, spent twice over, without a proof: reuse.
    let reused = service.refresh(&pair.refresh_token).await;
    assert!(matches!(reused, Err(Error::ReuseDetected)), "{reused:?}");
    let revoked = refresh_as(&service, &third.refresh_token, &client, &clock).await;
    assert!(matches!(revoked, Err(Error::SessionRevoked)), "{revoked:?}");
}
