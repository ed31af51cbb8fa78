//! The embeddable badge's server side over real HTTP, on SQLite and PostgreSQL: integrations,
//! the embed-token API, the badge page and JSON, frame-ancestors per integration, CORS, expiry,
//! tampering, rotation and revocation.
mod common;

use clearance::model::AuditEventType;
use clearance::server::audit::Actor;
use clearance::server::embed_token::{self, Claims};
use clearance::server::services::embed::{self, IntegrationInput, SIGNING_KEY_PURPOSE};
use common::{audit_types, TestApp};

on_both_backends!(
    tokens_are_issued_to_the_integration_key_and_show_the_badge,
    expired_tampered_rotated_and_revoked_tokens_are_refused,
    admins_manage_integrations_from_the_settings_page,
    a_token_is_rate_limited_and_open_in_clearance_is_only_for_those_who_may,
);

const ATS: &str = "https://ats.example.com";
/// Demo candidate 1: Ada Lovelace.
const CANDIDATE: i64 = 1;

async fn integration(app: &TestApp) -> (i64, String) {
    let input = IntegrationInput {
        name: "Example ATS".into(),
        origins: vec![format!("{ATS}/"), "https://hr.example.com".into()],
        expires_in_days: Some(365),
        token_ttl_hours: 24,
    };
    embed::create(
        &app.db,
        &app.state.config,
        Actor::System("test".into()),
        None,
        &input,
    )
    .await
    .unwrap()
}

async fn ask(app: &TestApp, key: Option<&str>, body: &str) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("{}/api/v1/embed-tokens", app.address))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    req.send().await.unwrap()
}

async fn token_for(app: &TestApp, key: &str) -> String {
    let res = ask(
        app,
        Some(key),
        &format!("{{\"candidate_id\": {CANDIDATE}}}"),
    )
    .await;
    assert_eq!(res.status(), 201);
    let v: serde_json::Value = res.json().await.unwrap();
    v["token"].as_str().unwrap().to_string()
}

async fn badge(app: &TestApp, token: &str) -> reqwest::Response {
    reqwest::get(format!("{}/widget/badge?t={token}", app.address))
        .await
        .unwrap()
}

