//! "May caller X do right R on this object?" from what the REST API shows: extIds, unit extId
//! paths and role names. No server, no database: idm-domain decides it as the server would.
//!
//! `cargo run -p idm-domain --example may_caller`

use idm_domain::access::{Answer, Authorization, Object, QuestionError, Subject};

fn main() -> Result<(), QuestionError> {
    // A helpdesk agent for the "sales" unit, and a client administrator with a unit-global
    // authorization (it reaches every unit and the client's own settings).
    let helpdesk = Subject::new("Default", "hd-anna")
        .with(Authorization::role("Helpdesk").in_unit(["Default-root", "sales"]));
    let client_admin = Subject::new("Default", "ca-ben").with(
        Authorization::role("ClientRoot")
            .in_unit(["Default-root"])
            .unit_global(true),
    );
    // An end user with only the SelfAdmin role.
    let eve = Subject::new("Default", "eve")
        .with(Authorization::role("SelfAdmin").in_unit(["Default-root", "sales"]));

    let eve_the_user = Object::in_units("Default", [["Default-root", "sales"]]).owned_by("eve");
    let hr_user = Object::in_units("Default", [["Default-root", "hr"]]).owned_by("hal");
    let the_client = Object::client("Default");

    let questions: [(&str, &Subject, &str, &Object, &str); 7] = [
        (
            "hd-anna",
            &helpdesk,
            "UserView",
            &eve_the_user,
            "eve (sales)",
        ),
        ("hd-anna", &helpdesk, "UserView", &hr_user, "hal (hr)"),
        (
            "hd-anna",
            &helpdesk,
            "UserDelete",
            &eve_the_user,
            "eve (sales)",
        ),
        ("ca-ben", &client_admin, "UserDelete", &hr_user, "hal (hr)"),
        (
            "ca-ben",
            &client_admin,
            "ClientModify",
            &the_client,
            "client Default",
        ),
        (
            "eve",
            &eve,
            "AccessControl.UserModify or SelfAdmin Role",
            &eve_the_user,
            "eve herself",
        ),
        (
            "eve",
            &eve,
            "AccessControl.UserModify or SelfAdmin Role",
            &hr_user,
            "hal (hr)",
        ),
    ];
    for (who, subject, requirement, object, what) in questions {
        match subject.may(requirement, object)? {
            Answer::Allowed(how) => {
                println!("{who:8} {requirement:45} on {what:15}: allowed ({how:?})")
            }
            Answer::Denied(error) => {
                let envelope = error.envelope();
                let first = &envelope.errors[0];
                println!(
                    "{who:8} {requirement:45} on {what:15}: 403 {} \"{}\"",
                    first.code.as_str(),
                    first.message
                );
            }
            // Answer may grow; treat anything new as a refusal.
            _ => println!("{who:8} {requirement:45} on {what:15}: not allowed"),
        }
    }
    Ok(())
}
