//! List queries (issue 13): filters with `_SW`/`_IEQ`, `sortBy` with `_ASC`/`_DESC`, keyset
//! paging in any order (ties broken by extId), `offset` over `continuationToken`,
//! `returnTotalResultCount`, and 422 for unknown parameters, sort fields and bad values — on
//! the users list and the other lists that share the machinery.

// Tests may unwrap: a panic is the failure report there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_tests::{dual_test, json, TestApp, CORE};

const USERS: &str = "/nevisidm/api/core/v1/clients/acme/users";

/// Client `acme` with units `north` and `south` and six users that differ in every field.
async fn acme(app: &TestApp) {
    app.create_client("acme", "Acme").await;
    for (unit, name) in [("north", "North"), ("south", "South")] {
        let r = app
            .post(
                &format!("{CORE}/acme/units"),
                json!({"extId": unit, "parentUnitExtId": "acme-root", "name": name, "profileless": false}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let users = [
        json!({"extId": "u1", "loginId": "anna", "languageCode": "EN", "sex": "female",
            "name": {"title": "Dr.", "firstName": "Anna", "familyName": "Meier"},
            "birthDate": "1980-01-01", "remarks": "vip",
            "contacts": {"email": "Anna.Meier@Example.com", "mobile": "+41790000001"}}),
        json!({"extId": "u2", "loginId": "bert", "languageCode": "DE", "sex": "male",
            "name": {"firstName": "Bert", "familyName": "Meier"},
            "contacts": {"email": "bert@example.com", "mobile": "+41790000002"}}),
        json!({"extId": "u3", "loginId": "carl", "languageCode": "EN", "isTechnicalUser": true,
            "name": {"firstName": "Carl", "familyName": "Adler"},
            "contacts": {"email": "carl@other.org"}}),
        json!({"extId": "u4", "loginId": "dora", "languageCode": "FR", "userState": "disabled",
            "name": {"firstName": "Dora", "familyName": "Zeller"},
            "contacts": {"email": "an_na@example.com"}}),
        json!({"extId": "u5", "loginId": "emil",
            "name": {"firstName": "Emil"}}),
        json!({"extId": "u6", "loginId": "anton", "languageCode": "IT",
            "name": {"firstName": "Anton", "familyName": "Adler"},
            "contacts": {"email": "ANTON@example.com"}}),
    ];
    for u in users {
        let r = app.post(&format!("{CORE}/acme/users"), u).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    for (user, unit) in [("u1", "north"), ("u2", "south"), ("u3", "north")] {
        let r = app
            .post(
                &format!("{CORE}/acme/users/{user}/profiles"),
                json!({"unitExtId": unit}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
}

fn ext_ids(body: &serde_json::Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["extId"].as_str().unwrap().to_owned())
        .collect()
}

async fn listed(app: &TestApp, query: &str) -> Vec<String> {
    let r = app.get(&format!("{USERS}?{query}")).await;
    assert_eq!(r.status, 200, "{query}: {}", r.body);
    ext_ids(&r.body)
}

/// Every page of `query` (joined with `&limit=..&continuationToken=..`).
async fn all_pages(app: &TestApp, base: &str, query: &str, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..200 {
        let mut url = format!("{base}?{query}&limit={limit}");
        if let Some(t) = &token {
            url.push_str(&format!("&continuationToken={t}"));
        }
        let r = app.get(&url).await;
        assert_eq!(r.status, 200, "{url}: {}", r.body);
        let page = ext_ids(&r.body);
        assert!(page.len() <= limit);
        out.extend(page);
        match r.body["_pagination"]["continuationToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => return out,
        }
    }
    panic!("paging did not end");
}

dual_test!(
    each_user_filter_narrows_the_list_to_the_matching_users,
    |app| {
        acme(&app).await;
        let cases: &[(&str, &[&str])] = &[
            ("loginId=bert", &["u2"]),
            ("extId=u3", &["u3"]),
            ("userState=disabled", &["u4"]),
            ("languageCode=EN", &["u1", "u3"]),
            ("isTechnicalUser=true", &["u3"]),
            ("name.title=Dr.", &["u1"]),
            ("name.firstName=Emil", &["u5"]),
            ("name.familyName=Meier", &["u1", "u2"]),
            ("sex=male", &["u2"]),
            ("birthDate=1980-01-01", &["u1"]),
            ("remarks=vip", &["u1"]),
            ("contacts.email=bert@example.com", &["u2"]),
            ("contacts.mobile=%2B41790000001", &["u1"]),
            ("unitExtId=north", &["u1", "u3"]),
            ("version=1", &["u1", "u2", "u3", "u4", "u5", "u6"]),
            // Exact matches are exact: case matters.
            ("contacts.email=anna.meier@example.com", &[]),
            ("contacts.email_IEQ=anna.meier@example.com", &["u1"]),
            // Starts-with ignores case and takes `_` literally, not as a wildcard.
            ("contacts.email_SW=an", &["u1", "u4", "u6"]),
            ("contacts.email_SW=AN_", &["u4"]),
            ("contacts.email_SW=an%25", &[]),
            ("name.familyName_SW=mei", &["u1", "u2"]),
            ("loginId_SW=an", &["u1", "u6"]),
            // Filters combine with AND.
            (
                "languageCode=EN&unitExtId=north&isTechnicalUser=false",
                &["u1"],
            ),
            ("name.familyName=Adler&contacts.email_SW=carl", &["u3"]),
        ];
        for (query, expected) in cases {
            let mut got = listed(&app, query).await;
            got.sort();
            assert_eq!(got, *expected, "{query}");
        }
    }
);

dual_test!(language_code_filters_ignore_case, |app| {
    acme(&app).await;
    for q in ["languageCode=en", "languageCode=EN", "languageCode=En"] {
        let mut got = listed(&app, q).await;
        got.sort();
        assert_eq!(got, ["u1", "u3"], "{q}");
    }
});

dual_test!(
    sort_by_orders_ascending_and_descending_with_ties_broken_by_ext_id,
    |app| {
        acme(&app).await;
        // u5 has no family name: absent values sort first on both backends.
        let asc = listed(&app, "sortBy=name.familyName").await;
        assert_eq!(asc, ["u5", "u3", "u6", "u1", "u2", "u4"]);
        assert_eq!(
            listed(&app, "sortBy=name.familyName_ASC").await,
            asc,
            "_ASC is the default"
        );
        let desc = listed(&app, "sortBy=name.familyName_DESC").await;
        assert_eq!(desc, ["u4", "u2", "u1", "u6", "u3", "u5"]);
        assert_eq!(
            listed(&app, "sortBy=loginId_DESC").await,
            ["u5", "u4", "u3", "u2", "u6", "u1"]
        );
        assert_eq!(
            listed(&app, "sortBy=extId_desc").await,
            ["u6", "u5", "u4", "u3", "u2", "u1"],
            "the suffix is case-insensitive"
        );
        assert_eq!(
            listed(&app, "sortBy=isTechnicalUser_DESC&languageCode=en").await,
            ["u3", "u1"]
        );
    }
);

dual_test!(
    paging_sorted_by_a_field_with_equal_values_loses_and_duplicates_nothing,
    |app| {
        app.create_client("acme", "Acme").await;
        // 23 users, five family names (one absent), inserted out of extId order.
        let names = ["Berg", "Aal", "", "Berg", "Cole"];
        let mut expected = Vec::new();
        for i in (0..23).rev() {
            let name = names[i % names.len()];
            let mut body = json!({"extId": format!("p{i:02}"), "loginId": format!("l{i:02}")});
            if !name.is_empty() {
                body["name"] = json!({"familyName": name});
            }
            let r = app.post(&format!("{CORE}/acme/users"), body).await;
            assert_eq!(r.status, 201, "{}", r.body);
            expected.push((name.to_owned(), format!("p{i:02}")));
        }
        expected.sort();
        let asc: Vec<String> = expected.iter().map(|(_, e)| e.clone()).collect();
        let desc: Vec<String> = asc.iter().rev().cloned().collect();
        for limit in [1, 2, 4, 7] {
            assert_eq!(
                all_pages(&app, USERS, "sortBy=name.familyName", limit).await,
                asc,
                "limit {limit}"
            );
            assert_eq!(
                all_pages(&app, USERS, "sortBy=name.familyName_DESC", limit).await,
                desc,
                "limit {limit}"
            );
        }
        // The default order pages the same way (created, then extId).
        let default = all_pages(&app, USERS, "", 5).await;
        assert_eq!(default.len(), 23);
        let mut unique = default.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 23);
    }
);

dual_test!(offset_overrides_the_continuation_token, |app| {
    acme(&app).await;
    let all = listed(&app, "sortBy=loginId").await;
    let r = app.get(&format!("{USERS}?sortBy=loginId&limit=2")).await;
    let token = r.body["_pagination"]["continuationToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .get(&format!(
            "{USERS}?sortBy=loginId&limit=2&offset=3&continuationToken={token}"
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ext_ids(&r.body), all[3..5]);
    // Even a malformed token is ignored next to an offset.
    let r = app
        .get(&format!(
            "{USERS}?sortBy=loginId&offset=4&continuationToken=garbage"
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ext_ids(&r.body), all[4..]);
    // An offset page hands out a token that continues after its last item.
    let r = app
        .get(&format!("{USERS}?sortBy=loginId&offset=1&limit=2"))
        .await;
    assert_eq!(ext_ids(&r.body), all[1..3]);
    let token = r.body["_pagination"]["continuationToken"].as_str().unwrap();
    let r = app
        .get(&format!(
            "{USERS}?sortBy=loginId&limit=2&continuationToken={token}"
        ))
        .await;
    assert_eq!(ext_ids(&r.body), all[3..5]);
    let r = app.get(&format!("{USERS}?offset=100")).await;
    assert_eq!(r.status, 200);
    assert_eq!(ext_ids(&r.body), Vec::<String>::new());
});

dual_test!(return_total_result_count_stays_right_while_paging, |app| {
    acme(&app).await;
    let mut token: Option<String> = None;
    let mut seen = 0;
    loop {
        let mut url =
            format!("{USERS}?languageCode=en&returnTotalResultCount=true&limit=1&sortBy=loginId");
        if let Some(t) = &token {
            url.push_str(&format!("&continuationToken={t}"));
        }
        let r = app.get(&url).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["_pagination"]["totalResult"], 2, "{}", r.body);
        assert_eq!(r.body["_pagination"]["limit"], 1);
        seen += ext_ids(&r.body).len();
        match r.body["_pagination"]["continuationToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, 2);
    // Whole client (six users plus none else), with an offset page.
    let r = app
        .get(&format!(
            "{USERS}?returnTotalResultCount=true&offset=5&limit=2"
        ))
        .await;
    assert_eq!(r.body["_pagination"]["totalResult"], 6);
    assert_eq!(ext_ids(&r.body).len(), 1);
    // Not asked: not there.
    let r = app.get(USERS).await;
    assert!(
        r.body["_pagination"].get("totalResult").is_none(),
        "{}",
        r.body
    );
});

dual_test!(
    unknown_parameters_and_sort_fields_answer_422_naming_them,
    |app| {
        acme(&app).await;
        let cases = [
            ("contacts.emial=x", "contacts.emial"),
            ("foo=1&bar=2", "bar, foo"),
            ("sortBy=shoeSize", "shoeSize"),
            ("sortBy=userState", "userState"),
            ("sortBy=name.familyName_UP", "name.familyName_UP"),
            ("version_SW=1", "version_SW"),
            ("properties.tier=gold", "properties.tier"),
            ("name.familyName_XX=a", "name.familyName_XX"),
        ];
        for (query, named) in cases {
            let r = app.get(&format!("{USERS}?{query}")).await;
            r.assert_error(
                422,
                "errors.invalidParameter",
                &format!("The following fields are not valid: {named}"),
            );
        }
    }
);

dual_test!(
    malformed_list_values_answer_422_naming_the_parameter,
    |app| {
        acme(&app).await;
        let cases = [
            ("offset=abc", "offset"),
            ("offset=-1", "offset"),
            ("limit=ten", "limit"),
            ("limit=1001", "limit"),
            ("userState=bogus", "userState"),
            ("languageCode=es", "languageCode"),
            ("isTechnicalUser=maybe", "isTechnicalUser"),
            ("version=one", "version"),
            ("created=yesterday", "created"),
            ("returnTotalResultCount=yes", "returnTotalResultCount"),
            ("continuationToken=garbage", "continuationToken"),
            (
                "sortBy=loginId&continuationToken=garbage",
                "continuationToken",
            ),
        ];
        for (query, named) in cases {
            let r = app.get(&format!("{USERS}?{query}")).await;
            r.assert_error(
                422,
                "errors.invalidParameter",
                &format!("The following fields are not valid: {named}"),
            );
        }
        // A token of one order is refused under another instead of paging wrongly.
        let r = app.get(&format!("{USERS}?sortBy=loginId&limit=1")).await;
        let token = r.body["_pagination"]["continuationToken"].as_str().unwrap();
        let r = app
            .get(&format!(
                "{USERS}?sortBy=loginId_DESC&continuationToken={token}"
            ))
            .await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: continuationToken",
        );
    }
);

dual_test!(
    units_profiles_applications_roles_and_terms_share_the_list_machinery,
    |app| {
        acme(&app).await;
        // Sub-units: filter, sort, total, unknown parameter.
        let base = format!("{CORE}/acme/units/acme-root/children");
        let r = app
            .get(&format!(
                "{base}?sortBy=name_DESC&returnTotalResultCount=true"
            ))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(ext_ids(&r.body), ["south", "north"]);
        assert_eq!(r.body["_pagination"]["totalResult"], 2);
        let r = app.get(&format!("{base}?name_IEQ=NORTH")).await;
        assert_eq!(ext_ids(&r.body), ["north"]);
        app.get(&format!("{base}?colour=red")).await.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: colour",
        );
        // Profiles of a user.
        let r = app
            .post(
                &format!("{CORE}/acme/users/u1/profiles"),
                json!({"extId": "second", "unitExtId": "south", "name": "Zweit"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let profiles = format!("{CORE}/acme/users/u1/profiles");
        let r = app.get(&format!("{profiles}?unitExtId=south")).await;
        assert_eq!(ext_ids(&r.body), ["second"]);
        let r = app
            .get(&format!("{profiles}?returnTotalResultCount=true&limit=1"))
            .await;
        assert_eq!(r.body["_pagination"]["totalResult"], 2);
        assert_eq!(ext_ids(&r.body).len(), 1);
        // Applications and their roles.
        let r = app.get(&format!("{CORE}/applications?name=nevisIdm")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["items"][0]["name"], "nevisIdm");
        assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
        let app_ext = r.body["items"][0]["extId"].as_str().unwrap().to_owned();
        let roles = format!("{CORE}/applications/{app_ext}/roles");
        let r = app
            .get(&format!("{roles}?sortBy=name&returnTotalResultCount=true"))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let names: Vec<String> = r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["name"].as_str().unwrap().to_owned())
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert_eq!(r.body["_pagination"]["totalResult"], names.len());
        let r = app.get(&format!("{roles}?name=SelfAdmin")).await;
        assert_eq!(r.body["items"][0]["name"], "SelfAdmin");
        app.get(&format!("{roles}?sortBy=rights"))
            .await
            .assert_error(
                422,
                "errors.invalidParameter",
                "The following fields are not valid: rights",
            );
        // Terms.
        for (ext, name) in [("t1", "Beta terms"), ("t2", "Alpha terms")] {
            let r = app
                .post(
                    &format!("{CORE}/terms"),
                    json!({"extId": ext, "name": name, "termsVersion": "1",
                    "active": true, "silentAcceptance": false}),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
        let r = app.get(&format!("{CORE}/terms?sortBy=name")).await;
        assert_eq!(ext_ids(&r.body), ["t2", "t1"]);
        let r = app.get(&format!("{CORE}/terms?name_SW=beta")).await;
        assert_eq!(ext_ids(&r.body), ["t1"]);
    }
);

/// `acme` plus addresses on u1..u4 (u5 and u6 have none).
async fn acme_with_addresses(app: &TestApp) {
    acme(app).await;
    let addresses = [
        (
            "u1",
            json!({"city": "Zurich", "postalCode": "8000", "countryCode": "CH",
                "street": "Bahnhofstrasse", "houseNumber": "1"}),
        ),
        (
            "u2",
            json!({"city": "Basel", "postalCode": "4000", "countryCode": "CH",
                "addressline1": "c/o Meier", "locality": "Kleinbasel"}),
        ),
        (
            "u3",
            json!({"city": "Zurich", "postalCode": "8001", "countryCode": "CH",
                "postOfficeBoxNumber": "17", "postOfficeBoxText": "Postfach"}),
        ),
        (
            "u4",
            json!({"city": "ZURICH", "postalCode": "1200", "countryCode": "FR",
                "addressline2": "Bat. B", "dwellingNumber": "3"}),
        ),
    ];
    for (user, address) in addresses {
        let r = app
            .patch(
                &format!("{CORE}/acme/users/{user}"),
                json!({"address": address}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
}

dual_test!(
    address_filters_narrow_the_users_list_exactly_or_ignoring_case,
    |app| {
        acme_with_addresses(&app).await;
        let cases: &[(&str, &[&str])] = &[
            ("address.city=Zurich", &["u1", "u3"]),
            ("address.city_IEQ=zurich", &["u1", "u3", "u4"]),
            ("address.city_SW=zu", &["u1", "u3", "u4"]),
            ("address.postalCode=8000", &["u1"]),
            ("address.postalCode_SW=80", &["u1", "u3"]),
            ("address.countryCode=CH", &["u1", "u2", "u3"]),
            ("address.street_SW=bahnhof", &["u1"]),
            ("address.houseNumber=1", &["u1"]),
            ("address.addressline1=c/o Meier", &["u2"]),
            ("address.addressline2=Bat. B", &["u4"]),
            ("address.dwellingNumber=3", &["u4"]),
            ("address.postOfficeBoxText=Postfach", &["u3"]),
            ("address.postOfficeBoxNumber=17", &["u3"]),
            ("address.locality=Kleinbasel", &["u2"]),
            // Exact is exact; an absent field matches nothing but the empty value.
            ("address.city=zurich", &[]),
            ("address.locality=", &["u1", "u3", "u4", "u5", "u6"]),
            // Combined with other filters (AND).
            ("address.countryCode=CH&address.city=Zurich", &["u1", "u3"]),
            ("address.city=Zurich&unitExtId=north&loginId=anna", &["u1"]),
        ];
        for (query, expected) in cases {
            let mut got = listed(&app, &query.replace(' ', "%20")).await;
            got.sort();
            assert_eq!(got, *expected, "{query}");
        }
        let r = app
            .get(&format!(
                "{USERS}?address.countryCode=CH&returnTotalResultCount=true&limit=1"
            ))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["_pagination"]["totalResult"], 3);
    }
);

dual_test!(
    sorting_by_an_address_field_puts_users_without_it_first_and_pages_in_both_directions,
    |app| {
        acme_with_addresses(&app).await;
        let asc = ["u5", "u6", "u4", "u2", "u1", "u3"];
        assert_eq!(listed(&app, "sortBy=address.postalCode").await, asc);
        // Every page size walks the same order through the sorted continuation token.
        for limit in [1, 2, 4] {
            assert_eq!(
                all_pages(&app, USERS, "sortBy=address.postalCode_ASC", limit).await,
                asc,
                "limit {limit}"
            );
            let mut desc = asc.to_vec();
            desc.reverse();
            assert_eq!(
                all_pages(&app, USERS, "sortBy=address.postalCode_DESC", limit).await,
                desc,
                "limit {limit}"
            );
        }
        // Filter and sort together, served by the (client, city, extId) index.
        assert_eq!(
            all_pages(
                &app,
                USERS,
                "address.countryCode=CH&sortBy=address.city_DESC",
                1
            )
            .await,
            ["u3", "u1", "u2"]
        );
    }
);

dual_test!(an_unknown_address_field_answers_422_naming_it, |app| {
    acme(&app).await;
    for (query, named) in [
        ("address.planet=Mars", "address.planet"),
        ("address.city_XX=a", "address.city_XX"),
        ("sortBy=address.planet", "address.planet"),
        ("address=Zurich", "address"),
    ] {
        let r = app.get(&format!("{USERS}?{query}")).await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            &format!("The following fields are not valid: {named}"),
        );
    }
});

dual_test!(
    a_list_without_filters_refuses_any_parameter_besides_limit_and_continuation_token,
    |app| {
        app.seed_user("Default", "holder", &[], false, false, None)
            .await;
        for (path, query, named) in [
            (
                format!("{CORE}/Default/users/holder/credentials"),
                "type=Password",
                "type",
            ),
            (format!("{CORE}/clients"), "name=Default&limit=5", "name"),
            (
                format!("{CORE}/clients/Default/policies"),
                "offset=1&policyType=PwdPolicy",
                "offset, policyType",
            ),
        ] {
            let r = app.get(&format!("{path}?{query}")).await;
            r.assert_error(
                422,
                "errors.invalidParameter",
                &format!("The following fields are not valid: {named}"),
            );
            let ok = app.get(&format!("{path}?limit=5")).await;
            assert_eq!(ok.status, 200, "{path}: {}", ok.body);
        }
    }
);
