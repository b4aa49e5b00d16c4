//! The unified social credit code parser (统一社会信用代码) on any text: it never panics, a
//! code it accepts parses again to itself, and changing its check character makes it invalid.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shezu::registry::uscc::Uscc;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Uscc::parse(text) {
        Ok(code) => {
            assert_eq!(code.as_str().len(), 18);
            assert_eq!(Uscc::parse(code.as_str()).unwrap(), code);
            let _ = (code.division(), code.category(), code.authority());
            let mut other = code.as_str().to_owned();
            let last = other.pop().unwrap();
            other.push(if last == '0' { '1' } else { '0' });
            assert!(
                Uscc::parse(&other).is_err(),
                "{other} accepted with a wrong check"
            );
        }
        Err(e) => {
            if let Some(position) = e.position() {
                assert!((1..=18).contains(&position), "position {position}");
            }
            let _ = e.message();
        }
    }
});
