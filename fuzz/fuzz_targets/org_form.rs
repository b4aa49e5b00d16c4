//! The organization form (登记表单) as the server receives it, URL-encoded bytes: decoding and
//! checking never panic, and what the checks accept has the fields the registry relies on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shezu::registry::OrgForm;

fuzz_target!(|data: &[u8]| {
    let Ok(form) = serde_urlencoded::from_bytes::<OrgForm>(data) else {
        return;
    };
    if let Ok(draft) = form.parse() {
        assert!(!draft.name.trim().is_empty(), "an accepted form has a name");
        // What was accepted reads back into a form and is accepted again, unchanged.
        let again = serde_urlencoded::to_string(&form).unwrap();
        let reparsed: OrgForm = serde_urlencoded::from_str(&again).unwrap();
        assert_eq!(reparsed.parse().unwrap().name, draft.name);
    }
});
