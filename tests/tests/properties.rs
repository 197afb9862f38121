//! Custom properties: definitions, values on users, profiles and units, validation errors,
//! database-enforced uniqueness under concurrency, and encryption at rest.

// Tests may unwrap: a panic is the failure report there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_tests::{dual_test, json, Secret, TestApp, CORE};
use serde_json::Value;

const PROPS: &str = "/nevisidm/api/core/v1/properties";

/// Creates a definition as admin, asserts 201 and returns its id.
async fn define(app: &TestApp, body: Value) -> i64 {
    let r = app.post(PROPS, body.clone()).await;
    assert_eq!(r.status, 201, "define {body}: {}", r.body);
    r.location().rsplit('/').next().unwrap().parse().unwrap()
}

/// Creates user `ext_id` in client Default with `properties`, returning the reply.
async fn user_with(app: &TestApp, ext_id: &str, properties: Value) -> idm_tests::Reply {
    app.post(
        &format!("{CORE}/Default/users"),
        json!({"extId": ext_id, "loginId": ext_id, "properties": properties}),
    )
    .await
}

fn user_props(u: &str) -> String {
    format!("{CORE}/Default/users/{u}/properties")
}

/// A server with `properties.encryption_key` set.
async fn keyed(backend: idm_tests::Backend) -> Option<TestApp> {
    idm_tests::spawn_with(backend, |s| {
        s.properties.encryption_key = Some(Secret(idm_service::sealing::Sealer::generate_key()));
    })
    .await
}

dual_test!(a_definition_is_created_read_listed_and_patched, |app| {
    let id = define(
        &app,
        json!({"name": "tier", "type": "ENUM", "scope": "USER_GLOBAL",
               "allowedValues": [{"value": "gold"}, {"value": "silver"}]}),
    )
    .await;
    let r = app.get(&format!("{PROPS}/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["propertyId"], id);
    assert_eq!(r.body["name"], "tier");
    assert_eq!(r.body["type"], "ENUM");
    assert_eq!(r.body["scope"], "USER_GLOBAL");
    assert_eq!(r.body["accessCreate"], "READ_WRITE");
    assert_eq!(r.body["encrypted"], false);
    assert_eq!(r.body["version"], 1);
    let allowed = r.body["allowedValues"].as_array().unwrap();
    assert_eq!(allowed.len(), 2);
    let gold_id = allowed[0]["allowedValueId"].clone();
    assert_eq!(allowed[0]["value"], "gold");

    let client_def = define(
        &app,
        json!({"name": "costCentre", "type": "STRING", "scope": "UNIT_GLOBAL",
               "clientExtId": "Default"}),
    )
    .await;
    let list = app.get(&format!("{PROPS}?scope=UNIT_GLOBAL")).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["propertyId"], client_def);
    assert_eq!(items[0]["clientExtId"], "Default");
    let of_client = app.get(&format!("{CORE}/clients/Default/properties")).await;
    assert_eq!(of_client.status, 200, "{}", of_client.body);
    assert_eq!(of_client.body["items"].as_array().unwrap().len(), 2);

    // Keep gold (renamed), drop silver, add bronze.
    let p = app
        .patch(
            &format!("{PROPS}/{id}"),
            json!({"allowedValues": [{"allowedValueId": gold_id, "value": "platinum"},
                                      {"value": "bronze"}], "version": 1}),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.body["version"], 2);
    let allowed = p.body["allowedValues"].as_array().unwrap();
    assert_eq!(allowed[0]["allowedValueId"], gold_id);
    assert_eq!(allowed[0]["value"], "platinum");
    assert_eq!(allowed[1]["value"], "bronze");
    assert_ne!(allowed[1]["allowedValueId"], gold_id);

    let missing = app.get(&format!("{PROPS}/999999")).await;
    missing.assert_error(
        404,
        "errors.noRecord",
        "Property doesn't exist with propertyId '999999'",
    );
});

dual_test!(a_duplicate_definition_name_in_scope_is_refused, |app| {
    define(
        &app,
        json!({"name": "emp", "type": "STRING", "scope": "USER_GLOBAL"}),
    )
    .await;
    let r = app
        .post(
            PROPS,
            json!({"name": "emp", "type": "STRING", "scope": "USER_GLOBAL",
                            "clientExtId": "Default"}),
        )
        .await;
    r.assert_error(
        422,
        "errors.duplicateName",
        "A property with name 'emp' already exists in this scope.",
    );
    // Another scope may reuse the name.
    define(
        &app,
        json!({"name": "emp", "type": "STRING", "scope": "UNIT_GLOBAL"}),
    )
    .await;
});

dual_test!(an_invalid_definition_names_its_fields, |app| {
    let r = app
        .post(
            PROPS,
            json!({"name": "x", "type": "ENUM", "scope": "USER_GLOBAL",
                            "stringRegex": "a+"}),
        )
        .await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "The following fields are not valid: stringRegex, allowedValues",
    );
    let r = app
        .post(PROPS, json!({"name": "x", "scope": "USER_GLOBAL"}))
        .await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "The following fields are not valid: type",
    );
    let r = app
        .post(
            PROPS,
            json!({"name": "x", "type": "STRING", "scope": "NOWHERE"}),
        )
        .await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "The following fields are not valid: scope",
    );
    let r = app
        .post(
            PROPS,
            json!({"name": "x", "type": "STRING", "scope": "USER_GLOBAL",
                            "stringRegex": "("}),
        )
        .await;
    r.assert_error(
        422,
        "errors.property.regexinv",
        "The regular expression '(' of property 'x' is invalid.",
    );
});

