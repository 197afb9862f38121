//! Enterprise roles, enterprise authorizations, effective profile roles, authorization PATCH,
//! application PATCH/DELETE and list per client, one consent — both backends.

// Tests may unwrap: a panic is the failure report there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use idm_tests::{dual_test, json, Reply, TestApp, CORE};
use reqwest::Method;
use serde_json::Value;

const DENIED: &str = "Permission denied: Caller does not have the required right";

fn denied(right: &str) -> String {
    format!("{DENIED} 'AccessControl.{right}' to perform this action")
}

fn eroles(client: &str) -> String {
    format!("{CORE}/{client}/eroles")
}

fn erole(client: &str, ext_id: &str) -> String {
    format!("{CORE}/{client}/eroles/{ext_id}")
}

fn member(client: &str, erole_ext_id: &str, role: &str) -> String {
    format!("{CORE}/{client}/eroles/{erole_ext_id}/roles/{role}")
}

fn eauths(client: &str, profile: &str) -> String {
    format!("{CORE}/{client}/profiles/{profile}/eauthorizations")
}

fn profile_roles(client: &str, profile: &str) -> String {
    format!("{CORE}/{client}/profiles/{profile}/roles")
}

fn auths(client: &str, profile: &str) -> String {
    format!("{CORE}/{client}/profiles/{profile}/authorizations")
}

