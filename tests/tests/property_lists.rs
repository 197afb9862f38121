//! Custom property filters on lists (`properties.<name>=value`): answered from the value
//! index, combined with the other filters, sortBy and paging; unknown names → 422.

// Tests may unwrap: a panic is the failure report there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_tests::{dual_test, json, Secret, TestApp, CORE};
use serde_json::Value;

const PROPS: &str = "/nevisidm/api/core/v1/properties";

async fn define(app: &TestApp, body: Value) {
    let r = app.post(PROPS, body.clone()).await;
    assert_eq!(r.status, 201, "define {body}: {}", r.body);
}

fn users() -> String {
    format!("{CORE}/Default/users")
}

/// The users list (the list route lives under `clients/`).
const LIST: &str = "/nevisidm/api/core/v1/clients/Default/users";

fn ext_ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["extId"].as_str().unwrap().to_owned())
        .collect()
}

async fn listed(app: &TestApp, query: &str) -> Vec<String> {
    let r = app.get(&format!("{LIST}?{query}")).await;
    assert_eq!(r.status, 200, "{query}: {}", r.body);
    ext_ids(&r.body)
}

/// Users a1..a5: tier gold/silver/gold/-/gold, language EN/EN/DE/EN/EN, dept x on a1, a3.
async fn staff(app: &TestApp) {
    define(
        app,
        json!({"name": "tier", "type": "STRING", "scope": "USER_GLOBAL"}),
    )
    .await;
    define(
        app,
        json!({"name": "dept", "type": "STRING", "scope": "USER_GLOBAL"}),
    )
    .await;
    let rows = [
        ("a1", "EN", json!({"tier": "gold", "dept": "x"})),
        ("a2", "EN", json!({"tier": "silver"})),
        ("a3", "DE", json!({"tier": "gold", "dept": "x"})),
        ("a4", "EN", json!({})),
        ("a5", "EN", json!({"tier": "gold"})),
    ];
    for (ext_id, lang, props) in rows {
        let r = app
            .post(
                &users(),
                json!({"extId": ext_id, "loginId": ext_id, "languageCode": lang,
                       "properties": props}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
}

dual_test!(
    a_property_filter_narrows_the_users_list_to_the_holders_of_that_value,
    |app| {
        staff(&app).await;
        assert_eq!(
            listed(&app, "properties.tier=gold").await,
            ["a1", "a3", "a5"]
        );
        assert_eq!(listed(&app, "properties.tier=silver").await, ["a2"]);
        assert!(listed(&app, "properties.tier=bronze").await.is_empty());
        // Two property filters must both hold.
        assert_eq!(
            listed(&app, "properties.tier=gold&properties.dept=x").await,
            ["a1", "a3"]
        );
    }
);

dual_test!(
    a_property_filter_combines_with_other_filters_sort_paging_and_totals,
    |app| {
        staff(&app).await;
        assert_eq!(
            listed(&app, "properties.tier=gold&languageCode=en").await,
            ["a1", "a5"]
        );
        assert_eq!(
            listed(&app, "properties.tier=gold&sortBy=extId_DESC").await,
            ["a5", "a3", "a1"]
        );
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..10 {
            let mut url = format!(
                "{LIST}?properties.tier=gold&sortBy=extId_DESC&limit=1&returnTotalResultCount=true"
            );
            if let Some(t) = &token {
                url.push_str(&format!("&continuationToken={t}"));
            }
            let r = app.get(&url).await;
            assert_eq!(r.status, 200, "{url}: {}", r.body);
            assert_eq!(r.body["_pagination"]["totalResult"], 3, "{}", r.body);
            seen.extend(ext_ids(&r.body));
            match r.body["_pagination"]["continuationToken"].as_str() {
                Some(t) => token = Some(t.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen, ["a5", "a3", "a1"]);
        assert_eq!(
            listed(&app, "properties.tier=gold&sortBy=extId&offset=1").await,
            ["a3", "a5"]
        );
    }
);

dual_test!(
    an_unknown_property_name_in_a_list_filter_is_refused_naming_it,
    |app| {
        staff(&app).await;
        // A unit property is unknown on the users list too.
        define(
            &app,
            json!({"name": "costCentre", "type": "STRING", "scope": "UNIT_GLOBAL"}),
        )
        .await;
        for (query, named) in [
            ("properties.nope=1", "properties.nope"),
            ("properties.costCentre=1", "properties.costCentre"),
            ("properties.=1", "properties."),
        ] {
            let r = app.get(&format!("{LIST}?{query}")).await;
            r.assert_error(
                422,
                "errors.invalidParameter",
                &format!("The following fields are not valid: {named}"),
            );
        }
    }
);

dual_test!(a_property_filter_on_the_sub_units_list_narrows_it, |app| {
    define(
        &app,
        json!({"name": "costCentre", "type": "STRING", "scope": "UNIT_GLOBAL"}),
    )
    .await;
    for (ext_id, cc) in [("ua", "100"), ("ub", "200"), ("uc", "100")] {
        let r = app
            .post(
                &format!("{CORE}/Default/units"),
                json!({"extId": ext_id, "parentUnitExtId": "Default-root", "name": ext_id,
                           "profileless": false}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let p = app
            .patch(
                &format!("{CORE}/Default/units/{ext_id}/properties"),
                json!({"costCentre": cc}),
            )
            .await;
        assert_eq!(p.status, 200, "{}", p.body);
    }
    let all = app
        .get(&format!("{CORE}/Default/units/Default-root/children"))
        .await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(ext_ids(&all.body), ["ua", "ub", "uc"], "{}", all.body);
    let r = app
        .get(&format!(
            "{CORE}/Default/units/Default-root/children?properties.costCentre=100"
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ext_ids(&r.body), ["ua", "uc"]);
});

/// A server with `properties.encryption_key` set.
async fn keyed(backend: idm_tests::Backend) -> Option<TestApp> {
    idm_tests::spawn_with(backend, |s| {
        s.properties.encryption_key = Some(Secret(idm_service::sealing::Sealer::generate_key()));
    })
    .await
}

dual_test!(
    an_encrypted_property_filters_by_its_keyed_hash,
    setup = keyed,
    |app: TestApp| {
        define(
            &app,
            json!({"name": "ssn", "type": "STRING", "scope": "USER_GLOBAL", "encrypted": true}),
        )
        .await;
        for (ext_id, ssn) in [("e1", "111"), ("e2", "222")] {
            let r = app
                .post(
                    &users(),
                    json!({"extId": ext_id, "loginId": ext_id, "properties": {"ssn": ssn}}),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
        assert_eq!(listed(&app, "properties.ssn=222").await, ["e2"]);
    }
);
