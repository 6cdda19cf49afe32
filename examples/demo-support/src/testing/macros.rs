//! The test generators: one `#[tokio::test]` per scenario, so that each
//! scenario passes or fails under its own name. The invoking test file
//! names its `spawn` (an `async fn(Config) -> TestServer`) and has `tokio`
//! among its dependencies.

/// Every HTTP scenario of [`scenarios`](crate::testing::scenarios), one
/// `#[tokio::test]` each, on servers from `$spawn`.
#[macro_export]
macro_rules! all_http_tests {
    ($spawn:ident) => {
        $crate::http_tests!($spawn;
            whole_flow,
            racing_refreshes_get_the_same_successor,
            reusing_an_old_cookie_revokes_the_session,
            logout_ends_the_session,
            password_change_logs_out_every_other_session,
            cross_site_requests_are_refused,
            sessions_are_listed_and_revoked_one_by_one,
            bad_input_gets_a_clear_error,
            a_store_outage_is_503_and_keeps_the_session,
            a_lost_rotation_answer_does_not_log_anyone_out,
            a_password_change_that_cannot_log_out_the_others_is_undone,
            a_login_racing_a_password_change_does_not_survive_it,
            wrong_passwords_are_throttled,
            unknown_users_cost_a_hash_like_known_ones,
            password_change_guesses_are_throttled,
            forwarded_for_is_ignored_unless_trusted,
            oversized_bodies_are_refused_alike,
            sessions_per_user_are_capped,
            oauth_token_rotates_a_native_refresh_token,
            oauth_token_refuses_bad_requests_and_changes_nothing,
            oauth_token_reuse_revokes_the_session,
            oauth_revoke_ends_the_session_of_a_refresh_or_access_token,
            oauth_introspect_answers_active_and_inactive,
            oauth_introspect_needs_the_client_credentials,
            oauth_introspect_failures_are_throttled_per_address,
            a_real_oauth2_client_refreshes_revokes_and_introspects,
            dpop_login_binds_and_every_refresh_needs_the_key,
            dpop_tokens_need_their_proof_at_me,
            dpop_oauth_token_needs_the_bound_key,
        );
        $crate::config_tests!($spawn;
            a_public_origin_sets_scheme_host_and_port,
            throttling_is_per_user_and_per_address,
            password_hashes_at_once_are_bounded,
            a_full_hashing_queue_answers_503,
            oauth_introspect_is_disabled_without_a_client,
            dpop_nonces_are_asked_for_then_accepted,
        );
        $crate::server_tests!($spawn;
            logout_revokes_every_cookie_that_verifies,
            logout_with_no_cookie_that_verifies_is_an_error,
            too_many_refresh_cookies_are_refused,
            login_over_duplicated_cookies_ends_the_old_sessions,
            refresh_refuses_a_duplicated_cookie,
            csrf_compares_scheme_host_and_port,
            csrf_knows_default_ports,
            refused_origins_change_nothing,
        );

        #[tokio::test]
        async fn sessions_survive_a_restart_on_sqlite() {
            $crate::testing::scenarios::sessions_survive_a_restart_on_sqlite($spawn).await;
        }
    };
}

/// One test per scenario name, each on a fresh server from `$spawn`,
/// given the server and its [`Env`](crate::testing::suite::Env).
#[macro_export]
macro_rules! http_tests {
    ($spawn:ident; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let env = $crate::testing::suite::Env::new();
                let server = $spawn(env.config()).await;
                $crate::testing::scenarios::$name(&server, &env).await;
                server.stop().await;
            }
        )*
    };
}

/// Like [`http_tests!`](crate::http_tests), for scenarios that need only
/// the server.
#[macro_export]
macro_rules! server_tests {
    ($spawn:ident; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let env = $crate::testing::suite::Env::new();
                let server = $spawn(env.config()).await;
                $crate::testing::scenarios::$name(&server).await;
                server.stop().await;
            }
        )*
    };
}

/// Like [`http_tests!`](crate::http_tests), for scenarios that start their
/// own servers with settings of their own (from `env.config()`).
#[macro_export]
macro_rules! config_tests {
    ($spawn:ident; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let env = $crate::testing::suite::Env::new();
                $crate::testing::scenarios::$name(&|config| Box::pin($spawn(config)), &env).await;
            }
        )*
    };
}