dual_test!(
    user_values_are_written_on_create_and_patch_and_read_back,
    |app| {
        define(
            &app,
            json!({"name": "employeeNumber", "type": "STRING", "scope": "USER_GLOBAL"}),
        )
        .await;
        define(
            &app,
            json!({"name": "channel", "type": "STRING", "scope": "USER_GLOBAL"}),
        )
        .await;
        let r = user_with(&app, "alice", json!({"employeeNumber": "4711"})).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let u = app.get(&format!("{CORE}/Default/users/alice")).await;
        assert_eq!(u.status, 200, "{}", u.body);
        assert_eq!(u.body["properties"], json!({"employeeNumber": "4711"}));

        // PATCH on the user: adds one, leaves the other.
        let p = app
            .patch(
                &format!("{CORE}/Default/users/alice"),
                json!({"properties": {"channel": "email"}}),
            )
            .await;
        assert_eq!(p.status, 200, "{}", p.body);
        assert_eq!(
            p.body["properties"],
            json!({"employeeNumber": "4711", "channel": "email"})
        );
        assert_eq!(p.body["version"], 2);

        // PATCH on .../properties: null removes, "" removes, others update.
        let p = app
            .patch(
                &user_props("alice"),
                json!({"channel": null, "employeeNumber": "42"}),
            )
            .await;
        assert_eq!(p.status, 200, "{}", p.body);
        assert_eq!(p.body, json!({"employeeNumber": "42"}));
        let p = app
            .patch(&user_props("alice"), json!({"employeeNumber": ""}))
            .await;
        assert_eq!(p.status, 200, "{}", p.body);
        assert_eq!(p.body, json!({}));
        let g = app.get(&user_props("alice")).await;
        assert_eq!(g.status, 200, "{}", g.body);
        assert_eq!(g.body, json!({}));
    }
);

dual_test!(profile_and_unit_values_are_written_and_read_back, |app| {
    define(
        &app,
        json!({"name": "desk", "type": "STRING", "scope": "PROFILE_GLOBAL"}),
    )
    .await;
    define(
        &app,
        json!({"name": "costCentre", "type": "STRING", "scope": "UNIT_GLOBAL"}),
    )
    .await;
    let bob = app
        .seed_user("Default", "bob", &[], false, false, None)
        .await;
    let profile = format!("{CORE}/Default/profiles/{}", bob.profile_ext_id);
    let p = app
        .patch(&format!("{profile}/properties"), json!({"desk": "B-12"}))
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.body, json!({"desk": "B-12"}));
    let g = app.get(&profile).await;
    assert_eq!(g.status, 200, "{}", g.body);
    assert_eq!(g.body["properties"], json!({"desk": "B-12"}));

    let unit = format!("{CORE}/Default/units/Default-root");
    let p = app
        .patch(&format!("{unit}/properties"), json!({"costCentre": "CC-7"}))
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.body, json!({"costCentre": "CC-7"}));
    let g = app.get(&unit).await;
    assert_eq!(g.status, 200, "{}", g.body);
    assert_eq!(g.body["properties"], json!({"costCentre": "CC-7"}));
    // A user property is not a unit property.
    let r = app
        .patch(&format!("{unit}/properties"), json!({"desk": "x"}))
        .await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "The following fields are not valid: properties.desk",
    );
});

