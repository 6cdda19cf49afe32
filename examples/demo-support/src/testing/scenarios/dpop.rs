//! DPoP (RFC 9449): a login with a `DPoP` header binds the session to the
//! client's key; refresh and `/me` then need proofs by it.

use jwt_rotate::Clock;
use jwt_rotate::testing::DpopClient;
use serde_json::json;

use crate::Config;
use crate::testing::suite::{ALICE, Agent, Env, Reply, Spawn, TestServer, record, seconds};

/// An agent with a DPoP key: signs a proof for every request it sends.
pub struct DpopAgent {
    pub agent: Agent,
    pub key: DpopClient,
    /// The server's nonce, once it asked for one.
    pub nonce: Option<String>,
}

impl DpopAgent {
    pub fn new(server: &TestServer) -> Self {
        Self {
            agent: Agent::new(server),
            key: DpopClient::random(),
            nonce: None,
        }
    }

    /// A proof for `method` `path` at the server's time, with `ath` when
    /// `access` is given and the nonce when there is one.
    pub fn proof(&self, env: &Env, method: &str, path: &str, access: Option<&str>) -> String {
        let url = self.agent.url(path);
        let mut claims = self.key.claims(method, url.as_str(), env.clock.now());
        if let Some(token) = access {
            claims["ath"] = json!(jwt_rotate::testing::ath(token));
        }
        if let Some(nonce) = &self.nonce {
            claims["nonce"] = json!(nonce);
        }
        self.key.sign(&claims)
    }

    /// `POST /auth/login` with a proof; keeps the access token of a 200.
    pub async fn login(&mut self, env: &Env) -> Reply {
        let (user, password) = ALICE;
        let body = json!({ "username": user, "password": password });
        let proof = self.proof(env, "POST", "/auth/login", None);
        let request = self
            .agent
            .post("/auth/login")
            .json(&body)
            .header("dpop", proof);
        self.keep(request).await
    }

    /// `POST /auth/refresh` with the cookie and `proof`.
    pub async fn refresh_with(&mut self, proof: Option<String>) -> Reply {
        let mut request = self.agent.post("/auth/refresh");
        if let Some(proof) = proof {
            request = request.header("dpop", proof);
        }
        self.keep(request).await
    }

    /// `POST /auth/refresh` with a fresh proof.
    pub async fn refresh(&mut self, env: &Env) -> Reply {
        let proof = self.proof(env, "POST", "/auth/refresh", None);
        self.refresh_with(Some(proof)).await
    }

    /// `GET /me` with `Authorization: DPoP` and `proof`.
    pub async fn me_with(&self, proof: &str) -> Reply {
        let token = self.agent.access.as_deref().expect("logged in");
        let request = reqwest::Client::new()
            .get(self.agent.url("/me"))
            .header("authorization", format!("DPoP {token}"))
            .header("dpop", proof);
        self.agent.send(request).await
    }

    /// `GET /me` with a fresh proof.
    pub async fn me(&self, env: &Env) -> Reply {
        let token = self.agent.access.as_deref().expect("logged in");
        self.me_with(&self.proof(env, "GET", "/me", Some(token)))
            .await
    }

    async fn keep(&mut self, request: reqwest::RequestBuilder) -> Reply {
        let reply = self.agent.send(request).await;
        if reply.status == 200 {
            let token = reply.body["access_token"].as_str().unwrap();
            self.agent.access = Some(token.to_owned());
        }
        reply
    }
}

#[track_caller]
fn assert_dpop_challenge(reply: &Reply, error: &str) {
    assert_eq!(reply.status, 401, "{:?}", reply.body);
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with(&format!("DPoP error=\"{error}\"")),
        "{challenge}"
    );
}