/// Application `CRM` (extId `crm`) with roles `Agent` (`crm-agent`) and `Viewer`
/// (`crm-viewer`).
async fn crm(app: &TestApp) {
    let r = app
        .post(
            &format!("{CORE}/applications"),
            json!({"extId": "crm", "name": "CRM", "displayed": true}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    for (ext_id, name) in [("crm-agent", "Agent"), ("crm-viewer", "Viewer")] {
        let r = app
            .post(
                &format!("{CORE}/applications/crm/roles"),
                json!({"extId": ext_id, "name": name}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
}

async fn create_erole(app: &TestApp, client: &str, ext_id: &str, name: &str) {
    let r = app
        .post(&eroles(client), json!({"extId": ext_id, "name": name}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

/// `CRM` and enterprise role `sales` of `Default` holding `crm-agent`; user `u1` with no
/// direct role.
async fn sales_setup(app: &TestApp) {
    crm(app).await;
    create_erole(app, "Default", "sales", "Sales").await;
    let r = app.put(&member("Default", "sales", "crm-agent")).await;
    assert_eq!(r.status, 204, "{}", r.body);
    app.seed_user("Default", "u1", &[], false, false, None)
        .await;
}

fn role_ext_ids(r: &Reply) -> Vec<String> {
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["extId"].as_str().unwrap().to_owned())
        .collect()
}

async fn grant_sales(app: &TestApp, validity: Value) -> Reply {
    app.post(
        &eauths("Default", "u1-profile"),
        json!({"extId": "ea-1", "enterpriseRoleExtId": "sales", "validity": validity}),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Effective roles

dual_test!(
    a_role_reached_only_through_an_enterprise_role_is_listed_and_is_gone_at_once_when_removed_from_it,
    |app| {
        sales_setup(&app).await;
        let roles = profile_roles("Default", "u1-profile");
        assert!(role_ext_ids(&app.get(&roles).await).is_empty());
        let r = grant_sales(&app, json!({})).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = app.get(&roles).await;
        assert_eq!(role_ext_ids(&r), vec!["crm-agent"]);
        let item = &r.body["items"][0];
        assert_eq!(item["applicationExtId"], "crm");
        assert_eq!(item["applicationName"], "CRM");
        assert_eq!(item["name"], "Agent");
        // A second profile with the same enterprise role loses the role in the same instant.
        app.seed_user("Default", "u2", &[], false, false, None)
            .await;
        let r = app
            .post(
                &eauths("Default", "u2-profile"),
                json!({"enterpriseRoleExtId": "sales"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = app.delete(&member("Default", "sales", "crm-agent")).await;
        assert_eq!(r.status, 204, "{}", r.body);
        assert!(role_ext_ids(&app.get(&roles).await).is_empty());
        assert!(role_ext_ids(&app.get(&profile_roles("Default", "u2-profile")).await).is_empty());
        // The role itself still exists.
        assert_eq!(
            app.get(&format!("{CORE}/applications/crm/roles"))
                .await
                .body["items"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }
);

dual_test!(
    effective_roles_are_direct_and_enterprise_roles_each_listed_once,
    |app| {
        sales_setup(&app).await;
        let r = app.put(&member("Default", "sales", "crm-viewer")).await;
        assert_eq!(r.status, 204, "{}", r.body);
        assert_eq!(grant_sales(&app, json!({})).await.status, 201);
        let r = app
            .post(
                &auths("Default", "u1-profile"),
                json!({"roleExtId": "crm-agent"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = app
            .post(
                &auths("Default", "u1-profile"),
                json!({"roleExtId": "nevisIdm.SelfAdmin"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let mut got = role_ext_ids(&app.get(&profile_roles("Default", "u1-profile")).await);
        got.sort();
        assert_eq!(got, vec!["crm-agent", "crm-viewer", "nevisIdm.SelfAdmin"]);
        // Paged with limit 1: three pages, same roles, no repeats.
        let mut paged = Vec::new();
        let mut url = format!("{}?limit=1", profile_roles("Default", "u1-profile"));
        loop {
            let r = app.get(&url).await;
            paged.extend(role_ext_ids(&r));
            match r.body["_pagination"]["continuationToken"].as_str() {
                Some(t) => {
                    url = format!(
                        "{}?limit=1&continuationToken={t}",
                        profile_roles("Default", "u1-profile")
                    )
                }
                None => break,
            }
        }
        paged.sort();
        assert_eq!(paged, got);
    }
);

dual_test!(
    an_expired_or_not_yet_valid_enterprise_authorization_grants_nothing,
    |app| {
        sales_setup(&app).await;
        let roles = profile_roles("Default", "u1-profile");
        let r = grant_sales(
            &app,
            json!({"from": "2020-01-01T00:00:00Z", "to": "2021-01-01T00:00:00Z"}),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert!(role_ext_ids(&app.get(&roles).await).is_empty());
        let one = format!("{}/ea-1", eauths("Default", "u1-profile"));
        let r = app
            .patch(&one, json!({"validity": {"from": "2099-01-01T00:00:00Z"}}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(role_ext_ids(&app.get(&roles).await).is_empty());
        let r = app
            .patch(
                &one,
                json!({"validity": {"from": "2020-01-01T00:00:00Z"}, "version": 2}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["version"], 3);
        assert_eq!(role_ext_ids(&app.get(&roles).await), vec!["crm-agent"]);
    }
);

dual_test!(
    an_enterprise_role_never_gives_its_holder_idm_rights,
    |app| {
        sales_setup(&app).await;
        assert_eq!(grant_sales(&app, json!({})).await.status, 201);
        let token = app.token_for("Default", "u1");
        let r = app
            .send(app.req_as(&token, Method::GET, &erole("Default", "sales")))
            .await;
        r.assert_error(
            403,
            "errors.insufficientRightsFunction",
            &denied("EnterpriseRoleView"),
        );
        let r = app
            .send(app.req_as(
                &token,
                Method::GET,
                "/nevisidm/api/principal/v1/permissions",
            ))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(!r.body.to_string().contains("AccessControl."), "{}", r.body);
    }
);

// ---------------------------------------------------------------------------------------------
// Enterprise roles and members

dual_test!(
    putting_a_nevis_idm_role_into_an_enterprise_role_returns_422_invalid_assign_idmrole_to_erole,
    |app| {
        create_erole(&app, "Default", "admins", "Admins").await;
        let r = app
            .put(&member("Default", "admins", "nevisIdm.Helpdesk"))
            .await;
        r.assert_error(
            422,
            "errors.invalidAssignIdmroleToErole",
            "The nevisIdm role 'nevisIdm.Helpdesk' cannot be assigned to an enterprise role.",
        );
    }
);

dual_test!(
    putting_a_role_that_is_already_a_member_is_silently_accepted,
    |app| {
        sales_setup(&app).await;
        let r = app.put(&member("Default", "sales", "crm-agent")).await;
        assert_eq!(r.status, 204, "{}", r.body);
        assert_eq!(grant_sales(&app, json!({})).await.status, 201);
        assert_eq!(
            role_ext_ids(&app.get(&profile_roles("Default", "u1-profile")).await),
            vec!["crm-agent"]
        );
        // Removing it twice: the second time it is no member.
        assert_eq!(
            app.delete(&member("Default", "sales", "crm-agent"))
                .await
                .status,
            204
        );
        let r = app.delete(&member("Default", "sales", "crm-agent")).await;
        r.assert_error(
            404,
            "errors.noRecord",
            "Role with extId 'crm-agent' is not assigned to enterprise role with extId 'sales'",
        );
    }
);

dual_test!(
    an_enterprise_role_can_be_created_read_listed_changed_and_deleted,
    |app| {
        let r = app
            .post(
                &eroles("Default"),
                json!({"extId": "erole-123", "name": "Accounting",
                       "description": "All accounting roles",
                       "displayName": {"EN": "Accounting", "DE": "Buchhaltung"}}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.location(), erole("Default", "erole-123"));
        let r = app.get(r.location()).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.header("etag"), Some("\"1\""));
        assert_eq!(r.body["extId"], "erole-123");
        assert_eq!(r.body["clientExtId"], "Default");
        assert_eq!(r.body["name"], "Accounting");
        assert_eq!(r.body["description"], "All accounting roles");
        assert_eq!(
            r.body["displayName"],
            json!({"EN": "Accounting", "DE": "Buchhaltung"})
        );
        assert_eq!(r.body["version"], 1);
        // Generated extId.
        let r = app.post(&eroles("Default"), json!({"name": "Other"})).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = app.get(&format!("{CORE}/clients/Default/eroles")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
        assert_eq!(r.body["items"][0]["extId"], "erole-123");
        // PATCH: only present fields change.
        let one = erole("Default", "erole-123");
        let r = app
            .patch(&one, json!({"name": "Finance", "version": 1}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["name"], "Finance");
        assert_eq!(r.body["description"], "All accounting roles");
        assert_eq!(r.body["version"], 2);
        let r = app
            .patch(&one, json!({"name": "Again", "version": 1}))
            .await;
        r.assert_error(
            409,
            "errors.optimisticLockingFailure",
            "Row was already updated or deleted by another transaction",
        );
        let r = app.patch(&one, json!({"extId": "other"})).await;
        r.assert_error(
            422,
            "errors.modifyExtId",
            "The extId 'erole-123' cannot be changed",
        );
        let r = app.patch(&one, json!({"name": "Other"})).await;
        r.assert_error(
            422,
            "errors.duplicateName",
            "An enterprise role with name 'Other' already exists.",
        );
        let r = app.delete(&one).await;
        assert_eq!(r.status, 204, "{}", r.body);
        let r = app.get(&one).await;
        r.assert_error(
            404,
            "errors.noRecord",
            "Enterprise role doesn't exist with extId 'erole-123'",
        );
    }
);

dual_test!(
    an_enterprise_role_without_name_or_with_a_taken_name_returns_422,
    |app| {
        let r = app
            .post(&eroles("Default"), json!({"description": "x"}))
            .await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: name",
        );
        create_erole(&app, "Default", "sales", "Sales").await;
        let r = app.post(&eroles("Default"), json!({"name": "Sales"})).await;
        r.assert_error(
            422,
            "errors.duplicateName",
            "An enterprise role with name 'Sales' already exists.",
        );
        let r = app
            .post(
                &eroles("Default"),
                json!({"extId": "sales", "name": "Sales 2"}),
            )
            .await;
        r.assert_error(
            422,
            "errors.duplicateValue",
            "An enterprise role with extId 'sales' already exists.",
        );
        let r = app
            .post(&eroles("Default"), json!({"name": "x".repeat(130)}))
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.code(), "errors.identifierPolicyViolated");
        // The same name in another client is fine.
        app.create_client("other", "Other").await;
        create_erole(&app, "other", "sales-2", "Sales").await;
    }
);

dual_test!(
    deleting_an_enterprise_role_takes_its_roles_from_every_profile,
    |app| {
        sales_setup(&app).await;
        assert_eq!(grant_sales(&app, json!({})).await.status, 201);
        assert_eq!(app.delete(&erole("Default", "sales")).await.status, 204);
        assert!(role_ext_ids(&app.get(&profile_roles("Default", "u1-profile")).await).is_empty());
        let r = app
            .get(&format!("{}/ea-1", eauths("Default", "u1-profile")))
            .await;
        r.assert_error(
            404,
            "errors.noRecord",
            "Enterprise authorization doesn't exist with extId 'ea-1'",
        );
    }
);

dual_test!(
    an_enterprise_role_of_another_client_cannot_be_reached_or_assigned,
    |app| {
        app.create_client("other", "Other").await;
        create_erole(&app, "other", "foreign", "Foreign").await;
        let r = app.get(&erole("Default", "foreign")).await;
        r.assert_error(
            404,
            "errors.noRecord",
            "Enterprise role doesn't exist with extId 'foreign'",
        );
        app.seed_user("Default", "u1", &[], false, false, None)
            .await;
        let r = app
            .post(
                &eauths("Default", "u1-profile"),
                json!({"enterpriseRoleExtId": "foreign"}),
            )
            .await;
        r.assert_error(
            404,
            "errors.noRecord",
            "Enterprise role doesn't exist with extId 'foreign'",
        );
    }
);

// ---------------------------------------------------------------------------------------------
// Enterprise authorizations

dual_test!(
    an_enterprise_authorization_can_be_created_read_listed_changed_and_revoked,
    |app| {
        sales_setup(&app).await;
        let r = grant_sales(&app, json!({"to": "2099-12-31T00:00:00Z"})).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let one = format!("{}/ea-1", eauths("Default", "u1-profile"));
        assert_eq!(r.location(), one);
        let r = app.get(&one).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.header("etag"), Some("\"1\""));
        assert_eq!(r.body["extId"], "ea-1");
        assert_eq!(r.body["enterpriseRoleExtId"], "sales");
        assert_eq!(r.body["validity"], json!({"to": "2099-12-31T00:00:00Z"}));
        let r = app.get(&eauths("Default", "u1-profile")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["items"][0]["extId"], "ea-1");
        let r = app
            .post(
                &eauths("Default", "u1-profile"),
                json!({"extId": "ea-2", "enterpriseRoleExtId": "sales"}),
            )
            .await;
        r.assert_error(
            422,
            "errors.duplicateValue",
            "The profile 'u1-profile' already has an enterprise authorization for enterprise role 'sales'.",
        );
        create_erole(&app, "Default", "support", "Support").await;
        let r = app
            .post(
                &eauths("Default", "u1-profile"),
                json!({"extId": "ea-1", "enterpriseRoleExtId": "support"}),
            )
            .await;
        r.assert_error(
            422,
            "errors.duplicateValue",
            "An enterprise authorization with extId 'ea-1' already exists.",
        );
        let r = app
            .patch(
                &one,
                json!({"validity": {"from": "2030-01-01T00:00:00Z", "to": "2029-01-01T00:00:00Z"}}),
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.code(), "errors.invalidDateInterval");
        let r = app
            .send(
                app.req(Method::PATCH, &one)
                    .header("If-Match", "\"7\"")
                    .json(&json!({"validity": {}})),
            )
            .await;
        r.assert_error(
            409,
            "errors.optimisticLockingFailure",
            "Row was already updated or deleted by another transaction",
        );
        let r = app.patch(&one, json!({"validity": {}, "version": 1})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["validity"], json!({}));
        assert_eq!(app.delete(&one).await.status, 204);
        let r = app.get(&one).await;
        r.assert_error(
            404,
            "errors.noRecord",
            "Enterprise authorization doesn't exist with extId 'ea-1'",
        );
        let r = app
            .post(&eauths("Default", "u1-profile"), json!({"extId": "x"}))
            .await;
        r.assert_error(
            422,
            "errors.invalidParameter",
            "The following fields are not valid: enterpriseRoleExtId",
        );
    }
);

dual_test!(
    a_self_admin_may_read_the_enterprise_authorizations_and_roles_of_its_own_profile_only,
    |app| {
        sales_setup(&app).await;
        assert_eq!(grant_sales(&app, json!({})).await.status, 201);
        let me = app
            .seed_user("Default", "me", &["SelfAdmin"], false, false, None)
            .await;
        let r = app
            .send(app.req_as(
                &me.token,
                Method::GET,
                &profile_roles("Default", "me-profile"),
            ))
            .await;
        assert_eq!(role_ext_ids(&r), vec!["nevisIdm.SelfAdmin"]);
        let r = app
            .send(app.req_as(&me.token, Method::GET, &eauths("Default", "me-profile")))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = app
            .send(app.req_as(
                &me.token,
                Method::GET,
                &profile_roles("Default", "u1-profile"),
            ))
            .await;
        r.assert_error(
            403,
            "errors.insufficientRightsFunction",
            &denied("ProfileView"),
        );
    }
);

// ---------------------------------------------------------------------------------------------
// Authorization PATCH

dual_test!(
    an_authorization_patch_changes_flags_and_validity_and_refuses_a_stale_version,
    |app| {
        app.seed_user("Default", "t1", &["Helpdesk"], false, false, None)
            .await;
        let one = format!("{}/t1-Helpdesk", auths("Default", "t1-profile"));
        let r = app
            .patch(
                &one,
                json!({"unitGlobal": true, "appGlobal": true,
                       "validity": {"to": "2099-01-01T00:00:00Z"}, "version": 1}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.header("etag"), Some("\"2\""));
        assert_eq!(r.body["unitGlobal"], true);
        assert_eq!(r.body["appGlobal"], true);
        assert_eq!(r.body["clientGlobal"], false);
        assert_eq!(r.body["enterpriseRoleGlobal"], false);
        assert_eq!(r.body["roleExtId"], "nevisIdm.Helpdesk");
        assert_eq!(r.body["validity"], json!({"to": "2099-01-01T00:00:00Z"}));
        let r = app
            .patch(&one, json!({"unitGlobal": false, "version": 1}))
            .await;
        r.assert_error(
            409,
            "errors.optimisticLockingFailure",
            "Row was already updated or deleted by another transaction",
        );
        let r = app.patch(&one, json!({"extId": "other"})).await;
        r.assert_error(
            422,
            "errors.modifyExtId",
            "The extId 't1-Helpdesk' cannot be changed",
        );
        let r = app
            .patch(
                &format!("{}/nope", auths("Default", "t1-profile")),
                json!({}),
            )
            .await;
        r.assert_error(
            404,
            "errors.noRecord",
            "Authorization doesn't exist with extId 'nope'",
        );
    }
);

dual_test!(
    an_authorization_patch_beyond_the_callers_rights_returns_403_potential_privilege_escalation,
    |app| {
        let ua = app
            .seed_user("Default", "ua", &["UserAdmin"], false, true, None)
            .await;
        app.seed_user("Default", "t1", &["Helpdesk"], false, true, None)
            .await;
        let helpdesk = format!("{}/t1-Helpdesk", auths("Default", "t1-profile"));
        // Widening a grant past the caller's own dataroom is an escalation, as on create.
        let r = app
            .send(
                app.req_as(&ua.token, Method::PATCH, &helpdesk)
                    .json(&json!({"clientGlobal": true})),
            )
            .await;
        assert_eq!(r.status, 403, "{}", r.body);
        assert_eq!(r.code(), "errors.potentialPrivilegeEscalation");
        assert_eq!(app.get(&helpdesk).await.body["clientGlobal"], false);
        // So is touching a grant of rights the caller lacks (the administrator's Root).
        let root = format!("{}/admin-profile-root", auths("Default", "admin-profile"));
        let r = app
            .send(
                app.req_as(&ua.token, Method::PATCH, &root)
                    .json(&json!({"validity": {"to": "2000-01-01T00:00:00Z"}})),
            )
            .await;
        assert_eq!(r.status, 403, "{}", r.body);
        assert_eq!(r.code(), "errors.potentialPrivilegeEscalation");
        // Control: within the caller's rights and dataroom it works.
        let r = app
            .send(
                app.req_as(&ua.token, Method::PATCH, &helpdesk)
                    .json(&json!({"appGlobal": true})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
);

// ---------------------------------------------------------------------------------------------
// Applications

dual_test!(
    an_application_whose_roles_are_assigned_cannot_be_deleted_and_is_gone_once_they_are_not,
    |app| {
        sales_setup(&app).await;
        let r = app
            .post(
                &auths("Default", "u1-profile"),
                json!({"extId": "a1", "roleExtId": "crm-viewer"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let crm_app = format!("{CORE}/applications/crm");
        let refused = "The application with extId 'crm' cannot be deleted because its roles are still assigned.";
        app.delete(&crm_app)
            .await
            .assert_error(422, "errors.undeletedDependencies", refused);
        // Still refused while only the enterprise-role membership remains.
        assert_eq!(
            app.delete(&format!("{}/a1", auths("Default", "u1-profile")))
                .await
                .status,
            204
        );
        app.delete(&crm_app)
            .await
            .assert_error(422, "errors.undeletedDependencies", refused);
        assert_eq!(app.get(&crm_app).await.status, 200);
        assert_eq!(
            app.delete(&member("Default", "sales", "crm-agent"))
                .await
                .status,
            204
        );
        let r = app.delete(&crm_app).await;
        assert_eq!(r.status, 204, "{}", r.body);
        app.get(&crm_app).await.assert_error(
            404,
            "errors.noRecord",
            "Application doesn't exist with extId 'crm'",
        );
        app.put(&member("Default", "sales", "crm-agent"))
            .await
            .assert_error(
                404,
                "errors.noRecord",
                "Role doesn't exist with extId 'crm-agent'",
            );
    }
);

dual_test!(
    an_application_patch_changes_only_present_fields_and_nevis_idm_keeps_its_name,
    |app| {
        crm(&app).await;
        let crm_app = format!("{CORE}/applications/crm");
        let r = app
            .patch(
                &crm_app,
                json!({"description": "Customers", "url": "https://crm.example",
                       "displayed": false, "version": 1}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["name"], "CRM");
        assert_eq!(r.body["description"], "Customers");
        assert_eq!(r.body["url"], "https://crm.example");
        assert_eq!(r.body["displayed"], false);
        assert_eq!(r.body["version"], 2);
        app.patch(&crm_app, json!({"name": "CRM2", "version": 1}))
            .await
            .assert_error(
                409,
                "errors.optimisticLockingFailure",
                "Row was already updated or deleted by another transaction",
            );
        app.patch(&crm_app, json!({"name": "nevisIdm"}))
            .await
            .assert_error(
                422,
                "errors.duplicateName",
                "An application with name 'nevisIdm' already exists.",
            );
        let r = app.get(&format!("{CORE}/applications?limit=1000")).await;
        let idm = r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "nevisIdm")
            .unwrap()["extId"]
            .as_str()
            .unwrap()
            .to_owned();
        app.patch(
            &format!("{CORE}/applications/{idm}"),
            json!({"name": "Renamed"}),
        )
        .await
        .assert_error(
            422,
            "errors.unsupportedOperation",
            "The application 'nevisIdm' cannot be renamed.",
        );
    }
);

dual_test!(
    a_clients_applications_are_listed_and_an_unknown_client_is_404,
    |app| {
        crm(&app).await;
        let r = app
            .get(&format!("{CORE}/clients/Default/applications"))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let names: Vec<&str> = r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert!(
            names.contains(&"CRM") && names.contains(&"nevisIdm"),
            "{names:?}"
        );
        app.get(&format!("{CORE}/clients/nope/applications"))
            .await
            .assert_error(
                404,
                "errors.noRecord",
                "Client doesn't exist with extId 'nope'",
            );
    }
);

// ---------------------------------------------------------------------------------------------
// Every new route: 403 and 404

dual_test!(
    every_new_route_answers_403_naming_the_missing_right,
    |app| {
        sales_setup(&app).await;
        let none = app
            .seed_user("Default", "nobody", &[], false, false, None)
            .await;
        let ea = format!("{}/ea-1", eauths("Default", "u1-profile"));
        let a = format!("{}/x", auths("Default", "u1-profile"));
        let cases: Vec<(Method, String, &str)> = vec![
            (Method::POST, eroles("Default"), "EnterpriseRoleCreate"),
            (
                Method::GET,
                format!("{CORE}/clients/Default/eroles"),
                "ClientView",
            ),
            (Method::GET, erole("Default", "sales"), "EnterpriseRoleView"),
            (
                Method::PATCH,
                erole("Default", "sales"),
                "EnterpriseRoleView",
            ),
            (
                Method::DELETE,
                erole("Default", "sales"),
                "EnterpriseRoleDelete",
            ),
            (
                Method::PUT,
                member("Default", "sales", "crm-agent"),
                "EnterpriseRoleMemberCreate",
            ),
            (
                Method::DELETE,
                member("Default", "sales", "crm-agent"),
                "EnterpriseRoleMemberDelete",
            ),
            (
                Method::POST,
                eauths("Default", "u1-profile"),
                "ProfileModify",
            ),
            (Method::GET, eauths("Default", "u1-profile"), "ProfileView"),
            (Method::GET, ea.clone(), "ProfileView"),
            (Method::PATCH, ea.clone(), "ProfileModify"),
            (Method::DELETE, ea, "ProfileModify"),
            (
                Method::GET,
                profile_roles("Default", "u1-profile"),
                "ProfileView",
            ),
            (Method::PATCH, a, "AuthorizationModify"),
            (
                Method::PATCH,
                format!("{CORE}/applications/crm"),
                "ApplicationView",
            ),
            (
                Method::DELETE,
                format!("{CORE}/applications/crm"),
                "ApplicationDelete",
            ),
            (
                Method::GET,
                format!("{CORE}/clients/Default/applications"),
                "ClientView",
            ),
            (
                Method::GET,
                format!("{CORE}/Default/users/u1/consents/c1"),
                "ConsentView",
            ),
        ];
        for (method, path, right) in cases {
            let mut rb = app.req_as(&none.token, method.clone(), &path);
            if method == Method::POST || method == Method::PATCH {
                rb = rb.json(&json!({"name": "n", "enterpriseRoleExtId": "sales"}));
            }
            let r = app.send(rb).await;
            assert_eq!(r.status, 403, "{method} {path}: {}", r.body);
            assert_eq!(
                r.code(),
                "errors.insufficientRightsFunction",
                "{method} {path}"
            );
            assert_eq!(r.message(), denied(right), "{method} {path}");
        }
    }
);

dual_test!(every_new_route_answers_404_for_what_does_not_exist, |app| {
    sales_setup(&app).await;
    let no_client = "Client doesn't exist with extId 'nope'";
    let no_profile = "Profile doesn't exist with extId 'nope'";
    let no_erole = "Enterprise role doesn't exist with extId 'nope'";
    let cases: Vec<(Method, String, &str)> = vec![
        (Method::POST, eroles("nope"), no_client),
        (
            Method::GET,
            format!("{CORE}/clients/nope/eroles"),
            no_client,
        ),
        (Method::GET, erole("Default", "nope"), no_erole),
        (Method::PATCH, erole("Default", "nope"), no_erole),
        (Method::DELETE, erole("Default", "nope"), no_erole),
        (
            Method::PUT,
            member("Default", "nope", "crm-agent"),
            no_erole,
        ),
        (
            Method::PUT,
            member("Default", "sales", "nope"),
            "Role doesn't exist with extId 'nope'",
        ),
        (
            Method::DELETE,
            member("Default", "nope", "crm-agent"),
            no_erole,
        ),
        (Method::POST, eauths("Default", "nope"), no_profile),
        (Method::GET, eauths("Default", "nope"), no_profile),
        (
            Method::GET,
            format!("{}/nope", eauths("Default", "u1-profile")),
            "Enterprise authorization doesn't exist with extId 'nope'",
        ),
        (
            Method::PATCH,
            format!("{}/nope", eauths("Default", "u1-profile")),
            "Enterprise authorization doesn't exist with extId 'nope'",
        ),
        (
            Method::DELETE,
            format!("{}/nope", eauths("Default", "u1-profile")),
            "Enterprise authorization doesn't exist with extId 'nope'",
        ),
        (Method::GET, profile_roles("Default", "nope"), no_profile),
        (Method::GET, profile_roles("nope", "u1-profile"), no_client),
        (
            Method::PATCH,
            format!("{CORE}/applications/nope"),
            "Application doesn't exist with extId 'nope'",
        ),
        (
            Method::DELETE,
            format!("{CORE}/applications/nope"),
            "Application doesn't exist with extId 'nope'",
        ),
        (
            Method::GET,
            format!("{CORE}/Default/users/u1/consents/nope"),
            "Consent doesn't exist with extId 'nope'",
        ),
    ];
    for (method, path, message) in cases {
        let mut rb = app.req(method.clone(), &path);
        if method == Method::POST || method == Method::PATCH {
            rb = rb.json(&json!({"name": "n", "enterpriseRoleExtId": "sales"}));
        }
        let r = app.send(rb).await;
        assert_eq!(r.status, 404, "{method} {path}: {}", r.body);
        assert_eq!(r.code(), "errors.noRecord", "{method} {path}");
        assert_eq!(r.message(), message, "{method} {path}");
    }
});

// ---------------------------------------------------------------------------------------------
// Loose ends

dual_test!(the_location_of_a_created_consent_is_served, |app| {
    app.seed_user("Default", "u1", &[], false, false, None)
        .await;
    let r = app
        .post(
            &format!("{CORE}/terms"),
            json!({"extId": "terms-1", "name": "Terms 1", "active": true,
                   "silentAcceptance": false, "termsVersion": "3"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app
        .post(
            &format!("{CORE}/Default/users/u1/consents"),
            json!({"termsExtId": "terms-1"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app.get(r.location()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["termsExtId"], "terms-1");
    assert_eq!(r.body["termsVersion"], "3");
});

dual_test!(
    the_openapi_document_has_every_new_route_and_an_object_error_identifier,
    |app| {
        let r = app.get("/openapi.json").await;
        assert_eq!(r.status, 200);
        let paths = &r.body["paths"];
        for (path, method) in [
            ("/nevisidm/api/core/v1/{clientExtId}/eroles", "post"),
            ("/nevisidm/api/core/v1/clients/{extId}/eroles", "get"),
            ("/nevisidm/api/core/v1/{clientExtId}/eroles/{extId}", "get"),
            ("/nevisidm/api/core/v1/{clientExtId}/eroles/{extId}", "patch"),
            ("/nevisidm/api/core/v1/{clientExtId}/eroles/{extId}", "delete"),
            (
                "/nevisidm/api/core/v1/{clientExtId}/eroles/{eroleExtId}/roles/{roleExtId}",
                "put",
            ),
            (
                "/nevisidm/api/core/v1/{clientExtId}/eroles/{eroleExtId}/roles/{roleExtId}",
                "delete",
            ),
            (
                "/nevisidm/api/core/v1/{clientExtId}/profiles/{profileExtId}/eauthorizations",
                "post",
            ),
            (
                "/nevisidm/api/core/v1/{clientExtId}/profiles/{profileExtId}/eauthorizations",
                "get",
            ),
            (
                "/nevisidm/api/core/v1/{clientExtId}/profiles/{profileExtId}/eauthorizations/{extId}",
                "patch",
            ),
            ("/nevisidm/api/core/v1/{clientExtId}/profiles/{extId}/roles", "get"),
            (
                "/nevisidm/api/core/v1/{clientExtId}/profiles/{profileExtId}/authorizations/{extId}",
                "patch",
            ),
            ("/nevisidm/api/core/v1/applications/{extId}", "patch"),
            ("/nevisidm/api/core/v1/applications/{extId}", "delete"),
            ("/nevisidm/api/core/v1/clients/{extId}/applications", "get"),
            (
                "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/consents/{extId}",
                "get",
            ),
        ] {
            assert!(paths[path][method].is_object(), "{method} {path}");
        }
        let schemas = &r.body["components"]["schemas"];
        assert_eq!(
            schemas["ErrorEntry"]["properties"]["identifier"]["$ref"],
            "#/components/schemas/ErrorIdentifier"
        );
        let identifier = &schemas["ErrorIdentifier"];
        assert_eq!(identifier["type"], "object");
        for member in [
            "clientExtId",
            "userExtId",
            "credentialExtId",
            "keyId",
            "aaid",
        ] {
            assert!(identifier["properties"][member].is_object(), "{member}");
        }
    }
);