dual_test!(an_unknown_property_name_is_refused_naming_it, |app| {
    let r = user_with(&app, "carol", json!({"noSuchThing": "1"})).await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "The following fields are not valid: properties.noSuchThing",
    );
    // Nothing was created.
    assert_eq!(
        app.get(&format!("{CORE}/Default/users/carol")).await.status,
        404
    );
});

dual_test!(a_value_not_matching_the_regex_is_refused, |app| {
    define(
        &app,
        json!({"name": "emp", "type": "STRING", "scope": "USER_GLOBAL",
                        "stringRegex": "[0-9]{4}"}),
    )
    .await;
    assert_eq!(
        user_with(&app, "dave", json!({"emp": "1234"})).await.status,
        201
    );
    let r = app
        .patch(&user_props("dave"), json!({"emp": "12345"}))
        .await;
    r.assert_error(
        422,
        "errors.property.stringregex",
        "The value of property 'emp' does not match the regular expression '[0-9]{4}'.",
    );
});

dual_test!(a_value_longer_than_the_maximum_length_is_refused, |app| {
    define(
        &app,
        json!({"name": "nick", "type": "STRING", "scope": "USER_GLOBAL",
                        "stringMaxLen": 3}),
    )
    .await;
    let r = user_with(&app, "erin", json!({"nick": "abcd"})).await;
    r.assert_error(
        422,
        "errors.property.stringmaxlen",
        "The value of property 'nick' is longer than the maximum length 3.",
    );
});

dual_test!(an_enum_value_that_is_not_allowed_is_refused, |app| {
    define(
        &app,
        json!({"name": "tier", "type": "ENUM", "scope": "USER_GLOBAL",
                        "allowedValues": [{"value": "gold"}]}),
    )
    .await;
    let r = user_with(&app, "fay", json!({"tier": "tin"})).await;
    r.assert_error(
        422,
        "errors.invalidData",
        "The value of property 'tier' is not one of its allowed values.",
    );
    assert_eq!(
        user_with(&app, "fay", json!({"tier": "gold"})).await.status,
        201
    );
});

dual_test!(access_read_only_and_off_refuse_writes, |app| {
    define(
        &app,
        json!({"name": "badge", "type": "STRING", "scope": "USER_GLOBAL",
                        "accessModify": "READ_ONLY"}),
    )
    .await;
    define(
        &app,
        json!({"name": "hidden", "type": "STRING", "scope": "USER_GLOBAL",
                        "accessCreate": "OFF"}),
    )
    .await;
    assert_eq!(
        user_with(&app, "gus", json!({"badge": "b1"})).await.status,
        201
    );
    let r = app.patch(&user_props("gus"), json!({"badge": "b2"})).await;
    r.assert_error(
        422,
        "errors.modifyReadonlyData",
        "The property 'badge' cannot be modified (access READ_ONLY).",
    );
    let r = user_with(&app, "hal", json!({"hidden": "h"})).await;
    r.assert_error(
        422,
        "errors.modifyReadonlyData",
        "The property 'hidden' cannot be set on create (access OFF).",
    );
});

dual_test!(a_mandatory_property_is_required_on_create, |app| {
    define(
        &app,
        json!({"name": "costCentre", "type": "STRING", "scope": "USER_GLOBAL",
                        "mandatoryOnGui": true}),
    )
    .await;
    let r = app
        .post(
            &format!("{CORE}/Default/users"),
            json!({"extId": "ida", "loginId": "ida"}),
        )
        .await;
    r.assert_error(
        422,
        "errors.invalidParameter",
        "The following fields are not valid: properties.costCentre",
    );
    assert_eq!(
        user_with(&app, "ida", json!({"costCentre": "C1"}))
            .await
            .status,
        201
    );
});