async fn tokens_are_issued_to_the_integration_key_and_show_the_badge(app: TestApp) {
    let (id, key) = integration(&app).await;
    assert!(key.starts_with("cik_"));
    // A name is one integration.
    let again = embed::create(
        &app.db,
        &app.state.config,
        Actor::System("test".into()),
        None,
        &IntegrationInput {
            name: "Example ATS".into(),
            origins: vec![ATS.into()],
            expires_in_days: None,
            token_ttl_hours: 1,
        },
    )
    .await;
    assert!(again.is_err());

    // The API: no key, a wrong key, an unreadable body, an unknown candidate — each in words.
    let body = format!("{{\"candidate_id\": {CANDIDATE}}}");
    for (k, b, status) in [
        (None, body.as_str(), 401),
        (Some("cik_wrong"), body.as_str(), 401),
        (Some(key.as_str()), "not json", 400),
        (Some(key.as_str()), "{\"candidate_id\": \"x\"}", 400),
        (Some(key.as_str()), "{\"candidate_id\": 999999}", 404),
        (
            Some(key.as_str()),
            "{\"candidate_id\": 1, \"ttl_seconds\": \"soon\"}",
            400,
        ),
        (
            Some(key.as_str()),
            "{\"candidate_id\": 1, \"ttl_seconds\": 0}",
            400,
        ),
        // Longer than the integration's 24-hour tokens.
        (
            Some(key.as_str()),
            "{\"candidate_id\": 1, \"ttl_seconds\": 86401}",
            400,
        ),
    ] {
        let res = ask(&app, k, b).await;
        assert_eq!(res.status(), status, "{k:?} {b}");
        let v: serde_json::Value = res.json().await.unwrap();
        assert!(!v["error"].as_str().unwrap().is_empty());
    }
    let res = ask(&app, Some(&key), &body).await;
    assert_eq!(res.status(), 201);
    let issued: serde_json::Value = res.json().await.unwrap();
    let token = issued["token"].as_str().unwrap();
    assert!(token.starts_with(&format!("cb1.{id}.{CANDIDATE}.")));
    assert_eq!(
        issued["iframe_url"].as_str().unwrap(),
        format!("{}/widget/badge?t={token}", app.state.config.public_url)
    );
    assert!(issued["expires_at"].as_str().is_some());

    // The badge: first name and last initial, status in words, nothing more; framed by the
    // integration's origins only.
    common::exec_at_now(
        &app.db,
        "UPDATE candidates SET verification_status = 'needs_review', verification_risk_tier = 'high', verification_updated_at = $1 WHERE id = 1",
    )
    .await;
    let res = badge(&app, token).await;
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("frame-ancestors https://ats.example.com https://hr.example.com"),
        "{csp}"
    );
    assert!(csp.contains("default-src 'none'"));
    assert!(res.headers().get("x-frame-options").is_none());
    let html = res.text().await.unwrap();
    assert!(html.contains("Ada L."), "{html}");
    assert!(html.contains("Needs review"), "{html}");
    assert!(html.contains("Awaiting security review"));
    assert!(
        !html.contains("Lovelace") && !html.to_lowercase().contains("high"),
        "{html}"
    );

    // The JSON for scripts: CORS for the integration's origins only.
    let client = reqwest::Client::new();
    let url = format!("{}/widget/badge.json?t={token}", app.address);
    let res = client.get(&url).header("origin", ATS).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], ATS);
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["name"], "Ada L.");
    assert_eq!(v["status"], "needs_review");
    assert!(v.get("risk_tier").is_none());
    let res = client
        .get(&url)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());

    // Views are counted, issues are audited.
    let views = clearance::server::db::integrations::views(&app.db, id)
        .await
        .unwrap();
    // One page load; the two JSON reads (what the badge polls) are not views.
    assert_eq!(views[0].1, 1);
    assert!(audit_types(&app, CANDIDATE)
        .await
        .contains(&AuditEventType::EmbedTokenIssued));
}

async fn expired_tampered_rotated_and_revoked_tokens_are_refused(app: TestApp) {
    let (id, key) = integration(&app).await;
    let token = token_for(&app, &key).await;
    assert_eq!(badge(&app, &token).await.status(), 200);

    // A token the ATS asked to be short-lived ends when it said.
    let res = ask(
        &app,
        Some(&key),
        &format!("{{\"candidate_id\": {CANDIDATE}, \"ttl_seconds\": 1}}"),
    )
    .await;
    assert_eq!(res.status(), 201);
    let v: serde_json::Value = res.json().await.unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(v["expires_at"].as_str().unwrap()).unwrap();
    assert!(at.timestamp() <= chrono::Utc::now().timestamp() + 1, "{v}");
    let short = v["token"].as_str().unwrap().to_string();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(badge(&app, &short).await.status(), 401);

    // Expired: signed with the integration's own key, but its time is up.
    let row = clearance::server::db::integrations::find(&app.db, id)
        .await
        .unwrap()
        .unwrap();
    let signing = clearance::server::secrets::open(
        app.state.config.secret_key.as_ref(),
        SIGNING_KEY_PURPOSE,
        &row.signing_key,
    )
    .unwrap();
    let expired = embed_token::sign(
        signing.as_bytes(),
        &Claims {
            integration_id: id,
            candidate_id: CANDIDATE,
            expires_at: chrono::Utc::now().timestamp() - 1,
            generation: row.generation,
        },
    );
    let res = badge(&app, &expired).await;
    assert_eq!(res.status(), 401);
    // People see a neutral line, still framed by the integration's origins.
    assert!(res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors https://ats.example.com"));
    assert!(res.text().await.unwrap().contains("Badge unavailable"));
    let res = reqwest::get(format!("{}/widget/badge.json?t={expired}", app.address))
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("expired"));

    // Tampered: another candidate under the same MAC; junk is framed by nobody.
    let forged = token.replacen(&format!(".{CANDIDATE}."), ".2.", 1);
    assert_eq!(badge(&app, &forged).await.status(), 401);
    let res = badge(&app, "junk").await;
    assert_eq!(res.status(), 401);
    assert!(res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));

    // Rotation: the old key and the old tokens stop at once (signed by a key that is gone);
    // the new key works.
    let new_key = embed::rotate(&app.db, &app.state.config, Actor::System("test".into()), id)
        .await
        .unwrap();
    assert_eq!(badge(&app, &token).await.status(), 401);
    let res = ask(
        &app,
        Some(&key),
        &format!("{{\"candidate_id\": {CANDIDATE}}}"),
    )
    .await;
    assert_eq!(res.status(), 401);
    let fresh = token_for(&app, &new_key).await;
    assert_eq!(badge(&app, &fresh).await.status(), 200);

    // Revocation: every token and the key refused.
    embed::revoke(&app.db, Actor::System("test".into()), id)
        .await
        .unwrap();
    assert_eq!(badge(&app, &fresh).await.status(), 403);
    let res = ask(
        &app,
        Some(&new_key),
        &format!("{{\"candidate_id\": {CANDIDATE}}}"),
    )
    .await;
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("revoked"));
    assert!(embed::revoke(&app.db, Actor::System("test".into()), id)
        .await
        .is_err());
}