pub async fn dpop_login_binds_and_every_refresh_needs_the_key(server: &TestServer, env: &Env) {
    let mut alice = DpopAgent::new(server);
    let login = alice.login(env).await;
    assert_eq!(login.status, 200);
    assert_eq!(login.body["token_type"], "DPoP");
    let session = alice.me(env).await.body["sid"].as_str().unwrap().to_owned();

    // Without a proof: 401 with a DPoP challenge; the cookie stays.
    let bare = alice.refresh_with(None).await;
    assert_dpop_challenge(&bare, "invalid_dpop_proof");
    bare.assert_error(401, "dpop_required");
    assert_eq!(bare.header("set-cookie"), None);

    // A thief with the cookie and its own key: refused, nothing revoked.
    let thief = DpopClient::random();
    let url = alice.agent.url("/auth/refresh");
    let stolen = thief.proof("POST", url.as_str(), env.clock.now());
    let refused = alice.refresh_with(Some(stolen)).await;
    assert_dpop_challenge(&refused, "invalid_dpop_proof");
    assert_eq!(refused.header("set-cookie"), None);
    assert_eq!(record(server, &session).await, (0, false));

    // The key's proof renews across access-token expiries.
    for round in 1..=3 {
        env.clock.advance(seconds(15 * 60 + 6));
        let refreshed = alice.refresh(env).await;
        assert_eq!(refreshed.status, 200, "round {round}");
        assert_eq!(refreshed.body["token_type"], "DPoP");
        assert_eq!(alice.me(env).await.status, 200);
        assert_eq!(record(server, &session).await, (round, false));
    }

    // A proof sent twice: the second is a replay.
    let proof = alice.proof(env, "POST", "/auth/refresh", None);
    assert_eq!(alice.refresh_with(Some(proof.clone())).await.status, 200);
    let replayed = alice.refresh_with(Some(proof)).await;
    assert_dpop_challenge(&replayed, "invalid_dpop_proof");
    assert_eq!(record(server, &session).await, (4, false));
}

pub async fn dpop_tokens_need_their_proof_at_me(server: &TestServer, env: &Env) {
    let mut alice = DpopAgent::new(server);
    assert_eq!(alice.login(env).await.status, 200);
    let token = alice.agent.access.clone().unwrap();

    let proof = alice.proof(env, "GET", "/me", Some(&token));
    let me = alice.me_with(&proof).await;
    assert_eq!((me.status, me.body["sub"].as_str()), (200, Some("alice")));
    assert_dpop_challenge(&alice.me_with(&proof).await, "invalid_dpop_proof");

    // The bound token as Bearer: refused.
    let bearer = alice.agent.get("/me").await;
    bearer.assert_error(401, "dpop_required");
    assert!(
        bearer
            .header("www-authenticate")
            .unwrap()
            .starts_with("DPoP ")
    );
    // A proof without ath, for another path, or by another key.
    let no_ath = alice.proof(env, "GET", "/me", None);
    let elsewhere = alice.proof(env, "GET", "/sessions", Some(&token));
    let url = alice.agent.url("/me");
    let mut claims = DpopClient::random().claims("GET", url.as_str(), env.clock.now());
    claims["ath"] = json!(jwt_rotate::testing::ath(&token));
    let other_key = DpopClient::random().sign(&claims);
    for proof in [no_ath, elsewhere, other_key] {
        assert_dpop_challenge(&alice.me_with(&proof).await, "invalid_dpop_proof");
    }

    // Without a DPoP header a login stays Bearer, as before.
    let mut bob = Agent::new(server);
    assert_eq!(bob.login(ALICE).await.body["token_type"], "Bearer");
    assert_eq!(bob.get("/me").await.status, 200);
}

pub async fn dpop_nonces_are_asked_for_then_accepted(spawn: Spawn<'_>, env: &Env) {
    let server = spawn(Config {
        dpop_nonces: Some(seconds(300)),
        ..env.config()
    })
    .await;
    let mut alice = DpopAgent::new(&server);
    let asked = alice.login(env).await;
    assert_dpop_challenge(&asked, "use_dpop_nonce");
    alice.nonce = Some(asked.header("dpop-nonce").expect("a nonce").to_owned());
    let login = alice.login(env).await;
    assert_eq!(login.body["token_type"], "DPoP");
    // An answer to a proof brings the nonce of the moment.
    assert_eq!(login.header("dpop-nonce"), alice.nonce.as_deref());
    assert_eq!(alice.me(env).await.status, 200);
    assert_eq!(alice.refresh(env).await.status, 200);
    // Ten minutes on, the nonce is stale: asked again, the cookie kept.
    env.clock.advance(seconds(600));
    let stale = alice.refresh(env).await;
    assert_dpop_challenge(&stale, "use_dpop_nonce");
    assert_eq!(stale.header("set-cookie"), None);
    alice.nonce = Some(stale.header("dpop-nonce").unwrap().to_owned());
    assert_eq!(alice.refresh(env).await.status, 200);
    // A client that takes the nonce each answer brings is never asked
    // again, though the first one went stale ten minutes ago.
    for _ in 0..5 {
        env.clock.advance(seconds(240));
        let next = alice.refresh(env).await;
        assert_eq!(next.status, 200, "the last answer's nonce holds");
        alice.nonce = Some(next.header("dpop-nonce").expect("a fresh nonce").to_owned());
    }
    server.stop().await;
}