dual_test!(
    a_definition_made_mandatory_later_is_required_by_the_next_create_and_released_after,
    |app| {
        // A create that sends no values reads the definitions only when one is mandatory
        // (the look-up says so): the look-up must see the definition change at once.
        let id = define(
            &app,
            json!({"name": "costCentre", "type": "STRING", "scope": "USER_GLOBAL"}),
        )
        .await;
        let users = format!("{CORE}/Default/users");
        let create = |n: &str| app.post(&users, json!({"extId": n, "loginId": n}));
        assert_eq!(create("u1").await.status, 201);
        let p = app
            .patch(
                &format!("{PROPS}/{id}"),
                json!({"mandatoryOnGui": true, "version": 1}),
            )
            .await;
        assert_eq!(p.status, 200, "{}", p.body);
        create("u2").await.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: properties.costCentre",
        );
        let p = app
            .patch(
                &format!("{PROPS}/{id}"),
                json!({"mandatoryOnGui": false, "version": 2}),
            )
            .await;
        assert_eq!(p.status, 200, "{}", p.body);
        assert_eq!(create("u2").await.status, 201);
        // A mandatory definition of another scope does not hold back a user.
        define(
            &app,
            json!({"name": "desk", "type": "STRING", "scope": "PROFILE_GLOBAL",
                   "mandatoryOnGui": true}),
        )
        .await;
        assert_eq!(create("u3").await.status, 201);
    }
);

dual_test!(
    a_caller_without_property_value_view_does_not_see_values,
    |app| {
        define(
            &app,
            json!({"name": "emp", "type": "STRING", "scope": "USER_GLOBAL"}),
        )
        .await;
        assert_eq!(
            user_with(&app, "jan", json!({"emp": "1"})).await.status,
            201
        );
        let helpdesk = app
            .seed_user("Default", "helper", &["Helpdesk"], true, true, None)
            .await;
        let r = app
            .send(app.req_as(
                &helpdesk.token,
                idm_tests::Method::GET,
                &format!("{CORE}/Default/users/jan"),
            ))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.body.get("properties").is_none(), "{}", r.body);
        let admin = app.get(&format!("{CORE}/Default/users/jan")).await;
        assert_eq!(admin.body["properties"], json!({"emp": "1"}));
    }
);

dual_test!(
    users_list_items_carry_property_values_only_for_callers_who_may_read_them,
    |app| {
        define(
            &app,
            json!({"name": "emp", "type": "STRING", "scope": "USER_GLOBAL"}),
        )
        .await;
        assert_eq!(
            user_with(&app, "jan", json!({"emp": "1"})).await.status,
            201
        );
        assert_eq!(user_with(&app, "eva", json!({})).await.status, 201);
        let list = format!("{CORE}/clients/Default/users?extId_SW=");
        let admin = app.get(&format!("{list}jan")).await;
        assert_eq!(admin.status, 200, "{}", admin.body);
        assert_eq!(admin.body["items"][0]["properties"], json!({"emp": "1"}));
        let admin = app.get(&format!("{list}eva")).await;
        assert_eq!(admin.body["items"][0]["properties"], json!({}));

        let helpdesk = app
            .seed_user("Default", "helper", &["Helpdesk"], true, true, None)
            .await;
        let r = app
            .send(app.req_as(
                &helpdesk.token,
                idm_tests::Method::GET,
                &format!("{list}jan"),
            ))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["items"][0]["extId"], "jan", "{}", r.body);
        assert!(r.body["items"][0].get("properties").is_none(), "{}", r.body);
    }
);