async fn admins_manage_integrations_from_the_settings_page(app: TestApp) {
    let admin = app.signed_in("admin@clearance.test").await;
    let res = app
        .call(
            &admin,
            "create_integration",
            &[
                ("name", "Greenhouse".to_string()),
                (
                    "origins",
                    "https://ats.example.com\nhttp://evil.example".to_string(),
                ),
                ("token_hours", "24".to_string()),
            ],
        )
        .await;
    assert_eq!(res.status(), 400, "plain http is refused for a public host");
    assert!(res.text().await.unwrap().contains("http://evil.example"));
    let key: String = app
        .call_ok(
            &admin,
            "create_integration",
            &[
                ("name", "Greenhouse".to_string()),
                (
                    "origins",
                    "https://ats.example.com\n\nhttps://hr.example.com/".to_string(),
                ),
                ("token_hours", "24".to_string()),
                ("days", "30".to_string()),
            ],
        )
        .await;
    assert!(key.starts_with("cik_"));
    let token = token_for(&app, &key).await;
    assert_eq!(badge(&app, &token).await.status(), 200);
    let list: Vec<clearance::model::IntegrationSummary> =
        app.call_ok(&admin, "list_integrations", &[]).await;
    assert_eq!(list.len(), 1);
    let i = &list[0];
    assert_eq!(
        i.origins,
        vec!["https://ats.example.com", "https://hr.example.com"]
    );
    assert_eq!(
        (i.token_ttl_hours, i.key_generation, i.views_30_days),
        (24, 1, 1)
    );
    assert!(i.expires_at.is_some() && i.revoked_at.is_none());
    // The list never carries a key.
    let raw = app
        .call(&admin, "list_integrations", &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(!raw.contains("cik_") && !raw.contains(&key));

    let new_key: String = app
        .call_ok(&admin, "rotate_integration", &[("id", i.id.to_string())])
        .await;
    assert_ne!(new_key, key);
    assert_eq!(badge(&app, &token).await.status(), 401);
    let res = app
        .call(&admin, "revoke_integration", &[("id", i.id.to_string())])
        .await;
    assert_eq!(res.status(), 200);
    let list: Vec<clearance::model::IntegrationSummary> =
        app.call_ok(&admin, "list_integrations", &[]).await;
    assert!(list[0].revoked_at.is_some());
    let types: Vec<String> = common::column(
        &app.db,
        "SELECT event_type FROM audit_log WHERE subject_type = 'integration' ORDER BY seq",
    )
    .await;
    assert_eq!(
        types,
        vec![
            "integration_created",
            "integration_key_rotated",
            "integration_revoked"
        ]
    );
}

async fn badge_json(client: &reqwest::Client, app: &TestApp, token: &str) -> reqwest::Response {
    client
        .get(format!("{}/widget/badge.json?t={token}", app.address))
        .header("origin", ATS)
        .send()
        .await
        .unwrap()
}

async fn a_token_is_rate_limited_and_open_in_clearance_is_only_for_those_who_may(app: TestApp) {
    let (_, key) = integration(&app).await;
    let token = token_for(&app, &key).await;

    // "Open in Clearance": only for a signed-in user who may open the profile. Candidate 1 is on
    // the first manager's job, not the second's.
    let anonymous = badge_json(&reqwest::Client::new(), &app, &token).await;
    assert_eq!(anonymous.status(), 200);
    assert_eq!(anonymous.headers()["access-control-allow-origin"], ATS);
    assert_eq!(
        anonymous.headers()["access-control-allow-credentials"],
        "true"
    );
    let v: serde_json::Value = anonymous.json().await.unwrap();
    assert!(v.get("open_url").is_none(), "{v}");
    for (email, sees) in [
        ("recruiter@clearance.test", true),
        ("manager@clearance.test", true),
        ("manager2@clearance.test", false),
    ] {
        let client = app.signed_in(email).await;
        let v: serde_json::Value = badge_json(&client, &app, &token)
            .await
            .json()
            .await
            .unwrap();
        let expected = sees.then(|| format!("/candidates/{CANDIDATE}"));
        assert_eq!(v["open_url"].as_str(), expected.as_deref(), "{email}");
    }

    // The widget's loader is there for any host page (built or not, it answers JavaScript).
    let loader = reqwest::get(format!("{}/widget/clearance-badge.js", app.address))
        .await
        .unwrap();
    assert_eq!(loader.headers()["access-control-allow-origin"], "*");
    assert!(loader.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));

    // A leaked token cannot hammer the server: past the per-minute allowance it gets 429 with
    // a reason, and other tokens are unaffected. (Tried again with another candidate's token if
    // a minute turns over midway; tokens differ by candidate, not by the second they are made.)
    let client = reqwest::Client::new();
    let mut limited = false;
    for candidate in [2, 3] {
        let res = ask(
            &app,
            Some(&key),
            &format!("{{\"candidate_id\": {candidate}}}"),
        )
        .await;
        let v: serde_json::Value = res.json().await.unwrap();
        let fresh = v["token"].as_str().unwrap().to_string();
        let minute = chrono::Utc::now().timestamp() / 60;
        let mut statuses = Vec::new();
        for _ in 0..=embed::TokenLimits::PER_MINUTE {
            statuses.push(badge_json(&client, &app, &fresh).await.status().as_u16());
        }
        let last = badge_json(&client, &app, &fresh).await;
        if chrono::Utc::now().timestamp() / 60 != minute {
            continue;
        }
        let allowed = embed::TokenLimits::PER_MINUTE as usize;
        assert!(
            statuses[..allowed].iter().all(|s| *s == 200),
            "{statuses:?}"
        );
        assert_eq!(statuses[allowed], 429);
        assert_eq!(last.status(), 429);
        let wait: i64 = last.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&wait), "Retry-After {wait}");
        let v: serde_json::Value = last.json().await.unwrap();
        assert!(v["error"].as_str().unwrap().contains("too many requests"));
        // The first token is still served.
        assert_eq!(badge_json(&client, &app, &token).await.status(), 200);
        limited = true;
        break;
    }
    assert!(limited, "the limit held within one minute");
}