dual_test!(changing_the_type_removes_the_values, |app| {
    let id = define(
        &app,
        json!({"name": "level", "type": "STRING", "scope": "USER_GLOBAL"}),
    )
    .await;
    assert_eq!(
        user_with(&app, "kim", json!({"level": "3"})).await.status,
        201
    );
    let p = app
        .patch(
            &format!("{PROPS}/{id}"),
            json!({"type": "ENUM", "allowedValues": [{"value": "high"}]}),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let g = app.get(&user_props("kim")).await;
    assert_eq!(g.body, json!({}));
});

dual_test!(
    an_absolute_unique_value_exists_once_and_is_freed_by_removal,
    |app| {
        define(
            &app,
            json!({"name": "badge", "type": "STRING", "scope": "USER_GLOBAL",
                        "uniquenessScope": "ABSOLUTE"}),
        )
        .await;
        assert_eq!(
            user_with(&app, "lea", json!({"badge": "B1"})).await.status,
            201
        );
        let r = user_with(&app, "max", json!({"badge": "B1"})).await;
        r.assert_error(
            422,
            "errors.propertyUniquenessViolated",
            "The value of a unique property is already in use.",
        );
        assert_eq!(
            app.get(&format!("{CORE}/Default/users/max")).await.status,
            404
        );
        assert_eq!(
            app.patch(&user_props("lea"), json!({"badge": null}))
                .await
                .status,
            200
        );
        assert_eq!(
            user_with(&app, "max", json!({"badge": "B1"})).await.status,
            201
        );
    }
);

dual_test!(
    twenty_concurrent_writers_of_a_unique_value_have_exactly_one_winner,
    |app| {
        define(
            &app,
            json!({"name": "badge", "type": "STRING", "scope": "USER_GLOBAL",
                            "uniquenessScope": "ABSOLUTE"}),
        )
        .await;
        for i in 0..20 {
            let r = user_with(&app, &format!("w{i}"), json!({})).await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
        let other = app.second_instance().await;
        let writes = (0..20).map(|i| {
            let app = if i % 2 == 0 { &app } else { &other };
            async move {
                app.patch(&user_props(&format!("w{i}")), json!({"badge": "same"}))
                    .await
            }
        });
        let replies = futures::future::join_all(writes).await;
        let won = replies.iter().filter(|r| r.status == 200).count();
        for r in replies.iter().filter(|r| r.status != 200) {
            r.assert_error(
                422,
                "errors.propertyUniquenessViolated",
                "The value of a unique property is already in use.",
            );
        }
        assert_eq!(won, 1, "exactly one writer wins");
        let stored = app.sql_texts("SELECT value AS t FROM property_values");
        assert_eq!(stored, vec!["same".to_owned()]);
    }
);

dual_test!(
    a_relative_unit_unique_value_may_repeat_in_another_unit,
    |app| {
        define(
            &app,
            json!({"name": "seat", "type": "STRING", "scope": "USER_GLOBAL",
                        "uniquenessScope": "RELATIVE_UNIT"}),
        )
        .await;
        let r = app
            .post(
                &format!("{CORE}/Default/units"),
                json!({"extId": "other", "parentUnitExtId": "Default-root", "name": "Other",
                   "profileless": false}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        app.seed_user("Default", "u1", &[], false, false, None)
            .await;
        app.seed_user("Default", "u2", &[], false, false, None)
            .await;
        app.seed_user("Default", "u3", &[], false, false, Some("other"))
            .await;
        assert_eq!(
            app.patch(&user_props("u1"), json!({"seat": "S1"}))
                .await
                .status,
            200
        );
        let r = app.patch(&user_props("u2"), json!({"seat": "S1"})).await;
        r.assert_error(
            422,
            "errors.propertyUniquenessViolated",
            "The value of a unique property is already in use.",
        );
        assert_eq!(
            app.patch(&user_props("u3"), json!({"seat": "S1"}))
                .await
                .status,
            200
        );
    }
);

dual_test!(
    an_encrypted_value_is_stored_sealed_and_read_back_in_plain_text,
    setup = keyed,
    |app: TestApp| {
        define(
            &app,
            json!({"name": "ssn", "type": "STRING", "scope": "USER_GLOBAL",
                            "encrypted": true, "uniquenessScope": "ABSOLUTE"}),
        )
        .await;
        let secret = "756.1234.5678.97";
        assert_eq!(
            user_with(&app, "nia", json!({"ssn": secret})).await.status,
            201
        );
        let g = app.get(&format!("{CORE}/Default/users/nia")).await;
        assert_eq!(g.body["properties"], json!({"ssn": secret}));
        let rows = app.sql_texts(
            "SELECT value || ' ' || value_key || ' ' || COALESCE(unique_key, '') AS t \
             FROM property_values",
        );
        assert_eq!(rows.len(), 1);
        assert!(!rows[0].contains(secret), "plain text stored: {}", rows[0]);
        assert!(!rows[0].contains("1234"), "plain text stored: {}", rows[0]);
        // Uniqueness works on the keyed hash.
        let r = user_with(&app, "oli", json!({"ssn": secret})).await;
        r.assert_error(
            422,
            "errors.propertyUniquenessViolated",
            "The value of a unique property is already in use.",
        );
    }
);

dual_test!(an_encrypted_definition_without_a_key_is_refused, |app| {
    let r = app
        .post(
            PROPS,
            json!({"name": "ssn", "type": "STRING", "scope": "USER_GLOBAL",
                            "encrypted": true}),
        )
        .await;
    r.assert_error(
        422,
        "errors.invalidConfig",
        "Encrypted properties need the server setting properties.encryption_key.",
    );
});

dual_test!(
    profile_and_unit_values_are_written_on_create_and_patch_bodies,
    |app| {
        define(
            &app,
            json!({"name": "desk", "type": "STRING", "scope": "PROFILE_GLOBAL"}),
        )
        .await;
        define(
            &app,
            json!({"name": "costCentre", "type": "STRING", "scope": "UNIT_GLOBAL"}),
        )
        .await;
        let r = app
            .post(
                &format!("{CORE}/Default/units"),
                json!({"extId": "sales", "parentUnitExtId": "Default-root", "name": "Sales",
                   "profileless": false, "properties": {"costCentre": "CC-1"}}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let p = app
            .patch(
                &format!("{CORE}/Default/units/sales"),
                json!({"description": "d", "properties": {"costCentre": "CC-2"}}),
            )
            .await;
        assert_eq!(p.status, 200, "{}", p.body);
        assert_eq!(p.body["properties"], json!({"costCentre": "CC-2"}));
        let g = app.get(&format!("{CORE}/Default/units/sales")).await;
        assert_eq!(g.body["properties"], json!({"costCentre": "CC-2"}));

        assert_eq!(user_with(&app, "pia", json!({})).await.status, 201);
        let r = app
            .post(
                &format!("{CORE}/Default/users/pia/profiles"),
                json!({"extId": "pia-p", "unitExtId": "sales", "properties": {"desk": "D1"}}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let g = app.get(&format!("{CORE}/Default/profiles/pia-p")).await;
        assert_eq!(g.body["properties"], json!({"desk": "D1"}));
        let p = app
            .patch(
                &format!("{CORE}/Default/profiles/pia-p"),
                json!({"properties": {"desk": null}}),
            )
            .await;
        assert_eq!(p.status, 200, "{}", p.body);
        assert_eq!(p.body["properties"], json!({}));
        let r = app
            .post(
                &format!("{CORE}/Default/users/pia/profiles"),
                json!({"extId": "pia-q", "unitExtId": "sales", "properties": {"costCentre": "x"}}),
            )
            .await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: properties.costCentre",
        );
    }
);

fn erole_url(ext_id: &str) -> String {
    format!("{CORE}/Default/eroles/{ext_id}")
}

dual_test!(
    enterprise_role_values_are_written_on_create_patch_and_properties_patch_and_removed_by_null_or_empty,
    |app| {
        let id = define(
            &app,
            json!({"name": "costCentre", "type": "STRING", "scope": "ENTERPRISE_ROLE_GLOBAL"}),
        )
        .await;
        define(
            &app,
            json!({"name": "tier", "type": "ENUM", "scope": "ENTERPRISE_ROLE_GLOBAL",
                "allowedValues": [{"value": "gold"}, {"value": "silver"}]}),
        )
        .await;
        let def = app.get(&format!("{PROPS}/{id}")).await;
        assert_eq!(def.status, 200, "{}", def.body);
        assert_eq!(def.body["scope"], "ENTERPRISE_ROLE_GLOBAL");
        let list = app.get(&format!("{PROPS}?scope=ENTERPRISE_ROLE_GLOBAL")).await;
        assert_eq!(list.status, 200, "{}", list.body);
        assert_eq!(list.body["items"].as_array().unwrap().len(), 2);

        let r = app
            .post(
                &format!("{CORE}/Default/eroles"),
                json!({"extId": "sales", "name": "Sales", "properties": {"costCentre": "CC-1"}}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let g = app.get(&erole_url("sales")).await;
        assert_eq!(g.status, 200, "{}", g.body);
        assert_eq!(g.body["properties"], json!({"costCentre": "CC-1"}));

        let p = app
            .patch(
                &erole_url("sales"),
                json!({"description": "d", "properties": {"tier": "gold"}}),
            )
            .await;
        assert_eq!(p.status, 200, "{}", p.body);
        assert_eq!(p.body["description"], "d");
        assert_eq!(
            p.body["properties"],
            json!({"costCentre": "CC-1", "tier": "gold"})
        );
        assert_eq!(p.body["version"], 2);

        // Only the names sent change; null and "" remove.
        let values = format!("{}/properties", erole_url("sales"));
        let p = app
            .patch(&values, json!({"costCentre": "CC-2", "tier": null}))
            .await;
        assert_eq!(p.status, 200, "{}", p.body);
        assert_eq!(p.body, json!({"costCentre": "CC-2"}));
        let p = app
            .patch(&values, json!({"tier": "silver", "costCentre": ""}))
            .await;
        assert_eq!(p.status, 200, "{}", p.body);
        assert_eq!(p.body, json!({"tier": "silver"}));
        let g = app.get(&erole_url("sales")).await;
        assert_eq!(g.body["properties"], json!({"tier": "silver"}));
        // Each value write is a write of the enterprise role.
        assert_eq!(g.body["version"], 4);

        let r = app.patch(&values, json!({"tier": "bronze"})).await;
        r.assert_error(
            422,
            "errors.invalidData",
            "The value of property 'tier' is not one of its allowed values.",
        );
        let r = app
            .patch(&format!("{}/properties", erole_url("nope")), json!({}))
            .await;
        r.assert_error(
            404,
            "errors.noRecord",
            "Enterprise role doesn't exist with extId 'nope'",
        );
    }
);

dual_test!(
    an_unknown_or_other_scope_property_name_on_an_enterprise_role_is_refused_naming_it,
    |app| {
        define(
            &app,
            json!({"name": "desk", "type": "STRING", "scope": "USER_GLOBAL"}),
        )
        .await;
        let r = app
            .post(
                &format!("{CORE}/Default/eroles"),
                json!({"extId": "ops", "name": "Ops", "properties": {"noSuchThing": "1"}}),
            )
            .await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: properties.noSuchThing",
        );
        // Nothing was created.
        assert_eq!(app.get(&erole_url("ops")).await.status, 404);

        let r = app
            .post(
                &format!("{CORE}/Default/eroles"),
                json!({"extId": "ops", "name": "Ops"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        // A user property is not an enterprise-role property.
        let r = app
            .patch(
                &format!("{}/properties", erole_url("ops")),
                json!({"desk": "x"}),
            )
            .await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: properties.desk",
        );
        let r = app
            .patch(&erole_url("ops"), json!({"properties": {"desk": "x"}}))
            .await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: properties.desk",
        );
        // An enterprise role without values reads an empty map.
        assert_eq!(
            app.get(&erole_url("ops")).await.body["properties"],
            json!({})
        );
    }
);

dual_test!(
    deleting_an_enterprise_role_deletes_its_property_values,
    |app| {
        define(
            &app,
            json!({"name": "code", "type": "STRING", "scope": "ENTERPRISE_ROLE_GLOBAL",
                "uniquenessScope": "ABSOLUTE"}),
        )
        .await;
        async fn create(app: &TestApp, ext_id: &str) -> idm_tests::Reply {
            app.post(
                &format!("{CORE}/Default/eroles"),
                json!({"extId": ext_id, "name": ext_id, "properties": {"code": "X-1"}}),
            )
            .await
        }
        assert_eq!(create(&app, "first").await.status, 201);
        // The value is stored: a second holder breaks its uniqueness.
        create(&app, "second").await.assert_error(
            422,
            "errors.propertyUniquenessViolated",
            "The value of a unique property is already in use.",
        );
        let r = app.delete(&erole_url("first")).await;
        assert_eq!(r.status, 204, "{}", r.body);
        // Gone with its enterprise role: the value is free again.
        assert_eq!(create(&app, "second").await.status, 201);
        assert_eq!(
            app.get(&erole_url("second")).await.body["properties"],
            json!({"code": "X-1"})
        );
    }
);
